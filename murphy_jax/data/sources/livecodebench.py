"""LiveCodeBench ``code_generation_lite`` loader.

Row schema (the published jsonl files ``test.jsonl`` .. ``test6.jsonl``):
``question_title, question_content, platform, question_id, contest_id,
contest_date (ISO), starter_code, difficulty (easy|medium|hard),
public_test_cases (JSON text), private_test_cases (JSON text, or
base64(zlib(pickle(JSON text))) in the release), metadata (JSON text with
``func_name`` for functional problems)``. Each test case is
``{"input", "output", "testtype": "stdin"|"functional"}``.

* ``stdin`` problems: ``io_mode="stdio"``, one ``stdio`` TestCase per case.
* ``functional`` problems (LeetCode): one ``call`` TestCase per case; the input
  holds one JSON value per line (the positional arguments), the output one
  JSON value. ``entry_point`` is ``Solution.<func_name>`` when the starter code
  defines ``class Solution`` (a fresh instance per test), else ``func_name``.
* public tests = ``public_test_cases`` (the statement's examples), private =
  ``private_test_cases``.
* ``metadata["code_prelude"]``: the imports ``extract_for_task`` puts in front of
  every extracted program (``from typing import *`` and the usual contest modules).

The compressed private tests are decoded **without unpickling**: the pickle
stream is walked with ``pickletools.genops`` (a disassembler that builds no
objects) and accepted only if it is exactly one string; anything else (any
opcode that could build or call an object) skips the row.
"""
from __future__ import annotations

import base64
import binascii
import json
import pickletools
import zlib
from datetime import datetime

from murphy_jax.data.sources._common import (LoadReport, RowError, SourceError, build_report, count,
                                             iter_hub_rows, iter_path_rows, require)
from murphy_jax.data.task import CodeTask, TestCase

HUB_REPO = "livecodebench/code_generation_lite"
# Per the dataset card: release_vN is test.jsonl .. testN.jsonl; vN is the N-th file alone.
_FILES = ["test.jsonl"] + [f"test{i}.jsonl" for i in range(2, 7)]
VERSIONS = {f"release_v{i}": _FILES[:i] for i in range(1, 7)}
VERSIONS.update({f"v{i}": [_FILES[i - 1]] for i in range(1, 7)})
VERSIONS["release_latest"] = list(_FILES)
# Contest-date windows [start, end): "v6" = the problems release_v6 added over
# release_v5 (which ends January 2025).
WINDOWS = {"v6": ("2025-02-01", "2025-05-01")}
FILE_PATTERNS = ("*.jsonl", "*.jsonl.gz", "*.json", "*.parquet")

# Put in front of every extracted LCB program (extract_for_task): LeetCode starters
# use typing names unimported, and contest code expects the usual modules.
CODE_PRELUDE = "\n".join([
    "from typing import *", "from collections import *", "from functools import *", "from itertools import *",
    "from heapq import *", "from bisect import *", "import math", "import string", "import re", "import sys",
    "import collections", "import functools", "import itertools", "import heapq", "import bisect",
])

_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"}
_HARMLESS_OPS = {"PROTO", "FRAME", "MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT", "STOP"}


def pickled_string(data: bytes) -> str:
    """The single str a pickle stream encodes, read without unpickling; ValueError for anything else."""
    found: list[str] = []
    try:
        for op, arg, _ in pickletools.genops(data):
            if op.name in _STRING_OPS:
                found.append(arg)
            elif op.name not in _HARMLESS_OPS:
                raise ValueError(f"pickle opcode {op.name} is not allowed")
    except ValueError:
        raise
    except Exception as e:  # truncated or corrupt stream
        raise ValueError(f"corrupt pickle stream: {e}") from None
    if len(found) != 1:
        raise ValueError(f"expected one pickled string, found {len(found)}")
    return found[0]


def decode_test_cases(raw, field_name: str) -> list:
    """Plain JSON text, an already-decoded list, or base64+zlib+pickle(JSON text) -> list of dicts."""
    if isinstance(raw, list):
        return raw
    if not isinstance(raw, str):
        raise RowError(f"field {field_name!r} has wrong type", type(raw).__name__)
    try:
        out = json.loads(raw)
    except json.JSONDecodeError:
        try:
            blob = zlib.decompress(base64.b64decode(raw.encode("ascii"), validate=False))
            out = json.loads(pickled_string(blob))
        except (binascii.Error, zlib.error, UnicodeEncodeError, ValueError) as e:
            raise RowError(f"{field_name} cannot be decoded", str(e)[:120]) from None
    if not isinstance(out, list):
        raise RowError(f"{field_name} is not a list")
    return out


def _functional_test(case: dict, label: str) -> TestCase:
    try:
        args = [json.loads(line) for line in case["input"].split("\n") if line.strip()]
        expected = json.loads(case["output"])
    except (json.JSONDecodeError, AttributeError) as e:
        raise RowError("functional test is not JSON", str(e)[:80]) from None
    return TestCase(kind="call", args=args, expected=expected, name=label)


