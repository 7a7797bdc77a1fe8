"""murphy-eval's compile counts per level: each Iter-k's XLA compilations land in ``timings``; eval code adds none."""
import jax
import numpy as np
import pytest

from murphy_jax.eval.runner import evaluate
from murphy_jax.rollout import ScriptedGenerator

WRONG = "```python\ndef wrong():\n    return None\n```"


@jax.jit
def _iter2_only_op(x):
    return x * 2


def test_compiles_are_counted_at_the_level_that_ran_them(executor, humaneval_tasks):
    """A policy that compiles one new program during Iter-2 only: the counts say Iter-2, and nothing else compiles."""
    shape = (4099,)  # a shape no other test uses, so the first call compiles in this process

    def respond(request, k):
        if request.turn == 2:
            np.asarray(_iter2_only_op(np.zeros(shape, np.float32)))  # a host array: no eager op compiles
        return WRONG  # fails every test: every chain runs all three levels

    report = evaluate(humaneval_tasks[:3], ScriptedGenerator(respond), executor, iters=3, batch_tasks=2,
                      progress=False)
    t = report.timings
    # Rollout, execution, feedback and scoring compile nothing at any level: only the policy's program shows.
    assert t["compiles_per_iter"] == [0, 1, 0], t
    assert t["compile_s_per_iter"][1] > 0 and t["compile_s_per_iter"][0] == t["compile_s_per_iter"][2] == 0
    assert t["compiled_after_iter1"] == ["jit(_iter2_only_op)"]
    assert t["warm_up_compiles"] == 0  # a scripted policy has nothing to warm up


def test_warmed_up_model_compiles_nothing_after_iter1(executor, humaneval_tasks, tiny_policy_dir):
    from murphy_jax.models import from_pretrained, load_tokenizer
    from murphy_jax.rollout import ModelGenerator
    from murphy_jax.sampling import Sampler

    model, tok = from_pretrained(tiny_policy_dir), load_tokenizer(tiny_policy_dir)
    # A fixed pool (no shrinking) is what murphy-eval --warm-up uses: one program set per prompt bucket.
    gen = ModelGenerator(Sampler.for_tokenizer(model.config, tok, max_rows=4, shrink_pool=False), tok, model.params(),
                         max_new_tokens=16, temperature=1.0, max_prompt_tokens=480)
    report = evaluate(humaneval_tasks[:4], gen, executor, iters=3, n=2, batch_tasks=4, progress=False, warm_up=True)
    t = report.timings
    assert t["compiles_per_iter"][1:] == [0, 0], f"compiled after Iter-1: {t['compiled_after_iter1']} ({t})"
