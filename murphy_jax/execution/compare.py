"""Verdict rules for ``stdio`` and ``call`` tests, applied in the trusted judge.

stdio: outputs match when, after normalising line endings and dropping trailing whitespace
on every line and trailing blank lines, they have the same lines and each line the same
whitespace-separated tokens, tokens being equal as strings or both numbers within the float
tolerance. Case matters; "1e3" and "1000" are equal numbers; "nan" matches nothing.

call: the returned value equals the expected JSON value when both have the same shape,
where a tuple and a list are the same shape, dict keys are compared as JSON would write them,
bool is not a number, and numbers are equal exactly (ints) or within the float tolerance.
"""
from __future__ import annotations

import math

_NUMERIC_CHARS = frozenset("0123456789+-.eEinfINFaAtTyY")


def stdio_equal(actual: str, expected: str, rel_tol: float, abs_tol: float) -> bool:
    """Whether a program's stdout matches the expected output (see module docstring)."""
    a_lines = _lines(actual)
    e_lines = _lines(expected)
    if a_lines == e_lines:
        return True
    if len(a_lines) != len(e_lines):
        return False
    for a, e in zip(a_lines, e_lines):
        if a == e:
            continue
        a_tok, e_tok = a.split(), e.split()
        if len(a_tok) != len(e_tok):
            return False
        for x, y in zip(a_tok, e_tok):
            if x != y and not _close_tokens(x, y, rel_tol, abs_tol):
                return False
    return True


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _close_tokens(x: str, y: str, rel_tol: float, abs_tol: float) -> bool:
    if not (set(x) <= _NUMERIC_CHARS and set(y) <= _NUMERIC_CHARS):
        return False
    try:
        fx, fy = float(x), float(y)
    except ValueError:
        return False
    return math.isfinite(fx) and math.isfinite(fy) and math.isclose(fx, fy, rel_tol=rel_tol, abs_tol=abs_tol)


def value_equal(actual, expected, rel_tol: float, abs_tol: float, _depth: int = 0) -> bool:
    """Whether a returned value matches an expected JSON value (see module docstring)."""
    if _depth > 100:
        return False
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is bool and type(expected) is bool and actual == expected
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        if isinstance(expected, int) and isinstance(actual, int):
            return actual == expected
        if not (math.isfinite(actual) and math.isfinite(expected)):
            return actual == expected
        return math.isclose(actual, expected, rel_tol=rel_tol, abs_tol=abs_tol)
    if isinstance(expected, str) or isinstance(actual, str):
        return type(actual) is str and type(expected) is str and actual == expected
    if expected is None or actual is None:
        return actual is None and expected is None
    if isinstance(expected, (list, tuple)) and isinstance(actual, (list, tuple)):
        return len(actual) == len(expected) and all(
            value_equal(a, e, rel_tol, abs_tol, _depth + 1) for a, e in zip(actual, expected))
    if isinstance(expected, dict) and isinstance(actual, dict):
        a_keys = {_json_key(k): v for k, v in actual.items()}
        e_keys = {_json_key(k): v for k, v in expected.items()}
        return a_keys.keys() == e_keys.keys() and all(
            value_equal(a_keys[k], e_keys[k], rel_tol, abs_tol, _depth + 1) for k in e_keys)
    return False


def _json_key(k) -> str:
    if isinstance(k, str):
        return k
    if k is True:
        return "true"
    if k is False:
        return "false"
    if k is None:
        return "null"
    return str(k)
