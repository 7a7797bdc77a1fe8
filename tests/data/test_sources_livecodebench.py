"""LiveCodeBench code_generation_lite rows written by hand in the published schema."""
from __future__ import annotations

import base64
import json
import pickle
import zlib

import pytest

from murphy_jax.data.sources import NoValidRowsError, SourceError, load_tasks
from murphy_jax.data.sources.livecodebench import decode_test_cases, pickled_string


def compress(cases: list, protocol: int = pickle.DEFAULT_PROTOCOL) -> str:
    """The release's encoding of private tests: base64(zlib(pickle(json text)))."""
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(cases), protocol=protocol))).decode()


def stdin_row(**over) -> dict:
    row = {
        "question_title": "Sum of Two",
        "question_content": "You are given integers A and B. Print A+B.\n\nInput\n\nA B\n\nOutput\n\nPrint the sum.",
        "platform": "atcoder", "question_id": "abc999_a", "contest_id": "abc999",
        "contest_date": "2025-03-08T00:00:00", "starter_code": "", "difficulty": "easy",
        "public_test_cases": json.dumps([{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}]),
        "private_test_cases": compress([{"input": "5 7\n", "output": "12\n", "testtype": "stdin"},
                                        {"input": "0 0\n", "output": "0\n", "testtype": "stdin"}]),
        "metadata": "{}",
    }
    return row | over


def functional_row(**over) -> dict:
    row = {
        "question_title": "max-sum-of-window",
        "question_content": "Given nums and k, return the maximum sum of k consecutive elements.",
        "platform": "leetcode", "question_id": "3999", "contest_id": "weekly-contest-999",
        "contest_date": "2025-04-12T00:00:00",
        "starter_code": "class Solution:\n    def maxSum(self, nums: List[int], k: int) -> int:\n        ",
        "difficulty": "medium",
        "public_test_cases": json.dumps([{"input": "[1, 2, 3]\n2", "output": "5", "testtype": "functional"}]),
        "private_test_cases": json.dumps([{"input": "[5]\n1", "output": "5", "testtype": "functional"},
                                          {"input": "[\"a\"]\n1", "output": "\"a\"", "testtype": "functional"}]),
        "metadata": json.dumps({"func_name": "maxSum"}),
    }
    return row | over


class _Evil:
    def __reduce__(self):
        return (print, ("PWNED",))


def _write(tmp_path, rows, name="lcb.jsonl"):
    p = tmp_path / name
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(p)


def test_stdin_and_functional_rows(tmp_path):
    rep = load_tasks("lcb", path=_write(tmp_path, [stdin_row(), functional_row()]))
    s, f = rep.tasks
    assert (s.task_id, s.io_mode, s.entry_point, s.difficulty) == ("lcb/abc999_a", "stdio", None, "easy")
    assert [(x.kind, x.stdin, x.expected) for x in s.public_tests] == [("stdio", "1 2\n", "3\n")]
    assert [(x.stdin, x.expected) for x in s.private_tests] == [("5 7\n", "12\n"), ("0 0\n", "0\n")]
    assert s.metadata["platform"] == "atcoder" and s.metadata["contest_date"] == "2025-03-08T00:00:00"
    assert (f.io_mode, f.entry_point, f.difficulty) == ("function", "Solution.maxSum", "medium")
    assert [(x.kind, x.args, x.expected) for x in f.all_tests] == [
        ("call", [[1, 2, 3], 2], 5), ("call", [[5], 1], 5), ("call", [["a"], 1], "a")]
    assert f.starter_code.startswith("class Solution:")


def test_plain_function_entry_point_without_solution_class(tmp_path):
    row = functional_row(starter_code="def maxSum(nums, k):\n    ")
    assert load_tasks("lcb", path=_write(tmp_path, [row])).tasks[0].entry_point == "maxSum"


@pytest.mark.parametrize("protocol", range(0, pickle.HIGHEST_PROTOCOL + 1))
def test_private_tests_decode_without_unpickling(protocol):
    cases = [{"input": "x\n" * 1000, "output": "y", "testtype": "stdin"}]
    assert decode_test_cases(compress(cases, protocol), "private_test_cases") == cases
    assert pickled_string(pickle.dumps("héllo", protocol=protocol)) == "héllo"


