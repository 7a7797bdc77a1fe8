"""MBPP (full and sanitized) and MBPP+ loaders.

Rows in the published formats, from local files or the hub (same schema):

* full ``mbpp.jsonl`` / hub ``mbpp`` config ``full``: ``task_id, text, code,
  test_setup_code, test_list, challenge_test_list``;
* sanitized ``sanitized-mbpp.json`` / hub ``mbpp`` config ``sanitized``:
  ``task_id, prompt, code, test_imports, test_list, source_file``;
* MBPP+ (hub ``evalplus/mbppplus``): the sanitized fields plus ``test``, a
  self-contained EvalPlus test module (``inputs``/``results`` + ``assertion``).

Split rule: the first ``public_tests`` asserts of ``test_list`` (default 1) are
public and are shown in the prompt ("Your code should pass these tests"),
so the model learns the function name and call convention; the remaining
asserts are private. MBPP+ keeps the same public assert(s) and takes its private
tests from ``test`` (cut into ``plus_chunks`` tests). ``challenge_test_list``
(full MBPP only) is added to the private tests when ``include_challenge=True``.

``split`` selects the standard MBPP task-id ranges for local files (test
11-510, validation 511-600, train 601-974, prompt 1-10, or ``all``); from the
hub it names the dataset split.
"""
from __future__ import annotations

import ast

from murphy_jax.data.sources import _pyast
from murphy_jax.data.sources._common import (LoadReport, RowError, SourceError, build_report, count,
                                             iter_file_rows, iter_hub_rows, require)
from murphy_jax.data.task import CodeTask, TestCase

MBPP_SPLITS = {"prompt": (1, 10), "test": (11, 510), "validation": (511, 600), "train": (601, 974)}
DEFAULT_PLUS_CHUNKS = 10
HUB_MBPP = "google-research-datasets/mbpp"


def _norm(code: str) -> str:
    return code.replace("\r\n", "\n").replace("\r", "\n")


def mbpp_entry_point(code: str, first_test: str) -> str | None:
    """The function the first test calls that the reference code defines (MBPP has no entry_point field)."""
    defined = _pyast.defined_names(code)
    try:
        test = _pyast.parse(first_test)
    except SyntaxError:
        return None
    for node in ast.walk(test):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in defined:
            return node.func.id
    return None


def _in_split(task_num: int, split: str) -> bool:
    if split == "all":
        return True
    lo, hi = MBPP_SPLITS[split]
    return lo <= task_num <= hi


def _check_split(split: str) -> str:
    """Validate ``split``; returns the hub spelling (``all`` -> every split joined)."""
    if split != "all" and split not in MBPP_SPLITS:
        raise SourceError(f"MBPP split={split!r}: must be one of {sorted(MBPP_SPLITS) + ['all']}")
    return "+".join(MBPP_SPLITS) if split == "all" else split


def _mbpp_prompt(text: str, shown: list[str]) -> str:
    if not shown:
        return text.strip()
    label = "this test" if len(shown) == 1 else "these tests"
    return text.strip() + f"\nYour code should pass {label}:\n\n" + "\n".join(shown)


