"""Grids and matrices as lists of lists (rows first)."""
from murphy_jax.data.bundled.catalog import P
from murphy_jax.data.bundled.catalog._gen import grid

THEME = "grids"


def _rect(r):
    return grid(r, r.randint(1, 4), r.randint(1, 4))


def _square(r):
    n = r.randint(1, 4)
    return grid(r, n, n)


PROBLEMS = [
    P("grid_sum", "easy",
      "returns the sum of all integers in a grid given as a list of rows (lists of integers); an empty grid gives 0.",
      """
      def grid_sum(grid: list[list[int]]) -> int:
          return sum(sum(row) for row in grid)
      """,
      [[[1, 2], [3, 4]], [[5]], [], [[]], [[-1, 1], [2, -2]], [[1, 2, 3]]], gen=_rect),
    P("row_sums", "easy",
      "returns a list with the sum of each row of the grid (a list of lists of integers).",
      """
      def row_sums(grid: list[list[int]]) -> list[int]:
          return [sum(row) for row in grid]
      """,
      [[[1, 2], [3, 4]], [[5, 5, 5]], [], [[0], [0]], [[-1, -2], [3, 4]], [[7], [8], [9]]], gen=_rect),
    P("grid_max", "easy",
      "returns the largest integer in a grid with at least one row and at least one element in every row.",
      """
      def grid_max(grid: list[list[int]]) -> int:
          return max(max(row) for row in grid)
      """,
      [[[1, 2], [3, 4]], [[-5]], [[-1, -2], [-3, -4]], [[9, 1], [1, 1]], [[0, 0, 0]], [[3], [7], [5]]], gen=_rect),
    P("count_in_grid", "easy",
      "returns how many cells of the grid (a list of lists of integers) are equal to x.",
      """
      def count_in_grid(grid: list[list[int]], x: int) -> int:
          return sum(row.count(x) for row in grid)
      """,
      [([[1, 2], [2, 1]], 2), ([[1]], 5), ([], 0), ([[0, 0], [0, 0]], 0), ([[3, 4, 3]], 3), ([[-1], [-1]], -1)]),
    P("count_negatives", "easy",
      "returns how many cells of the grid (a list of lists of integers) are negative.",
      """
      def count_negatives(grid: list[list[int]]) -> int:
          return sum(1 for row in grid for x in row if x < 0)
      """,
      [[[1, -2], [-3, 4]], [[5]], [], [[0, 0]], [[-1, -1, -1]], [[1], [-1]]], gen=_rect),
    P("make_grid", "easy",
      "returns a grid with rows rows and cols columns (a list of rows, each a list) where every cell equals value.",
      """
      def make_grid(rows: int, cols: int, value: int) -> list[list[int]]:
          return [[value] * cols for _ in range(rows)]
      """,
      [(2, 3, 0), (1, 1, 7), (0, 5, 1), (3, 1, -1), (2, 2, 9), (3, 0, 4)]),
    P("identity_matrix", "easy",
      "returns the n x n identity matrix as a list of rows: 1 on the diagonal from top-left to bottom-right and 0 elsewhere (n = 0 gives []).",
      """
      def identity_matrix(n: int) -> list[list[int]]:
          return [[1 if i == j else 0 for j in range(n)] for i in range(n)]
      """,
      [2, 1, 0, 3, 4, 5]),
    P("diagonal_sum", "easy",
      "returns the sum of the cells grid[i][i] on the main diagonal of a square grid (0 for an empty grid).",
      """
      def diagonal_sum(grid: list[list[int]]) -> int:
          return sum(grid[i][i] for i in range(len(grid)))
      """,
      [[[1, 2], [3, 4]], [[5]], [], [[1, 0, 0], [0, 1, 0], [0, 0, 1]], [[-1, 9], [9, -1]], [[2, 3, 4], [5, 6, 7], [8, 9, 10]]],
      gen=_square),
    P("add_grids", "easy",
      "returns the cell-by-cell sum of two grids of the same shape (lists of rows of integers).",
      """
      def add_grids(a: list[list[int]], b: list[list[int]]) -> list[list[int]]:
          return [[x + y for x, y in zip(ra, rb)] for ra, rb in zip(a, b)]
      """,
      [([[1, 2], [3, 4]], [[10, 20], [30, 40]]), ([[1]], [[-1]]), ([], []), ([[0, 0, 0]], [[1, 2, 3]]),
       ([[5], [6]], [[1], [1]]), ([[2, 2], [2, 2]], [[2, 2], [2, 2]])]),
    P("scale_grid", "easy",
      "returns a new grid with every cell of grid multiplied by k.",
      """
      def scale_grid(grid: list[list[int]], k: int) -> list[list[int]]:
          return [[x * k for x in row] for row in grid]
      """,
      [([[1, 2], [3, 4]], 2), ([[5]], 0), ([], 3), ([[-1, 1]], -1), ([[0], [7]], 10), ([[2, 4, 6]], 1)]),
    P("flip_rows", "easy",
      "returns a new grid where each row of grid is reversed (a mirror image left to right).",
      """
      def flip_rows(grid: list[list[int]]) -> list[list[int]]:
          return [row[::-1] for row in grid]
      """,
      [[[1, 2, 3], [4, 5, 6]], [[1]], [], [[1, 2]], [[1], [2]], [[0, 0, 1], [1, 0, 0]]], gen=_rect),
    P("get_column", "easy",
      "returns column j of the grid as a list, taking grid[i][j] from every row i in order.",
      """
      def get_column(grid: list[list[int]], j: int) -> list[int]:
          return [row[j] for row in grid]
      """,
      [([[1, 2], [3, 4]], 1), ([[1, 2], [3, 4]], 0), ([], 0), ([[5, 6, 7]], 2), ([[1], [2], [3]], 0),
       ([[9, 8], [7, 6], [5, 4]], 1)]),
    P("multiplication_grid", "easy",
      "returns the n x n multiplication table as a list of rows, where the cell in row i and column j (counting from 1) is i * j.",
      """
      def multiplication_grid(n: int) -> list[list[int]]:
          return [[i * j for j in range(1, n + 1)] for i in range(1, n + 1)]
      """,
      [3, 1, 0, 2, 4, 5]),
    P("column_sums", "medium",
      "returns a list with the sum of each column of a grid whose rows all have the same length (an empty grid gives []).",
      """
      def column_sums(grid: list[list[int]]) -> list[int]:
          return [sum(col) for col in zip(*grid)]
      """,
      [[[1, 2], [3, 4]], [[1, 2, 3]], [], [[1], [2], [3]], [[-1, 0], [1, 0]], [[5, 5], [5, 5], [5, 5]]], gen=_rect),
    P("transpose", "medium",
      "returns the transpose of a grid whose rows all have the same length: row i of the result is column i of the input ([[1, 2, 3], [4, 5, 6]] -> [[1, 4], [2, 5], [3, 6]]).",
      """
      def transpose(grid: list[list[int]]) -> list[list[int]]:
          return [list(col) for col in zip(*grid)]
      """,
      [[[1, 2, 3], [4, 5, 6]], [[1, 2], [3, 4]], [], [[7]], [[1], [2], [3]], [[1, 2, 3]]], gen=_rect),
    P("row_with_max_sum", "medium",
      "returns the index of the row of grid with the largest sum; on a tie, the smallest such index. The grid has at least one row.",
      """
      def row_with_max_sum(grid: list[list[int]]) -> int:
          sums = [sum(row) for row in grid]
          return sums.index(max(sums))
      """,
      [[[1, 2], [3, 4]], [[5, 5], [1, 9]], [[-1]], [[], [0]], [[-5, -5], [-1, -20]], [[1], [3], [2]]], gen=_rect),
    P("is_symmetric", "medium",
      "returns True if the square grid equals its own transpose (grid[i][j] == grid[j][i] for all i, j), else False. An empty grid is symmetric.",
      """
      def is_symmetric(grid: list[list[int]]) -> bool:
          n = len(grid)
          return all(grid[i][j] == grid[j][i] for i in range(n) for j in range(n))
      """,
      [[[1, 2], [2, 1]], [[1, 2], [3, 1]], [], [[5]], [[1, 2, 3], [2, 4, 5], [3, 5, 6]], [[1, 0, 0], [0, 1, 0], [1, 0, 1]]]),
    P("anti_diagonal_sum", "medium",
      "returns the sum of the cells on the diagonal from the top-right to the bottom-left corner of a square grid (grid[i][n - 1 - i]); 0 for an empty grid.",
      """
      def anti_diagonal_sum(grid: list[list[int]]) -> int:
          n = len(grid)
          return sum(grid[i][n - 1 - i] for i in range(n))
      """,
      [[[1, 2], [3, 4]], [[5]], [], [[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[0, -1], [-1, 0]], [[1, 0, 2], [0, 3, 0], [4, 0, 5]]],
      gen=_square),
    P("neighbor_sum", "medium",
      "returns the sum of the up to four cells directly above, below, left and right of cell (r, c) in the grid; neighbours outside the grid are skipped.",
      """
      def neighbor_sum(grid: list[list[int]], r: int, c: int) -> int:
          total = 0
          for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
              i, j = r + dr, c + dc
              if 0 <= i < len(grid) and 0 <= j < len(grid[i]):
                  total += grid[i][j]
          return total
      """,
      [([[1, 2, 3], [4, 5, 6], [7, 8, 9]], 1, 1), ([[1, 2, 3], [4, 5, 6], [7, 8, 9]], 0, 0), ([[5]], 0, 0),
       ([[1, 2, 3], [4, 5, 6], [7, 8, 9]], 2, 1), ([[1, 2], [3, 4]], 0, 1), ([[1, 1, 1, 1]], 0, 2)],
      trap="cells on the border",
      wrong="""
      def neighbor_sum(grid, r, c):
          total = 0
          for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
              try:
                  total += grid[r + dr][c + dc]
              except IndexError:
                  pass
          return total
      """),
    P("find_in_grid", "medium",
      "returns [row, column] of the first cell equal to x, scanning rows from top to bottom and each row from left to right, or [-1, -1] if x is not in the grid.",
      """
      def find_in_grid(grid: list[list[int]], x: int) -> list[int]:
          for i, row in enumerate(grid):
              for j, v in enumerate(row):
                  if v == x:
                      return [i, j]
          return [-1, -1]
      """,
      [([[1, 2], [3, 4]], 3), ([[1, 2], [3, 4]], 5), ([], 1), ([[7, 7], [7, 7]], 7), ([[0, 1, 2]], 2), ([[1], [2]], 2)]),
    P("grid_to_text", "medium",
      "returns the grid as text: the numbers of each row joined by single spaces, and the rows joined by newline characters \"\\n\" (no newline at the end).",
      """
      def grid_to_text(grid: list[list[int]]) -> str:
          return "\\n".join(" ".join(str(x) for x in row) for row in grid)
      """,
      [[[1, 2], [3, 4]], [[5]], [[1, 2, 3]], [[1], [2]], [[-1, 0], [10, 100]], [[0, 0, 0], [0, 0, 0]]], gen=_rect),
    P("is_rectangular", "medium",
      "returns True if every row of grid has the same length, else False (an empty grid is rectangular).",
      """
      def is_rectangular(grid: list[list[int]]) -> bool:
          return len({len(row) for row in grid}) <= 1
      """,
      [[[1, 2], [3, 4]], [[1, 2], [3]], [], [[]], [[1], [2], [3, 4]], [[1, 2, 3]]]),
    P("border_sum", "medium",
      "returns the sum of the cells on the outer border of a rectangular grid (first and last row, first and last column), counting each cell once; an empty grid gives 0.",
      """
      def border_sum(grid: list[list[int]]) -> int:
          rows = len(grid)
          return sum(x for i, row in enumerate(grid) for j, x in enumerate(row)
                     if i in (0, rows - 1) or j in (0, len(row) - 1))
      """,
      [[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 2], [3, 4]], [], [[5]], [[1, 2, 3]], [[1], [2], [3]]], gen=_rect,
      trap="single rows and columns",
      wrong="""
      def border_sum(grid):
          if not grid:
              return 0
          total = sum(grid[0]) + sum(grid[-1])
          for row in grid[1:-1]:
              total += row[0] + row[-1]
          return total
      """),
    P("rotate_clockwise", "hard",
      "returns the grid rotated 90 degrees clockwise: [[1, 2], [3, 4]] -> [[3, 1], [4, 2]]. The grid is rectangular and may be non-square.",
      """
      def rotate_clockwise(grid: list[list[int]]) -> list[list[int]]:
          return [list(col) for col in zip(*grid[::-1])]
      """,
      [[[1, 2], [3, 4]], [[1, 2, 3]], [], [[7]], [[1, 2, 3], [4, 5, 6]], [[1], [2], [3]]], gen=_rect,
      wrong="""
      def rotate_clockwise(grid):
          return [list(col) for col in zip(*grid)][::-1]
      """),
    P("spiral_order", "hard",
      "returns the cells of a rectangular grid in clockwise spiral order, starting at the top-left and going right first ([[1, 2, 3], [4, 5, 6], [7, 8, 9]] -> [1, 2, 3, 6, 9, 8, 7, 4, 5]).",
      """
      def spiral_order(grid: list[list[int]]) -> list[int]:
          out, g = [], [row[:] for row in grid]
          while g and g[0]:
              out += g.pop(0)
              g = [list(col) for col in zip(*g)][::-1]
          return out
      """,
      [[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 2], [3, 4]], [], [[1, 2, 3]], [[1], [2], [3]],
       [[1, 2, 3, 4], [5, 6, 7, 8]]], gen=_rect),
    P("matrix_multiply", "hard",
      "returns the matrix product of a (n x m) and b (m x p) as an n x p list of rows, where cell [i][j] is the sum of a[i][k] * b[k][j] over k.",
      """
      def matrix_multiply(a: list[list[int]], b: list[list[int]]) -> list[list[int]]:
          return [[sum(x * y for x, y in zip(row, col)) for col in zip(*b)] for row in a]
      """,
      [([[1, 2], [3, 4]], [[5, 6], [7, 8]]), ([[1, 0], [0, 1]], [[4, 5], [6, 7]]), ([[2]], [[3]]),
       ([[1, 2, 3]], [[1], [2], [3]]), ([[1], [2]], [[3, 4]]), ([[0, 1], [1, 0]], [[1, 2], [3, 4]])]),
    P("is_magic_square", "hard",
      "returns True if the non-empty square grid is a magic square: every row, every column and both diagonals have the same sum, else False.",
      """
      def is_magic_square(grid: list[list[int]]) -> bool:
          n = len(grid)
          target = sum(grid[0])
          lines = [row for row in grid] + [list(c) for c in zip(*grid)]
          lines += [[grid[i][i] for i in range(n)], [grid[i][n - 1 - i] for i in range(n)]]
          return all(sum(line) == target for line in lines)
      """,
      [[[2, 7, 6], [9, 5, 1], [4, 3, 8]], [[1, 2], [3, 4]], [[5]], [[1, 1], [1, 1]],
       [[4, 9, 2], [3, 5, 7], [8, 1, 6]], [[2, 7, 6], [9, 5, 1], [4, 8, 3]], [[1, 2, 3], [3, 1, 2], [2, 3, 1]]],
      trap="checking the diagonals",
      wrong="""
      def is_magic_square(grid):
          target = sum(grid[0])
          return all(sum(r) == target for r in grid) and all(sum(c) == target for c in zip(*grid))
      """),
    P("tic_tac_toe_winner", "hard",
      "takes a tic-tac-toe board as a list of 3 strings of 3 characters each (\"X\", \"O\" or \".\") and returns \"X\" or \"O\" if that player has three in a row, column or diagonal, else \"none\". At most one player has won.",
      """
      def tic_tac_toe_winner(board: list[str]) -> str:
          lines = list(board) + ["".join(col) for col in zip(*board)]
          lines += [board[0][0] + board[1][1] + board[2][2], board[0][2] + board[1][1] + board[2][0]]
          for p in "XO":
              if p * 3 in lines:
                  return p
          return "none"
      """,
      [["XXX", "OO.", "..."], ["XO.", "XO.", ".O."], ["...", "...", "..."], ["X..", ".X.", "..X"],
       ["..O", ".O.", "O.X"], ["XOX", "OXO", "OXO"], ["OX.", "OX.", "X.."]], trap="diagonals"),
    P("count_islands", "hard",
      "counts the islands in a grid of 0s (water) and 1s (land); an island is a group of 1s connected up, down, left or right (not diagonally).",
      """
      def count_islands(grid: list[list[int]]) -> int:
          seen, count = set(), 0
          for r in range(len(grid)):
              for c in range(len(grid[r])):
                  if grid[r][c] == 1 and (r, c) not in seen:
                      count += 1
                      stack = [(r, c)]
                      while stack:
                          i, j = stack.pop()
                          if (i, j) in seen or not (0 <= i < len(grid) and 0 <= j < len(grid[i])) or grid[i][j] != 1:
                              continue
                          seen.add((i, j))
                          stack += [(i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)]
          return count
      """,
      [[[1, 1, 0], [0, 1, 0], [0, 0, 1]], [[1, 0], [0, 1]], [], [[0, 0], [0, 0]], [[1, 1], [1, 1]],
       [[1, 0, 1, 0, 1]]], gen=lambda r: grid(r, r.randint(1, 5), r.randint(1, 5), 0, 1)),
    P("min_path_sum", "hard",
      "returns the smallest possible sum of the cells on a path from the top-left to the bottom-right cell of a non-empty rectangular grid of non-negative integers, moving only right or down.",
      """
      def min_path_sum(grid: list[list[int]]) -> int:
          rows, cols = len(grid), len(grid[0])
          best = [[0] * cols for _ in range(rows)]
          for i in range(rows):
              for j in range(cols):
                  up = best[i - 1][j] if i else None
                  left = best[i][j - 1] if j else None
                  prev = min(v for v in (up, left) if v is not None) if (i or j) else 0
                  best[i][j] = prev + grid[i][j]
          return best[-1][-1]
      """,
      [[[1, 3, 1], [1, 5, 1], [4, 2, 1]], [[1, 2, 3], [4, 5, 6]], [[5]], [[1, 2, 3]], [[1], [2]], [[0, 9], [0, 0]]],
      gen=lambda r: grid(r, r.randint(1, 4), r.randint(1, 4), 0, 9),
      wrong="""
      def min_path_sum(grid):
          i = j = 0
          total = grid[0][0]
          while i < len(grid) - 1 or j < len(grid[0]) - 1:
              if i == len(grid) - 1 or (j < len(grid[0]) - 1 and grid[i][j + 1] <= grid[i + 1][j]):
                  j += 1
              else:
                  i += 1
              total += grid[i][j]
          return total
      """),
]