def _tests(cases: list, field_name: str) -> tuple[list[TestCase], set[str]]:
    tests, kinds = [], set()
    for i, case in enumerate(cases):
        if not isinstance(case, dict) or not isinstance(case.get("input"), str) \
                or not isinstance(case.get("output"), str):
            raise RowError(f"{field_name} entry is not an input/output object")
        kind = case.get("testtype")
        kinds.add(kind)
        label = f"{field_name.split('_')[0]} {i + 1}"
        if kind == "stdin":
            tests.append(TestCase(kind="stdio", stdin=case["input"], expected=case["output"], name=label))
        elif kind == "functional":
            tests.append(_functional_test(case, label))
        else:
            raise RowError("unknown testtype", repr(kind))
    return tests, kinds


def _parse_date(value, what: str) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=None)
    except ValueError:
        raise RowError(f"{what} is not an ISO date", str(value)[:40]) from None


def lcb_task(row: dict) -> CodeTask:
    """One ``code_generation_lite`` row to a CodeTask (stdio or call tests)."""
    (qid,) = require(row, "question_id", types=(str, int))
    (content,) = require(row, "question_content")
    if not content.strip():
        raise RowError("empty question_content")
    public, k1 = _tests(decode_test_cases(row.get("public_test_cases", "[]"), "public_test_cases"),
                        "public_test_cases")
    private, k2 = _tests(decode_test_cases(row.get("private_test_cases", "[]"), "private_test_cases"),
                         "private_test_cases")
    kinds = k1 | k2
    if len(kinds) > 1:
        raise RowError("mixed stdin and functional tests")
    meta_raw = row.get("metadata") or "{}"
    try:
        meta = json.loads(meta_raw) if isinstance(meta_raw, str) else dict(meta_raw)
    except (json.JSONDecodeError, TypeError, ValueError):
        raise RowError("metadata is not JSON") from None
    starter = row.get("starter_code") or ""
    entry = None
    io_mode = "stdio"
    if kinds == {"functional"}:
        func = meta.get("func_name") if isinstance(meta, dict) else None
        if not isinstance(func, str) or not func.isidentifier():
            raise RowError("functional problem without metadata.func_name")
        entry = f"Solution.{func}" if "class Solution" in starter else func
        io_mode = "function"
    date = row.get("contest_date")
    metadata = {"platform": row.get("platform", ""), "contest_id": row.get("contest_id", ""),
                "question_title": row.get("question_title", ""),
                "contest_date": _parse_date(date, "contest_date").isoformat() if date else "",
                "code_prelude": CODE_PRELUDE}
    return CodeTask(
        task_id=f"lcb/{qid}",
        prompt=content.strip(),
        starter_code=starter,
        entry_point=entry,
        io_mode=io_mode,
        public_tests=public,
        private_tests=private,
        difficulty=str(row.get("difficulty") or ""),
        source="livecodebench",
        metadata=metadata,
    )


def load_livecodebench(path: str | None = None, version: str = "release_v6", window: str | None = None,
                       start_date: str | None = None, end_date: str | None = None) -> LoadReport:
    """LCB rows from local files or the hub (``version``), filtered to contest dates in [start, end).

    ``window="v6"`` is shorthand for the release_v6 additions (2025-02-01 .. 2025-05-01);
    explicit ``start_date``/``end_date`` override it.
    """
    if window is not None:
        if window not in WINDOWS:
            raise SourceError(f"LiveCodeBench window={window!r}: must be one of {sorted(WINDOWS)}")
        start_date = start_date or WINDOWS[window][0]
        end_date = end_date or WINDOWS[window][1]
    try:
        lo = datetime.fromisoformat(start_date) if start_date else None
        hi = datetime.fromisoformat(end_date) if end_date else None
    except ValueError as e:
        raise SourceError(f"LiveCodeBench date filter: {e}") from None
    if path:
        rows = iter_path_rows(path, FILE_PATTERNS)
    else:
        if version not in VERSIONS:
            raise SourceError(f"LiveCodeBench version={version!r}: must be one of {sorted(VERSIONS)}")
        files = [f"hf://datasets/{HUB_REPO}/{f}" for f in VERSIONS[version]]
        rows = iter_hub_rows("json", data_files=files, split="train")
    rep = LoadReport(source="livecodebench")

    def convert(row):
        if (lo or hi) and isinstance(row, dict):
            if not row.get("contest_date"):
                raise RowError("missing field 'contest_date'")
            date = _parse_date(row["contest_date"], "contest_date")
            if (lo and date < lo) or (hi and date >= hi):
                count(rep.filtered, "outside date window")
                return None
        return lcb_task(row)

    return build_report("livecodebench", rows, convert, rep)
