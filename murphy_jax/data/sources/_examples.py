"""Docstring examples as assert tests (the public tests of HumanEval-style tasks).

Reads doctest examples, inline ``f(x) ==> y`` styles, ``Input:``/``Output:`` blocks
and ``For x = ... the output should be y`` lines; see ``docstring_examples``.
"""
from __future__ import annotations

import ast
import builtins
import doctest
import inspect
import io
import re
import tokenize

from murphy_jax.data.sources._pyast import defined_names, find_function, parse


def _is_expr(text: str) -> bool:
    try:
        parse(text.strip(), mode="eval")
        return True
    except SyntaxError:
        return False


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}\s*\(", text) is not None


def _match_call(text: str, start: int) -> int | None:
    """Index just past the parenthesised argument list that opens at ``text[start] == '('``."""
    depth, quote, i = 0, "", start
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


_JS_LITERALS = {"true": "True", "false": "False", "null": "None", "none": "None"}


def _pythonize(expr: str) -> str:
    """Spell JavaScript-style literals the Python way (``true`` -> ``True``) outside strings."""
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(expr).readline))
    except (tokenize.TokenError, SyntaxError):
        return expr
    if not any(t.type == tokenize.NAME and t.string in _JS_LITERALS for t in toks):
        return expr
    out = [(t.type, _JS_LITERALS.get(t.string, t.string) if t.type == tokenize.NAME else t.string)
           for t in toks]
    return tokenize.untokenize(out).strip()


def _free_names(code: str) -> set[str]:
    tree = parse(code)
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    args = {a.arg for n in ast.walk(tree) if isinstance(n, ast.Lambda) for a in n.args.args}
    return loaded - stored - args - set(dir(builtins))


# Deliberately no bare ':' or 'is': prose such as "if f(x) is negative" must not become a test.
_ARROWS = re.compile(r"^\s*(?:==>|=>|->|➞|→|==|=|\bshould return\b|\bshould be\b|\breturns?\b|\bgives\b)\s*")


def _inline_example(line: str, entry_point: str) -> tuple[str, str] | None:
    """``f(x) ==> y`` / ``f(x) == y`` / ``f(x) -> y`` / ``f(x) should return y``: (call, expected)."""
    m = re.search(rf"(?<![\w.]){re.escape(entry_point)}\s*\(", line)
    if not m:
        return None
    end = _match_call(line, m.end() - 1)
    if end is None:
        return None
    call = line[m.start():end]
    rest = re.sub(r"^\s*#", "", line[end:])  # `f(x)  # returns y`
    arrow = _ARROWS.match(rest)
    if not arrow or not _is_expr(call):
        return None
    rhs = rest[arrow.end():].strip().rstrip(".,;").strip()
    # `f(x) == 1 + 9 + 0 = 10` (HumanEval/151): the value is the last segment.
    candidates = [rhs, re.sub(r"\s*\([^()]*\)$", "", rhs)]  # drop a trailing "(explanation)"
    candidates += [seg.strip() for seg in re.split(r"==>|=>|->|==|=", rhs)[-1:]]
    for c in candidates:
        c = _pythonize(c)
        if c and _is_expr(c) and not _mentions(c, entry_point):
            return _pythonize(call), c
    return None


def _raw_docstring(prompt: str, entry_point: str) -> str:
    """The entry point's docstring as written (escapes such as ``\\n`` kept), dedented."""
    try:
        fn = find_function(parse(prompt), entry_point)
    except SyntaxError:
        fn = None
    if fn and fn.body and isinstance(fn.body[0], ast.Expr) and isinstance(fn.body[0].value, ast.Constant) \
            and isinstance(fn.body[0].value.value, str):
        seg = ast.get_source_segment(prompt, fn.body[0].value) or ""
        m = re.match(r"^[rRuU]?(\"\"\"|\'\'\'|\"|\')(.*)\1$", seg, re.S)
        if m:
            return inspect.cleandoc(m.group(2))
    m = re.search(r'("""|\'\'\')(.*?)\1', prompt, re.S)
    return inspect.cleandoc(m.group(2)) if m else ""


def _signature_params(prompt: str, entry_point: str) -> list[str]:
    try:
        fn = find_function(parse(prompt), entry_point)
    except SyntaxError:
        return []
    return [a.arg for a in fn.args.args] if fn else []