def mbpp_task(row: dict, public_tests: int = 1, include_challenge: bool = False,
              source: str = "mbpp", plus_chunks: int = DEFAULT_PLUS_CHUNKS) -> CodeTask:
    """One MBPP row (full, sanitized or MBPP+; detected from its fields) to a CodeTask."""
    if not isinstance(row, dict):
        raise RowError("row is not an object", type(row).__name__)
    if not isinstance(public_tests, int) or public_tests < 0:
        raise SourceError(f"public_tests={public_tests!r}: must be an integer >= 0")
    text_field = "text" if "text" in row else "prompt"
    text, code = require(row, text_field, "code")
    (tests,) = require(row, "test_list", types=(list, tuple))
    if "task_id" not in row:
        raise RowError("missing field 'task_id'")
    tests = [_norm(t).strip() for t in tests]
    if not tests or not all(isinstance(t, str) and t for t in tests):
        raise RowError("test_list is empty or has a non-string entry")
    for t in tests:
        try:
            _pyast.parse(t)
        except SyntaxError:
            raise RowError("test does not parse", t[:80]) from None
    if "test_setup_code" in row:
        setup = _norm(row.get("test_setup_code") or "")
    else:
        imports = row.get("test_imports") or []
        if not isinstance(imports, (list, tuple)):
            raise RowError("field 'test_imports' has wrong type", type(imports).__name__)
        setup = "\n".join(imports)
    code = _norm(code)
    shown, hidden = tests[:public_tests], tests[public_tests:]
    private = [TestCase(kind="assert", code=t, name=f"test {public_tests + i + 1}") for i, t in enumerate(hidden)]
    if include_challenge and row.get("challenge_test_list"):
        private += [TestCase(kind="assert", code=_norm(t).strip(), name=f"challenge {i + 1}")
                    for i, t in enumerate(row["challenge_test_list"])]
    num = row["task_id"]
    metadata: dict = {}
    if source == "mbppplus":
        if not isinstance(row.get("test"), str):
            raise RowError("missing field 'test'")
        plus_setup, plus_code, _ = _pyast.split_check(row["test"], chunks=plus_chunks)
        setup = "\n".join(s for s in (setup, plus_setup) if s.strip())
        private = [TestCase(kind="assert", code=c, name=f"plus {i + 1}") for i, c in enumerate(plus_code)]
        task_id = f"Mbpp/{num}"  # EvalPlus' own ids
        metadata["plus_chunks"] = plus_chunks
    else:
        task_id = f"{source}/{num}"
    if row.get("source_file"):
        metadata["source_file"] = row["source_file"]
    return CodeTask(
        task_id=task_id,
        prompt=_mbpp_prompt(text, shown),
        entry_point=mbpp_entry_point(code, tests[0]),
        public_tests=[TestCase(kind="assert", code=t, name=f"test {i + 1}") for i, t in enumerate(shown)],
        private_tests=private,
        test_setup=setup,
        reference_solution=code,
        source=source,
        metadata=metadata,
    )


def _load(source: str, rows, split: str, hub: bool, **task_kw) -> LoadReport:
    rep = LoadReport(source=source)

    def convert(row):
        if not hub and isinstance(row, dict) and isinstance(row.get("task_id"), int):
            if not _in_split(row["task_id"], split):
                count(rep.filtered, f"not in split {split!r}")
                return None
        return mbpp_task(row, source=source, **task_kw)

    return build_report(source, rows, convert, rep)


def load_mbpp(path: str | None = None, split: str = "test", public_tests: int = 1,
              include_challenge: bool = False) -> LoadReport:
    """Full MBPP from ``mbpp.jsonl`` (or the hub config ``full``)."""
    hub_split = _check_split(split)
    rows = iter_file_rows(path) if path else iter_hub_rows(HUB_MBPP, "full", split=hub_split)
    return _load("mbpp", rows, split, path is None, public_tests=public_tests, include_challenge=include_challenge)


def load_mbpp_sanitized(path: str | None = None, split: str = "test", public_tests: int = 1) -> LoadReport:
    """Sanitized MBPP from ``sanitized-mbpp.json`` (or the hub config ``sanitized``)."""
    hub_split = _check_split(split)
    rows = iter_file_rows(path) if path else iter_hub_rows(HUB_MBPP, "sanitized", split=hub_split)
    return _load("mbpp_sanitized", rows, split, path is None, public_tests=public_tests)


def load_mbppplus(path: str | None = None, split: str = "test", public_tests: int = 1,
                  plus_chunks: int = DEFAULT_PLUS_CHUNKS) -> LoadReport:
    """MBPP+ in the hub schema (``evalplus/mbppplus``), from a local json/jsonl/parquet file or the hub.

    All MBPP+ tasks are MBPP test-split problems, so ``split`` is only passed to the hub.
    """
    rows = iter_file_rows(path) if path else iter_hub_rows("evalplus/mbppplus", split=split)
    return _load("mbppplus", rows, "all", path is None, public_tests=public_tests, plus_chunks=plus_chunks)
