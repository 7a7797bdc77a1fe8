"""MBPP full and sanitized (shared files in the original formats) and MBPP+ (hand-written hub-schema rows)."""
from __future__ import annotations

import json

import pytest
from helpers_data import run_oracle, shared_path

from murphy_jax.data.sources import SourceError, load_tasks

MBPP_FULL = ("mbpp", "mbpp.jsonl")
MBPP_SANITIZED = ("mbpp", "sanitized-mbpp.json")


@pytest.mark.parametrize("spec, file, split, n_rows, n_tasks", [
    ("mbpp", MBPP_FULL, "all", 974, 974),
    ("mbpp", MBPP_FULL, "test", 974, 500),
    ("mbpp_sanitized", MBPP_SANITIZED, "all", 427, 427),
    ("mbpp_sanitized", MBPP_SANITIZED, "test", 427, 257),
])
def test_mbpp_counts(spec, file, split, n_rows, n_tasks):
    rep = load_tasks(f"{spec}:{shared_path(*file)}", split=split)
    assert (rep.n_rows, len(rep), rep.n_skipped) == (n_rows, n_tasks, 0)
    assert sum(rep.filtered.values()) == n_rows - n_tasks
    assert all(t.entry_point for t in rep)


def test_mbpp_full_mapping_and_split():
    rep = load_tasks("mbpp", path=str(shared_path(*MBPP_FULL)), split="all", include_challenge=True)
    by_id = {t.task_id: t for t in rep}
    t = by_id["mbpp/1"]
    assert t.entry_point == "min_cost" and t.source == "mbpp"
    assert [x.code for x in t.public_tests] == ["assert min_cost([[1, 2, 3], [4, 8, 2], [1, 5, 3]], 2, 2) == 8"]
    assert len(t.private_tests) == 2
    assert t.prompt.endswith("Your code should pass this test:\n\n" + t.public_tests[0].code)
    assert "\r" not in t.reference_solution and t.reference_solution.startswith("R = 3\nC = 3\ndef min_cost")
    with_setup = [t for t in rep if t.test_setup]
    assert len(with_setup) == 2 and "root = Node(1)" in with_setup[0].test_setup
    challenge = [x for t in rep for x in t.private_tests if x.name.startswith("challenge")]
    assert len(challenge) == 8 * 1 + 2 * 3 + 1 * 2


def test_mbpp_sanitized_mapping():
    rep = load_tasks("mbpp-sanitized", path=str(shared_path(*MBPP_SANITIZED)), split="all", public_tests=2)
    t = rep.tasks[0]
    assert t.task_id == "mbpp_sanitized/2" and t.entry_point == "similar_elements"
    assert len(t.public_tests) == 2 and t.prompt.count("assert ") == 2 and "these tests" in t.prompt
    assert t.metadata["source_file"] == "Benchmark Questions Verification V2.ipynb"
    assert sum(1 for t in rep if t.test_setup == "import math") == 13


def test_mbpp_reference_solutions_pass_and_stubs_fail():
    full = load_tasks("mbpp", path=str(shared_path(*MBPP_FULL)), split="all", include_challenge=True)
    san = load_tasks("mbpp_sanitized", path=str(shared_path(*MBPP_SANITIZED)), split="all")
    # Task 123 (amicable numbers below 10000) takes ~15 s per variant here; left out for speed.
    tasks = [t for t in full.tasks + san.tasks if not t.task_id.endswith("/123")]
    ok = run_oracle((t, t.reference_solution) for t in tasks)
    assert len(ok) == 974 + 427 - 2 and {k: v for k, v in ok.items() if v} == {}
    stub = run_oracle((t, f"def {t.entry_point}(*a, **k):\n    return None\n") for t in san.tasks)
    assert all(v for v in stub.values())


def test_mbpp_malformed_rows_are_counted(tmp_path):
    good = json.loads(shared_path(*MBPP_FULL).read_text().splitlines()[10])
    rows = [good,
            {**good, "task_id": 9001, "test_list": []},
            {**good, "task_id": 9002, "test_list": ["assert f(1) =="]},
            {k: v for k, v in good.items() if k != "code"} | {"task_id": 9003},
            "not an object"]
    p = tmp_path / "mbpp.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n")
    rep = load_tasks("mbpp", path=str(p), split="all")
    assert len(rep) == 1
    assert rep.skipped == {"test_list is empty or has a non-string entry": 1, "test does not parse": 1,
                           "missing field 'code'": 1, "row is not an object": 1, "malformed JSON line": 1}


