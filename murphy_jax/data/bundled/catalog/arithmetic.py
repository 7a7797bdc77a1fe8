"""Arithmetic on a few integers: the easiest theme, mostly one-liners."""
from murphy_jax.data.bundled.catalog import P

THEME = "arithmetic"


def _pair(lo=-50, hi=50):
    return lambda r: (r.randint(lo, hi), r.randint(lo, hi))


def _one(lo=-50, hi=50):
    return lambda r: r.randint(lo, hi)


PROBLEMS = [
    P("add_two", "easy",
      "returns the sum of the two integers a and b.",
      """
      def add_two(a: int, b: int) -> int:
          return a + b
      """,
      [(2, 3), (-4, 10), (0, 0), (-7, -8), (100, -100), (12345, 1)], gen=_pair()),
    P("multiply", "easy",
      "returns the product of the two integers a and b.",
      """
      def multiply(a: int, b: int) -> int:
          return a * b
      """,
      [(3, 4), (-2, 5), (0, 9), (-3, -3), (1, 77), (12, 12)], gen=_pair()),
    P("double", "easy",
      "returns twice the integer n.",
      """
      def double(n: int) -> int:
          return 2 * n
      """,
      [4, -3, 0, 1, 50, -125], gen=_one()),
    P("negate", "easy",
      "returns the integer n with its sign flipped (5 becomes -5, -5 becomes 5, 0 stays 0).",
      """
      def negate(n: int) -> int:
          return -n
      """,
      [5, -5, 0, 1, -999, 42]),
    P("square", "easy",
      "returns n multiplied by itself.",
      """
      def square(n: int) -> int:
          return n * n
      """,
      [3, -4, 0, 1, 12, -11], gen=_one()),
    P("cube", "easy",
      "returns n to the power of 3.",
      """
      def cube(n: int) -> int:
          return n ** 3
      """,
      [2, -3, 0, 1, 10, -1], gen=_one(-20, 20)),
    P("max_of_two", "easy",
      "returns the larger of the two integers a and b (either one if they are equal).",
      """
      def max_of_two(a: int, b: int) -> int:
          return max(a, b)
      """,
      [(3, 7), (10, -2), (5, 5), (-1, -9), (0, -1), (-3, 0)], gen=_pair()),
    P("min_of_three", "easy",
      "returns the smallest of the three integers a, b and c.",
      """
      def min_of_three(a: int, b: int, c: int) -> int:
          return min(a, b, c)
      """,
      [(4, 1, 9), (-2, -8, 3), (5, 5, 5), (0, 7, 0), (10, 20, -30), (9, 8, 7)],
      gen=lambda r: (r.randint(-30, 30), r.randint(-30, 30), r.randint(-30, 30))),
    P("is_even", "easy",
      "returns True if the integer n is even and False otherwise. Zero and negative even numbers are even.",
      """
      def is_even(n: int) -> bool:
          return n % 2 == 0
      """,
      [4, 7, 0, -2, -3, 1000001], gen=_one(-100, 100)),
    P("is_odd", "easy",
      "returns True if the integer n is odd and False otherwise. n may be negative.",
      """
      def is_odd(n: int) -> bool:
          return n % 2 != 0
      """,
      [3, 8, -5, 0, -12, 99], gen=_one(-100, 100),
      wrong="""
      def is_odd(n):
          return n % 2 == 1 and n > 0
      """),
    P("is_multiple_of", "easy",
      "returns True if the integer n is divisible by the non-zero integer k (n % k == 0), else False.",
      """
      def is_multiple_of(n: int, k: int) -> bool:
          return n % k == 0
      """,
      [(12, 4), (10, 3), (0, 5), (-9, 3), (7, 7), (25, -5), (26, 5)]),
    P("absolute_difference", "easy",
      "returns the distance between the integers a and b, that is the absolute value of a - b (never negative).",
      """
      def absolute_difference(a: int, b: int) -> int:
          return abs(a - b)
      """,
      [(3, 10), (10, 3), (-5, 5), (7, 7), (-2, -9), (0, 4)], gen=_pair()),
    P("sum_of_squares", "easy",
      "returns a*a + b*b for the integers a and b.",
      """
      def sum_of_squares(a: int, b: int) -> int:
          return a * a + b * b
      """,
      [(3, 4), (0, 5), (-2, 2), (1, 1), (10, -10), (0, 0)], gen=_pair(-20, 20)),
    P("rectangle_area", "easy",
      "returns the area (width times height) of a rectangle with integer sides width and height.",
      """
      def rectangle_area(width: int, height: int) -> int:
          return width * height
      """,
      [(3, 4), (5, 5), (0, 10), (1, 1), (12, 7), (100, 3)], gen=_pair(0, 40)),
    P("triangle_area", "easy",
      "returns the area of a triangle with integer base and height, base * height / 2, as a float.",
      """
      def triangle_area(base: int, height: int) -> float:
          return base * height / 2
      """,
      [(4, 3), (5, 5), (10, 0), (1, 1), (7, 2), (9, 11)], gen=_pair(0, 30)),
    P("average_of_two", "easy",
      "returns the average of the integers a and b as a float, for example 2.5 for 2 and 3.",
      """
      def average_of_two(a: int, b: int) -> float:
          return (a + b) / 2
      """,
      [(2, 3), (4, 8), (-1, 1), (0, 0), (-3, -4), (7, 100)], gen=_pair()),
    P("sign", "easy",
      "returns 1 if the integer n is positive, -1 if it is negative and 0 if it is zero.",
      """
      def sign(n: int) -> int:
          return (n > 0) - (n < 0)
      """,
      [7, -3, 0, 1, -1, 12345], gen=_one(-9, 9)),
    P("clamp", "easy",
      "returns x limited to the range lo..hi: lo if x < lo, hi if x > hi, otherwise x itself (lo <= hi).",
      """
      def clamp(x: int, lo: int, hi: int) -> int:
          return max(lo, min(x, hi))
      """,
      [(5, 0, 10), (-3, 0, 10), (15, 0, 10), (0, 0, 10), (10, 0, 10), (4, 4, 4), (-7, -10, -5)]),
    P("quotient_and_remainder", "easy",
      "returns a list [q, r] where q is a // b and r is a % b, for an integer a >= 0 and an integer b > 0.",
      """
      def quotient_and_remainder(a: int, b: int) -> list[int]:
          return [a // b, a % b]
      """,
      [(17, 5), (20, 4), (0, 3), (3, 7), (100, 1), (99, 10)], gen=lambda r: (r.randint(0, 200), r.randint(1, 15))),
    P("power", "easy",
      "returns base raised to the power exp, where exp is an integer >= 0 (any base to the power 0 is 1).",
      """
      def power(base: int, exp: int) -> int:
          return base ** exp
      """,
      [(2, 10), (3, 3), (5, 0), (0, 0), (-2, 3), (10, 1), (1, 50)]),
    P("triangular_number", "easy",
      "returns 1 + 2 + ... + n for an integer n >= 0 (0 when n is 0).",
      """
      def triangular_number(n: int) -> int:
          return n * (n + 1) // 2
      """,
      [4, 1, 0, 10, 100, 7], gen=_one(0, 1000)),
    P("minutes_to_hours", "easy",
      "takes a number of minutes m >= 0 and returns a list [hours, minutes] with 0 <= minutes < 60.",
      """
      def minutes_to_hours(m: int) -> list[int]:
          return [m // 60, m % 60]
      """,
      [130, 45, 0, 60, 59, 1441], gen=_one(0, 5000)),
    P("hours_to_seconds", "easy",
      "returns how many seconds are in h hours (h is an integer >= 0).",
      """
      def hours_to_seconds(h: int) -> int:
          return h * 3600
      """,
      [1, 2, 0, 24, 10, 5]),
    P("celsius_to_fahrenheit", "easy",
      "converts the integer Celsius temperature c to Fahrenheit using c * 9 // 5 + 32 and returns it as an int.",
      """
      def celsius_to_fahrenheit(c: int) -> int:
          return c * 9 // 5 + 32
      """,
      [100, 0, -40, 37, 25, -10], gen=lambda r: 5 * r.randint(-20, 40)),
    P("manhattan_distance", "easy",
      "returns |x1 - x2| + |y1 - y2|, the grid distance between points (x1, y1) and (x2, y2).",
      """
      def manhattan_distance(x1: int, y1: int, x2: int, y2: int) -> int:
          return abs(x1 - x2) + abs(y1 - y2)
      """,
      [(0, 0, 3, 4), (1, 2, 1, 2), (-1, -1, 1, 1), (5, 0, 0, 5), (2, 3, -4, 7), (10, -3, 10, 3)]),
    P("floor_average", "easy",
      "returns the average of the integers a and b rounded down, i.e. (a + b) // 2, as an int.",
      """
      def floor_average(a: int, b: int) -> int:
          return (a + b) // 2
      """,
      [(2, 4), (3, 4), (-1, 0), (0, 0), (-3, -4), (10, 21)]),
    P("hour_after", "easy",
      "takes an hour of the day h (0..23) and a number of hours n >= 0 and returns the hour of the day n hours later (0..23).",
      """
      def hour_after(h: int, n: int) -> int:
          return (h + n) % 24
      """,
      [(10, 5), (22, 3), (0, 0), (23, 1), (5, 48), (13, 100)]),
    P("ceil_divide", "medium",
      "returns a divided by b rounded up to the nearest integer, for integers a >= 0 and b > 0. For example 7 and 2 give 4.",
      """
      def ceil_divide(a: int, b: int) -> int:
          return -(-a // b)
      """,
      [(7, 2), (8, 2), (0, 5), (1, 10), (10, 1), (99, 10), (100, 10)],
      wrong="""
      def ceil_divide(a, b):
          return a // b + 1
      """),
    P("last_digit", "medium",
      "returns the last decimal digit (0..9) of the integer n. For a negative n use its absolute value, so the answer for -17 is 7.",
      """
      def last_digit(n: int) -> int:
          return abs(n) % 10
      """,
      [123, 40, -17, 0, -5, 9], gen=_one(-1000, 1000), trap="negative numbers",
      wrong="""
      def last_digit(n):
          return n % 10
      """),
    P("count_digits", "medium",
      "returns how many decimal digits the integer n has. The minus sign is not a digit and 0 has 1 digit.",
      """
      def count_digits(n: int) -> int:
          return len(str(abs(n)))
      """,
      [12345, 7, 0, -42, -100000, 10], gen=_one(-10**6, 10**6), trap="negative numbers",
      wrong="""
      def count_digits(n):
          return len(str(n))
      """),
    P("round_to_ten", "medium",
      "rounds the integer n to the nearest multiple of 10; a number ending in 5 rounds up (15 -> 20, -15 -> -10).",
      """
      def round_to_ten(n: int) -> int:
          return (n + 5) // 10 * 10
      """,
      [14, 16, 25, 0, -15, -14, 35, 99], trap="halves round up, unlike Python's round",
      wrong="""
      def round_to_ten(n):
          return round(n, -1)
      """),
    P("is_between", "medium",
      "returns True if x lies between a and b inclusive. a and b may be given in either order, so (5, 10, 1) is True.",
      """
      def is_between(x: int, a: int, b: int) -> bool:
          return min(a, b) <= x <= max(a, b)
      """,
      [(5, 1, 10), (5, 10, 1), (0, 1, 10), (1, 1, 10), (10, 10, 1), (11, 1, 10), (-3, -1, -5)],
      trap="bounds given in reverse order",
      wrong="""
      def is_between(x, a, b):
          return a <= x <= b
      """),
    P("next_multiple", "medium",
      "returns the smallest multiple of k that is greater than or equal to n, for integers n >= 0 and k > 0.",
      """
      def next_multiple(n: int, k: int) -> int:
          return -(-n // k) * k
      """,
      [(7, 5), (10, 5), (0, 3), (1, 1), (11, 4), (99, 100)],
      wrong="""
      def next_multiple(n, k):
          return (n // k + 1) * k
      """),
    P("median_of_three", "medium",
      "returns the middle value of the three integers a, b and c (the one that is neither the smallest nor the largest; repeated values count).",
      """
      def median_of_three(a: int, b: int, c: int) -> int:
          return sorted([a, b, c])[1]
      """,
      [(1, 3, 2), (9, 5, 7), (4, 4, 1), (2, 2, 2), (-5, 0, 5), (10, 1, 10)],
      gen=lambda r: (r.randint(-30, 30), r.randint(-30, 30), r.randint(-30, 30))),
    P("sum_of_range", "medium",
      "returns the sum of all integers from a to b inclusive; if a > b there are none and the result is 0.",
      """
      def sum_of_range(a: int, b: int) -> int:
          return sum(range(a, b + 1))
      """,
      [(1, 5), (3, 3), (5, 1), (-2, 2), (0, 0), (-5, -1), (10, 20)],
      wrong="""
      def sum_of_range(a, b):
          return sum(range(a, b))
      """),
    P("seconds_to_clock", "medium",
      "takes a number of seconds s (0 <= s < 360000) and returns it as a string \"H:MM:SS\" where minutes and seconds use two digits.",
      """
      def seconds_to_clock(s: int) -> str:
          return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
      """,
      [3725, 59, 0, 3600, 86399, 61], gen=_one(0, 359999)),
    P("cents_to_dollars", "medium",
      "formats a whole number of cents (>= 0) as a dollar string with two decimals, e.g. 305 -> \"$3.05\".",
      """
      def cents_to_dollars(cents: int) -> str:
          return f"${cents // 100}.{cents % 100:02d}"
      """,
      [305, 1999, 0, 7, 100, 12345], gen=_one(0, 100000)),
    P("is_pythagorean", "medium",
      "returns True if the three positive integers can be the sides of a right triangle (the squares of the two shortest add up to the square of the longest), in any order.",
      """
      def is_pythagorean(a: int, b: int, c: int) -> bool:
          x, y, z = sorted([a, b, c])
          return x * x + y * y == z * z
      """,
      [(3, 4, 5), (5, 3, 4), (1, 2, 3), (6, 8, 10), (13, 5, 12), (2, 2, 2)],
      trap="sides not in order",
      wrong="""
      def is_pythagorean(a, b, c):
          return a * a + b * b == c * c
      """),
    P("simple_interest", "medium",
      "returns the whole-dollar interest principal * rate * years / 100, rounded down to an int (all inputs are integers >= 0).",
      """
      def simple_interest(principal: int, rate: int, years: int) -> int:
          return principal * rate * years // 100
      """,
      [(1000, 5, 2), (250, 3, 1), (0, 10, 10), (999, 1, 1), (1234, 7, 3), (50, 0, 5)]),
]
