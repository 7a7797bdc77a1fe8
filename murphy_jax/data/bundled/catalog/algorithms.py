"""Classic small algorithms: searching, stacks, two pointers, simple dynamic programming."""
from murphy_jax.data.bundled.catalog import P
from murphy_jax.data.bundled.catalog._gen import ints, word

THEME = "algorithms"


def _brackets(r):
    return word(r, 0, 8, "()[]{}")


PROBLEMS = [
    P("kth_smallest", "easy",
      "returns the k-th smallest element of nums counting from 1 (repeated values count separately), for 1 <= k <= len(nums).",
      """
      def kth_smallest(nums: list[int], k: int) -> int:
          return sorted(nums)[k - 1]
      """,
      [([3, 1, 2], 1), ([3, 1, 2], 3), ([5], 1), ([4, 4, 1], 2), ([-1, -5, 0, 2], 2), ([9, 8, 7, 6], 4)]),
    P("linear_search_last", "easy",
      "returns the index of the last occurrence of x in nums, or -1 if x does not occur.",
      """
      def linear_search_last(nums: list[int], x: int) -> int:
          for i in range(len(nums) - 1, -1, -1):
              if nums[i] == x:
                  return i
          return -1
      """,
      [([1, 2, 1, 3], 1), ([1, 2, 3], 4), ([], 0), ([5], 5), ([7, 7, 7], 7), ([0, 1], 0)]),
    P("binary_search", "medium",
      "returns the index of x in the list nums, which is sorted in increasing order and has no repeated values, or -1 if x is not in it.",
      """
      def binary_search(nums: list[int], x: int) -> int:
          lo, hi = 0, len(nums) - 1
          while lo <= hi:
              mid = (lo + hi) // 2
              if nums[mid] == x:
                  return mid
              if nums[mid] < x:
                  lo = mid + 1
              else:
                  hi = mid - 1
          return -1
      """,
      [([1, 3, 5, 7, 9], 7), ([1, 3, 5], 4), ([], 1), ([2], 2), ([1, 2, 3, 4, 5, 6], 1), ([1, 2, 3, 4, 5, 6], 6),
       ([-5, 0, 5], -6)]),
    P("two_sum", "medium",
      "returns [i, j] with i < j such that nums[i] + nums[j] == target, choosing the smallest i and then the smallest j; returns [] if no such pair exists.",
      """
      def two_sum(nums: list[int], target: int) -> list[int]:
          for i in range(len(nums)):
              for j in range(i + 1, len(nums)):
                  if nums[i] + nums[j] == target:
                      return [i, j]
          return []
      """,
      [([2, 7, 11, 15], 9), ([3, 2, 4], 6), ([], 0), ([1, 2], 5), ([3, 3], 6), ([1, 5, 1, 5], 6)],
      trap="using the same element twice",
      wrong="""
      def two_sum(nums, target):
          for i in range(len(nums)):
              for j in range(len(nums)):
                  if nums[i] + nums[j] == target:
                      return [i, j]
          return []
      """),
    P("is_subsequence", "medium",
      "returns True if all characters of a appear in b in the same order, not necessarily next to each other (\"ace\" is a subsequence of \"abcde\"), else False. The empty string is a subsequence of every string.",
      """
      def is_subsequence(a: str, b: str) -> bool:
          i = 0
          for c in b:
              if i < len(a) and a[i] == c:
                  i += 1
          return i == len(a)
      """,
      [("ace", "abcde"), ("aec", "abcde"), ("", ""), ("", "abc"), ("abc", ""), ("aa", "ab"), ("abc", "abc")],
      wrong="""
      def is_subsequence(a, b):
          return all(c in b for c in a)
      """),
    P("longest_common_prefix", "medium",
      "returns the longest string that every string in words starts with; the empty string if words is empty or they share no prefix.",
      """
      def longest_common_prefix(words: list[str]) -> str:
          if not words:
              return ""
          prefix = words[0]
          for w in words[1:]:
              while not w.startswith(prefix):
                  prefix = prefix[:-1]
          return prefix
      """,
      [["flower", "flow", "flight"], ["dog", "car"], [], ["alone"], ["abc", "abc"], ["ab", "a", "abc"]]),
    P("majority_element", "medium",
      "returns the value that appears more than len(nums) / 2 times in nums, or None if no value does.",
      """
      def majority_element(nums: list[int]) -> int | None:
          for x in nums:
              if nums.count(x) * 2 > len(nums):
                  return x
          return None
      """,
      [[3, 3, 4], [1, 2, 3], [], [7], [1, 1, 2, 2], [2, 2, 1, 1, 2]], trap="no majority",
      wrong="""
      def majority_element(nums):
          return max(nums, key=nums.count) if nums else None
      """),
    P("max_depth", "medium",
      "returns the maximum nesting depth of the parentheses in s, which contains only balanced \"(\" and \")\" characters (\"(()(()))\" -> 3, \"\" -> 0).",
      """
      def max_depth(s: str) -> int:
          depth = best = 0
          for c in s:
              depth += 1 if c == "(" else -1
              best = max(best, depth)
          return best
      """,
      ["(()(()))", "()()", "", "((()))", "()", "(())()"]),
    P("climb_stairs", "medium",
      "returns the number of different ways to climb n stairs (n >= 0) taking 1 or 2 steps at a time; there is 1 way to climb 0 stairs.",
      """
      def climb_stairs(n: int) -> int:
          a, b = 1, 1
          for _ in range(n):
              a, b = b, a + b
          return a
      """,
      [3, 4, 0, 1, 2, 30]),
    P("local_peaks", "medium",
      "returns the positions i where nums[i] is strictly greater than each of its neighbours (an end element has only one neighbour; a one-element list has a peak at 0).",
      """
      def local_peaks(nums: list[int]) -> list[int]:
          n = len(nums)
          return [i for i in range(n)
                  if (i == 0 or nums[i] > nums[i - 1]) and (i == n - 1 or nums[i] > nums[i + 1])]
      """,
      [[1, 3, 2, 4, 1], [5, 1, 5], [], [7], [2, 2, 2], [1, 2, 3]], gen=lambda r: ints(r, 0, 5),
      trap="end elements",
      wrong="""
      def local_peaks(nums):
          return [i for i in range(1, len(nums) - 1) if nums[i] > nums[i - 1] and nums[i] > nums[i + 1]]
      """),
    P("is_monotonic", "medium",
      "returns True if nums is entirely non-decreasing or entirely non-increasing, else False (lists with fewer than 2 elements are monotonic).",
      """
      def is_monotonic(nums: list[int]) -> bool:
          pairs = list(zip(nums, nums[1:]))
          return all(a <= b for a, b in pairs) or all(a >= b for a, b in pairs)
      """,
      [[1, 2, 2, 3], [3, 2, 1], [1, 3, 2], [], [5], [4, 4, 4], [1, 1, 0, 2]],
      wrong="""
      def is_monotonic(nums):
          return nums == sorted(nums)
      """),
    P("count_inversions", "medium",
      "returns the number of pairs of positions i < j with nums[i] > nums[j].",
      """
      def count_inversions(nums: list[int]) -> int:
          n = len(nums)
          return sum(1 for i in range(n) for j in range(i + 1, n) if nums[i] > nums[j])
      """,
      [[2, 4, 1, 3, 5], [1, 2, 3], [], [3, 2, 1], [1, 1, 1], [5, 1]], gen=ints),
    P("product_except_self", "medium",
      "returns a list whose element i is the product of all elements of nums except nums[i] ([1, 2, 3, 4] -> [24, 12, 8, 6]).",
      """
      def product_except_self(nums: list[int]) -> list[int]:
          out = []
          for i in range(len(nums)):
              p = 1
              for j, x in enumerate(nums):
                  if j != i:
                      p *= x
              out.append(p)
          return out
      """,
      [[1, 2, 3, 4], [2, 3], [], [5], [0, 4, 2], [-1, 1, 0, -3, 3]], trap="zeros",
      wrong="""
      def product_except_self(nums):
          total = 1
          for x in nums:
              total *= x
          return [total // x for x in nums]
      """),
    P("evaluate_plus_minus", "medium",
      "evaluates a string of non-negative integers joined by \"+\" and \"-\" signs, with no spaces, and returns the result (\"12+3-4\" -> 11).",
      """
      def evaluate_plus_minus(expr: str) -> int:
          total, num, sign = 0, 0, 1
          for c in expr:
              if c.isdigit():
                  num = num * 10 + int(c)
              else:
                  total += sign * num
                  num, sign = 0, 1 if c == "+" else -1
          return total + sign * num
      """,
      ["12+3-4", "5", "0", "10-20", "1+2+3+4", "100-1-1", "7-7+7"]),
    P("balanced_brackets", "hard",
      "returns True if every bracket in s, which contains only the characters ()[]{}, is closed by the matching bracket in the right order (\"([]{})\" is balanced, \"([)]\" is not), else False. The empty string is balanced.",
      """
      def balanced_brackets(s: str) -> bool:
          stack, pairs = [], {")": "(", "]": "[", "}": "{"}
          for c in s:
              if c in pairs:
                  if not stack or stack.pop() != pairs[c]:
                      return False
              else:
                  stack.append(c)
          return not stack
      """,
      ["([]{})", "([)]", "", "((", "())", "{[()()]}", "]"], gen=_brackets, trap="closing before opening",
      wrong="""
      def balanced_brackets(s):
          return all(s.count(a) == s.count(b) for a, b in ("()", "[]", "{}"))
      """),
    P("max_subarray_sum", "hard",
      "returns the largest sum of a non-empty block of consecutive elements of the non-empty list nums ([-2, 1, -3, 4, -1, 2, 1, -5, 4] -> 6). If all numbers are negative the answer is the largest number.",
      """
      def max_subarray_sum(nums: list[int]) -> int:
          best = cur = nums[0]
          for x in nums[1:]:
              cur = max(x, cur + x)
              best = max(best, cur)
          return best
      """,
      [[-2, 1, -3, 4, -1, 2, 1, -5, 4], [1, 2, 3], [-3, -1, -2], [5], [-5], [2, -1, 2]],
      gen=lambda r: ints(r, n_lo=1), trap="all numbers negative",
      wrong="""
      def max_subarray_sum(nums):
          best = cur = 0
          for x in nums:
              cur = max(0, cur + x)
              best = max(best, cur)
          return best
      """),
    P("max_profit", "hard",
      "takes daily stock prices and returns the largest profit from buying on one day and selling on a later day; returns 0 if no profit is possible.",
      """
      def max_profit(prices: list[int]) -> int:
          best, low = 0, None
          for p in prices:
              if low is None or p < low:
                  low = p
              best = max(best, p - low)
          return best
      """,
      [[7, 1, 5, 3, 6, 4], [7, 6, 4, 3, 1], [], [5], [1, 2], [3, 8, 1, 4]], gen=lambda r: ints(r, 1, 20),
      wrong="""
      def max_profit(prices):
          return max(prices) - min(prices) if prices else 0
      """),
    P("roman_to_int", "hard",
      "converts a Roman numeral string (I=1, V=5, X=10, L=50, C=100, D=500, M=1000; a smaller symbol before a larger one is subtracted, as in IV=4 or XC=90) to an int.",
      """
      def roman_to_int(s: str) -> int:
          v = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
          total = 0
          for i, c in enumerate(s):
              if i + 1 < len(s) and v[c] < v[s[i + 1]]:
                  total -= v[c]
              else:
                  total += v[c]
          return total
      """,
      ["III", "XIV", "IX", "MCMXCIV", "LVIII", "MMXXIV", "XL"], trap="subtractive pairs",
      wrong="""
      def roman_to_int(s):
          v = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
          return sum(v[c] for c in s)
      """),
    P("int_to_roman", "hard",
      "converts an integer 1 <= n <= 3999 to a Roman numeral string, using the subtractive forms IV, IX, XL, XC, CD and CM (4 -> \"IV\", 1994 -> \"MCMXCIV\").",
      """
      def int_to_roman(n: int) -> str:
          table = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                   (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
          out = ""
          for value, sym in table:
              while n >= value:
                  out += sym
                  n -= value
          return out
      """,
      [3, 4, 9, 58, 1994, 3999, 40], gen=lambda r: r.randint(1, 3999)),
    P("coin_change_min", "hard",
      "returns the fewest coins needed to make the amount (>= 0) from the given coin values (each can be used any number of times), or -1 if it cannot be made. An amount of 0 needs 0 coins.",
      """
      def coin_change_min(coins: list[int], amount: int) -> int:
          inf = amount + 1
          best = [0] + [inf] * amount
          for a in range(1, amount + 1):
              for c in coins:
                  if c <= a and best[a - c] + 1 < best[a]:
                      best[a] = best[a - c] + 1
          return best[amount] if best[amount] < inf else -1
      """,
      [([1, 2, 5], 11), ([2], 3), ([1], 0), ([1, 3, 4], 6), ([5, 10], 25), ([7], 14), ([3, 5], 7)],
      trap="greedy choice is not optimal",
      wrong="""
      def coin_change_min(coins, amount):
          count = 0
          for c in sorted(coins, reverse=True):
              count += amount // c
              amount %= c
          return count if amount == 0 else -1
      """),
    P("merge_intervals", "hard",
      "merges overlapping intervals: takes a list of [start, end] pairs (start <= end) in any order and returns the merged intervals sorted by start. Intervals that touch, like [1, 3] and [3, 5], are merged.",
      """
      def merge_intervals(intervals: list[list[int]]) -> list[list[int]]:
          out = []
          for s, e in sorted(intervals):
              if out and s <= out[-1][1]:
                  out[-1][1] = max(out[-1][1], e)
              else:
                  out.append([s, e])
          return out
      """,
      [[[1, 3], [2, 6], [8, 10]], [[1, 3], [3, 5]], [], [[5, 7]], [[6, 8], [1, 2]], [[1, 10], [2, 3], [4, 5]]]),
    P("longest_increasing_subsequence", "hard",
      "returns the length of the longest strictly increasing subsequence of nums (elements in order, not necessarily adjacent): [10, 9, 2, 5, 3, 7, 101, 18] -> 4.",
      """
      def longest_increasing_subsequence(nums: list[int]) -> int:
          best = [1] * len(nums)
          for i in range(len(nums)):
              for j in range(i):
                  if nums[j] < nums[i]:
                      best[i] = max(best[i], best[j] + 1)
          return max(best, default=0)
      """,
      [[10, 9, 2, 5, 3, 7, 101, 18], [1, 2, 3], [], [5, 4, 3], [2, 2, 2], [0, 8, 4, 12, 2]], gen=ints),
    P("edit_distance", "hard",
      "returns the minimum number of single-character insertions, deletions and substitutions needed to turn string a into string b.",
      """
      def edit_distance(a: str, b: str) -> int:
          prev = list(range(len(b) + 1))
          for i, ca in enumerate(a, 1):
              cur = [i]
              for j, cb in enumerate(b, 1):
                  cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
              prev = cur
          return prev[-1]
      """,
      [("kitten", "sitting"), ("abc", "abc"), ("", ""), ("", "abc"), ("abc", ""), ("horse", "ros"),
       ("flaw", "lawn")]),
    P("evaluate_rpn", "hard",
      "evaluates an expression in reverse Polish notation given as a list of tokens (integers as strings, and the operators \"+\", \"-\", \"*\"), returning the int result: [\"2\", \"3\", \"+\", \"4\", \"*\"] -> 20.",
      """
      def evaluate_rpn(tokens: list[str]) -> int:
          stack = []
          for t in tokens:
              if t in ("+", "-", "*"):
                  b, a = stack.pop(), stack.pop()
                  stack.append(a + b if t == "+" else a - b if t == "-" else a * b)
              else:
                  stack.append(int(t))
          return stack[0]
      """,
      [["2", "3", "+", "4", "*"], ["5", "1", "-"], ["7"], ["4", "2", "*", "3", "-"], ["-3", "2", "*"],
       ["1", "2", "3", "*", "+"]], trap="operand order for -",
      wrong="""
      def evaluate_rpn(tokens):
          stack = []
          for t in tokens:
              if t in ("+", "-", "*"):
                  a, b = stack.pop(), stack.pop()
                  stack.append(a + b if t == "+" else a - b if t == "-" else a * b)
              else:
                  stack.append(int(t))
          return stack[0]
      """),
    P("next_greater", "hard",
      "returns a list whose element i is the first element to the right of nums[i] that is strictly greater than it, or -1 if there is none ([2, 1, 3] -> [3, 3, -1]).",
      """
      def next_greater(nums: list[int]) -> list[int]:
          out = []
          for i, x in enumerate(nums):
              out.append(next((y for y in nums[i + 1:] if y > x), -1))
          return out
      """,
      [[2, 1, 3], [1, 2, 3], [], [3, 2, 1], [5, 5, 6], [4, 1, 2, 5]], gen=ints),
    P("longest_unique_substring", "hard",
      "returns the length of the longest block of consecutive characters of s in which no character repeats (\"abcabcbb\" -> 3).",
      """
      def longest_unique_substring(s: str) -> int:
          best, start, last = 0, 0, {}
          for i, c in enumerate(s):
              if c in last and last[c] >= start:
                  start = last[c] + 1
              last[c] = i
              best = max(best, i - start + 1)
          return best
      """,
      ["abcabcbb", "bbbbb", "", "pwwkew", "a", "abba"], gen=lambda r: word(r, 0, 12, "abcd")),
    P("can_jump", "hard",
      "takes a list where nums[i] >= 0 is the maximum jump length from position i and returns True if the last position can be reached starting from position 0 (a one-element list is already there).",
      """
      def can_jump(nums: list[int]) -> bool:
          reach = 0
          for i, x in enumerate(nums):
              if i > reach:
                  return False
              reach = max(reach, i + x)
          return True
      """,
      [[2, 3, 1, 1, 4], [3, 2, 1, 0, 4], [0], [1, 0], [0, 1], [2, 0, 0]], gen=lambda r: ints(r, 0, 3, 1, 8)),
    P("first_missing_positive", "hard",
      "returns the smallest positive integer (1, 2, 3, ...) that does not appear in nums.",
      """
      def first_missing_positive(nums: list[int]) -> int:
          seen = set(nums)
          k = 1
          while k in seen:
              k += 1
          return k
      """,
      [[3, 4, -1, 1], [1, 2, 0], [], [7, 8, 9], [1], [2, 1, 2, 3]], gen=lambda r: ints(r, -3, 8)),
    P("trapped_water", "hard",
      "takes bar heights (integers >= 0) and returns how many units of rain water are trapped between the bars ([0, 1, 0, 2, 1, 0, 1, 3, 2, 1, 2, 1] -> 6).",
      """
      def trapped_water(heights: list[int]) -> int:
          total = 0
          for i, h in enumerate(heights):
              total += max(0, min(max(heights[:i + 1]), max(heights[i:])) - h)
          return total
      """,
      [[0, 1, 0, 2, 1, 0, 1, 3, 2, 1, 2, 1], [3, 0, 3], [], [1, 2, 3], [5], [4, 2, 0, 3, 2, 5]],
      gen=lambda r: ints(r, 0, 5)),
    P("unique_paths", "medium",
      "returns how many paths lead from the top-left to the bottom-right cell of a grid with rows x cols cells (both >= 1), moving only right or down.",
      """
      def unique_paths(rows: int, cols: int) -> int:
          row = [1] * cols
          for _ in range(rows - 1):
              for j in range(1, cols):
                  row[j] += row[j - 1]
          return row[-1]
      """,
      [(3, 7), (3, 2), (1, 1), (1, 5), (5, 1), (10, 10)]),
    P("binary_gap", "hard",
      "returns the length of the longest run of 0s between two 1s in the binary form of the integer n >= 1 (9 = 1001 -> 2; 32 = 100000 -> 0 because its zeros are not closed by a 1).",
      """
      def binary_gap(n: int) -> int:
          parts = bin(n)[2:].strip("0").split("1")
          return max(len(p) for p in parts)
      """,
      [9, 32, 1, 529, 20, 15, 1041], trap="trailing zeros",
      wrong="""
      def binary_gap(n):
          return max(len(p) for p in bin(n)[2:].split("1"))
      """),
]
