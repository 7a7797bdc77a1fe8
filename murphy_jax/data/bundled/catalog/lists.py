"""Questions about a list: totals, extremes, searches and properties."""
from murphy_jax.data.bundled.catalog import P
from murphy_jax.data.bundled.catalog._gen import ints, words

THEME = "lists"


def _nonempty(r):
    return ints(r, n_lo=1)


def _pow2_len(r):
    # Lengths 1, 2, 4 or 8 keep averages exact binary fractions.
    return [r.randint(-20, 20) for _ in range(r.choice([1, 2, 4, 8]))]


PROBLEMS = [
    P("sum_list", "easy",
      "returns the sum of a list of integers (0 for an empty list).",
      """
      def sum_list(nums: list[int]) -> int:
          return sum(nums)
      """,
      [[1, 2, 3], [10, -4], [], [7], [-1, -2, -3], [0, 0, 0]], gen=ints),
    P("max_in_list", "easy",
      "returns the largest integer in a non-empty list.",
      """
      def max_in_list(nums: list[int]) -> int:
          return max(nums)
      """,
      [[3, 9, 2], [-5, -1, -9], [7], [4, 4], [0, -1], [1, 2, 3, 100]], gen=_nonempty,
      wrong="""
      def max_in_list(nums):
          best = 0
          for x in nums:
              if x > best:
                  best = x
          return best
      """),
    P("min_in_list", "easy",
      "returns the smallest integer in a non-empty list.",
      """
      def min_in_list(nums: list[int]) -> int:
          return min(nums)
      """,
      [[3, 9, 2], [5, 1, 9], [7], [-4, -4], [0, 1], [100, 99, 101]], gen=_nonempty),
    P("count_evens", "easy",
      "returns how many integers in the list are even (negative even numbers and 0 count).",
      """
      def count_evens(nums: list[int]) -> int:
          return sum(1 for x in nums if x % 2 == 0)
      """,
      [[1, 2, 3, 4], [1, 3, 5], [], [0], [-2, -3, -4], [2, 2, 2]], gen=ints),
    P("count_positives", "easy",
      "returns how many integers in the list are strictly greater than 0.",
      """
      def count_positives(nums: list[int]) -> int:
          return sum(1 for x in nums if x > 0)
      """,
      [[1, -2, 3], [-1, -5], [], [0, 0], [5], [0, 1, 2]], gen=ints),
    P("product_of_list", "easy",
      "returns the product of all integers in the list; an empty list gives 1.",
      """
      def product_of_list(nums: list[int]) -> int:
          p = 1
          for x in nums:
              p *= x
          return p
      """,
      [[2, 3, 4], [5], [], [1, 0, 7], [-2, 3], [-1, -1, -1]], gen=lambda r: ints(r, -5, 5)),
    P("sum_of_evens", "easy",
      "returns the sum of the even integers in the list (0 if there are none).",
      """
      def sum_of_evens(nums: list[int]) -> int:
          return sum(x for x in nums if x % 2 == 0)
      """,
      [[1, 2, 3, 4], [1, 3], [], [-2, -4, 5], [0], [10, 20, 30]], gen=ints),
    P("sum_even_indices", "easy",
      "returns the sum of the list elements at even positions 0, 2, 4, ...",
      """
      def sum_even_indices(nums: list[int]) -> int:
          return sum(nums[::2])
      """,
      [[1, 2, 3, 4, 5], [10, 20], [], [7], [-1, 5, -1, 5], [0, 9, 0]], gen=ints),
    P("contains", "easy",
      "returns True if the integer x is an element of the list nums, else False.",
      """
      def contains(nums: list[int], x: int) -> bool:
          return x in nums
      """,
      [([1, 2, 3], 2), ([1, 2, 3], 5), ([], 1), ([0], 0), ([-1, -2], -2), ([4, 4], 40)]),
    P("index_of", "easy",
      "returns the index of the first occurrence of x in the list nums, or -1 if x is not there.",
      """
      def index_of(nums: list[int], x: int) -> int:
          return nums.index(x) if x in nums else -1
      """,
      [([5, 6, 7], 6), ([5, 6, 7], 9), ([], 1), ([3, 3, 3], 3), ([1, 2, 3], 3), ([0], 0)]),
    P("count_occurrences", "easy",
      "returns how many times the integer x appears in the list nums.",
      """
      def count_occurrences(nums: list[int], x: int) -> int:
          return nums.count(x)
      """,
      [([1, 2, 1, 1], 1), ([1, 2, 3], 4), ([], 0), ([0, 0], 0), ([-1, 1, -1], -1), ([5], 5)]),
    P("count_greater_than", "easy",
      "returns how many elements of nums are strictly greater than x.",
      """
      def count_greater_than(nums: list[int], x: int) -> int:
          return sum(1 for v in nums if v > x)
      """,
      [([1, 5, 8, 3], 4), ([1, 2], 2), ([], 0), ([-3, -2, -1], -2), ([7, 7, 7], 6), ([10], 10)],
      gen=lambda r: (ints(r), r.randint(-10, 10))),
    P("any_negative", "easy",
      "returns True if at least one integer in the list is negative, else False (False for an empty list).",
      """
      def any_negative(nums: list[int]) -> bool:
          return any(x < 0 for x in nums)
      """,
      [[1, -2, 3], [1, 2, 3], [], [0], [-1], [0, 0, -7]]),
    P("has_duplicates", "easy",
      "returns True if some value appears more than once in the list, else False.",
      """
      def has_duplicates(nums: list[int]) -> bool:
          return len(set(nums)) != len(nums)
      """,
      [[1, 2, 3, 1], [1, 2, 3], [], [5], [0, 0], [-1, 1]], gen=lambda r: ints(r, 0, 9)),
    P("count_distinct", "easy",
      "returns how many different values the list contains.",
      """
      def count_distinct(nums: list[int]) -> int:
          return len(set(nums))
      """,
      [[1, 2, 2, 3], [4, 4, 4], [], [1], [-1, 1, 0], [5, 6, 7, 8]], gen=lambda r: ints(r, 0, 5)),
    P("sum_of_squares_list", "easy",
      "returns the sum of the squares of the integers in the list (0 for an empty list).",
      """
      def sum_of_squares_list(nums: list[int]) -> int:
          return sum(x * x for x in nums)
      """,
      [[1, 2, 3], [-2], [], [0, 0], [10, -10], [1, 1, 1, 1]], gen=ints),
    P("max_abs", "easy",
      "returns the largest absolute value among the integers of a non-empty list ([-7, 3] -> 7).",
      """
      def max_abs(nums: list[int]) -> int:
          return max(abs(x) for x in nums)
      """,
      [[-7, 3], [1, 2, 3], [0], [-1, -2, -3], [5, -5], [4]], gen=_nonempty),
    P("dot_product", "easy",
      "returns the sum of a[i] * b[i] over all positions i, for two integer lists of the same length.",
      """
      def dot_product(a: list[int], b: list[int]) -> int:
          return sum(x * y for x, y in zip(a, b))
      """,
      [([1, 2, 3], [4, 5, 6]), ([1, 0], [0, 1]), ([], []), ([-1], [5]), ([2, 2], [3, -3]), ([7], [7])]),
    P("total_length", "easy",
      "returns the total number of characters in all the strings of the list.",
      """
      def total_length(strings: list[str]) -> int:
          return sum(len(s) for s in strings)
      """,
      [["ab", "cde"], ["hello"], [], ["", ""], ["a", "b", "c"], ["x y", "z"]], gen=words),
    P("count_starting_with", "easy",
      "returns how many strings in the list words start with the single character letter (case-sensitive).",
      """
      def count_starting_with(words: list[str], letter: str) -> int:
          return sum(1 for w in words if w.startswith(letter))
      """,
      [(["apple", "avocado", "banana"], "a"), (["Apple", "apple"], "a"), ([], "a"), ([""], "a"),
       (["bob", "bill", "bo"], "b"), (["x"], "y")]),
    P("is_list_palindrome", "easy",
      "returns True if the list reads the same forwards and backwards, else False.",
      """
      def is_list_palindrome(nums: list[int]) -> bool:
          return nums == nums[::-1]
      """,
      [[1, 2, 1], [1, 2, 3], [], [4], [1, 2, 2, 1], [1, 2]]),
    P("list_average", "medium",
      "returns the average (mean) of a list of integers as a float; an empty list gives 0.0.",
      """
      def list_average(nums: list[int]) -> float:
          return sum(nums) / len(nums) if nums else 0.0
      """,
      [[1, 2, 3, 4], [5, 5], [], [7], [-2, 2, 4, 0], [1, 2]], gen=_pow2_len, trap="empty list",
      wrong="""
      def list_average(nums):
          return sum(nums) / len(nums)
      """),
    P("range_of_list", "medium",
      "returns the largest element minus the smallest element of the list; an empty list gives 0.",
      """
      def range_of_list(nums: list[int]) -> int:
          return max(nums) - min(nums) if nums else 0
      """,
      [[3, 9, 2], [5], [], [-5, 5], [4, 4, 4], [-1, -10]], gen=ints, trap="empty list",
      wrong="""
      def range_of_list(nums):
          return max(nums) - min(nums)
      """),
    P("is_sorted", "medium",
      "returns True if each element of the list is greater than or equal to the one before it (equal neighbours are allowed), else False.",
      """
      def is_sorted(nums: list[int]) -> bool:
          return all(a <= b for a, b in zip(nums, nums[1:]))
      """,
      [[1, 2, 3], [3, 1, 2], [], [5], [1, 1, 2], [2, 1], [-3, -2, 0, 0]], trap="equal neighbours",
      wrong="""
      def is_sorted(nums):
          return all(a < b for a, b in zip(nums, nums[1:]))
      """),
    P("all_positive", "medium",
      "returns True if every integer in the list is strictly greater than 0; an empty list gives True.",
      """
      def all_positive(nums: list[int]) -> bool:
          return all(x > 0 for x in nums)
      """,
      [[1, 2, 3], [1, 0, 3], [], [5], [-1], [3, 2, -1]], trap="zero and the empty list",
      wrong="""
      def all_positive(nums):
          return len(nums) > 0 and all(x >= 0 for x in nums)
      """),
    P("all_same", "medium",
      "returns True if all elements of the list are equal; an empty list or a one-element list gives True.",
      """
      def all_same(nums: list[int]) -> bool:
          return len(set(nums)) <= 1
      """,
      [[2, 2, 2], [2, 3, 2], [], [9], [0, 0], [1, 1, 1, 2]], trap="empty list",
      wrong="""
      def all_same(nums):
          return all(x == nums[0] for x in nums[1:]) if nums else False
      """),
    P("first_even", "medium",
      "returns the first even integer in the list, or None if there is no even integer.",
      """
      def first_even(nums: list[int]) -> int | None:
          for x in nums:
              if x % 2 == 0:
                  return x
          return None
      """,
      [[1, 3, 4, 6], [1, 3, 5], [], [0], [-2, 4], [7, 9, 10]]),
    P("last_element", "medium",
      "returns the last element of the list, or None if the list is empty.",
      """
      def last_element(nums: list[int]) -> int | None:
          return nums[-1] if nums else None
      """,
      [[1, 2, 3], [7], [], [0, 0], [-4, -5], [3, 2, 1]], trap="empty list",
      wrong="""
      def last_element(nums):
          return nums[-1]
      """),
    P("same_first_last", "medium",
      "returns True if the list is non-empty and its first and last elements are equal, else False.",
      """
      def same_first_last(nums: list[int]) -> bool:
          return len(nums) > 0 and nums[0] == nums[-1]
      """,
      [[1, 2, 1], [1, 2, 3], [], [5], [4, 4], [0, 1, 2, 0]], trap="empty list",
      wrong="""
      def same_first_last(nums):
          return nums[0] == nums[-1]
      """),
    P("count_in_range", "medium",
      "returns how many elements x of nums satisfy lo <= x <= hi.",
      """
      def count_in_range(nums: list[int], lo: int, hi: int) -> int:
          return sum(1 for x in nums if lo <= x <= hi)
      """,
      [([1, 5, 10, 15], 5, 10), ([1, 2, 3], 4, 9), ([], 0, 1), ([0, 0], 0, 0), ([-5, -3, 3, 5], -3, 3), ([7], 8, 6)],
      gen=lambda r: (ints(r), r.randint(-10, 0), r.randint(0, 10))),
    P("index_of_max", "medium",
      "returns the index of the largest element of a non-empty list; if the largest value appears more than once, the first index.",
      """
      def index_of_max(nums: list[int]) -> int:
          return nums.index(max(nums))
      """,
      [[3, 9, 2], [1, 5, 5], [7], [-1, -2], [0, 0, 0], [1, 2, 3]], gen=lambda r: ints(r, 0, 5, n_lo=1)),
    P("largest_gap", "medium",
      "returns the largest absolute difference between two neighbouring elements of the list; lists with fewer than two elements give 0.",
      """
      def largest_gap(nums: list[int]) -> int:
          return max((abs(a - b) for a, b in zip(nums, nums[1:])), default=0)
      """,
      [[1, 5, 2], [3, 3], [], [4], [10, 0, 10], [-5, 5, 6]], gen=ints),
    P("closest_to_zero", "medium",
      "returns the element of a non-empty list that is closest to 0; if a negative and a positive number are equally close, return the positive one.",
      """
      def closest_to_zero(nums: list[int]) -> int:
          return min(nums, key=lambda x: (abs(x), -x))
      """,
      [[7, -3, 5], [4, -2, 2], [-2, 2], [0, 1], [-5], [-4, -3, 9]], trap="ties between -x and x",
      wrong="""
      def closest_to_zero(nums):
          return min(nums, key=abs)
      """),
    P("second_largest", "hard",
      "returns the second largest distinct value in the list ([5, 5, 4] -> 4), or None if the list has fewer than two distinct values.",
      """
      def second_largest(nums: list[int]) -> int | None:
          vals = sorted(set(nums))
          return vals[-2] if len(vals) >= 2 else None
      """,
      [[3, 9, 2], [5, 5, 4], [7], [], [4, 4], [-1, -2, -3], [10, 10, 9, 9]], trap="repeated maximum",
      wrong="""
      def second_largest(nums):
          return sorted(nums)[-2] if len(nums) >= 2 else None
      """),
    P("median", "hard",
      "returns the median of a non-empty list of integers as a float: the middle value of the sorted list, or the average of the two middle values when the length is even.",
      """
      def median(nums: list[int]) -> float:
          s = sorted(nums)
          n = len(s)
          return float(s[n // 2]) if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
      """,
      [[3, 1, 2], [4, 1, 3, 2], [5], [1, 2], [7, 7, 7, 7], [-1, -5, 10]], gen=_nonempty,
      wrong="""
      def median(nums):
          return float(sorted(nums)[len(nums) // 2])
      """),
    P("longest_increasing_run", "hard",
      "returns the length of the longest block of consecutive elements that are strictly increasing ([1, 2, 0, 3, 4, 5] -> 4 for 0, 3, 4, 5); an empty list gives 0.",
      """
      def longest_increasing_run(nums: list[int]) -> int:
          best = run = 0
          for i, x in enumerate(nums):
              run = run + 1 if i and nums[i - 1] < x else 1
              best = max(best, run)
          return best
      """,
      [[1, 2, 0, 3, 4, 5], [5, 4, 3], [], [1], [1, 1, 1], [1, 2, 3, 1, 2]], gen=lambda r: ints(r, 0, 6)),
    P("missing_number", "hard",
      "takes a list containing all the numbers 0..n except exactly one (in any order, n = len(nums)) and returns the missing one.",
      """
      def missing_number(nums: list[int]) -> int:
          n = len(nums)
          return n * (n + 1) // 2 - sum(nums)
      """,
      [[3, 0, 1], [0, 1], [], [1], [0], [9, 6, 4, 2, 3, 5, 7, 0, 1]], trap="the missing number is n",
      wrong="""
      def missing_number(nums):
          for i in range(len(nums)):
              if i not in nums:
                  return i
          return 0
      """),
]