def test_mbpp_bad_options():
    with pytest.raises(SourceError, match="split='dev'"):
        load_tasks("mbpp", path=str(shared_path(*MBPP_FULL)), split="dev")
    with pytest.raises(SourceError, match="does not take option"):
        load_tasks("mbpp", path=str(shared_path(*MBPP_FULL)), plus_chunks=3)


# Hand-written MBPP+ rows in the published hub schema (evalplus/mbppplus: task_id, code, prompt,
# source_file, test_imports, test_list, test) with EvalPlus' own assertion helper in `test`.
_MBPPPLUS_TEST = '''import numpy as np
from math import inf


def is_floats(x) -> bool:
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)):
        return all(isinstance(i, float) for i in x)
    if isinstance(x, np.ndarray):
        return x.dtype == np.float64 or x.dtype == np.float32
    return False


def assertion(out, exp, atol):
    exact_match = out == exp
    if atol == 0 and is_floats(exp):
        atol = 1e-6
    if not exact_match and atol != 0:
        assert np.allclose(out, exp, rtol=1e-07, atol=atol)
    else:
        assert exact_match


inputs = [[(3, 4, 5, 6), (5, 7, 4, 10)], [(1, 2, 3, 4), (5, 4, 3, 7)], [(11, 12, 14, 13), (17, 15, 14, 13)], [(1,), (1,)]]
results = [(4, 5), (3, 4), (13, 14), (1,)]


def check(candidate):
    for i, (inp, exp) in enumerate(zip(inputs, results)):
        assertion(candidate(*inp), exp, 0)


check(similar_elements)
'''


def _mbppplus_rows():
    return [
        {"task_id": 2, "code": "def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b)))\n",
         "prompt": "Write a function to find the shared elements from the given two lists.",
         "source_file": "Benchmark Questions Verification V2.ipynb", "test_imports": [],
         "test_list": ["assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))",
                       "assert set(similar_elements((1, 2, 3, 4),(5, 4, 3, 7))) == set((3, 4))"],
         "test": _MBPPPLUS_TEST},
        {"task_id": 3, "code": "def is_not_prime(n):\n    return n > 1 and any(n % i == 0 for i in range(2, n))\n",
         "prompt": "Write a python function to identify non-prime numbers.", "source_file": "x",
         "test_imports": ["import math"], "test_list": ["assert is_not_prime(2) == False"],
         "test": ("import numpy as np\n\ndef assertion(out, exp, atol):\n    assert out == exp\n\n\n"
                  "def check(candidate):\n    inputs = [[2], [10], [35], [37]]\n"
                  "    results = [False, True, True, False]\n"
                  "    for i, (inp, exp) in enumerate(zip(inputs, results)):\n"
                  "        assertion(candidate(*inp), exp, 0)\n\ncheck(is_not_prime)\n")},
        {"task_id": 4, "code": "def f(x): return x", "prompt": "p", "test_imports": [], "test_list": ["assert f(1) == 1"]},
    ]


def test_mbppplus_hub_schema(tmp_path):
    p = tmp_path / "mbppplus.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in _mbppplus_rows()))
    rep = load_tasks("mbpp+", path=str(p), plus_chunks=2)
    assert [t.task_id for t in rep] == ["Mbpp/2", "Mbpp/3"]
    assert rep.skipped == {"missing field 'test'": 1}
    t2, t3 = rep.tasks
    assert [x.code for x in t2.public_tests] == [_mbppplus_rows()[0]["test_list"][0]]
    assert len(t2.private_tests) == 2 and t2.private_tests[0].code.startswith("inputs = [")
    assert t3.test_setup.startswith("import math\nimport numpy as np")
    ok = run_oracle([(t2, t2.reference_solution), (t3, t3.reference_solution)])
    assert ok == {"Mbpp/2": [], "Mbpp/3": []}
    bad = run_oracle([(t3, "def is_not_prime(n):\n    return n % 2 == 0\n")])
    assert {name for _, name, _ in bad["Mbpp/3"]} == {"plus 1", "plus 2", "test 1"}
