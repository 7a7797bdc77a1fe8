"""Word-level text problems: splitting, joining and formatting words."""
from murphy_jax.data.bundled.catalog import P
from murphy_jax.data.bundled.catalog._gen import real_word, sentence, words

THEME = "text"


def _spaced(r):
    # Irregular spacing is what separates split() from split(" ").
    return r.choice(["", " ", "  "]) + "  ".join(sentence(r, 0, 4).split(" ")) + r.choice(["", " "])


PROBLEMS = [
    P("greet", "easy",
      "returns the greeting \"Hello, NAME!\" with NAME replaced by the string name.",
      """
      def greet(name: str) -> str:
          return f"Hello, {name}!"
      """,
      ["Ada", "Bob", "", "World", "Mary Jane", "x"]),
    P("word_count", "easy",
      "returns the number of words in s, where words are separated by one or more whitespace characters; a string with no words gives 0.",
      """
      def word_count(s: str) -> int:
          return len(s.split())
      """,
      ["hello world", "one", "", "  many   spaces  here ", "a b c d e", "   "], gen=_spaced,
      trap="empty string and repeated spaces",
      wrong="""
      def word_count(s):
          return len(s.split(" "))
      """),
    P("reverse_words", "easy",
      "returns the words of s in reverse order joined by single spaces (\"one two three\" -> \"three two one\"); words are separated by whitespace.",
      """
      def reverse_words(s: str) -> str:
          return " ".join(s.split()[::-1])
      """,
      ["one two three", "hello world", "", "single", "a  b   c", "  lead and trail  "], gen=lambda r: sentence(r)),
    P("word_lengths", "easy",
      "returns a list with the length of each whitespace-separated word of s, in order.",
      """
      def word_lengths(s: str) -> list[int]:
          return [len(w) for w in s.split()]
      """,
      ["hello big world", "a", "", "to be or not", "  spaced   out ", "xyz"], gen=lambda r: sentence(r)),
    P("acronym", "easy",
      "returns the upper-case first letters of the whitespace-separated words of s (\"portable network graphics\" -> \"PNG\").",
      """
      def acronym(s: str) -> str:
          return "".join(w[0].upper() for w in s.split())
      """,
      ["portable network graphics", "as soon as possible", "", "Python", "  frequently asked   questions", "a b"],
      gen=lambda r: sentence(r)),
    P("reverse_each_word", "easy",
      "reverses every whitespace-separated word of s but keeps the word order, joining them with single spaces (\"hello world\" -> \"olleh dlrow\").",
      """
      def reverse_each_word(s: str) -> str:
          return " ".join(w[::-1] for w in s.split())
      """,
      ["hello world", "abc", "", "a bc def", "racecar level", "  two   words "], gen=lambda r: sentence(r)),
    P("normalize_spaces", "easy",
      "returns s with leading and trailing whitespace removed and every run of whitespace inside replaced by a single space.",
      """
      def normalize_spaces(s: str) -> str:
          return " ".join(s.split())
      """,
      ["  hello    world  ", "a b", "", "   ", "one", "x  y   z"], gen=_spaced),
    P("initials", "easy",
      "returns the initials of a full name: the first letter of each whitespace-separated word in upper case, each followed by a dot (\"ada lovelace\" -> \"A.L.\").",
      """
      def initials(name: str) -> str:
          return "".join(w[0].upper() + "." for w in name.split())
      """,
      ["ada lovelace", "Grace Brewster Hopper", "", "alan", "  john  smith ", "a b c"]),
    P("last_name_first", "easy",
      "returns the string \"LAST, FIRST\" built from the strings first and last.",
      """
      def last_name_first(first: str, last: str) -> str:
          return f"{last}, {first}"
      """,
      [("Ada", "Lovelace"), ("Alan", "Turing"), ("", "Solo"), ("Cher", ""), ("x", "y"), ("Mary Ann", "Evans")]),
    P("to_kebab_case", "easy",
      "returns the whitespace-separated words of s in lower case joined by hyphens (\"Hello Big World\" -> \"hello-big-world\").",
      """
      def to_kebab_case(s: str) -> str:
          return "-".join(w.lower() for w in s.split())
      """,
      ["Hello Big World", "one", "", "  Mixed   CASE words ", "a B c", "ALREADY-kebab"]),
    P("ends_with_punctuation", "easy",
      "returns True if the string s ends with \".\", \"!\" or \"?\", else False (False for the empty string).",
      """
      def ends_with_punctuation(s: str) -> bool:
          return s.endswith((".", "!", "?"))
      """,
      ["Hello.", "Hello", "", "Really?", "Wow!", "end,", "?"]),
    P("first_word", "medium",
      "returns the first whitespace-separated word of s, or the empty string if s has no words.",
      """
      def first_word(s: str) -> str:
          parts = s.split()
          return parts[0] if parts else ""
      """,
      ["hello world", "single", "", "   leading spaces", "a b c", "   "], trap="empty string and leading spaces",
      wrong="""
      def first_word(s):
          return s.split(" ")[0]
      """),
    P("last_word_length", "medium",
      "returns the length of the last whitespace-separated word of s, or 0 if s has no words (\"fly me   to the moon  \" -> 4).",
      """
      def last_word_length(s: str) -> int:
          parts = s.split()
          return len(parts[-1]) if parts else 0
      """,
      ["hello world", "fly me   to the moon  ", "", "a", "   ", "one two three"], trap="trailing spaces",
      wrong="""
      def last_word_length(s):
          return len(s.split(" ")[-1])
      """),
    P("longest_word", "medium",
      "returns the longest whitespace-separated word of s; if several words are equally long, the first of them. Returns the empty string if s has no words.",
      """
      def longest_word(s: str) -> str:
          best = ""
          for w in s.split():
              if len(w) > len(best):
                  best = w
          return best
      """,
      ["the quick brown fox", "a bb cc d", "", "one", "hello world", "cat dog"], gen=lambda r: sentence(r),
      trap="ties",
      wrong="""
      def longest_word(s):
          best = ""
          for w in s.split():
              if len(w) >= len(best):
                  best = w
          return best
      """),
    P("shortest_word_length", "medium",
      "returns the length of the shortest whitespace-separated word of s, or 0 if s has no words.",
      """
      def shortest_word_length(s: str) -> int:
          return min((len(w) for w in s.split()), default=0)
      """,
      ["the quick brown fox", "hello", "", "aa b ccc", "   ", "three four five"], gen=lambda r: sentence(r),
      trap="empty string",
      wrong="""
      def shortest_word_length(s):
          return min(len(w) for w in s.split())
      """),
    P("title_case", "medium",
      "returns the whitespace-separated words of s joined by single spaces, each word with its first letter upper-case and the rest lower-case (\"hELLO wORLD\" -> \"Hello World\").",
      """
      def title_case(s: str) -> str:
          return " ".join(w[0].upper() + w[1:].lower() for w in s.split())
      """,
      ["hello world", "hELLO wORLD", "", "python", "  a   b ", "it's OK"], gen=lambda r: sentence(r)),
    P("count_word", "medium",
      "returns how many of the whitespace-separated words of s are equal to the word w, ignoring upper/lower case.",
      """
      def count_word(s: str, w: str) -> int:
          return sum(1 for x in s.lower().split() if x == w.lower())
      """,
      [("the cat and the hat", "the"), ("The the THE", "the"), ("", "a"), ("there then", "the"),
       ("a a a", "A"), ("cat", "dog")],
      wrong="""
      def count_word(s, w):
          return s.lower().count(w.lower())
      """),
    P("words_longer_than", "medium",
      "returns the list of whitespace-separated words of s that have more than n characters, in their original order.",
      """
      def words_longer_than(s: str, n: int) -> list[str]:
          return [w for w in s.split() if len(w) > n]
      """,
      [("the quick brown fox", 3), ("a bb ccc", 2), ("", 1), ("hello", 5), ("one two three", 0), ("x yy", 10)]),
    P("unique_words", "medium",
      "returns the distinct whitespace-separated words of s converted to lower case, sorted alphabetically.",
      """
      def unique_words(s: str) -> list[str]:
          return sorted(set(s.lower().split()))
      """,
      ["b a b c", "The the THE", "", "one", "dog Cat dog bird", "z y x"], gen=lambda r: sentence(r, 0, 8)),
    P("snake_to_camel", "medium",
      "converts a snake_case identifier to camelCase: words are separated by underscores and every word after the first starts with an upper-case letter (\"get_user_name\" -> \"getUserName\").",
      """
      def snake_to_camel(s: str) -> str:
          parts = s.split("_")
          return parts[0] + "".join(p.capitalize() for p in parts[1:])
      """,
      ["get_user_name", "hello", "", "a_b_c", "make_it_so", "x_y"]),
    P("camel_to_snake", "medium",
      "converts a camelCase identifier to snake_case: each upper-case letter becomes an underscore followed by its lower-case form (\"getUserName\" -> \"get_user_name\").",
      """
      def camel_to_snake(s: str) -> str:
          return "".join("_" + c.lower() if c.isupper() else c for c in s)
      """,
      ["getUserName", "hello", "", "aB", "makeItSo", "xYZ"]),
    P("truncate", "medium",
      "returns s unchanged if it has at most n characters; otherwise returns its first n - 3 characters followed by \"...\" so the result has exactly n characters (n >= 3).",
      """
      def truncate(s: str, n: int) -> str:
          return s if len(s) <= n else s[:n - 3] + "..."
      """,
      [("hello world", 8), ("short", 10), ("", 3), ("abcdef", 6), ("abcdefg", 6), ("abcd", 3)],
      wrong="""
      def truncate(s, n):
          return s[:n] + "..." if len(s) > n else s
      """),
    P("count_sentences", "medium",
      "returns how many sentences s has, counting each \".\", \"!\" or \"?\" character as the end of one sentence.",
      """
      def count_sentences(s: str) -> int:
          return sum(1 for c in s if c in ".!?")
      """,
      ["Hi. How are you? Fine!", "no end", "", "Wait...", "?!", "One. Two."]),
    P("pig_latin", "medium",
      "translates one lower-case word to Pig Latin: if it starts with a vowel (a, e, i, o, u) add \"way\"; otherwise move the letters before the first vowel to the end and add \"ay\" (a word without vowels just gets \"ay\").",
      """
      def pig_latin(word: str) -> str:
          for i, c in enumerate(word):
              if c in "aeiou":
                  return word + "way" if i == 0 else word[i:] + word[:i] + "ay"
          return word + "ay"
      """,
      ["apple", "banana", "string", "rhythm", "eat", "school"], gen=lambda r: real_word(r)),
    P("capitalized_word_count", "medium",
      "returns how many whitespace-separated words of s start with an upper-case letter.",
      """
      def capitalized_word_count(s: str) -> int:
          return sum(1 for w in s.split() if w[0].isupper())
      """,
      ["Alice and Bob met Carol", "nobody here", "", "ALL CAPS", "  Hi  there ", "1st Place"]),
    P("words_starting_with_vowel", "medium",
      "returns the whitespace-separated words of s that start with a vowel (a, e, i, o, u, either case), in order.",
      """
      def words_starting_with_vowel(s: str) -> list[str]:
          return [w for w in s.split() if w[0].lower() in "aeiou"]
      """,
      ["an apple is on every tree", "my dog", "", "Eagle owl", "  under over  ", "x"], gen=lambda r: sentence(r)),
    P("replace_word", "medium",
      "replaces every whitespace-separated word of s that equals old with new, and returns the words joined by single spaces; parts of longer words are not replaced.",
      """
      def replace_word(s: str, old: str, new: str) -> str:
          return " ".join(new if w == old else w for w in s.split())
      """,
      [("the cat sat", "cat", "dog"), ("cat catalog cat", "cat", "dog"), ("", "a", "b"), ("a b a", "a", "c"),
       ("hello", "bye", "hi"), ("x  x", "x", "y")],
      trap="parts of longer words",
      wrong="""
      def replace_word(s, old, new):
          return " ".join(s.replace(old, new).split())
      """),
    P("extract_numbers", "medium",
      "returns, as ints, the whitespace-separated words of s that consist only of digits 0-9, in order (\"I have 3 cats and 12 dogs\" -> [3, 12]).",
      """
      def extract_numbers(s: str) -> list[int]:
          return [int(w) for w in s.split() if w.isdigit()]
      """,
      ["I have 3 cats and 12 dogs", "no numbers", "", "7", "1 2 3", "room 101b and 42"]),
    P("most_vowels_word", "medium",
      "returns the whitespace-separated word of s with the most vowels (a, e, i, o, u, either case); on a tie the first such word; the empty string if s has no words.",
      """
      def most_vowels_word(s: str) -> str:
          best, best_n = "", -1
          for w in s.split():
              n = sum(1 for c in w.lower() if c in "aeiou")
              if n > best_n:
                  best, best_n = w, n
          return best
      """,
      ["the quick brown fox", "sky fly", "", "aeiou bcd", "banana apple", "one"], gen=lambda r: sentence(r)),
    P("sort_words_by_length", "hard",
      "returns the whitespace-separated words of s sorted from shortest to longest; words of equal length keep their original order.",
      """
      def sort_words_by_length(s: str) -> list[str]:
          return sorted(s.split(), key=len)
      """,
      ["the quick brown fox", "bb a ccc", "", "one", "dd cc bb aa", "hello to you"], gen=lambda r: sentence(r, 0, 8),
      wrong="""
      def sort_words_by_length(s):
          return sorted(s.split(), key=lambda w: (len(w), w))
      """),
    P("join_with_and", "hard",
      "joins a list of words into an English phrase: [] -> \"\", [\"a\"] -> \"a\", [\"a\", \"b\"] -> \"a and b\", [\"a\", \"b\", \"c\"] -> \"a, b and c\" (commas between all but the last two).",
      """
      def join_with_and(words: list[str]) -> str:
          if len(words) <= 1:
              return "".join(words)
          return ", ".join(words[:-1]) + " and " + words[-1]
      """,
      [["apples", "pears", "plums"], ["tea", "cake"], [], ["solo"], ["a", "b", "c", "d"], ["x", "y"]],
      gen=lambda r: words(r, 0, 5)),
    P("censor_word", "hard",
      "replaces every whitespace-separated word of s that equals bad, ignoring case, with asterisks of the same length, and returns the words joined by single spaces.",
      """
      def censor_word(s: str, bad: str) -> str:
          return " ".join("*" * len(w) if w.lower() == bad.lower() else w for w in s.split())
      """,
      [("what the heck", "heck"), ("Heck heck HECK", "heck"), ("", "x"), ("hecking heck", "heck"),
       ("nothing bad", "evil"), ("a  b", "A")]),
    P("wrap_text", "hard",
      "splits the words of s into lines for a display width: fill each line greedily with whitespace-separated words joined by single spaces, so that no line is longer than width unless it holds a single word longer than width. Returns the list of lines ([] when s has no words).",
      """
      def wrap_text(s: str, width: int) -> list[str]:
          lines = []
          for w in s.split():
              if lines and len(lines[-1]) + 1 + len(w) <= width:
                  lines[-1] += " " + w
              else:
                  lines.append(w)
          return lines
      """,
      [("the quick brown fox jumps", 10), ("a b c", 3), ("", 5), ("extraordinary", 4), ("one two", 7),
       ("aa bb cc dd", 5)],
      gen=lambda r: (sentence(r, 2, 9), r.randint(4, 16))),
]
