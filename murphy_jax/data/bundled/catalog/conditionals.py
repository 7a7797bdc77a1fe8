"""Branching logic: classify an input into one of a few cases."""
from murphy_jax.data.bundled.catalog import P

THEME = "conditionals"


def _one(lo, hi):
    return lambda r: r.randint(lo, hi)


PROBLEMS = [
    P("sign_word", "easy",
      "returns \"positive\" if the integer n is greater than 0, \"negative\" if it is less than 0, and \"zero\" otherwise.",
      """
      def sign_word(n: int) -> str:
          if n > 0:
              return "positive"
          if n < 0:
              return "negative"
          return "zero"
      """,
      [5, -3, 0, 1, -1, 1000], gen=_one(-50, 50)),
    P("max_of_three", "easy",
      "returns the largest of the three integers a, b and c.",
      """
      def max_of_three(a: int, b: int, c: int) -> int:
          return max(a, b, c)
      """,
      [(1, 5, 3), (9, 2, 4), (7, 7, 7), (-1, -5, -3), (0, 0, 1), (2, 8, 8)],
      gen=lambda r: (r.randint(-20, 20), r.randint(-20, 20), r.randint(-20, 20))),
    P("compare_numbers", "easy",
      "returns \"greater\" if a > b, \"less\" if a < b and \"equal\" if a == b.",
      """
      def compare_numbers(a: int, b: int) -> str:
          if a > b:
              return "greater"
          if a < b:
              return "less"
          return "equal"
      """,
      [(5, 3), (2, 9), (4, 4), (-1, 0), (0, -1), (-7, -7)]),
    P("is_vowel", "easy",
      "returns True if the single character c is a vowel (a, e, i, o, u, lower or upper case), else False.",
      """
      def is_vowel(c: str) -> bool:
          return c.lower() in ("a", "e", "i", "o", "u")
      """,
      ["a", "b", "E", "z", "U", "y", "?"],
      wrong="""
      def is_vowel(c):
          return c in "aeiou"
      """),
    P("is_upper_letter", "easy",
      "returns True if the single character c is an upper-case letter A-Z, else False.",
      """
      def is_upper_letter(c: str) -> bool:
          return "A" <= c <= "Z"
      """,
      ["A", "a", "Z", "1", "m", "Q", " "]),
    P("can_vote", "easy",
      "returns True if a person can vote: age is at least 18 and is_citizen is True. Otherwise returns False.",
      """
      def can_vote(age: int, is_citizen: bool) -> bool:
          return age >= 18 and is_citizen
      """,
      [(20, True), (16, True), (18, True), (30, False), (17, False), (99, True)]),
    P("temperature_label", "easy",
      "returns \"cold\" for a temperature t below 10, \"mild\" for 10 up to 24, and \"hot\" for 25 or more.",
      """
      def temperature_label(t: int) -> str:
          if t < 10:
              return "cold"
          if t < 25:
              return "mild"
          return "hot"
      """,
      [5, 15, 30, 10, 24, 25, -10], gen=_one(-10, 40)),
    P("number_size", "easy",
      "returns \"small\" if the integer n >= 0 is below 10, \"medium\" if it is below 100, and \"large\" otherwise.",
      """
      def number_size(n: int) -> str:
          if n < 10:
              return "small"
          if n < 100:
              return "medium"
          return "large"
      """,
      [5, 50, 500, 9, 10, 99, 100, 0]),
    P("same_parity", "easy",
      "returns True if the integers a and b are both even or both odd, else False.",
      """
      def same_parity(a: int, b: int) -> bool:
          return a % 2 == b % 2
      """,
      [(2, 4), (3, 4), (3, 5), (0, 0), (-1, 1), (-2, 7)],
      gen=lambda r: (r.randint(-20, 20), r.randint(-20, 20))),
    P("at_least_two_true", "easy",
      "returns True if at least two of the three booleans a, b, c are True, else False.",
      """
      def at_least_two_true(a: bool, b: bool, c: bool) -> bool:
          return a + b + c >= 2
      """,
      [(True, True, False), (True, False, False), (False, False, False), (True, True, True),
       (False, True, True), (False, False, True), (True, False, True)]),
    P("is_weekend", "easy",
      "returns True if the day name day is \"Saturday\" or \"Sunday\" in any mix of upper and lower case, else False.",
      """
      def is_weekend(day: str) -> bool:
          return day.lower() in ("saturday", "sunday")
      """,
      ["Saturday", "Monday", "sunday", "SUNDAY", "Friday", "satur day"]),
    P("traffic_light_next", "easy",
      "returns the next colour of a traffic light: \"green\" -> \"yellow\", \"yellow\" -> \"red\", \"red\" -> \"green\". Any other input returns \"invalid\".",
      """
      def traffic_light_next(color: str) -> str:
          return {"green": "yellow", "yellow": "red", "red": "green"}.get(color, "invalid")
      """,
      ["green", "yellow", "red", "blue", "", "Red"]),
    P("month_name", "easy",
      "returns the English name of month number n (1 -> \"January\", ..., 12 -> \"December\"), or \"invalid\" for any other n.",
      """
      def month_name(n: int) -> str:
          names = ["January", "February", "March", "April", "May", "June", "July",
                   "August", "September", "October", "November", "December"]
          return names[n - 1] if 1 <= n <= 12 else "invalid"
      """,
      [1, 12, 0, 13, 5, -3, 9]),
    P("is_valid_time", "easy",
      "returns True if hours h and minutes m form a valid 24-hour clock time (0 <= h <= 23 and 0 <= m <= 59), else False.",
      """
      def is_valid_time(h: int, m: int) -> bool:
          return 0 <= h <= 23 and 0 <= m <= 59
      """,
      [(12, 30), (24, 0), (0, 0), (23, 59), (10, 60), (-1, 5), (5, -1)]),
    P("in_circle", "easy",
      "returns True if the point (x, y) lies inside or on the circle of radius r centred at (0, 0), i.e. x*x + y*y <= r*r, else False.",
      """
      def in_circle(x: int, y: int, r: int) -> bool:
          return x * x + y * y <= r * r
      """,
      [(1, 1, 2), (3, 4, 4), (3, 4, 5), (0, 0, 0), (-2, 0, 2), (5, 5, 7)]),
    P("fizzbuzz_word", "medium",
      "returns \"FizzBuzz\" if n is divisible by both 3 and 5, \"Fizz\" if only by 3, \"Buzz\" if only by 5, and otherwise n as a string.",
      """
      def fizzbuzz_word(n: int) -> str:
          if n % 15 == 0:
              return "FizzBuzz"
          if n % 3 == 0:
              return "Fizz"
          if n % 5 == 0:
              return "Buzz"
          return str(n)
      """,
      [3, 7, 15, 5, 30, 1, 9], gen=_one(1, 100), trap="checking 3 before 15",
      wrong="""
      def fizzbuzz_word(n):
          if n % 3 == 0:
              return "Fizz"
          if n % 5 == 0:
              return "Buzz"
          if n % 15 == 0:
              return "FizzBuzz"
          return str(n)
      """),
    P("letter_grade", "medium",
      "returns the letter grade for an integer score 0..100: \"A\" for 90 and above, \"B\" for 80-89, \"C\" for 70-79, \"D\" for 60-69 and \"F\" below 60.",
      """
      def letter_grade(score: int) -> str:
          for limit, g in ((90, "A"), (80, "B"), (70, "C"), (60, "D")):
              if score >= limit:
                  return g
          return "F"
      """,
      [95, 85, 90, 79, 60, 59, 0, 100], trap="boundary scores",
      wrong="""
      def letter_grade(score):
          if score > 90:
              return "A"
          if score > 80:
              return "B"
          if score > 70:
              return "C"
          if score > 60:
              return "D"
          return "F"
      """),
    P("is_leap_year", "medium",
      "returns True if year is a leap year in the Gregorian calendar: divisible by 4, except years divisible by 100 that are not divisible by 400. So 2000 is a leap year but 1900 is not.",
      """
      def is_leap_year(year: int) -> bool:
          return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
      """,
      [2024, 2023, 1900, 2000, 2100, 1600, 1999], trap="century years",
      wrong="""
      def is_leap_year(year):
          return year % 4 == 0
      """),
    P("ticket_price", "medium",
      "returns a ticket price from the age: 0 for ages under 3, 5 for ages 3 to 11, 7 for ages 65 and over, and 10 for everyone else.",
      """
      def ticket_price(age: int) -> int:
          if age < 3:
              return 0
          if age < 12:
              return 5
          if age >= 65:
              return 7
          return 10
      """,
      [2, 30, 3, 11, 12, 64, 65, 0]),
    P("quadrant", "medium",
      "returns the quadrant (1, 2, 3 or 4) of the point (x, y): 1 for x > 0 and y > 0, 2 for x < 0 and y > 0, 3 for x < 0 and y < 0, 4 for x > 0 and y < 0; returns 0 when the point is on an axis (x or y is 0).",
      """
      def quadrant(x: int, y: int) -> int:
          if x == 0 or y == 0:
              return 0
          if x > 0:
              return 1 if y > 0 else 4
          return 2 if y > 0 else 3
      """,
      [(1, 1), (-2, 3), (-1, -1), (4, -5), (0, 5), (3, 0), (0, 0)], trap="points on an axis",
      wrong="""
      def quadrant(x, y):
          if x >= 0:
              return 1 if y >= 0 else 4
          return 2 if y >= 0 else 3
      """),
    P("water_state", "medium",
      "returns the state of water at temperature t in degrees Celsius: \"ice\" when t <= 0, \"steam\" when t >= 100, and \"water\" in between.",
      """
      def water_state(t: int) -> str:
          if t <= 0:
              return "ice"
          if t >= 100:
              return "steam"
          return "water"
      """,
      [-5, 50, 0, 100, 1, 99, 150], trap="boundary temperatures",
      wrong="""
      def water_state(t):
          if t < 0:
              return "ice"
          if t > 100:
              return "steam"
          return "water"
      """),
    P("same_sign", "medium",
      "returns True if the integers a and b are both positive or both negative; if either is 0 the answer is False.",
      """
      def same_sign(a: int, b: int) -> bool:
          return (a > 0 and b > 0) or (a < 0 and b < 0)
      """,
      [(3, 5), (-2, 4), (-1, -7), (0, 5), (0, 0), (5, 0), (-3, 0)], trap="zero",
      wrong="""
      def same_sign(a, b):
          return a * b >= 0
      """),
    P("char_kind", "medium",
      "returns \"letter\" if the single character c is a letter, \"digit\" if it is 0-9, \"space\" if it is a space, and \"other\" for anything else.",
      """
      def char_kind(c: str) -> str:
          if c.isalpha():
              return "letter"
          if c.isdigit():
              return "digit"
          if c == " ":
              return "space"
          return "other"
      """,
      ["a", "7", " ", "!", "Z", "-", "0"]),
    P("rock_paper_scissors", "medium",
      "returns the result for player a in a game of rock, paper, scissors: \"win\", \"lose\" or \"draw\". a and b are each \"rock\", \"paper\" or \"scissors\"; rock beats scissors, scissors beats paper, paper beats rock.",
      """
      def rock_paper_scissors(a: str, b: str) -> str:
          if a == b:
              return "draw"
          beats = {"rock": "scissors", "scissors": "paper", "paper": "rock"}
          return "win" if beats[a] == b else "lose"
      """,
      [("rock", "scissors"), ("rock", "paper"), ("paper", "paper"), ("scissors", "paper"), ("scissors", "rock"),
       ("paper", "rock"), ("paper", "scissors")]),
    P("shipping_cost", "medium",
      "returns the shipping cost for a parcel of weight kilograms: 5 up to and including 1 kg, 8 up to and including 5 kg, 12 up to and including 20 kg, and -1 (not shippable) above 20 kg.",
      """
      def shipping_cost(weight: int) -> int:
          if weight <= 1:
              return 5
          if weight <= 5:
              return 8
          if weight <= 20:
              return 12
          return -1
      """,
      [1, 3, 5, 6, 20, 21, 0]),
    P("is_valid_triangle", "medium",
      "returns True if three positive lengths can form a triangle with positive area: each side must be smaller than the sum of the other two.",
      """
      def is_valid_triangle(a: int, b: int, c: int) -> bool:
          return a + b > c and a + c > b and b + c > a
      """,
      [(3, 4, 5), (1, 2, 3), (5, 5, 5), (10, 1, 1), (1, 10, 1), (2, 3, 4)], trap="degenerate and unordered sides",
      wrong="""
      def is_valid_triangle(a, b, c):
          return a + b > c
      """),
    P("century", "medium",
      "returns the century of a year >= 1: years 1 to 100 are century 1, 101 to 200 are century 2, so 1900 is in century 19 and 1901 in century 20.",
      """
      def century(year: int) -> int:
          return (year + 99) // 100
      """,
      [1905, 2000, 1900, 1901, 1, 100, 101], trap="years ending in 00",
      wrong="""
      def century(year):
          return year // 100 + 1
      """),
    P("age_group", "medium",
      "returns \"baby\" for ages 0-1, \"child\" for 2-12, \"teen\" for 13-19 and \"adult\" for 20 or more.",
      """
      def age_group(age: int) -> str:
          if age <= 1:
              return "baby"
          if age <= 12:
              return "child"
          if age <= 19:
              return "teen"
          return "adult"
      """,
      [0, 8, 15, 40, 1, 2, 12, 13, 19, 20]),
    P("parking_fee", "medium",
      "returns the parking fee for a whole number of hours: 0 hours is free, the first hour costs 3, every further hour costs 2, and the fee never exceeds 20.",
      """
      def parking_fee(hours: int) -> int:
          if hours <= 0:
              return 0
          return min(3 + 2 * (hours - 1), 20)
      """,
      [1, 3, 0, 2, 9, 10, 24]),
    P("is_strong_password", "medium",
      "returns True if the password p has at least 8 characters and contains at least one upper-case letter, one lower-case letter and one digit, else False.",
      """
      def is_strong_password(p: str) -> bool:
          return (len(p) >= 8 and any(c.isupper() for c in p)
                  and any(c.islower() for c in p) and any(c.isdigit() for c in p))
      """,
      ["Passw0rd", "password", "", "Sh0rt", "ALLUPPER123", "lower1234", "Ok1Ok1Ok1"]),
    P("triangle_kind", "hard",
      "classifies a triangle by its three positive side lengths: \"invalid\" if some side is not smaller than the sum of the other two, otherwise \"equilateral\" (all equal), \"isosceles\" (exactly two equal) or \"scalene\" (all different).",
      """
      def triangle_kind(a: int, b: int, c: int) -> str:
          if a + b <= c or a + c <= b or b + c <= a:
              return "invalid"
          if a == b == c:
              return "equilateral"
          if a == b or b == c or a == c:
              return "isosceles"
          return "scalene"
      """,
      [(3, 3, 3), (3, 4, 5), (5, 5, 8), (1, 1, 5), (2, 3, 2), (1, 2, 3), (7, 10, 5)], trap="invalid triangles",
      wrong="""
      def triangle_kind(a, b, c):
          if a == b == c:
              return "equilateral"
          if a == b or b == c or a == c:
              return "isosceles"
          return "scalene"
      """),
    P("days_in_month", "hard",
      "returns the number of days in month number month (1-12) of year, counting February as 29 days in leap years (divisible by 4, except years divisible by 100 that are not divisible by 400).",
      """
      def days_in_month(month: int, year: int) -> int:
          if month == 2:
              leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
              return 29 if leap else 28
          return 30 if month in (4, 6, 9, 11) else 31
      """,
      [(1, 2023), (2, 2024), (2, 2023), (2, 1900), (2, 2000), (4, 2021), (12, 1999), (9, 2020)]),
    P("is_valid_date", "hard",
      "returns True if year, month and day form a real calendar date (month 1-12, day within that month, with February having 29 days in leap years), else False.",
      """
      def is_valid_date(year: int, month: int, day: int) -> bool:
          if not 1 <= month <= 12:
              return False
          leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
          days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
          return 1 <= day <= days[month - 1]
      """,
      [(2024, 2, 29), (2023, 2, 29), (2023, 4, 31), (2023, 13, 1), (2023, 12, 31), (2023, 1, 0), (1900, 2, 29),
       (2000, 2, 29)]),
    P("progressive_tax", "hard",
      "returns the income tax on a whole-number income: the first 10000 is taxed at 0%, the part from 10000 to 40000 at 10%, and everything above 40000 at 20%. Return the total rounded down to an int.",
      """
      def progressive_tax(income: int) -> int:
          tax = 0
          if income > 10000:
              tax += (min(income, 40000) - 10000) * 10
          if income > 40000:
              tax += (income - 40000) * 20
          return tax // 100
      """,
      [5000, 20000, 10000, 40000, 50000, 0, 10005], trap="taxing only the part above each limit",
      wrong="""
      def progressive_tax(income):
          if income > 40000:
              return income * 20 // 100
          if income > 10000:
              return income * 10 // 100
          return 0
      """),
]
