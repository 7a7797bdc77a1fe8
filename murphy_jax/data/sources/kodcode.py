"""KodCode loader (``KodCode/KodCode-Light-RL-10K``, ``KodCode/KodCode-V1`` and local copies).

Row schema (hub release): ``question_id, question, solution, test, test_info,
gpt_difficulty, subset, style, ...``. The pipeline's demo dumps name the test
field ``test_code`` instead of ``test``; both are read.

* Each top-level ``def test*`` function of the test file is one ``pytest``
  TestCase; the whole file is ``test_module``. Tests inside ``class Test*``
  are not addressable by a plain function name and are not used (a file with
  no top-level test function is skipped; counted in ``stats``).
* The executor imports the candidate as module ``solution``. Most test files
  import what they use (``from solution import f``); others use the solution's
  names directly, and a few read a module the solution imported (``math``). The
  loader adds ``from solution import <names>`` for exactly the names the file
  reads but never binds (and ``import pytest`` when ``pytest`` is used
  unimported); counted in ``stats["solution_import_added"]``. Explicit names,
  not ``*``, so a candidate's own ``test_*`` helpers are never collected.
* A file that binds a non-function name starting with ``test`` at top level
  (``from heapq import merge as test_merge``) is skipped: pytest would try to
  collect it and the collection error fails every test.
* Split: the first ``public_tests`` test functions (default 1) are public, the
  rest private; ``public_tests=-1`` makes every test public.
* ``entry_point`` is the first ``test_info`` function the solution defines at
  top level (None for class-style problems); when the question does not
  already show that function's declaration, the prompt gets one line naming it.
"""
from __future__ import annotations

import ast
import builtins

from murphy_jax.data.sources import _pyast
from murphy_jax.data.sources._common import (LoadReport, RowError, SourceError, build_report, count,
                                             iter_hub_rows, iter_path_rows, require)
from murphy_jax.data.task import CodeTask, TestCase

HUB_DEFAULT = "KodCode/KodCode-Light-RL-10K"
FILE_PATTERNS = ("*.parquet", "*.jsonl", "*.jsonl.gz", "*.json")


def _bound_names(mod: ast.Module) -> set[str]:
    """Every name the module binds anywhere (assignments, defs, imports, arguments, handlers...)."""
    bound: set[str] = set()
    for n in ast.walk(mod):
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
            bound.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in n.names)
        elif isinstance(n, ast.arg):
            bound.add(n.arg)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            bound.add(n.name)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            bound.update(n.names)
        elif isinstance(n, (ast.MatchAs, ast.MatchStar)) and n.name:
            bound.add(n.name)
    return bound


def free_names(mod: ast.Module) -> list[str]:
    """Names the test module reads but never binds and that are not builtins (it expects them from the solution)."""
    loaded = {n.id for n in ast.walk(mod) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    star = any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in ast.walk(mod))
    if star:
        return []  # a star import may provide anything
    free = loaded - _bound_names(mod) - set(dir(builtins))
    return sorted(n for n in free if not (n.startswith("__") and n.endswith("__")))  # __file__ etc. are module attrs


def _collectable_non_tests(mod: ast.Module) -> list[str]:
    """Top-level names starting with 'test' that are not test functions (pytest would collect them)."""
    out = []
    for node in mod.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out += [a.asname or a.name for a in node.names if (a.asname or a.name).startswith("test")]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            out += [t.id for t in targets if isinstance(t, ast.Name) and t.id.startswith("test")]
    return out


def _test_functions(mod: ast.Module) -> tuple[list[str], int]:
    names = [n.name for n in mod.body
             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")]
    in_classes = sum(1 for n in mod.body if isinstance(n, ast.ClassDef) and n.name.startswith("Test")
                     for m in n.body if isinstance(m, ast.FunctionDef) and m.name.startswith("test"))
    return names, in_classes


def _entry_point(test_info, solution: str) -> tuple[str | None, str]:
    """(function name, its declaration line) from test_info, if the solution defines it."""
    if not isinstance(test_info, (list, tuple)):
        return None, ""
    defined = _pyast.defined_names(solution) if solution else set()
    for info in test_info:
        if not isinstance(info, dict):
            continue
        name = info.get("function_name") or ""
        if name.isidentifier() and (not defined or name in defined):
            return name, (info.get("function_declaration") or "").strip()
    return None, ""


def kodcode_task(row: dict, stats: dict, public_tests: int = 1) -> CodeTask:
    """One KodCode row (``test`` or ``test_code`` field) to a CodeTask with pytest tests."""
    if not isinstance(row, dict):
        raise RowError("row is not an object", type(row).__name__)
    test_field = "test" if "test" in row else "test_code"
    if row.get(test_field) is None:
        raise RowError("missing field 'test' (or 'test_code')")
    qid, question, test_src = require(row, "question_id", "question", test_field)
    if not question.strip():
        raise RowError("empty question")
    try:
        mod = _pyast.parse(test_src)
    except SyntaxError as e:
        raise RowError("test code does not parse", f"line {e.lineno}: {e.msg}") from None
    names, in_classes = _test_functions(mod)
    if in_classes:
        count(stats, "class_test_methods_ignored", in_classes)
    if not names:
        raise RowError("no top-level test functions")
    if len(set(names)) != len(names):
        raise RowError("duplicate test function names")  # pytest would only run the last definition
    clash = _collectable_non_tests(mod)
    if clash:
        raise RowError("module binds a non-function name pytest would collect", ", ".join(clash))
    module = test_src
    missing = free_names(mod)
    header = []
    if "pytest" in missing:  # used without `import pytest`
        missing.remove("pytest")
        header.append("import pytest")
    if missing:
        header.append(f"from solution import {', '.join(missing)}")
        count(stats, "solution_import_added")
    if header:
        module = "\n".join(header) + "\n\n" + test_src
    solution = row.get("solution") or ""
    if not isinstance(solution, str):
        raise RowError("field 'solution' has wrong type", type(solution).__name__)
    entry, declaration = _entry_point(row.get("test_info"), solution)
    prompt = question.strip()
    style = row.get("style") or ""
    starter = prompt if style == "complete" else ""
    if entry and style != "complete" and f"def {entry}(" not in prompt and declaration:
        prompt += f"\n\nYour solution must define this function: {declaration}"
    n_public = len(names) if public_tests < 0 else public_tests
    tests = [TestCase(kind="pytest", name=n) for n in names]
    metadata = {k: row[k] for k in ("subset", "style", "gpt_pass_percentage") if row.get(k) is not None}
    return CodeTask(
        task_id=str(qid),
        prompt=prompt,
        starter_code=starter,
        entry_point=entry,
        public_tests=tests[:n_public],
        private_tests=tests[n_public:],
        test_module=module,
        difficulty=str(row.get("gpt_difficulty") or ""),
        reference_solution=solution,
        source="kodcode",
        metadata=metadata,
    )


def load_kodcode(path: str | None = None, name: str = HUB_DEFAULT, config: str | None = None,
                 split: str = "train", public_tests: int = 1) -> LoadReport:
    """KodCode rows from a local file/directory (parquet, json, jsonl) or the hub (``name``/``config``)."""
    if not isinstance(public_tests, int):
        raise SourceError(f"public_tests={public_tests!r}: must be an integer (-1 = all public)")
    rows = iter_path_rows(path, FILE_PATTERNS) if path else iter_hub_rows(name, config, split=split)
    rep = LoadReport(source="kodcode")
    return build_report("kodcode", rows, lambda r: kodcode_task(r, rep.stats, public_tests), rep)
