"""Character-level string problems."""
from murphy_jax.data.bundled.catalog import P
from murphy_jax.data.bundled.catalog._gen import mixed, real_word, word

THEME = "strings"


PROBLEMS = [
    P("reverse_string", "easy",
      "returns the string s reversed (the empty string stays empty).",
      """
      def reverse_string(s: str) -> str:
          return s[::-1]
      """,
      ["hello", "ab", "", "a", "racecar", "Hello, World!"], gen=lambda r: mixed(r)),
    P("count_vowels", "easy",
      "returns how many characters of s are vowels (a, e, i, o, u, in lower or upper case).",
      """
      def count_vowels(s: str) -> int:
          return sum(1 for c in s.lower() if c in "aeiou")
      """,
      ["hello", "sky", "", "AEIOU", "Programming", "queue"], gen=lambda r: mixed(r),
      wrong="""
      def count_vowels(s):
          return sum(1 for c in s if c in "aeiou")
      """),
    P("count_char", "easy",
      "returns how many times the single character c appears in the string s (case-sensitive).",
      """
      def count_char(s: str, c: str) -> int:
          return s.count(c)
      """,
      [("banana", "a"), ("hello", "z"), ("", "x"), ("Aa", "a"), ("mississippi", "s"), ("   ", " ")]),
    P("shout", "easy",
      "returns s in upper case followed by one exclamation mark, e.g. \"hi\" -> \"HI!\".",
      """
      def shout(s: str) -> str:
          return s.upper() + "!"
      """,
      ["hi", "Good morning", "", "ok?", "123", "already LOUD"], gen=lambda r: mixed(r)),
    P("is_palindrome", "easy",
      "returns True if the string s reads the same forwards and backwards (case-sensitive, every character counts), else False. The empty string is a palindrome.",
      """
      def is_palindrome(s: str) -> bool:
          return s == s[::-1]
      """,
      ["racecar", "hello", "", "a", "Aa", "abba", "ab a"]),
    P("remove_vowels", "easy",
      "returns s with every vowel (a, e, i, o, u, lower or upper case) removed.",
      """
      def remove_vowels(s: str) -> str:
          return "".join(c for c in s if c.lower() not in "aeiou")
      """,
      ["hello world", "AEIOUxyz", "", "rhythm", "Banana", "aaa"], gen=lambda r: mixed(r)),
    P("count_uppercase", "easy",
      "returns how many upper-case letters (A-Z) the string s contains.",
      """
      def count_uppercase(s: str) -> int:
          return sum(1 for c in s if c.isupper())
      """,
      ["Hello World", "abc", "", "ABC", "a1B2c3D", "!?"], gen=lambda r: mixed(r)),
    P("spaces_to_underscores", "easy",
      "returns s with every space character replaced by an underscore \"_\".",
      """
      def spaces_to_underscores(s: str) -> str:
          return s.replace(" ", "_")
      """,
      ["hello world", "a b c", "", "nospace", "  two  ", "end "]),
    P("double_chars", "easy",
      "returns a string where every character of s appears twice in a row, e.g. \"abc\" -> \"aabbcc\".",
      """
      def double_chars(s: str) -> str:
          return "".join(c * 2 for c in s)
      """,
      ["abc", "hi!", "", "a", "  ", "xyz1"], gen=lambda r: word(r, 0, 6)),
    P("swap_case", "easy",
      "returns s with lower-case letters made upper-case and upper-case letters made lower-case; other characters stay the same.",
      """
      def swap_case(s: str) -> str:
          return s.swapcase()
      """,
      ["Hello", "aBc DeF", "", "123", "ALL CAPS", "mIxEd!"], gen=lambda r: mixed(r)),
    P("capitalize_first", "easy",
      "returns s with its first character in upper case and the rest unchanged; the empty string stays empty.",
      """
      def capitalize_first(s: str) -> str:
          return s[:1].upper() + s[1:]
      """,
      ["hello world", "python", "", "a", "Already", "hELLO"],
      wrong="""
      def capitalize_first(s):
          return s.capitalize()
      """),
    P("repeat_string", "easy",
      "returns the string s repeated n times in a row (n >= 0; n = 0 gives the empty string).",
      """
      def repeat_string(s: str, n: int) -> str:
          return s * n
      """,
      [("ab", 3), ("x", 1), ("hi", 0), ("", 5), ("-", 10), ("abc", 2)]),
    P("remove_char", "easy",
      "returns s with every occurrence of the single character c removed.",
      """
      def remove_char(s: str, c: str) -> str:
          return s.replace(c, "")
      """,
      [("banana", "a"), ("hello", "z"), ("", "a"), ("aaa", "a"), ("a b c", " "), ("Mississippi", "s")]),
    P("mirror", "easy",
      "returns s followed by s reversed, e.g. \"abc\" -> \"abccba\".",
      """
      def mirror(s: str) -> str:
          return s + s[::-1]
      """,
      ["abc", "x", "", "ab", "hello", "12"], gen=lambda r: word(r, 0, 6)),
    P("every_other_char", "easy",
      "returns the characters of s at even positions 0, 2, 4, ..., e.g. \"abcdef\" -> \"ace\".",
      """
      def every_other_char(s: str) -> str:
          return s[::2]
      """,
      ["abcdef", "hello", "", "a", "ab", "0123456789"], gen=lambda r: mixed(r)),
    P("remove_digits", "easy",
      "returns s with every digit character 0-9 removed.",
      """
      def remove_digits(s: str) -> str:
          return "".join(c for c in s if not c.isdigit())
      """,
      ["a1b2c3", "hello", "", "2024", "R2-D2", "7 up"], gen=lambda r: mixed(r)),
    P("ascii_sum", "easy",
      "returns the sum of the character codes ord(c) of all characters c in s (0 for the empty string).",
      """
      def ascii_sum(s: str) -> int:
          return sum(ord(c) for c in s)
      """,
      ["abc", "A", "", " ", "Hello", "zz"], gen=lambda r: mixed(r)),
    P("find_char", "easy",
      "returns the index of the first occurrence of the character c in s, or -1 if c does not occur.",
      """
      def find_char(s: str, c: str) -> int:
          return s.find(c)
      """,
      [("hello", "l"), ("hello", "z"), ("", "a"), ("abc", "a"), ("abc", "c"), ("aAa", "A")]),
    P("pad_left", "easy",
      "returns s padded on the left with the character ch until it is width characters long; if s is already that long or longer it is returned unchanged.",
      """
      def pad_left(s: str, width: int, ch: str) -> str:
          return s.rjust(width, ch)
      """,
      [("42", 5, "0"), ("abc", 2, "*"), ("", 3, "-"), ("x", 1, "."), ("hi", 4, " "), ("7", 3, "7")]),
    P("is_all_digits", "easy",
      "returns True if s is non-empty and every character is a digit 0-9, else False.",
      """
      def is_all_digits(s: str) -> bool:
          return len(s) > 0 and all(c in "0123456789" for c in s)
      """,
      ["12345", "12a45", "", "0", " 1", "-5"]),
    P("hamming_distance", "easy",
      "returns the number of positions at which the equal-length strings a and b have different characters.",
      """
      def hamming_distance(a: str, b: str) -> int:
          return sum(x != y for x, y in zip(a, b))
      """,
      [("karolin", "kathrin"), ("abc", "abc"), ("", ""), ("a", "b"), ("1011101", "1001001"), ("AAAA", "aaaa")]),
    P("first_char", "medium",
      "returns the first character of s as a string, or the empty string if s is empty.",
      """
      def first_char(s: str) -> str:
          return s[:1]
      """,
      ["hello", "x", "", " space", "42", "Zebra"], trap="empty string",
      wrong="""
      def first_char(s):
          return s[0]
      """),
    P("last_char", "medium",
      "returns the last character of s as a string, or the empty string if s is empty.",
      """
      def last_char(s: str) -> str:
          return s[-1:]
      """,
      ["hello", "x", "", "end.", "42", "ab "], trap="empty string",
      wrong="""
      def last_char(s):
          return s[-1]
      """),
    P("starts_with_capital", "medium",
      "returns True if the first character of s is an upper-case letter A-Z, else False (False for the empty string).",
      """
      def starts_with_capital(s: str) -> bool:
          return s[:1].isupper()
      """,
      ["Hello", "hello", "", "1abc", "A", " Hi"], trap="empty string",
      wrong="""
      def starts_with_capital(s):
          return s[0].isupper()
      """),
    P("middle_chars", "medium",
      "returns the middle character of s if its length is odd, the middle two characters if its length is even and non-zero, and the empty string for the empty string.",
      """
      def middle_chars(s: str) -> str:
          n = len(s)
          return s[(n - 1) // 2: n // 2 + 1]
      """,
      ["abc", "abcd", "", "a", "ab", "testing", "middle"]),
    P("is_anagram", "medium",
      "returns True if the strings a and b contain exactly the same characters the same number of times (case-sensitive, spaces count), else False.",
      """
      def is_anagram(a: str, b: str) -> bool:
          return sorted(a) == sorted(b)
      """,
      [("listen", "silent"), ("hello", "world"), ("", ""), ("aab", "abb"), ("Tea", "eat"), ("abc", "cba ")],
      wrong="""
      def is_anagram(a, b):
          return set(a) == set(b)
      """),
    P("first_unique_char", "medium",
      "returns the first character of s that appears exactly once in s, or the empty string if there is none.",
      """
      def first_unique_char(s: str) -> str:
          for c in s:
              if s.count(c) == 1:
                  return c
          return ""
      """,
      ["swiss", "aabb", "", "x", "abcabcd", "leetcode"]),
    P("count_overlapping", "medium",
      "returns how many times the non-empty string sub occurs in s, counting overlapping occurrences (\"aa\" occurs 2 times in \"aaa\").",
      """
      def count_overlapping(s: str, sub: str) -> int:
          return sum(1 for i in range(len(s) - len(sub) + 1) if s[i:i + len(sub)] == sub)
      """,
      [("banana", "an"), ("aaa", "aa"), ("", "a"), ("abc", "abcd"), ("aaaa", "a"), ("ababab", "aba")],
      trap="overlapping matches",
      wrong="""
      def count_overlapping(s, sub):
          return s.count(sub)
      """),
    P("longest_run", "medium",
      "returns the length of the longest block of equal adjacent characters in s (\"aabbbc\" -> 3); the empty string gives 0.",
      """
      def longest_run(s: str) -> int:
          best = run = 0
          for i, c in enumerate(s):
              run = run + 1 if i and s[i - 1] == c else 1
              best = max(best, run)
          return best
      """,
      ["aabbbc", "abc", "", "zzzz", "abbbbcc", "aab"], gen=lambda r: word(r, 0, 10, "ab")),
    P("interleave_strings", "medium",
      "returns the characters of a and b alternately (a first); when one string runs out the rest of the other is appended. \"abc\", \"12345\" -> \"a1b2c345\".",
      """
      def interleave_strings(a: str, b: str) -> str:
          out = "".join(x + y for x, y in zip(a, b))
          n = min(len(a), len(b))
          return out + a[n:] + b[n:]
      """,
      [("abc", "12345"), ("ab", "xy"), ("", "xyz"), ("hello", ""), ("", ""), ("abcd", "1")]),
    P("remove_duplicate_chars", "medium",
      "returns s keeping only the first occurrence of each character, in their original order (\"banana\" -> \"ban\").",
      """
      def remove_duplicate_chars(s: str) -> str:
          out = ""
          for c in s:
              if c not in out:
                  out += c
          return out
      """,
      ["banana", "abc", "", "aaaa", "Mississippi", "aAbB"], gen=lambda r: word(r, 0, 10, "abcd"),
      wrong="""
      def remove_duplicate_chars(s):
          return "".join(sorted(set(s)))
      """),
    P("is_rotation", "medium",
      "returns True if the string b can be made by moving some characters from the front of a to its end (\"cdeab\" is a rotation of \"abcde\"), else False. Strings of different lengths are never rotations.",
      """
      def is_rotation(a: str, b: str) -> bool:
          return len(a) == len(b) and b in a + a
      """,
      [("abcde", "cdeab"), ("abcde", "abced"), ("", ""), ("abc", "abc"), ("abc", "bc"), ("aab", "aba")],
      trap="different lengths",
      wrong="""
      def is_rotation(a, b):
          return b in a + a
      """),
    P("digit_char_sum", "medium",
      "returns the sum of all digit characters in s taken as single digits (\"a1b22\" -> 5); 0 if there are none.",
      """
      def digit_char_sum(s: str) -> int:
          return sum(int(c) for c in s if c.isdigit())
      """,
      ["a1b22", "hello", "", "999", "10 apples, 20 pears", "0"], gen=lambda r: mixed(r)),
    P("count_consonants", "medium",
      "returns how many letters in s are consonants: letters A-Z or a-z that are not vowels (a, e, i, o, u). Spaces, digits and punctuation are not consonants.",
      """
      def count_consonants(s: str) -> int:
          return sum(1 for c in s if c.isalpha() and c.lower() not in "aeiou")
      """,
      ["hello", "Sky", "", "hi there!", "AEIOU 123", "Python 3"], gen=lambda r: mixed(r),
      trap="non-letters",
      wrong="""
      def count_consonants(s):
          return sum(1 for c in s if c.lower() not in "aeiou")
      """),
    P("swap_ends", "medium",
      "returns s with its first and last characters swapped; strings shorter than 2 characters are returned unchanged.",
      """
      def swap_ends(s: str) -> str:
          if len(s) < 2:
              return s
          return s[-1] + s[1:-1] + s[0]
      """,
      ["hello", "ab", "", "a", "xyzzy", "code"], trap="strings shorter than 2",
      wrong="""
      def swap_ends(s):
          return s[-1] + s[1:-1] + s[0]
      """),
    P("has_double_letter", "medium",
      "returns True if some character of s is immediately followed by the same character (\"hello\" has \"ll\"), else False.",
      """
      def has_double_letter(s: str) -> bool:
          return any(a == b for a, b in zip(s, s[1:]))
      """,
      ["hello", "world", "", "a", "aa", "abca"]),
    P("collapse_repeats", "medium",
      "returns s with every block of equal adjacent characters shortened to one character (\"aaabccd\" -> \"abcd\").",
      """
      def collapse_repeats(s: str) -> str:
          return "".join(c for i, c in enumerate(s) if i == 0 or s[i - 1] != c)
      """,
      ["aaabccd", "abc", "", "zzzz", "abba", "a  b"], gen=lambda r: word(r, 0, 10, "ab")),
    P("is_clean_palindrome", "medium",
      "returns True if s is a palindrome when only its letters and digits are kept and upper case is treated as lower case (\"A man, a plan, a canal: Panama\" is one), else False.",
      """
      def is_clean_palindrome(s: str) -> bool:
          t = [c.lower() for c in s if c.isalnum()]
          return t == t[::-1]
      """,
      ["Was it a car or a cat I saw?", "hello", "", "A man, a plan, a canal: Panama", "No lemon, no melon", "ab"]),
    P("is_pangram", "medium",
      "returns True if s contains every letter of the English alphabet at least once, ignoring case, else False.",
      """
      def is_pangram(s: str) -> bool:
          return set("abcdefghijklmnopqrstuvwxyz") <= set(s.lower())
      """,
      ["The quick brown fox jumps over the lazy dog", "hello world", "",
       "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXY", "Pack my box with five dozen liquor jugs"]),
    P("caesar_shift", "hard",
      "shifts every lower-case letter of s by k places through the alphabet, wrapping from z back to a; k may be negative or larger than 26. Other characters stay unchanged.",
      """
      def caesar_shift(s: str, k: int) -> str:
          return "".join(chr((ord(c) - 97 + k) % 26 + 97) if "a" <= c <= "z" else c for c in s)
      """,
      [("abc", 1), ("xyz", 3), ("", 5), ("hello, world", 13), ("abc", -1), ("abc", 27), ("A b", 1)],
      trap="wrap-around and negative shifts",
      wrong="""
      def caesar_shift(s, k):
          return "".join(chr(ord(c) + k) if c.isalpha() else c for c in s)
      """),
    P("run_length_encode", "hard",
      "compresses s by replacing each block of equal adjacent characters with the character followed by the block length: \"aaabcc\" -> \"a3b1c2\". The empty string gives the empty string.",
      """
      def run_length_encode(s: str) -> str:
          out, i = "", 0
          while i < len(s):
              j = i
              while j < len(s) and s[j] == s[i]:
                  j += 1
              out += s[i] + str(j - i)
              i = j
          return out
      """,
      ["aaabcc", "abc", "", "zzzzzzzzzzzz", "aabbaa", "x"], gen=lambda r: word(r, 1, 12, "ab")),
    P("run_length_decode", "hard",
      "expands a string made of pairs of a letter followed by a positive count (the count may have several digits): \"a3b1c2\" -> \"aaabcc\", \"x10\" -> \"xxxxxxxxxx\".",
      """
      def run_length_decode(s: str) -> str:
          out, i = "", 0
          while i < len(s):
              ch, i = s[i], i + 1
              j = i
              while j < len(s) and s[j].isdigit():
                  j += 1
              out += ch * int(s[i:j])
              i = j
          return out
      """,
      ["a3b1c2", "x10", "", "a1", "z2y2z2", "q12r1"], trap="multi-digit counts",
      wrong="""
      def run_length_decode(s):
          return "".join(s[i] * int(s[i + 1]) for i in range(0, len(s), 2))
      """),
    P("reverse_vowels", "hard",
      "returns s with the order of its vowels (a, e, i, o, u in either case) reversed while every other character stays in place (\"hello\" -> \"holle\").",
      """
      def reverse_vowels(s: str) -> str:
          vs = [c for c in s if c in "aeiouAEIOU"]
          return "".join(vs.pop() if c in "aeiouAEIOU" else c for c in s)
      """,
      ["hello", "programming", "", "rhythm", "AbcE", "aeiou"], gen=lambda r: real_word(r)),
]