def test_pickle_with_code_is_rejected_and_never_run(tmp_path, capsys):
    evil = base64.b64encode(zlib.compress(pickle.dumps(_Evil()))).decode()
    with pytest.raises(ValueError, match="not allowed"):
        pickled_string(zlib.decompress(base64.b64decode(evil)))
    rows = [stdin_row(), stdin_row(question_id="abc999_b", private_test_cases=evil),
            stdin_row(question_id="abc999_c", private_test_cases="bm90IHpsaWI=")]
    rep = load_tasks("lcb", path=_write(tmp_path, rows))
    assert len(rep) == 1 and rep.skipped == {"private_test_cases cannot be decoded": 2}
    assert "PWNED" not in capsys.readouterr().out


def test_malformed_rows_are_counted(tmp_path):
    mixed = json.dumps([{"input": "1\n", "output": "1\n", "testtype": "stdin"},
                        {"input": "1", "output": "1", "testtype": "functional"}])
    rows = [stdin_row(),
            stdin_row(question_id="m1", public_test_cases=mixed),
            functional_row(question_id="m2", metadata="{}"),
            functional_row(question_id="m3", public_test_cases=json.dumps(
                [{"input": "not json", "output": "1", "testtype": "functional"}])),
            stdin_row(question_id="m4", public_test_cases=json.dumps([{"input": "1", "output": 1}])),
            {k: v for k, v in stdin_row(question_id="m5").items() if k != "question_content"},
            stdin_row(question_id="m6", public_test_cases=json.dumps(
                [{"input": "1", "output": "1", "testtype": "interactive"}]))]
    rep = load_tasks("livecodebench", path=_write(tmp_path, rows))
    assert len(rep) == 1
    assert rep.skipped == {"mixed stdin and functional tests": 1, "functional problem without metadata.func_name": 1,
                           "functional test is not JSON": 1, "public_test_cases entry is not an input/output object": 1,
                           "missing field 'question_content'": 1, "unknown testtype": 1}


def test_release_date_window(tmp_path):
    rows = [stdin_row(question_id=f"q{i}", contest_date=d) for i, d in enumerate(
        ["2024-12-31T00:00:00", "2025-01-31T23:59:59", "2025-02-01T00:00:00", "2025-04-30T12:00:00",
         "2025-05-01T00:00:00"])]
    path = _write(tmp_path, rows)
    v6 = load_tasks("lcb", path=path, window="v6")
    assert [t.task_id for t in v6] == ["lcb/q2", "lcb/q3"] and v6.filtered == {"outside date window": 3}
    custom = load_tasks("lcb", path=path, start_date="2025-01-01", end_date="2025-02-01")
    assert [t.task_id for t in custom] == ["lcb/q1"]
    assert len(load_tasks("lcb", path=path)) == 5
    with pytest.raises(NoValidRowsError, match="outside date window=5"):
        load_tasks("lcb", path=path, start_date="2030-01-01")
    with pytest.raises(SourceError, match="window='v9'"):
        load_tasks("lcb", path=path, window="v9")


def test_difficulty_filter(tmp_path):
    rep = load_tasks("lcb", path=_write(tmp_path, [stdin_row(), functional_row()]), difficulty=["medium", "hard"])
    assert [t.difficulty for t in rep] == ["medium"] and rep.filtered == {"difficulty": 1}


def test_extraction_adds_the_contest_prelude(tmp_path):
    from murphy_jax.data.extract import extract_for_task

    task = load_tasks("lcb", path=_write(tmp_path, [functional_row()])).tasks[0]
    resp = "```python\nclass Solution:\n    def maxSum(self, nums: List[int], k: int) -> int:\n        return 0\n```"
    got = extract_for_task(resp, task)
    assert got.code.startswith("from typing import *\n") and got.code.endswith("return 0")
    ns: dict = {}
    exec(compile(got.code, "<candidate>", "exec"), ns)  # List resolves: the class body runs
    assert ns["Solution"]().maxSum([1], 1) == 0
