"""Building a new list from old ones: map, filter, reorder, combine."""
from murphy_jax.data.bundled.catalog import P
from murphy_jax.data.bundled.catalog._gen import ints, words

THEME = "list_transforms"


PROBLEMS = [
    P("double_all", "easy",
      "returns a new list with every integer of nums multiplied by 2.",
      """
      def double_all(nums: list[int]) -> list[int]:
          return [2 * x for x in nums]
      """,
      [[1, 2, 3], [-1, 0], [], [5], [10, -10, 7], [0, 0]], gen=ints),
    P("squares", "easy",
      "returns a new list with the square of each integer of nums, in the same order.",
      """
      def squares(nums: list[int]) -> list[int]:
          return [x * x for x in nums]
      """,
      [[1, 2, 3], [-2, 4], [], [0], [10], [-1, -1]], gen=ints),
    P("keep_evens", "easy",
      "returns a new list with only the even integers of nums, in their original order.",
      """
      def keep_evens(nums: list[int]) -> list[int]:
          return [x for x in nums if x % 2 == 0]
      """,
      [[1, 2, 3, 4], [1, 3], [], [0, -2, -3], [6], [2, 2, 1]], gen=ints),
    P("remove_negatives", "easy",
      "returns a new list with the negative integers of nums left out (0 is kept), order preserved.",
      """
      def remove_negatives(nums: list[int]) -> list[int]:
          return [x for x in nums if x >= 0]
      """,
      [[1, -2, 3], [-1, -2], [], [0], [5, 0, -5], [-3, 4]], gen=ints,
      wrong="""
      def remove_negatives(nums):
          return [x for x in nums if x > 0]
      """),
    P("reverse_list", "easy",
      "returns a new list with the elements of nums in reverse order.",
      """
      def reverse_list(nums: list[int]) -> list[int]:
          return nums[::-1]
      """,
      [[1, 2, 3], [5], [], [1, 2], [3, 3, 1], [0, -1, -2, -3]], gen=ints),
    P("sort_descending", "easy",
      "returns the integers of nums sorted from largest to smallest.",
      """
      def sort_descending(nums: list[int]) -> list[int]:
          return sorted(nums, reverse=True)
      """,
      [[3, 1, 2], [1], [], [5, 5, 1], [-1, -3, 2], [0, 10, 5]], gen=ints),
    P("sort_by_length", "easy",
      "returns the strings of words sorted from shortest to longest; strings of equal length keep their original order.",
      """
      def sort_by_length(words: list[str]) -> list[str]:
          return sorted(words, key=len)
      """,
      [["ccc", "a", "bb"], ["bb", "aa"], [], ["x"], ["abcd", "ab", "abc", "a"], ["zz", "y", "xx"]], gen=words),
    P("string_lengths", "easy",
      "returns a list with the length of each string of words, in the same order.",
      """
      def string_lengths(words: list[str]) -> list[int]:
          return [len(w) for w in words]
      """,
      [["a", "bb", "ccc"], [""], [], ["hello", "world"], ["x y"], ["abcd", ""]], gen=words),
    P("uppercase_all", "easy",
      "returns a list with every string of words converted to upper case.",
      """
      def uppercase_all(words: list[str]) -> list[str]:
          return [w.upper() for w in words]
      """,
      [["a", "Bb"], ["hello"], [], [""], ["x1", "y2"], ["MiXeD", "case"]], gen=words),
    P("flatten_once", "easy",
      "takes a list of lists of integers and returns one list with all their elements in order ([[1, 2], [3]] -> [1, 2, 3]).",
      """
      def flatten_once(lists: list[list[int]]) -> list[int]:
          return [x for sub in lists for x in sub]
      """,
      [[[1, 2], [3]], [[1], [], [2, 3]], [], [[]], [[5, 6, 7]], [[1], [1], [1]]]),
    P("pair_up", "easy",
      "returns a list of two-element lists [a[i], b[i]] for each position i of the equal-length lists a and b.",
      """
      def pair_up(a: list[int], b: list[int]) -> list[list[int]]:
          return [[x, y] for x, y in zip(a, b)]
      """,
      [([1, 2], [3, 4]), ([5], [6]), ([], []), ([0, 0, 0], [1, 2, 3]), ([-1], [-1]), ([9, 8], [7, 6])]),
    P("elementwise_max", "easy",
      "returns a list whose element i is the larger of a[i] and b[i], for equal-length integer lists a and b.",
      """
      def elementwise_max(a: list[int], b: list[int]) -> list[int]:
          return [max(x, y) for x, y in zip(a, b)]
      """,
      [([1, 5, 3], [4, 2, 3]), ([0], [-1]), ([], []), ([-5, -6], [-7, -1]), ([2, 2], [2, 2]), ([9], [10])]),
    P("replace_value", "easy",
      "returns a copy of nums where every element equal to old is replaced by new.",
      """
      def replace_value(nums: list[int], old: int, new: int) -> list[int]:
          return [new if x == old else x for x in nums]
      """,
      [([1, 2, 1], 1, 9), ([1, 2, 3], 4, 0), ([], 1, 2), ([0, 0], 0, -1), ([5], 5, 5), ([3, 4], 4, 3)]),
    P("clamp_all", "easy",
      "returns a copy of nums with every element limited to the range lo..hi (values below lo become lo, values above hi become hi).",
      """
      def clamp_all(nums: list[int], lo: int, hi: int) -> list[int]:
          return [max(lo, min(x, hi)) for x in nums]
      """,
      [([1, 5, 10], 2, 8), ([-5, 5], 0, 0), ([], 0, 10), ([3, 4], 1, 9), ([-10, 10], -5, 5), ([7], 7, 7)]),
    P("repeat_each", "easy",
      "returns a list where every element of nums appears k times in a row ([1, 2] with k = 2 -> [1, 1, 2, 2]); k >= 0.",
      """
      def repeat_each(nums: list[int], k: int) -> list[int]:
          return [x for x in nums for _ in range(k)]
      """,
      [([1, 2], 2), ([5], 3), ([], 4), ([1, 2, 3], 0), ([0], 1), ([7, 8], 1)]),
    P("cumulative_sum", "medium",
      "returns the running totals of nums: element i of the result is nums[0] + ... + nums[i] ([1, 2, 3] -> [1, 3, 6]).",
      """
      def cumulative_sum(nums: list[int]) -> list[int]:
          out, total = [], 0
          for x in nums:
              total += x
              out.append(total)
          return out
      """,
      [[1, 2, 3], [5], [], [1, -1, 1], [0, 0], [10, 20, 30, 40]], gen=ints),
    P("running_max", "medium",
      "returns a list whose element i is the largest of nums[0], ..., nums[i] ([1, 3, 2] -> [1, 3, 3]).",
      """
      def running_max(nums: list[int]) -> list[int]:
          out = []
          for x in nums:
              out.append(max(x, out[-1]) if out else x)
          return out
      """,
      [[1, 3, 2], [5, 4, 3], [], [-2, -5, -1], [7], [1, 1, 2]], gen=ints,
      wrong="""
      def running_max(nums):
          out, best = [], 0
          for x in nums:
              best = max(best, x)
              out.append(best)
          return out
      """),
    P("differences", "medium",
      "returns the differences between neighbours, nums[i + 1] - nums[i], for every i ([1, 4, 9] -> [3, 5]); lists with fewer than two elements give [].",
      """
      def differences(nums: list[int]) -> list[int]:
          return [b - a for a, b in zip(nums, nums[1:])]
      """,
      [[1, 4, 9], [5, 5], [], [3], [10, 0, -10], [1, 2, 4, 8]], gen=ints),
    P("pairwise_sums", "medium",
      "returns the sums of neighbouring elements, nums[i] + nums[i + 1] ([1, 2, 3] -> [3, 5]); lists with fewer than two elements give [].",
      """
      def pairwise_sums(nums: list[int]) -> list[int]:
          return [a + b for a, b in zip(nums, nums[1:])]
      """,
      [[1, 2, 3], [5, 5], [], [3], [1, -1, 1], [0, 0, 0, 1]], gen=ints),
    P("rotate_left", "medium",
      "moves the first k elements of nums to the end (k >= 0, k may be larger than the length, rotating more than once); an empty list stays empty. [1, 2, 3, 4] with k = 1 -> [2, 3, 4, 1].",
      """
      def rotate_left(nums: list[int], k: int) -> list[int]:
          if not nums:
              return []
          k %= len(nums)
          return nums[k:] + nums[:k]
      """,
      [([1, 2, 3, 4], 1), ([1, 2, 3], 0), ([], 3), ([1, 2, 3], 3), ([1, 2, 3], 4), ([1, 2, 3, 4, 5], 7)],
      trap="k larger than the length",
      wrong="""
      def rotate_left(nums, k):
          return nums[k:] + nums[:k]
      """),
    P("rotate_right", "medium",
      "moves the last k elements of nums to the front (k >= 0, k may be larger than the length); an empty list stays empty. [1, 2, 3, 4] with k = 1 -> [4, 1, 2, 3].",
      """
      def rotate_right(nums: list[int], k: int) -> list[int]:
          if not nums:
              return []
          k %= len(nums)
          return nums[len(nums) - k:] + nums[:len(nums) - k]
      """,
      [([1, 2, 3, 4], 1), ([1, 2, 3], 2), ([], 1), ([1, 2, 3], 0), ([1, 2], 5), ([5, 6, 7], 3)],
      trap="k = 0 and k larger than the length",
      wrong="""
      def rotate_right(nums, k):
          return nums[-k:] + nums[:-k]
      """),
    P("swap_first_last", "medium",
      "returns a copy of nums with the first and last elements swapped; lists with fewer than two elements are returned unchanged.",
      """
      def swap_first_last(nums: list[int]) -> list[int]:
          out = list(nums)
          if len(out) >= 2:
              out[0], out[-1] = out[-1], out[0]
          return out
      """,
      [[1, 2, 3], [4, 5], [], [7], [1, 2, 3, 4, 5], [9, 9]], trap="empty list",
      wrong="""
      def swap_first_last(nums):
          return nums[-1:] + nums[1:-1] + nums[:1]
      """),
    P("dedupe_keep_order", "medium",
      "returns nums with repeated values removed, keeping the first occurrence of each value in its original order ([3, 1, 3, 2, 1] -> [3, 1, 2]).",
      """
      def dedupe_keep_order(nums: list[int]) -> list[int]:
          out = []
          for x in nums:
              if x not in out:
                  out.append(x)
          return out
      """,
      [[3, 1, 3, 2, 1], [1, 2, 3], [], [5, 5, 5], [-1, 1, -1], [2, 1]], gen=lambda r: ints(r, 0, 5),
      wrong="""
      def dedupe_keep_order(nums):
          return sorted(set(nums))
      """),
    P("collapse_adjacent", "medium",
      "returns nums with each run of equal neighbouring values replaced by one copy ([1, 1, 2, 1] -> [1, 2, 1]).",
      """
      def collapse_adjacent(nums: list[int]) -> list[int]:
          return [x for i, x in enumerate(nums) if i == 0 or nums[i - 1] != x]
      """,
      [[1, 1, 2, 1], [1, 2, 3], [], [4, 4, 4], [0], [1, 1, 2, 2, 1, 1]], gen=lambda r: ints(r, 0, 2, 0, 10)),
    P("move_zeros_to_end", "medium",
      "returns nums with all zeros moved to the end while the non-zero values keep their order ([0, 1, 0, 3] -> [1, 3, 0, 0]).",
      """
      def move_zeros_to_end(nums: list[int]) -> list[int]:
          return [x for x in nums if x != 0] + [x for x in nums if x == 0]
      """,
      [[0, 1, 0, 3], [1, 2], [], [0, 0], [0, -1, 2, 0, -3], [5, 0]], gen=lambda r: ints(r, -2, 2)),
    P("evens_then_odds", "medium",
      "returns the even numbers of nums followed by the odd numbers, each group in its original order.",
      """
      def evens_then_odds(nums: list[int]) -> list[int]:
          return [x for x in nums if x % 2 == 0] + [x for x in nums if x % 2]
      """,
      [[1, 2, 3, 4], [1, 3], [], [2, 4], [5, -2, 7, 0], [3, 3, 2]], gen=ints,
      wrong="""
      def evens_then_odds(nums):
          return sorted(nums, key=lambda x: (x % 2, x))
      """),
    P("every_nth", "medium",
      "returns every n-th element of nums starting with the first one: elements at positions 0, n, 2n, ... (n >= 1).",
      """
      def every_nth(nums: list[int], n: int) -> list[int]:
          return nums[::n]
      """,
      [([1, 2, 3, 4, 5], 2), ([1, 2, 3], 1), ([], 3), ([7], 5), ([0, 1, 2, 3, 4, 5, 6], 3), ([4, 5], 2)]),
    P("indices_of", "medium",
      "returns the list of all positions i where nums[i] == x, in increasing order.",
      """
      def indices_of(nums: list[int], x: int) -> list[int]:
          return [i for i, v in enumerate(nums) if v == x]
      """,
      [([1, 2, 1, 3, 1], 1), ([1, 2, 3], 4), ([], 1), ([0], 0), ([5, 5], 5), ([2, 3, 2], 3)]),
    P("remove_at", "medium",
      "returns a copy of nums without the element at position i; if i is not a valid position (0 <= i < len(nums)) the copy is unchanged.",
      """
      def remove_at(nums: list[int], i: int) -> list[int]:
          return nums[:i] + nums[i + 1:] if 0 <= i < len(nums) else list(nums)
      """,
      [([1, 2, 3], 1), ([1, 2, 3], 0), ([], 0), ([1, 2, 3], 3), ([1, 2, 3], -1), ([5], 0)],
      trap="invalid positions",
      wrong="""
      def remove_at(nums, i):
          return nums[:i] + nums[i + 1:]
      """),
    P("insert_sorted", "medium",
      "takes a list sorted in increasing order and returns a new sorted list with x inserted into it.",
      """
      def insert_sorted(nums: list[int], x: int) -> list[int]:
          i = 0
          while i < len(nums) and nums[i] < x:
              i += 1
          return nums[:i] + [x] + nums[i:]
      """,
      [([1, 3, 5], 4), ([1, 2], 0), ([], 7), ([1, 2, 3], 9), ([2, 2], 2), ([-5, 0, 5], -1)]),
    P("window_sums", "medium",
      "returns the sums of all blocks of k consecutive elements of nums, from left to right ([1, 2, 3, 4] with k = 2 -> [3, 5, 7]); k >= 1, and if k > len(nums) the result is [].",
      """
      def window_sums(nums: list[int], k: int) -> list[int]:
          return [sum(nums[i:i + k]) for i in range(len(nums) - k + 1)]
      """,
      [([1, 2, 3, 4], 2), ([1, 2, 3], 3), ([], 1), ([1, 2], 3), ([5], 1), ([1, 1, 1, 1, 1], 4)]),
    P("pad_to_length", "medium",
      "returns nums extended with copies of value at the end until it has length n; lists already that long or longer are returned unchanged.",
      """
      def pad_to_length(nums: list[int], n: int, value: int) -> list[int]:
          return nums + [value] * (n - len(nums))
      """,
      [([1, 2], 4, 0), ([1, 2, 3], 2, 0), ([], 3, 7), ([5], 1, 9), ([1], 0, 1), ([2, 2], 5, -1)]),
    P("top_k", "medium",
      "returns the k largest integers of nums in decreasing order (repeated values count separately); if k > len(nums), all of them.",
      """
      def top_k(nums: list[int], k: int) -> list[int]:
          return sorted(nums, reverse=True)[:k]
      """,
      [([3, 1, 4, 1, 5], 2), ([5, 5, 1], 2), ([], 3), ([1, 2], 5), ([7, 8, 9], 0), ([-1, -2, -3], 1)]),
    P("list_difference", "medium",
      "returns the elements of a that do not appear anywhere in b, keeping their order and repeats.",
      """
      def list_difference(a: list[int], b: list[int]) -> list[int]:
          return [x for x in a if x not in b]
      """,
      [([1, 2, 3, 2], [2]), ([1, 2], [3]), ([], [1]), ([1, 1], []), ([4, 5, 6], [6, 5, 4]), ([0, 1, 0], [1])]),
    P("common_elements", "medium",
      "returns the values that appear in both lists a and b, each once, sorted in increasing order.",
      """
      def common_elements(a: list[int], b: list[int]) -> list[int]:
          return sorted(set(a) & set(b))
      """,
      [([1, 2, 3], [2, 3, 4]), ([1, 1, 2], [1]), ([], [1]), ([5, 6], [7]), ([3, 2, 1], [1, 2, 3]), ([0], [0, 0])],
      wrong="""
      def common_elements(a, b):
          return [x for x in a if x in b]
      """),
    P("interleave_lists", "medium",
      "returns a[0], b[0], a[1], b[1], ... ; when one list runs out the remaining elements of the other are appended.",
      """
      def interleave_lists(a: list[int], b: list[int]) -> list[int]:
          out = []
          for i in range(max(len(a), len(b))):
              if i < len(a):
                  out.append(a[i])
              if i < len(b):
                  out.append(b[i])
          return out
      """,
      [([1, 2, 3], [10, 20, 30]), ([1], [5, 6, 7]), ([], []), ([1, 2, 3], []), ([], [4]), ([1, 2], [3])],
      wrong="""
      def interleave_lists(a, b):
          return [x for pair in zip(a, b) for x in pair]
      """),
    P("chunk", "hard",
      "splits nums into consecutive pieces of length size (size >= 1); the last piece may be shorter. [1, 2, 3, 4, 5] with size 2 -> [[1, 2], [3, 4], [5]].",
      """
      def chunk(nums: list[int], size: int) -> list[list[int]]:
          return [nums[i:i + size] for i in range(0, len(nums), size)]
      """,
      [([1, 2, 3, 4, 5], 2), ([1, 2, 3], 3), ([], 2), ([1], 5), ([1, 2, 3, 4], 1), ([1, 2, 3, 4, 5, 6, 7], 3)]),
    P("split_pairs", "medium",
      "takes a list of two-element lists [x, y] and returns [[all x values], [all y values]] in order; an empty input gives [[], []].",
      """
      def split_pairs(pairs: list[list[int]]) -> list[list[int]]:
          return [[p[0] for p in pairs], [p[1] for p in pairs]]
      """,
      [[[1, 2], [3, 4]], [[5, 6]], [], [[0, 0], [0, 0]], [[1, -1], [2, -2], [3, -3]], [[9, 8], [7, 6]]],
      trap="empty input",
      wrong="""
      def split_pairs(pairs):
          return [list(t) for t in zip(*pairs)]
      """),
    P("merge_sorted", "hard",
      "merges two lists that are each sorted in increasing order into one sorted list containing all elements of both.",
      """
      def merge_sorted(a: list[int], b: list[int]) -> list[int]:
          out, i, j = [], 0, 0
          while i < len(a) and j < len(b):
              if a[i] <= b[j]:
                  out.append(a[i])
                  i += 1
              else:
                  out.append(b[j])
                  j += 1
          return out + a[i:] + b[j:]
      """,
      [([1, 3, 5], [2, 4, 6]), ([1, 2], [3, 4]), ([], []), ([], [1, 2]), ([5], [1, 2, 3]), ([1, 1], [1])],
      gen=lambda r: (sorted(ints(r)), sorted(ints(r)))),
    P("flatten_deep", "hard",
      "takes a list whose elements are integers or (nested) lists of the same kind and returns all the integers in one flat list, in order ([1, [2, [3, 4]], 5] -> [1, 2, 3, 4, 5]).",
      """
      def flatten_deep(items: list) -> list[int]:
          out = []
          for x in items:
              if isinstance(x, list):
                  out.extend(flatten_deep(x))
              else:
                  out.append(x)
          return out
      """,
      [[1, [2, [3, 4]], 5], [[1], [2]], [], [[[[]]]], [1, 2, 3], [[1, [2]], [[3]], 4]],
      wrong="""
      def flatten_deep(items):
          out = []
          for x in items:
              if isinstance(x, list):
                  out.extend(x)
              else:
                  out.append(x)
          return out
      """),
]
