"""Digits, divisors, primes and integer sequences."""
from murphy_jax.data.bundled.catalog import P

THEME = "number_theory"


def _one(lo, hi):
    return lambda r: r.randint(lo, hi)


PROBLEMS = [
    P("factorial", "easy",
      "returns n! = 1 * 2 * ... * n for an integer n >= 0. By definition 0! is 1.",
      """
      def factorial(n: int) -> int:
          result = 1
          for i in range(2, n + 1):
              result *= i
          return result
      """,
      [5, 1, 0, 3, 10, 18]),
    P("digit_sum", "easy",
      "returns the sum of the decimal digits of the integer n >= 0, e.g. 123 -> 6.",
      """
      def digit_sum(n: int) -> int:
          return sum(int(c) for c in str(n))
      """,
      [123, 9, 0, 1000, 98765, 55], gen=_one(0, 10**6)),
    P("digits_of", "easy",
      "returns the decimal digits of the integer n >= 0 as a list of ints, most significant first (0 gives [0]).",
      """
      def digits_of(n: int) -> list[int]:
          return [int(c) for c in str(n)]
      """,
      [123, 7, 0, 1050, 99999, 80], gen=_one(0, 10**6)),
    P("from_binary", "easy",
      "takes a non-empty string of 0s and 1s and returns the integer it represents in base 2.",
      """
      def from_binary(s: str) -> int:
          return int(s, 2)
      """,
      ["101", "0", "1", "1111", "100000", "0011"]),
    P("count_set_bits", "easy",
      "returns how many 1s appear in the binary representation of the integer n >= 0.",
      """
      def count_set_bits(n: int) -> int:
          return bin(n).count("1")
      """,
      [5, 8, 0, 255, 1, 1023], gen=_one(0, 10**5)),
    P("is_coprime", "easy",
      "returns True if the positive integers a and b have no common divisor greater than 1, else False.",
      """
      from math import gcd

      def is_coprime(a: int, b: int) -> bool:
          return gcd(a, b) == 1
      """,
      [(8, 15), (12, 18), (1, 1), (7, 7), (17, 34), (35, 64)]),
    P("gcd_of", "medium",
      "returns the greatest common divisor of the integers a >= 0 and b >= 0 (not both zero); gcd(a, 0) is a.",
      """
      def gcd_of(a: int, b: int) -> int:
          while b:
              a, b = b, a % b
          return a
      """,
      [(12, 18), (17, 5), (0, 9), (9, 0), (100, 75), (21, 21)],
      gen=lambda r: (r.randint(1, 500), r.randint(1, 500))),
    P("lcm_of", "medium",
      "returns the least common multiple of the positive integers a and b.",
      """
      from math import gcd

      def lcm_of(a: int, b: int) -> int:
          return a * b // gcd(a, b)
      """,
      [(4, 6), (3, 5), (1, 1), (7, 14), (12, 18), (9, 28)], gen=lambda r: (r.randint(1, 60), r.randint(1, 60))),
    P("is_prime", "medium",
      "returns True if the integer n is a prime number, else False. Numbers below 2 (including 0, 1 and negatives) are not prime.",
      """
      def is_prime(n: int) -> bool:
          if n < 2:
              return False
          i = 2
          while i * i <= n:
              if n % i == 0:
                  return False
              i += 1
          return True
      """,
      [7, 10, 1, 2, 0, -7, 97, 91], trap="0, 1 and negative numbers",
      wrong="""
      def is_prime(n):
          for i in range(2, n):
              if n % i == 0:
                  return False
          return True
      """),
    P("fibonacci", "medium",
      "returns the n-th Fibonacci number for n >= 0, where fibonacci(0) is 0, fibonacci(1) is 1 and each later one is the sum of the previous two.",
      """
      def fibonacci(n: int) -> int:
          a, b = 0, 1
          for _ in range(n):
              a, b = b, a + b
          return a
      """,
      [6, 10, 0, 1, 2, 30],
      wrong="""
      def fibonacci(n):
          a, b = 1, 1
          for _ in range(n - 1):
              a, b = b, a + b
          return a
      """),
    P("digit_sum_signed", "medium",
      "returns the sum of the decimal digits of the integer n, ignoring a minus sign, so -123 gives 6.",
      """
      def digit_sum_signed(n: int) -> int:
          return sum(int(c) for c in str(abs(n)))
      """,
      [123, 45, -123, 0, -9, 1001], gen=_one(-10**5, 10**5), trap="negative numbers",
      wrong="""
      def digit_sum_signed(n):
          return sum(int(c) for c in str(n))
      """),
    P("reverse_number", "medium",
      "returns the integer n with its digits reversed, keeping the sign: 123 -> 321, -45 -> -54, 120 -> 21.",
      """
      def reverse_number(n: int) -> int:
          r = int(str(abs(n))[::-1])
          return -r if n < 0 else r
      """,
      [123, 120, -45, 0, 7, -1000], gen=_one(-10**5, 10**5), trap="negative numbers",
      wrong="""
      def reverse_number(n):
          return int(str(abs(n))[::-1])
      """),
    P("is_palindrome_number", "easy",
      "returns True if the integer n reads the same forwards and backwards in decimal. Negative numbers are never palindromes.",
      """
      def is_palindrome_number(n: int) -> bool:
          return n >= 0 and str(n) == str(n)[::-1]
      """,
      [121, 123, 0, -121, 10, 1221]),
    P("count_divisors", "medium",
      "returns how many positive integers divide the integer n >= 1 exactly (including 1 and n).",
      """
      def count_divisors(n: int) -> int:
          return sum(1 for d in range(1, n + 1) if n % d == 0)
      """,
      [12, 7, 1, 36, 100, 97], gen=_one(1, 500)),
    P("divisors", "medium",
      "returns the sorted list of all positive divisors of the integer n >= 1.",
      """
      def divisors(n: int) -> list[int]:
          return [d for d in range(1, n + 1) if n % d == 0]
      """,
      [12, 7, 1, 28, 49, 30], gen=_one(1, 300)),
    P("proper_divisor_sum", "medium",
      "returns the sum of the divisors of the integer n >= 1 that are smaller than n (1 gives 0).",
      """
      def proper_divisor_sum(n: int) -> int:
          return sum(d for d in range(1, n) if n % d == 0)
      """,
      [12, 7, 1, 6, 28, 100]),
    P("is_perfect_number", "medium",
      "returns True if the integer n >= 1 equals the sum of its divisors smaller than itself (like 6 = 1 + 2 + 3), else False.",
      """
      def is_perfect_number(n: int) -> bool:
          return n == sum(d for d in range(1, n) if n % d == 0)
      """,
      [6, 8, 28, 1, 496, 12],
      wrong="""
      def is_perfect_number(n):
          return n == sum(d for d in range(1, n + 1) if n % d == 0)
      """),
    P("is_power_of_two", "medium",
      "returns True if the integer n equals 2 to some power k >= 0 (1, 2, 4, 8, ...), else False. 0 and negative numbers give False.",
      """
      def is_power_of_two(n: int) -> bool:
          return n > 0 and n & (n - 1) == 0
      """,
      [8, 6, 1, 0, -8, 1024, 1023], trap="zero and negatives",
      wrong="""
      def is_power_of_two(n):
          return n & (n - 1) == 0
      """),
    P("is_perfect_square", "medium",
      "returns True if the integer n is the square of an integer (0, 1, 4, 9, ...), else False. Negative numbers give False.",
      """
      from math import isqrt

      def is_perfect_square(n: int) -> bool:
          return n >= 0 and isqrt(n) ** 2 == n
      """,
      [16, 15, 0, 1, -4, 1000000, 99980001], trap="negative numbers",
      wrong="""
      def is_perfect_square(n):
          return int(abs(n) ** 0.5) ** 2 == abs(n)
      """),
    P("int_sqrt", "medium",
      "returns the largest integer r with r * r <= n, for an integer n >= 0.",
      """
      from math import isqrt

      def int_sqrt(n: int) -> int:
          return isqrt(n)
      """,
      [17, 16, 0, 1, 99, 1000000], gen=_one(0, 10**6)),
    P("to_binary", "medium",
      "returns the binary representation of the integer n >= 0 as a string of 0s and 1s without a prefix; 0 gives \"0\".",
      """
      def to_binary(n: int) -> str:
          return bin(n)[2:]
      """,
      [5, 8, 0, 1, 255, 1024], gen=_one(0, 5000), trap="zero",
      wrong="""
      def to_binary(n):
          s = ""
          while n > 0:
              s = str(n % 2) + s
              n //= 2
          return s
      """),
    P("digital_root", "medium",
      "repeatedly replaces the integer n >= 0 by the sum of its digits until one digit is left, and returns that digit (e.g. 9875 -> 29 -> 11 -> 2).",
      """
      def digital_root(n: int) -> int:
          while n >= 10:
              n = sum(int(c) for c in str(n))
          return n
      """,
      [9875, 16, 0, 9, 999999, 10], gen=_one(0, 10**7)),
    P("is_armstrong", "medium",
      "returns True if the integer n >= 0 equals the sum of its digits each raised to the number of digits (e.g. 153 = 1**3 + 5**3 + 3**3), else False.",
      """
      def is_armstrong(n: int) -> bool:
          s = str(n)
          return n == sum(int(c) ** len(s) for c in s)
      """,
      [153, 154, 0, 9, 10, 9474, 370]),
    P("is_harshad", "medium",
      "returns True if the integer n >= 1 is divisible by the sum of its own digits (18 -> 1 + 8 = 9 divides 18), else False.",
      """
      def is_harshad(n: int) -> bool:
          return n % sum(int(c) for c in str(n)) == 0
      """,
      [18, 19, 1, 21, 100, 111]),
    P("primes_up_to", "medium",
      "returns the sorted list of all primes p with 2 <= p <= n, for an integer n (empty when n < 2).",
      """
      def primes_up_to(n: int) -> list[int]:
          return [p for p in range(2, n + 1) if all(p % d for d in range(2, int(p ** 0.5) + 1))]
      """,
      [10, 2, 1, 0, 30, 13]),
    P("count_primes_below", "medium",
      "returns how many prime numbers are strictly less than the integer n >= 0.",
      """
      def count_primes_below(n: int) -> int:
          return sum(1 for p in range(2, n) if all(p % d for d in range(2, int(p ** 0.5) + 1)))
      """,
      [10, 11, 0, 2, 3, 100], gen=_one(0, 500),
      wrong="""
      def count_primes_below(n):
          return sum(1 for p in range(2, n + 1) if all(p % d for d in range(2, int(p ** 0.5) + 1)))
      """),
    P("next_prime", "medium",
      "returns the smallest prime number strictly greater than the integer n (n may be negative).",
      """
      def next_prime(n: int) -> int:
          k = max(n + 1, 2)
          while any(k % d == 0 for d in range(2, int(k ** 0.5) + 1)):
              k += 1
          return k
      """,
      [10, 13, 0, 1, -5, 89, 2]),
    P("gcd_of_list", "medium",
      "returns the greatest common divisor of a non-empty list of positive integers.",
      """
      from math import gcd

      def gcd_of_list(nums: list[int]) -> int:
          g = 0
          for x in nums:
              g = gcd(g, x)
          return g
      """,
      [[12, 18, 24], [7], [5, 10, 3], [100, 75, 50, 25], [9, 9], [14, 21, 35]]),
    P("is_triangular_number", "medium",
      "returns True if the integer n >= 1 equals 1 + 2 + ... + k for some k >= 1 (1, 3, 6, 10, ...), else False.",
      """
      def is_triangular_number(n: int) -> bool:
          total, k = 0, 0
          while total < n:
              k += 1
              total += k
          return total == n
      """,
      [6, 7, 1, 2, 55, 5050]),
    P("binomial", "medium",
      "returns the number of ways to choose k items from n items (n choose k) for integers n >= 0 and k >= 0; it is 0 when k > n.",
      """
      from math import comb

      def binomial(n: int, k: int) -> int:
          return comb(n, k)
      """,
      [(5, 2), (4, 0), (3, 5), (0, 0), (10, 10), (20, 7)]),
    P("power_last_two_digits", "medium",
      "returns the last two decimal digits of a ** b as an int (0..99), for integers a >= 0 and b >= 0.",
      """
      def power_last_two_digits(a: int, b: int) -> int:
          return pow(a, b, 100)
      """,
      [(2, 10), (7, 3), (5, 0), (123, 456), (10, 2), (99, 99)]),
    P("sum_multiples_3_or_5", "medium",
      "returns the sum of all positive integers smaller than n that are divisible by 3 or by 5 (each counted once).",
      """
      def sum_multiples_3_or_5(n: int) -> int:
          return sum(k for k in range(1, n) if k % 3 == 0 or k % 5 == 0)
      """,
      [10, 16, 0, 1, 100, 6], gen=_one(0, 1000),
      wrong="""
      def sum_multiples_3_or_5(n):
          return sum(range(3, n, 3)) + sum(range(5, n, 5))
      """),
    P("prime_factors", "hard",
      "returns the prime factors of the integer n >= 2 in increasing order, each repeated as often as it divides n (12 -> [2, 2, 3]).",
      """
      def prime_factors(n: int) -> list[int]:
          out, d = [], 2
          while d * d <= n:
              while n % d == 0:
                  out.append(d)
                  n //= d
              d += 1
          if n > 1:
              out.append(n)
          return out
      """,
      [12, 13, 2, 64, 90, 9973, 1001], gen=_one(2, 10**4)),
    P("nth_prime", "hard",
      "returns the n-th prime number counting from 1, so nth_prime(1) is 2 and nth_prime(3) is 5.",
      """
      def nth_prime(n: int) -> int:
          count, k = 0, 1
          while count < n:
              k += 1
              if all(k % d for d in range(2, int(k ** 0.5) + 1)):
                  count += 1
          return k
      """,
      [1, 3, 2, 10, 25, 100]),
    P("to_base", "hard",
      "returns the integer n >= 0 written in base b (2 <= b <= 9) as a string of digits; 0 gives \"0\".",
      """
      def to_base(n: int, b: int) -> str:
          if n == 0:
              return "0"
          s = ""
          while n:
              s = str(n % b) + s
              n //= b
          return s
      """,
      [(10, 2), (255, 8), (0, 3), (8, 8), (100, 9), (1, 2)], trap="zero",
      wrong="""
      def to_base(n, b):
          s = ""
          while n:
              s = str(n % b) + s
              n //= b
          return s
      """),
    P("is_happy", "hard",
      "returns True if the integer n >= 1 is happy: repeatedly replacing it by the sum of the squares of its digits eventually reaches 1 (a number that loops forever without reaching 1 is not happy).",
      """
      def is_happy(n: int) -> bool:
          seen = set()
          while n != 1 and n not in seen:
              seen.add(n)
              n = sum(int(c) ** 2 for c in str(n))
          return n == 1
      """,
      [19, 2, 1, 7, 4, 100, 89]),
    P("pascal_row", "hard",
      "returns row n (n >= 0) of Pascal's triangle as a list of ints: row 0 is [1], row 1 is [1, 1], row 2 is [1, 2, 1].",
      """
      def pascal_row(n: int) -> list[int]:
          row = [1]
          for _ in range(n):
              row = [a + b for a, b in zip([0] + row, row + [0])]
          return row
      """,
      [2, 4, 0, 1, 6, 10]),
    P("factorial_trailing_zeros", "hard",
      "returns how many zeros n! ends with, for an integer n >= 0 (10! = 3628800 ends with 2 zeros).",
      """
      def factorial_trailing_zeros(n: int) -> int:
          count = 0
          while n:
              n //= 5
              count += n
          return count
      """,
      [10, 5, 0, 4, 25, 100, 1000],
      wrong="""
      def factorial_trailing_zeros(n):
          return n // 5
      """),
    P("even_fibonacci_sum", "hard",
      "returns the sum of the even Fibonacci numbers (0, 1, 1, 2, 3, 5, 8, ...) that are less than or equal to limit.",
      """
      def even_fibonacci_sum(limit: int) -> int:
          a, b, total = 0, 1, 0
          while a <= limit:
              if a % 2 == 0:
                  total += a
              a, b = b, a + b
          return total
      """,
      [10, 34, 0, 1, 100, 4000000]),
]
