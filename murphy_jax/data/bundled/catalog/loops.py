"""Loops and simulations: build sequences and patterns, repeat until a condition holds."""
from murphy_jax.data.bundled.catalog import P
from murphy_jax.data.bundled.catalog._gen import ints

THEME = "loops"


def _one(lo, hi):
    return lambda r: r.randint(lo, hi)


PROBLEMS = [
    P("count_down", "easy",
      "returns the list [n, n - 1, ..., 1] for an integer n; if n <= 0 the list is empty.",
      """
      def count_down(n: int) -> list[int]:
          return list(range(n, 0, -1))
      """,
      [5, 1, 0, 3, -2, 10]),
    P("times_table", "easy",
      "returns the list [n * 1, n * 2, ..., n * 10].",
      """
      def times_table(n: int) -> list[int]:
          return [n * i for i in range(1, 11)]
      """,
      [3, 1, 0, -2, 7, 12]),
    P("powers_of_two", "easy",
      "returns a list of the first n powers of two, starting with 1: [1, 2, 4, ...] (n >= 0).",
      """
      def powers_of_two(n: int) -> list[int]:
          return [2 ** i for i in range(n)]
      """,
      [4, 1, 0, 2, 10, 16]),
    P("first_n_squares", "easy",
      "returns [1, 4, 9, ..., n * n], the squares of 1..n (empty for n = 0).",
      """
      def first_n_squares(n: int) -> list[int]:
          return [i * i for i in range(1, n + 1)]
      """,
      [4, 1, 0, 2, 10, 6],
      wrong="""
      def first_n_squares(n):
          return [i * i for i in range(n)]
      """),
    P("sum_of_odds", "easy",
      "returns the sum of all odd numbers from 1 up to and including n (0 if n < 1).",
      """
      def sum_of_odds(n: int) -> int:
          return sum(range(1, n + 1, 2))
      """,
      [5, 6, 0, 1, 100, -3], gen=_one(0, 500)),
    P("arithmetic_sequence", "easy",
      "returns the list of the first n terms of the sequence that starts at start and increases by step each time (n >= 0, step may be negative).",
      """
      def arithmetic_sequence(start: int, step: int, n: int) -> list[int]:
          return [start + step * i for i in range(n)]
      """,
      [(1, 2, 5), (10, -3, 4), (7, 0, 3), (0, 1, 0), (-5, 5, 3), (100, 1, 1)]),
    P("geometric_sequence", "easy",
      "returns the list of the first n terms of the sequence that starts at a and is multiplied by r each time (n >= 0).",
      """
      def geometric_sequence(a: int, r: int, n: int) -> list[int]:
          out = []
          for _ in range(n):
              out.append(a)
              a *= r
          return out
      """,
      [(1, 2, 5), (3, 3, 4), (5, 1, 3), (2, 10, 0), (1, -2, 5), (7, 0, 3)]),
    P("staircase", "easy",
      "returns a list of n strings where string i (counting from 1) is made of i \"#\" characters: n = 3 gives [\"#\", \"##\", \"###\"].",
      """
      def staircase(n: int) -> list[str]:
          return ["#" * i for i in range(1, n + 1)]
      """,
      [3, 1, 0, 2, 5, 7]),
    P("prefixes", "easy",
      "returns all non-empty prefixes of s from shortest to longest: \"abc\" -> [\"a\", \"ab\", \"abc\"].",
      """
      def prefixes(s: str) -> list[str]:
          return [s[:i] for i in range(1, len(s) + 1)]
      """,
      ["abc", "x", "", "hello", "ab", "a b"]),
    P("checker_row", "easy",
      "returns a string of length n that alternates \"#\" and \".\" starting with \"#\" (n = 5 -> \"#.#.#\"); n = 0 gives the empty string.",
      """
      def checker_row(n: int) -> str:
          return "".join("#" if i % 2 == 0 else "." for i in range(n))
      """,
      [5, 1, 0, 2, 8, 3]),
    P("count_multiples", "easy",
      "returns how many integers from a to b inclusive (a <= b) are divisible by k (k > 0).",
      """
      def count_multiples(a: int, b: int, k: int) -> int:
          return sum(1 for x in range(a, b + 1) if x % k == 0)
      """,
      [(1, 10, 3), (5, 5, 5), (1, 4, 5), (0, 10, 2), (-6, 6, 3), (10, 20, 7)]),
    P("collatz_steps", "medium",
      "counts the steps needed to reach 1 from the integer n >= 1, where each step replaces n by n // 2 if n is even and by 3 * n + 1 if n is odd (1 needs 0 steps).",
      """
      def collatz_steps(n: int) -> int:
          steps = 0
          while n != 1:
              n = n // 2 if n % 2 == 0 else 3 * n + 1
              steps += 1
          return steps
      """,
      [6, 1, 2, 7, 27, 16], gen=_one(1, 200)),
    P("collatz_sequence", "medium",
      "returns the list of numbers visited from the integer n >= 1 down to 1 (both included), where each step replaces n by n // 2 if n is even and by 3 * n + 1 if n is odd.",
      """
      def collatz_sequence(n: int) -> list[int]:
          out = [n]
          while n != 1:
              n = n // 2 if n % 2 == 0 else 3 * n + 1
              out.append(n)
          return out
      """,
      [6, 1, 2, 3, 8, 12]),
    P("steps_to_zero", "medium",
      "counts the steps needed to turn the integer n >= 0 into 0, where each step halves n if it is even and subtracts 1 if it is odd.",
      """
      def steps_to_zero(n: int) -> int:
          steps = 0
          while n:
              n = n // 2 if n % 2 == 0 else n - 1
              steps += 1
          return steps
      """,
      [14, 8, 0, 1, 123, 2], gen=_one(0, 10**4)),
    P("halvings_to_one", "medium",
      "returns how many times the integer n >= 1 can be halved with integer division (n // 2) before it becomes 1.",
      """
      def halvings_to_one(n: int) -> int:
          count = 0
          while n > 1:
              n //= 2
              count += 1
          return count
      """,
      [8, 1, 2, 9, 1000, 3], gen=_one(1, 10**6)),
    P("digit_names", "medium",
      "returns the English names of the decimal digits of the integer n >= 0 joined by spaces: 123 -> \"one two three\", 0 -> \"zero\".",
      """
      def digit_names(n: int) -> str:
          names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
          return " ".join(names[int(c)] for c in str(n))
      """,
      [123, 7, 0, 100, 9081, 55], gen=_one(0, 10**5)),
    P("fizzbuzz_list", "medium",
      "returns a list of strings for the numbers 1..n: \"FizzBuzz\" for multiples of 15, \"Fizz\" for other multiples of 3, \"Buzz\" for other multiples of 5, and the number itself as a string otherwise.",
      """
      def fizzbuzz_list(n: int) -> list[str]:
          out = []
          for i in range(1, n + 1):
              out.append("FizzBuzz" if i % 15 == 0 else "Fizz" if i % 3 == 0 else "Buzz" if i % 5 == 0 else str(i))
          return out
      """,
      [5, 3, 0, 1, 15, 16]),
    P("alternating_sum", "medium",
      "returns nums[0] - nums[1] + nums[2] - nums[3] + ... (0 for an empty list).",
      """
      def alternating_sum(nums: list[int]) -> int:
          return sum(x if i % 2 == 0 else -x for i, x in enumerate(nums))
      """,
      [[1, 2, 3, 4], [5], [], [10, 3], [-1, -1, -1], [0, 7, 0, 7]], gen=ints),
    P("sum_until_negative", "medium",
      "adds up the elements of nums from the start and stops before the first negative number; returns the sum (0 if the first element is negative or the list is empty).",
      """
      def sum_until_negative(nums: list[int]) -> int:
          total = 0
          for x in nums:
              if x < 0:
                  break
              total += x
          return total
      """,
      [[1, 2, -1, 5], [3, 4], [], [-3, 5], [0, 0, -1], [5, -5, -5]], gen=ints,
      wrong="""
      def sum_until_negative(nums):
          return sum(x for x in nums if x >= 0)
      """),
    P("first_repeat", "medium",
      "returns the first element of nums that is equal to some earlier element, or None if all elements are different.",
      """
      def first_repeat(nums: list[int]) -> int | None:
          seen = set()
          for x in nums:
              if x in seen:
                  return x
              seen.add(x)
          return None
      """,
      [[2, 5, 1, 5, 2], [1, 2, 3], [], [7, 7], [0, 1, 0], [3, 1, 1, 3]], gen=lambda r: ints(r, 0, 6)),
    P("count_pairs_with_sum", "medium",
      "returns how many pairs of positions i < j satisfy nums[i] + nums[j] == target.",
      """
      def count_pairs_with_sum(nums: list[int], target: int) -> int:
          n = len(nums)
          return sum(1 for i in range(n) for j in range(i + 1, n) if nums[i] + nums[j] == target)
      """,
      [([1, 2, 3, 4], 5), ([1, 1, 1], 2), ([], 0), ([5], 10), ([2, 2], 4), ([0, -1, 1, 0], 0)],
      gen=lambda r: (ints(r, 0, 5), r.randint(0, 10)),
      wrong="""
      def count_pairs_with_sum(nums, target):
          return sum(1 for a in nums for b in nums if a + b == target)
      """),
    P("years_to_double", "medium",
      "returns how many whole years it takes for amount to reach at least twice its starting value, if each year it grows by rate percent and the result is rounded down to an int (amount >= 1, rate >= 1).",
      """
      def years_to_double(amount: int, rate: int) -> int:
          target, years = 2 * amount, 0
          while amount < target:
              amount += amount * rate // 100
              years += 1
          return years
      """,
      [(100, 10), (1000, 7), (100, 100), (1000, 50), (100, 1), (500, 25)]),
    P("pyramid", "medium",
      "returns n rows of a centred pyramid of \"*\": row i (counting from 1) has 2 * i - 1 stars with n - i spaces before them and nothing after. n = 2 gives [\" *\", \"***\"].",
      """
      def pyramid(n: int) -> list[str]:
          return [" " * (n - i) + "*" * (2 * i - 1) for i in range(1, n + 1)]
      """,
      [2, 1, 0, 3, 4, 6]),
    P("count_down_string", "medium",
      "returns the numbers n, n - 1, ..., 1 joined by single spaces, followed by \" liftoff\"; for n <= 0 it is just \"liftoff\". n = 3 gives \"3 2 1 liftoff\".",
      """
      def count_down_string(n: int) -> str:
          return " ".join([str(i) for i in range(n, 0, -1)] + ["liftoff"])
      """,
      [3, 1, 0, 5, -2, 10], trap="n <= 0",
      wrong="""
      def count_down_string(n):
          return " ".join(str(i) for i in range(n, 0, -1)) + " liftoff"
      """),
    P("bounce_heights", "medium",
      "returns the heights reached after each of n bounces of a ball dropped from height h, where each bounce reaches half the previous height: h = 8, n = 3 gives [4.0, 2.0, 1.0]. Heights are floats.",
      """
      def bounce_heights(h: int, n: int) -> list[float]:
          out, cur = [], float(h)
          for _ in range(n):
              cur /= 2
              out.append(cur)
          return out
      """,
      [(8, 3), (10, 2), (5, 0), (1, 4), (100, 5), (3, 1)]),
    P("tribonacci", "medium",
      "returns the n-th term (n >= 0) of the sequence 0, 0, 1, 1, 2, 4, 7, 13, ... where each term after the first three is the sum of the previous three.",
      """
      def tribonacci(n: int) -> int:
          a, b, c = 0, 0, 1
          for _ in range(n):
              a, b, c = b, c, a + b + c
          return a
      """,
      [5, 7, 0, 1, 2, 20]),
    P("triangle_of_numbers", "medium",
      "returns n rows where row i (counting from 1) lists the numbers 1..i separated by spaces: n = 3 gives [\"1\", \"1 2\", \"1 2 3\"].",
      """
      def triangle_of_numbers(n: int) -> list[str]:
          return [" ".join(str(j) for j in range(1, i + 1)) for i in range(1, n + 1)]
      """,
      [3, 1, 0, 2, 5, 10]),
    P("repeat_until_short", "medium",
      "repeatedly removes the first and last characters of s until fewer than 3 characters remain, and returns what is left (\"abcdefg\" -> \"d\", \"abcdef\" -> \"cd\").",
      """
      def repeat_until_short(s: str) -> str:
          while len(s) >= 3:
              s = s[1:-1]
          return s
      """,
      ["abcdefg", "abcdef", "", "ab", "abc", "hello world"]),
    P("sum_digits_until_single", "medium",
      "counts how many times the digits of the integer n >= 0 must be added together until the result has a single digit (9875 -> 29 -> 11 -> 2 takes 3 times; a one-digit n takes 0).",
      """
      def sum_digits_until_single(n: int) -> int:
          count = 0
          while n >= 10:
              n = sum(int(c) for c in str(n))
              count += 1
          return count
      """,
      [9875, 5, 0, 10, 99, 19999999999], gen=_one(0, 10**8)),
    P("factor_pairs", "hard",
      "returns all pairs [a, b] of positive integers with a * b == n and a <= b, ordered by a, for an integer n >= 1 (12 -> [[1, 12], [2, 6], [3, 4]]).",
      """
      def factor_pairs(n: int) -> list[list[int]]:
          return [[a, n // a] for a in range(1, int(n ** 0.5) + 1) if n % a == 0]
      """,
      [12, 7, 1, 16, 36, 100]),
    P("look_and_say", "hard",
      "returns the next term of the look-and-say sequence: read the digit string s aloud by groups of equal digits, so \"1211\" (one 1, one 2, two 1s) becomes \"111221\".",
      """
      def look_and_say(s: str) -> str:
          out, i = "", 0
          while i < len(s):
              j = i
              while j < len(s) and s[j] == s[i]:
                  j += 1
              out += str(j - i) + s[i]
              i = j
          return out
      """,
      ["1211", "1", "11", "21", "111221", "3333333333"]),
    P("border_numbers", "hard",
      "returns the list of numbers visited when walking a square of side n (n >= 1) filled row by row with 1..n*n, along its border clockwise starting from the top-left corner (n = 3 -> [1, 2, 3, 6, 9, 8, 7, 4]).",
      """
      def border_numbers(n: int) -> list[int]:
          if n == 1:
              return [1]
          top = list(range(1, n + 1))
          right = [n * r for r in range(2, n + 1)]
          bottom = list(range(n * n - 1, n * (n - 1), -1))
          left = [n * r + 1 for r in range(n - 2, 0, -1)]
          return top + right + bottom + left
      """,
      [3, 2, 1, 4, 5, 6]),
]
