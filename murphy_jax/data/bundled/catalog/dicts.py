"""Dictionaries with string keys: counting, lookup, merging and grouping."""
from murphy_jax.data.bundled.catalog import P
from murphy_jax.data.bundled.catalog._gen import real_word, sentence, word, words

THEME = "dicts"


def _scores(r, n_hi=5):
    return {real_word(r): r.randint(-5, 20) for _ in range(r.randint(0, n_hi))}


PROBLEMS = [
    P("has_key", "easy",
      "returns True if the dictionary d has the key k, else False.",
      """
      def has_key(d: dict[str, int], k: str) -> bool:
          return k in d
      """,
      [({"a": 1, "b": 2}, "a"), ({"a": 1}, "z"), ({}, "a"), ({"x": 0}, "x"), ({"A": 1}, "a"), ({"key": 5}, "key")]),
    P("get_or_default", "easy",
      "returns d[k] if the dictionary d has the key k, otherwise returns default.",
      """
      def get_or_default(d: dict[str, int], k: str, default: int) -> int:
          return d.get(k, default)
      """,
      [({"a": 1}, "a", 0), ({"a": 1}, "b", 0), ({}, "x", -1), ({"x": 0}, "x", 5), ({"p": 7, "q": 8}, "q", 1),
       ({"n": 3}, "N", 9)]),
    P("lookup_phone", "easy",
      "returns the phone number stored for name in the dictionary book, or \"unknown\" if name is not in it.",
      """
      def lookup_phone(book: dict[str, str], name: str) -> str:
          return book.get(name, "unknown")
      """,
      [({"ann": "555-1234"}, "ann"), ({"ann": "555-1234"}, "bob"), ({}, "ann"), ({"Bob": "1", "bob": "2"}, "bob"),
       ({"x": "0"}, "x"), ({"a": "1", "b": "2"}, "c")]),
    P("sum_values", "easy",
      "returns the sum of all values of the dictionary d (0 for an empty dictionary).",
      """
      def sum_values(d: dict[str, int]) -> int:
          return sum(d.values())
      """,
      [{"a": 1, "b": 2}, {"x": -5}, {}, {"p": 0, "q": 0}, {"a": 10, "b": 20, "c": 30}, {"k": 7}], gen=_scores),
    P("sorted_keys", "easy",
      "returns the keys of the dictionary d as a list sorted alphabetically.",
      """
      def sorted_keys(d: dict[str, int]) -> list[str]:
          return sorted(d)
      """,
      [{"b": 1, "a": 2}, {"z": 0}, {}, {"B": 1, "a": 1, "A": 1}, {"cat": 1, "car": 2, "ca": 3}, {"x": 1, "y": 2}],
      gen=_scores),
    P("merge_dicts", "easy",
      "returns a new dictionary with all entries of a and b; when a key is in both, the value from b wins.",
      """
      def merge_dicts(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
          return {**a, **b}
      """,
      [({"x": 1}, {"y": 2}), ({"x": 1, "y": 2}, {"y": 3}), ({}, {}), ({"a": 1}, {}), ({}, {"b": 2}),
       ({"k": 1}, {"k": 0})],
      wrong="""
      def merge_dicts(a, b):
          return {**b, **a}
      """),
    P("invert_dict", "easy",
      "returns a new dictionary that maps each value of d back to its key (all values of d are distinct strings).",
      """
      def invert_dict(d: dict[str, str]) -> dict[str, str]:
          return {v: k for k, v in d.items()}
      """,
      [{"a": "x", "b": "y"}, {"one": "1"}, {}, {"k": "k"}, {"red": "rot", "blue": "blau", "green": "gruen"},
       {"x": "a", "a": "x"}]),
    P("dict_from_lists", "easy",
      "returns a dictionary mapping keys[i] to values[i] for every position i of the two equal-length lists (the keys are distinct).",
      """
      def dict_from_lists(keys: list[str], values: list[int]) -> dict[str, int]:
          return dict(zip(keys, values))
      """,
      [(["a", "b"], [1, 2]), (["x"], [0]), ([], []), (["p", "q", "r"], [3, 2, 1]), (["k"], [-1]),
       (["one", "two"], [1, 2])]),
    P("word_to_length", "easy",
      "returns a dictionary mapping each string in words to its length.",
      """
      def word_to_length(words: list[str]) -> dict[str, int]:
          return {w: len(w) for w in words}
      """,
      [["hi", "there"], ["a"], [], ["x", "x"], ["", "abc"], ["apple", "kiwi"]], gen=words),
    P("count_value", "easy",
      "returns how many keys of the dictionary d have the value v.",
      """
      def count_value(d: dict[str, int], v: int) -> int:
          return sum(1 for x in d.values() if x == v)
      """,
      [({"a": 1, "b": 1, "c": 2}, 1), ({"a": 1}, 2), ({}, 0), ({"x": 0, "y": 0}, 0), ({"k": -1}, -1),
       ({"p": 3, "q": 4}, 4)]),
    P("keys_with_value", "easy",
      "returns the keys of the dictionary d whose value equals v, sorted alphabetically.",
      """
      def keys_with_value(d: dict[str, int], v: int) -> list[str]:
          return sorted(k for k, x in d.items() if x == v)
      """,
      [({"b": 1, "a": 1, "c": 2}, 1), ({"a": 1}, 5), ({}, 0), ({"z": 3, "y": 3, "x": 3}, 3), ({"k": 0}, 0),
       ({"m": 2, "n": 1}, 2)]),
    P("total_scores", "easy",
      "takes a dictionary from names to lists of integer scores and returns a dictionary from each name to the sum of its scores.",
      """
      def total_scores(scores: dict[str, list[int]]) -> dict[str, int]:
          return {k: sum(v) for k, v in scores.items()}
      """,
      [{"ann": [1, 2, 3], "bob": [4]}, {"x": []}, {}, {"a": [-1, 1]}, {"p": [10, 10], "q": [5, 5, 5]}, {"z": [0]}]),
    P("char_frequency", "medium",
      "returns a dictionary mapping each character of s to the number of times it appears in s (case-sensitive).",
      """
      def char_frequency(s: str) -> dict[str, int]:
          d = {}
          for c in s:
              d[c] = d.get(c, 0) + 1
          return d
      """,
      ["hello", "aAa", "", "abc", "  ", "mississippi"], gen=lambda r: word(r, 0, 10, "abc")),
    P("word_frequency", "medium",
      "returns a dictionary mapping each whitespace-separated word of s, converted to lower case, to how many times it appears.",
      """
      def word_frequency(s: str) -> dict[str, int]:
          d = {}
          for w in s.lower().split():
              d[w] = d.get(w, 0) + 1
          return d
      """,
      ["the cat the hat", "One one ONE", "", "a b c", "  spaced   out  ", "x"], gen=lambda r: sentence(r, 0, 8)),
    P("merge_add", "medium",
      "returns a new dictionary with all keys of a and b, where keys found in both get the sum of their two values.",
      """
      def merge_add(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
          out = dict(a)
          for k, v in b.items():
              out[k] = out.get(k, 0) + v
          return out
      """,
      [({"x": 1, "y": 2}, {"y": 3, "z": 4}), ({"a": 1}, {"b": 2}), ({}, {}), ({"a": 5}, {}), ({}, {"a": -5}),
       ({"k": 1}, {"k": -1})],
      gen=lambda r: (_scores(r, 3), _scores(r, 3)),
      wrong="""
      def merge_add(a, b):
          return {**a, **b}
      """),
    P("filter_by_min", "medium",
      "returns a new dictionary with only the entries of d whose value is at least m.",
      """
      def filter_by_min(d: dict[str, int], m: int) -> dict[str, int]:
          return {k: v for k, v in d.items() if v >= m}
      """,
      [({"a": 1, "b": 5, "c": 3}, 3), ({"a": 1}, 2), ({}, 0), ({"x": 0}, 0), ({"p": -1, "q": -5}, -3),
       ({"k": 10, "j": 9}, 10)]),
    P("key_of_max_value", "medium",
      "returns the key with the largest value in the dictionary d; if several keys share the largest value, the alphabetically smallest of them. Returns None for an empty dictionary.",
      """
      def key_of_max_value(d: dict[str, int]) -> str | None:
          if not d:
              return None
          best = max(d.values())
          return min(k for k, v in d.items() if v == best)
      """,
      [{"a": 1, "b": 3, "c": 2}, {"x": 5, "b": 5, "m": 1}, {}, {"solo": -1}, {"p": 0, "q": 0}, {"z": 2, "a": 1}],
      gen=lambda r: {c: r.randint(0, 3) for c in word(r, 0, 5, "abcdef")}, trap="ties and the empty dictionary",
      wrong="""
      def key_of_max_value(d):
          return max(d, key=d.get) if d else None
      """),
    P("count_by_first_letter", "medium",
      "returns a dictionary mapping each first letter to how many strings in words start with it (all strings are non-empty).",
      """
      def count_by_first_letter(words: list[str]) -> dict[str, int]:
          d = {}
          for w in words:
              d[w[0]] = d.get(w[0], 0) + 1
          return d
      """,
      [["apple", "avocado", "banana"], ["x"], [], ["bob", "Bob"], ["cat", "cow", "car", "dog"], ["a", "b", "a"]],
      gen=words),
    P("group_by_first_letter", "medium",
      "returns a dictionary mapping each first letter to the list of strings in words that start with it, in their original order (all strings are non-empty).",
      """
      def group_by_first_letter(words: list[str]) -> dict[str, list[str]]:
          d = {}
          for w in words:
              d.setdefault(w[0], []).append(w)
          return d
      """,
      [["apple", "bean", "avocado"], ["x"], [], ["cat", "cow", "cat"], ["Bob", "bob"], ["a", "b", "c"]], gen=words),
    P("sorted_items", "medium",
      "returns the entries of the dictionary d as a list of [key, value] lists sorted by key.",
      """
      def sorted_items(d: dict[str, int]) -> list[list]:
          return [[k, d[k]] for k in sorted(d)]
      """,
      [{"b": 2, "a": 1}, {"x": 0}, {}, {"c": 3, "a": 1, "b": 2}, {"Z": 1, "a": 2}, {"k": -5, "j": 5}], gen=_scores),
    P("update_stock", "medium",
      "returns a copy of the inventory dictionary where item's count is changed by delta (an item not in it starts at 0); an item whose count becomes 0 or less is removed.",
      """
      def update_stock(stock: dict[str, int], item: str, delta: int) -> dict[str, int]:
          out = dict(stock)
          out[item] = out.get(item, 0) + delta
          if out[item] <= 0:
              del out[item]
          return out
      """,
      [({"apple": 3}, "apple", 2), ({"apple": 3}, "pear", 1), ({}, "x", -1), ({"a": 2}, "a", -2),
       ({"a": 2, "b": 1}, "b", -5), ({"k": 1}, "k", 0)]),
    P("rename_key", "medium",
      "returns a copy of d where the key old is renamed to new (keeping its value); if old is not a key, the copy is unchanged.",
      """
      def rename_key(d: dict[str, int], old: str, new: str) -> dict[str, int]:
          out = dict(d)
          if old in out:
              out[new] = out.pop(old)
          return out
      """,
      [({"a": 1, "b": 2}, "a", "c"), ({"a": 1}, "z", "y"), ({}, "a", "b"), ({"x": 5}, "x", "x"),
       ({"p": 1, "q": 2}, "p", "q"), ({"k": 0}, "k", "K")],
      wrong="""
      def rename_key(d, old, new):
          out = dict(d)
          out[new] = out.pop(old)
          return out
      """),
    P("cart_total", "medium",
      "returns the total price of the items in the list cart using the dictionary prices; an item that is not in prices costs 0.",
      """
      def cart_total(prices: dict[str, int], cart: list[str]) -> int:
          return sum(prices.get(item, 0) for item in cart)
      """,
      [({"apple": 3, "pear": 5}, ["apple", "pear", "apple"]), ({"tea": 2}, ["tea"]), ({}, []),
       ({"a": 1}, ["b"]), ({"x": 10}, []), ({"m": 4, "n": 6}, ["n", "z", "m"])], trap="unknown items",
      wrong="""
      def cart_total(prices, cart):
          return sum(prices[item] for item in cart)
      """),
    P("sum_by_category", "medium",
      "takes a list of [category, amount] pairs and returns a dictionary mapping each category to the sum of its amounts.",
      """
      def sum_by_category(items: list[list]) -> dict[str, int]:
          d = {}
          for cat, amount in items:
              d[cat] = d.get(cat, 0) + amount
          return d
      """,
      [[["fruit", 3], ["veg", 2], ["fruit", 1]], [["a", 5]], [], [["x", 1], ["x", -1]], [["p", 0]],
       [["b", 2], ["a", 1], ["b", 2]]]),
    P("is_sub_dict", "medium",
      "returns True if every key of a is also a key of b with the same value, else False (an empty a gives True).",
      """
      def is_sub_dict(a: dict[str, int], b: dict[str, int]) -> bool:
          return all(k in b and b[k] == v for k, v in a.items())
      """,
      [({"x": 1}, {"x": 1, "y": 2}), ({"x": 1}, {"x": 2}), ({}, {}), ({}, {"a": 1}), ({"a": 1}, {}),
       ({"a": 1, "b": 2}, {"b": 2, "a": 1})],
      wrong="""
      def is_sub_dict(a, b):
          return all(k in b for k in a)
      """),
    P("changed_keys", "medium",
      "returns, sorted alphabetically, the keys of a that are missing from b or have a different value in b.",
      """
      def changed_keys(a: dict[str, int], b: dict[str, int]) -> list[str]:
          return sorted(k for k, v in a.items() if b.get(k) != v)
      """,
      [({"x": 1, "y": 2}, {"x": 1, "y": 3}), ({"a": 1}, {}), ({}, {"a": 1}), ({"k": 0}, {"k": 0}),
       ({"b": 1, "a": 1}, {"c": 1}), ({"z": 5, "m": 5}, {"z": 6, "m": 5})]),
    P("positions_of_chars", "medium",
      "returns a dictionary mapping each character of s to the list of positions where it occurs, in increasing order.",
      """
      def positions_of_chars(s: str) -> dict[str, list[int]]:
          d = {}
          for i, c in enumerate(s):
              d.setdefault(c, []).append(i)
          return d
      """,
      ["hello", "aaa", "", "ab", "abab", "x y"], gen=lambda r: word(r, 0, 8, "abc")),
    P("most_common_word", "medium",
      "returns the most frequent whitespace-separated word of s after converting it to lower case; on a tie, the alphabetically smallest such word; the empty string if s has no words.",
      """
      def most_common_word(s: str) -> str:
          counts = {}
          for w in s.lower().split():
              counts[w] = counts.get(w, 0) + 1
          if not counts:
              return ""
          best = max(counts.values())
          return min(w for w, n in counts.items() if n == best)
      """,
      ["the cat the hat", "b a", "", "Dog dog cat", "one", "z y z y x"], gen=lambda r: sentence(r, 1, 8),
      trap="ties"),
    P("most_frequent_char", "medium",
      "returns the character that appears most often in s; on a tie, the one whose first appearance comes earliest in s. Returns the empty string for the empty string.",
      """
      def most_frequent_char(s: str) -> str:
          best = ""
          for c in s:
              if not best or s.count(c) > s.count(best):
                  best = c
          return best
      """,
      ["hello", "abcabc", "", "x", "bbaa", "aabbbcc"], gen=lambda r: word(r, 1, 10, "abc"), trap="ties",
      wrong="""
      def most_frequent_char(s):
          return max(sorted(set(s)), key=s.count) if s else ""
      """),
    P("invert_grouped", "hard",
      "inverts a dictionary whose values may repeat: returns a dictionary mapping each value (a string) to the alphabetically sorted list of keys that had that value.",
      """
      def invert_grouped(d: dict[str, str]) -> dict[str, list[str]]:
          out = {}
          for k in sorted(d):
              out.setdefault(d[k], []).append(k)
          return out
      """,
      [{"a": "x", "b": "y", "c": "x"}, {"k": "v"}, {}, {"b": "1", "a": "1"}, {"p": "q", "q": "p"},
       {"c": "z", "b": "z", "a": "z"}]),
    P("nested_get", "hard",
      "follows the list of keys path through nested dictionaries, starting at d, and returns the value found; returns None if some key along the way is missing or a value along the way is not a dictionary. An empty path returns d itself.",
      """
      def nested_get(d: dict, path: list[str]) -> object:
          cur = d
          for k in path:
              if not isinstance(cur, dict) or k not in cur:
                  return None
              cur = cur[k]
          return cur
      """,
      [({"a": {"b": {"c": 1}}}, ["a", "b", "c"]), ({"a": {"b": 2}}, ["a", "x"]), ({}, []),
       ({"a": 1}, ["a", "b"]), ({"a": {"b": 2}}, ["a"]), ({"x": {"y": None}}, ["x", "y"])]),
    P("flatten_dict", "hard",
      "flattens nested dictionaries into one level, joining nested keys with dots: {\"a\": {\"b\": 1}, \"c\": 2} -> {\"a.b\": 1, \"c\": 2}. Values that are not dictionaries are kept as they are; an empty nested dictionary disappears.",
      """
      def flatten_dict(d: dict) -> dict:
          out = {}
          for k, v in d.items():
              if isinstance(v, dict):
                  for k2, v2 in flatten_dict(v).items():
                      out[k + "." + k2] = v2
              else:
                  out[k] = v
          return out
      """,
      [{"a": {"b": 1}, "c": 2}, {"x": {"y": {"z": 3}}}, {}, {"a": {}}, {"k": [1, 2]}, {"a": {"b": 1, "c": {"d": 2}}}],
      wrong="""
      def flatten_dict(d):
          out = {}
          for k, v in d.items():
              if isinstance(v, dict):
                  for k2, v2 in v.items():
                      out[k + "." + k2] = v2
              else:
                  out[k] = v
          return out
      """),
    P("count_all_keys", "hard",
      "returns the total number of keys in the dictionary d, including the keys of all dictionaries nested inside it at any depth.",
      """
      def count_all_keys(d: dict) -> int:
          return sum(1 + (count_all_keys(v) if isinstance(v, dict) else 0) for v in d.values())
      """,
      [{"a": 1, "b": {"c": 2}}, {"x": 1}, {}, {"a": {"b": {"c": {}}}}, {"a": [1, 2], "b": {"c": [3]}}, {"p": {}, "q": {"r": 1}}],
      wrong="""
      def count_all_keys(d):
          return len(d)
      """),
    P("group_anagrams", "hard",
      "groups the strings of words that are anagrams of each other (same letters in any order). Each group is sorted alphabetically, and the list of groups is sorted by its first element.",
      """
      def group_anagrams(words: list[str]) -> list[list[str]]:
          groups = {}
          for w in words:
              groups.setdefault("".join(sorted(w)), []).append(w)
          return sorted(sorted(g) for g in groups.values())
      """,
      [["eat", "tea", "tan", "ate", "nat", "bat"], ["abc"], [], ["a", "a"], ["ab", "ba", "abc"], ["x", "y", "z"]],
      gen=lambda r: [word(r, 1, 3, "abc") for _ in range(r.randint(1, 6))]),
    P("first_repeated_word", "medium",
      "returns the first whitespace-separated word of s that has already appeared earlier in s (case-sensitive), or the empty string if no word repeats.",
      """
      def first_repeated_word(s: str) -> str:
          seen = set()
          for w in s.split():
              if w in seen:
                  return w
              seen.add(w)
          return ""
      """,
      ["a b c b a", "one two three", "", "x x", "cat dog Cat cat", "to be or not to be"],
      gen=lambda r: " ".join(real_word(r)[:1] for _ in range(r.randint(1, 6)))),
]
