"""Refilled decode rows: samples don't depend on the pool's size or schedule; warm-up leaves nothing to compile."""
import jax.numpy as jnp
import numpy as np
import pytest

from murphy_jax.models import from_pretrained, load_tokenizer
from murphy_jax.sampling import Sampler, SamplingParams
from murphy_jax.sampling.schedule import prefill_batches
from murphy_jax.utils.compiles import CompileWatch

# Ragged prompts, more rows than the small pool holds.
PROMPTS = [[5, 6, 7, 8, 9, 10, 11], [12, 13], list(range(20, 50)), [99], list(range(60, 75)), [7, 7, 7, 7]]


def _same(a, b):
    assert len(a.samples) == len(b.samples)
    for x, y in zip(a.samples, b.samples):
        assert (x.prompt_index, x.sample_index) == (y.prompt_index, y.sample_index)
        assert x.tokens.tolist() == y.tokens.tolist(), (x.prompt_index, x.sample_index)
        np.testing.assert_allclose(x.logprobs, y.logprobs, atol=1e-5)
        assert x.finish_reason == y.finish_reason


@pytest.fixture(scope="module")
def policy(tiny_policy_dir):
    model = from_pretrained(tiny_policy_dir, dtype=jnp.float32)
    return model.config, model.params(), load_tokenizer(tiny_policy_dir)


@pytest.mark.parametrize("kw", [dict(temperature=0.9, top_k=40, top_p=0.9, seed=3), dict(temperature=0.0)],
                         ids=["top_k_top_p", "greedy"])
def test_refilled_pool_samples_what_one_big_pool_samples(policy, kw):
    cfg, params, tok = policy
    # A stop id the free-running samples emit mid-way and a stop string they write, so rows end at varied lengths.
    free = Sampler.for_tokenizer(cfg, tok).generate(params, PROMPTS, SamplingParams(n=2, max_new_tokens=20, **kw))
    stop_id = int(free.samples[0].tokens[4])
    text = tok.decode(free.samples[4].tokens, skip_special_tokens=False)
    sp = SamplingParams(n=2, max_new_tokens=20, stop_token_ids=(stop_id,), stop_strings=(text[6:8],), **kw)
    big = Sampler.for_tokenizer(cfg, tok, max_rows=64).generate(params, PROMPTS, sp)
    small = Sampler.for_tokenizer(cfg, tok, max_rows=4, chunk=3).generate(params, PROMPTS, sp)
    _same(big, small)
    assert small.stats["pool_rows"] == 4 and big.stats["pool_rows"] >= 12
    assert small.stats["refills"] >= 2  # rows were handed to new prompts while others ran
    reasons = {s.finish_reason for s in small.samples}
    assert "stop_string" in reasons and "stop" in reasons and "length" in reasons, reasons
    assert 0 < small.stats["occupancy"] <= 1 and small.prompt_tokens == sum(map(len, PROMPTS))
    # The grouped schedule (no refill) samples the same, in more decode steps with idler rows.
    grouped = Sampler.for_tokenizer(cfg, tok, max_rows=4, chunk=3, refill=False).generate(params, PROMPTS, sp)
    _same(big, grouped)
    assert grouped.stats["refills"] == 0
    assert small.stats["decode_steps"] < grouped.stats["decode_steps"]
    assert small.stats["occupancy"] > grouped.stats["occupancy"]


def test_nothing_compiles_after_warm_up(policy):
    cfg, params, tok = policy
    sampler = Sampler.for_tokenizer(cfg, tok, max_rows=8, chunk=4, prompt_buckets=(32, 64, 128),
                                    shrink_pool=False)
    sp = SamplingParams(n=2, temperature=1.0, max_new_tokens=12, stop_strings=("a",))
    shapes = sampler.warm_up(params, sp, max_prompt_tokens=64)
    assert shapes == 2  # prompt buckets 32 and 64, one pool
    rng = np.random.RandomState(0)
    with CompileWatch() as watch:
        for k, seed in ((1, 0), (5, 1), (3, 2), (9, 3)):
            prompts = [list(rng.randint(3, 300, size=rng.randint(1, 65))) for _ in range(k)]
            res = sampler.generate(params, prompts, SamplingParams(n=2, temperature=0.7, max_new_tokens=9,
                                                                   seed=seed, stop_strings=("a",)))
            assert len(res.samples) == 2 * k
        counts = watch.take()
    assert counts["compile/count"] == 0, watch.last_programs


def test_prefill_batches_cover_the_prompts_with_two_sizes():
    for cap in (1, 2, 4, 8):
        for k in range(0, 20):
            sizes = prefill_batches(k, cap)
            assert set(sizes) <= {1, cap} and k <= sum(sizes) <= k + cap // 2


def test_padded_prefill_batches_refill_only_the_free_rows(policy):
    # n=1 in 8 rows: refills of 3 prompts run as one padded prefill of 4 (C = 4).
    cfg, params, tok = policy
    prompts = PROMPTS * 4
    sp0 = SamplingParams(temperature=1.0, max_new_tokens=16, seed=2)
    free = Sampler.for_tokenizer(cfg, tok).generate(params, prompts, sp0)
    counts = np.bincount(np.concatenate([s.tokens for s in free.samples]))
    sp = SamplingParams(temperature=1.0, max_new_tokens=16, seed=2, stop_token_ids=(int(np.argmax(counts)),))
    big = Sampler.for_tokenizer(cfg, tok, max_rows=32).generate(params, prompts, sp)
    sampler = Sampler.for_tokenizer(cfg, tok, max_rows=8, chunk=2, prefill_tokens=128)
    assert sampler.pool_shape(len(prompts), 30, 16, 1).prefill_rows == 4
    small = sampler.generate(params, prompts, sp)
    _same(big, small)
    assert small.stats["refills"] >= 3