def _call_from_bindings(entry_point: str, text: str, params: list[str]) -> str | None:
    """``arr = [1, 2], k = 3`` or ``[4, 2, 3]`` -> ``f([1, 2], 3)`` (argument order of the signature)."""
    text = text.strip().rstrip(",").strip()
    pieces = [p.strip() for p in _split_top(text, ",")]
    # "N = 1000, the sum of digits will be 1": keep the longest prefix that parses.
    for n in range(len(pieces), 0, -1):
        try:
            call = parse(f"_f({', '.join(pieces[:n])})", mode="eval").body
        except SyntaxError:
            continue
        if call.keywords and not call.args:
            names = [k.arg for k in call.keywords]
            if None in names:
                return None
            values = {k.arg: ast.get_source_segment(f"_f({', '.join(pieces[:n])})", k.value) for k in call.keywords}
            if set(names) == set(params):
                args = [values[p] for p in params]
            elif len(names) == len(params):
                args = [values[k] for k in names]  # renamed in the prose (bucket_capacity vs capacity)
            else:
                return None
        elif call.args and not call.keywords and len(call.args) == len(params):
            args = [ast.unparse(a) for a in call.args]
        else:
            return None
        return f"{entry_point}({', '.join(args)})"
    return None


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside brackets and quotes."""
    out, depth, quote, cur = [], 0, "", []
    for c in text:
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == sep and depth == 0:
            out.append("".join(cur))
            cur = []
            continue
        cur.append(c)
    out.append("".join(cur))
    return out


_FOR_STYLE = re.compile(r"^For\s+(.*?)[\s,]+the (?:output|result) should be\s+(.+?)\.?$", re.I)


def _io_examples(doc: str, entry_point: str, params: list[str]) -> list[tuple[str, str]]:
    """``Input: ... / Output: ...`` blocks and ``For x = ... the output should be y`` lines."""
    found = []
    lines = [ln.strip() for ln in doc.splitlines()]
    i = 0
    while i < len(lines):
        m = _FOR_STYLE.match(lines[i])
        if m:
            call = _call_from_bindings(entry_point, m.group(1), params)
            if call:
                found.append((call, _pythonize(m.group(2).strip())))
        if lines[i].lower().startswith("input:"):
            parts = [lines[i][6:].strip()]
            j = i + 1
            while j < len(lines) and not lines[j].lower().startswith("output:") and lines[j]:
                parts.append(re.sub(r"^(\w+)\s*:\s*", r"\1 = ", lines[j]))  # "grid : [...]"
                j += 1
            if j < len(lines) and lines[j].lower().startswith("output:"):
                call = _call_from_bindings(entry_point, ", ".join(p for p in parts if p), params)
                if call:
                    found.append((call, _pythonize(lines[j][7:].strip())))
                i = j
        i += 1
    return found


def docstring_examples(prompt: str, entry_point: str) -> tuple[list[str], int]:
    """Docstring examples of ``entry_point`` as assert statements, and how many were unparseable.

    Styles read: doctest (``>>> expr`` then its output; ``>>> f(x) == y`` with
    no output; statements without output are replayed before later examples),
    inline (``f(x) ==> y``, ``f(x) == y``, ``f(x) -> y``, ``f(x)  # returns y``,
    ``f(x) should return y``), ``Input: a = 1, b = 2`` / ``Output: y`` blocks and
    ``For x = 1 the output should be y``. ``true``/``false`` read as Python's.
    Only examples that call the entry point and use no undefined name
    (``is_happy(abc)``) are kept.
    """
    doc = _raw_docstring(prompt, entry_point)
    tests: list[str] = []
    bad = 0
    prelude: list[str] = []
    try:
        examples = doctest.DocTestParser().get_examples(doc)
    except ValueError:  # inconsistent indentation inside the docstring
        examples = []
    doctest_lines: set[str] = set()
    for ex in examples:
        src, want = ex.source.strip(), _pythonize(ex.want.strip())
        doctest_lines.update(ln.strip() for ln in ex.source.splitlines())
        mentions = _mentions(src, entry_point) or any(_mentions(p, entry_point) for p in prelude)
        if want and _is_expr(want):
            doctest_lines.update(ln.strip() for ln in ex.want.splitlines())
            if mentions and _is_expr(src):
                tests.append("\n".join(prelude + [f"assert {src} == {want}"]))
            elif mentions:
                bad += 1
        elif not _is_expr(src):
            if not want:
                prelude.append(src)  # `>>> x = ...` feeds later examples
        elif mentions and isinstance(parse(src, mode="eval").body, ast.Compare):
            # `>>> f(x) == y` with no output line (any text after it is prose, read below).
            tests.append("\n".join(prelude + [f"assert {src}"]))
        elif mentions:
            bad += 1
    for raw in doc.splitlines():
        line = raw.strip()
        if not line or line.startswith(">>>") or line.startswith("...") or line in doctest_lines:
            continue
        if not _mentions(line, entry_point):
            continue
        found = _inline_example(line, entry_point)
        if found:
            tests.append(f"assert {found[0]} == {found[1]}")
    for call, want in _io_examples(doc, entry_point, _signature_params(prompt, entry_point)):
        if _is_expr(want):
            tests.append(f"assert {call} == {want}")
        else:
            bad += 1
    known = defined_names(prompt) | {entry_point}
    kept: list[str] = []
    for t in tests:
        if t in kept:
            continue
        if _free_names(t) - known:
            bad += 1  # unquoted strings and the like: the example is prose, not code
            continue
        kept.append(t)
    return kept, bad
