"""Small deterministic input generators shared by the theme modules.

Only ``randint``, ``choice`` and ``shuffle`` are used: their output for a given
seed has been stable across CPython releases, which keeps the build
byte-for-byte reproducible.
"""
from __future__ import annotations

import random
import string

WORDS = (
    "apple banana cherry dog eagle forest garden house island jungle kite lemon "
    "mountain night ocean pencil queen river stone tiger umbrella valley window "
    "yellow zebra cat sun map red blue green code data tree bird fish moon star "
    "rain snow wind fire book door lamp road ship coin game song"
).split()


def ints(r: random.Random, lo: int = -20, hi: int = 20, n_lo: int = 0, n_hi: int = 8) -> list[int]:
    """A list of n_lo..n_hi integers in [lo, hi]."""
    return [r.randint(lo, hi) for _ in range(r.randint(n_lo, n_hi))]


def word(r: random.Random, lo: int = 1, hi: int = 8, alphabet: str = string.ascii_lowercase) -> str:
    """A random string of lo..hi characters from alphabet."""
    return "".join(r.choice(alphabet) for _ in range(r.randint(lo, hi)))


def real_word(r: random.Random) -> str:
    """A word from a small fixed vocabulary."""
    return r.choice(WORDS)


def sentence(r: random.Random, n_lo: int = 1, n_hi: int = 6) -> str:
    """n_lo..n_hi vocabulary words joined by single spaces."""
    return " ".join(real_word(r) for _ in range(r.randint(n_lo, n_hi)))


def words(r: random.Random, n_lo: int = 0, n_hi: int = 6) -> list[str]:
    """A list of n_lo..n_hi vocabulary words."""
    return [real_word(r) for _ in range(r.randint(n_lo, n_hi))]


def mixed(r: random.Random, lo: int = 0, hi: int = 12) -> str:
    """A string of letters (both cases), digits, spaces and punctuation."""
    return word(r, lo, hi, string.ascii_letters + string.digits + "  .,!?-")


def grid(r: random.Random, rows: int, cols: int, lo: int = -9, hi: int = 9) -> list[list[int]]:
    """A rows x cols list of lists of integers in [lo, hi]."""
    return [[r.randint(lo, hi) for _ in range(cols)] for _ in range(rows)]
