"""The hand-written catalogue behind the bundled task set: one module per theme.

Each theme module defines ``THEME`` (its name) and ``PROBLEMS`` (a list of
``Problem``). A problem is written once, as Python: an id that is also the
function name, a difficulty, a description, a reference solution and the
inputs to test it on. Expected outputs are never written by hand; the builder
(``murphy_jax.data.bundled.build``) computes them by running the reference.
"""
from __future__ import annotations

import importlib
import random
import textwrap
from dataclasses import dataclass
from typing import Any, Callable

LEVELS = ("easy", "medium", "hard")

# Module order is part of the build's determinism: it fixes the order of tasks
# inside each split file.
THEMES = (
    "arithmetic",
    "number_theory",
    "strings",
    "text",
    "lists",
    "list_transforms",
    "dicts",
    "conditionals",
    "loops",
    "algorithms",
    "grids",
)


@dataclass(frozen=True)
class Problem:
    """One function-writing problem, before expected outputs are computed.

    ``desc`` continues the sentence "Write a Python function `sig` that ...",
    so it starts with a lower-case verb. ``tests`` lists hand-picked inputs:
    for a one-parameter function each entry *is* the argument; otherwise each
    entry is a tuple with one item per parameter. The first two entries become
    the public tests (shown in the prompt and in feedback). ``gen`` makes
    ``n_gen`` more inputs from a random generator seeded by the id. ``wrong``
    holds plausible incorrect solutions the tests must catch; ``trap`` names
    the edge case a natural first attempt tends to miss.
    """

    id: str
    level: str
    desc: str
    ref: str
    tests: tuple
    gen: Callable[[random.Random], Any] | None = None
    n_gen: int = 2
    wrong: tuple = ()
    trap: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref", textwrap.dedent(self.ref).strip() + "\n")
        object.__setattr__(self, "tests", tuple(self.tests))
        if isinstance(self.wrong, str):
            object.__setattr__(self, "wrong", (self.wrong,))
        object.__setattr__(self, "wrong", tuple(textwrap.dedent(w).strip() + "\n" for w in self.wrong))


def P(id, level, desc, ref, tests, **kw) -> Problem:
    """Shorthand constructor used by the theme modules."""
    return Problem(id=id, level=level, desc=desc, ref=ref, tests=tests, **kw)


def all_problems() -> list[tuple[str, Problem]]:
    """Every (theme, problem) pair in catalogue order."""
    out = []
    for theme in THEMES:
        mod = importlib.import_module(f"{__name__}.{theme}")
        if mod.THEME != theme:
            raise ValueError(f"catalog module {theme!r} declares THEME={mod.THEME!r}")
        out.extend((theme, p) for p in mod.PROBLEMS)
    return out
