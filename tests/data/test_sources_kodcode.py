"""KodCode: the pipeline's demo dumps in ../shared/data/kodcode (field ``test_code``) and
hand-written rows in the hub release schema (field ``test``), from json, jsonl and parquet."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers_data import shared_path

from murphy_jax.data.sources import load_tasks

FILES = {"KodCode_algorithm_100_1741212598.json": (31, 31),
         "KodCode_leetcode_100_1741214688.json": (29, 29),
         "KodCode_prefill_200_1741214325.json": (172, 170)}


@pytest.mark.parametrize("name", sorted(FILES))
def test_kodcode_shared_files(name):
    rep = load_tasks("kodcode", path=str(shared_path("kodcode", name)))
    assert (rep.n_rows, len(rep)) == FILES[name]
    assert all(t.test_module and t.all_tests and all(x.kind == "pytest" for x in t.all_tests) for t in rep)
    assert all(len(t.public_tests) == 1 for t in rep)


def test_kodcode_directory_and_mapping():
    rep = load_tasks("kodcode", path=str(shared_path("kodcode")))
    assert (rep.n_rows, len(rep)) == (232, 230)
    assert rep.skipped == {"module binds a non-function name pytest would collect": 2}
    assert rep.stats["solution_import_added"] == 85
    by_id = {t.task_id: t for t in rep}
    t = by_id["Prefill_00000001_I"]
    assert t.entry_point == "selection_sort" and t.difficulty == "easy" and t.source == "kodcode"
    assert [x.name for x in t.all_tests][:2] == ["test_selection_sort_with_positive_numbers",
                                                 "test_selection_sort_with_negative_numbers"]
    assert t.test_module.startswith("from solution import selection_sort\n")  # unchanged: it imports already
    assert t.reference_solution.startswith("def selection_sort(arr):")
    # Uses `math` that only the solution imports: the loader imports exactly that name.
    assert by_id["Prefill_00000083_I"].test_module.startswith("from solution import math\n\n")
    no_import = [t for t in rep if "optimized_integer_square_root" in t.test_module][0]
    assert no_import.test_module.startswith("from solution import optimized_integer_square_root\n\n")
    class_style = by_id[next(k for k in by_id if k.startswith("Leetcode"))]
    assert class_style.prompt


def _pytest_passes(tmp_path, task, program) -> tuple[int, str]:
    d = tmp_path / task.task_id
    d.mkdir()
    (d / "solution.py").write_text(program)
    (d / "test_solution.py").write_text(task.test_module)
    node_ids = [f"test_solution.py::{x.name}" for x in task.all_tests]
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *node_ids],
                       cwd=d, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout[-500:]


def test_kodcode_reference_passes_and_stub_fails_for_sample(tmp_path):
    rep = load_tasks("kodcode", path=str(shared_path("kodcode")))
    by_id = {t.task_id: t for t in rep}
    # One that imports, one that relied on the solution's `math`, one with no import at all.
    sample = [by_id["Prefill_00000001_I"], by_id["Prefill_00000083_I"],
              next(t for t in rep if "optimized_integer_square_root" in t.test_module)]
    for t in sample:
        rc, out = _pytest_passes(tmp_path, t, t.reference_solution)
        assert rc == 0, (t.task_id, out)
    rc, out = _pytest_passes(tmp_path, sample[0].__class__(**{**sample[0].__dict__, "task_id": "stub"}),
                             "def selection_sort(arr):\n    return arr\n")
    assert rc == 1 and "failed" in out


def _release_rows() -> list[dict]:
    return [
        {"version": "v1.0", "style": "instruct", "subset": "Leetcode", "question_id": "Leetcode_1_I",
         "question": "Given a list of numbers, return their sum.",
         "solution": "def total(xs):\n    return sum(xs)\n",
         "test": ("from solution import total\n\ndef test_empty():\n    assert total([]) == 0\n\n"
                  "def test_some():\n    assert total([1, 2]) == 3\n\n"
                  "class TestMore:\n    def test_neg(self):\n        assert total([-1]) == -1\n\n"
                  "if __name__ == '__main__':\n    pytest.main([__file__])\n"),
         "test_info": [{"function_name": "total", "parameter_list": "(xs)",
                        "function_declaration": "def total(xs):", "docstring": None}],
         "gpt_pass_sequence": [1, 1, 1], "gpt_pass_trial_num": 3, "gpt_difficulty": "medium",
         "gpt_pass_percentage": 1.0, "metadata": {"original_instruction": ""}},
        {"style": "instruct", "subset": "Apps", "question_id": "Apps_2_I", "question": "q",
         "solution": "x = 1", "test": "class TestOnly:\n    def test_a(self):\n        assert True\n"},
        {"style": "instruct", "subset": "Apps", "question_id": "Apps_3_I", "question": "q",
         "solution": "x = 1", "test": "def test_a(:\n"},
        {"style": "instruct", "subset": "Apps", "question_id": "Apps_4_I", "question": "q", "solution": "x = 1"},
        {"style": "complete", "subset": "Prefill", "question_id": "Prefill_5_C",
         "question": 'def double(x):\n    """Return 2x."""\n', "solution": "def double(x):\n    return 2 * x\n",
         "test": "def test_double():\n    assert double(2) == 4\n\ndef test_neg():\n    with pytest.raises(TypeError):\n        double(None)\n",
         "test_info": [{"function_name": "double", "function_declaration": "def double(x):"}],
         "gpt_difficulty": "easy"},
    ]


@pytest.mark.parametrize("fmt", ["jsonl", "json", "parquet"])
def test_kodcode_release_schema(tmp_path, fmt):
    rows = _release_rows()
    p = tmp_path / f"kodcode.{fmt}"
    if fmt == "jsonl":
        p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif fmt == "json":
        p.write_text(json.dumps(rows))
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        # Parquet needs one schema: give every row every column, as the hub release does.
        keys = sorted({k for r in rows for k in r} - {"test_info", "metadata", "gpt_pass_sequence"})
        pq.write_table(pa.Table.from_pylist([{k: r.get(k) for k in keys} | {"test_info": r.get("test_info")}
                                             for r in rows]), p)
    rep = load_tasks("kodcode", path=str(p), public_tests=-1)
    assert [t.task_id for t in rep] == ["Leetcode_1_I", "Prefill_5_C"]
    assert rep.skipped == {"no top-level test functions": 1, "test code does not parse": 1,
                           "missing field 'test' (or 'test_code')": 1}
    assert rep.stats["class_test_methods_ignored"] == 2
    t1, t5 = rep.tasks
    assert [x.name for x in t1.public_tests] == ["test_empty", "test_some"] and not t1.private_tests
    assert t1.prompt.endswith("Your solution must define this function: def total(xs):")
    assert t1.test_module.startswith("import pytest\n\nfrom solution import total\n")  # not `__file__`
    assert t5.starter_code == t5.prompt and t5.entry_point == "double"
    assert t5.test_module.startswith("import pytest\nfrom solution import double\n\n")
