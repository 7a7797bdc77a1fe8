"""Prefix sharing, bounded compilations, sharding, stop strings, seeds and input errors."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from murphy_jax.models import from_pretrained, load_tokenizer, make_mesh
from murphy_jax.sampling import Sampler, SamplingError, SamplingParams, compilations

PROMPTS = [[5, 6, 7, 8, 9, 10, 11], [12, 13], list(range(20, 50))]


@pytest.fixture(scope="module")
def tiny(tiny_hf_dirs):
    model = from_pretrained(tiny_hf_dirs["llama"], dtype=jnp.float32)
    return model.config, model.params()


def _tokens(res):
    return [s.tokens.tolist() for s in res.samples]


def test_prefix_sharing_gives_same_samples(tiny):
    cfg, params = tiny
    sampler = Sampler(cfg, eos_token_ids=[2])
    sp = SamplingParams(n=4, temperature=1.0, top_p=0.9, max_new_tokens=12, seed=11)
    shared = sampler.generate(params, PROMPTS, sp)
    copies = sampler.generate(params, PROMPTS, sp, share_prefix=False)
    assert _tokens(shared) == _tokens(copies)
    for a, b in zip(shared.samples, copies.samples):
        assert (a.prompt_index, a.sample_index) == (b.prompt_index, b.sample_index)
        np.testing.assert_allclose(a.logprobs, b.logprobs, atol=1e-5)
    # n samples of one prompt differ from each other (their PRNG streams differ).
    assert len({tuple(t) for t in _tokens(shared)[:4]}) > 1
    assert shared.prompt_tokens == sum(map(len, PROMPTS))  # each distinct prompt prefilled once
    assert copies.prompt_tokens == 4 * sum(map(len, PROMPTS))


def test_seed_determinism_and_batch_independence(tiny):
    cfg, params = tiny
    sampler = Sampler(cfg, eos_token_ids=[2])
    sp = SamplingParams(n=2, temperature=0.8, max_new_tokens=10, seed=3)
    a = sampler.generate(params, PROMPTS, sp)
    b = sampler.generate(params, PROMPTS, sp)
    assert _tokens(a) == _tokens(b)
    assert _tokens(sampler.generate(params, PROMPTS, SamplingParams(n=2, temperature=0.8, max_new_tokens=10,
                                                                    seed=4))) != _tokens(a)
    # A prompt's samples don't depend on which other prompts share its batch.
    alone = sampler.generate(params, PROMPTS[1:2], sp, row_offset=1)
    assert _tokens(alone) == _tokens(a)[2:4]


def test_compilations_stay_bounded(tiny):
    cfg, params = tiny
    sampler = Sampler(cfg, eos_token_ids=[2], prompt_buckets=(32, 64), max_rows=16, shrink_pool=False)
    rng = np.random.RandomState(0)
    before = compilations()
    calls = 40
    for _ in range(calls):
        k = int(rng.randint(1, 9))
        prompts = [list(rng.randint(3, 300, size=rng.randint(1, 60))) for _ in range(k)]
        sampler.generate(params, prompts, SamplingParams(temperature=0.0, max_new_tokens=int(rng.randint(1, 17))))
    grown = compilations() - before
    # Every call has different lengths and batch sizes; bucketing leaves prompt buckets {32, 64} x one
    # pool of 16 rows x one new-token bucket, each with new_pool, decode, and prefill + insert for 1 and
    # 16 prompts: at most 12 programs, where unbucketed shapes would need about 4 per call.
    assert grown <= 12 < 4 * calls, grown


def test_sharded_sampling_matches_single_device(tiny_hf_dirs, tiny):
    cfg, params = tiny
    sp = SamplingParams(n=2, temperature=0.0, max_new_tokens=8)
    ref = Sampler(cfg, eos_token_ids=[2]).generate(params, PROMPTS, sp)
    mesh = make_mesh(data=2, fsdp=2, tensor=2)
    sharded = from_pretrained(tiny_hf_dirs["llama"], dtype=jnp.float32, mesh=mesh)
    res = Sampler(sharded.config, eos_token_ids=[2], mesh=mesh).generate(sharded.params(), PROMPTS, sp)
    assert _tokens(res) == _tokens(ref)


def test_stop_strings_truncate_on_host(tiny_policy_dir):
    model = from_pretrained(tiny_policy_dir, dtype=jnp.float32)
    tok = load_tokenizer(tiny_policy_dir)
    sampler = Sampler.for_tokenizer(model.config, tok, chunk=4)
    prompt = tok("def add(a, b):\n    return")["input_ids"]
    free = sampler.generate(model.params(), [prompt], SamplingParams(temperature=0, max_new_tokens=24))
    text = tok.decode(free.samples[0].tokens, skip_special_tokens=False)
    assert len(text) > 6
    stop = text[3:5]  # a stop string the greedy continuation is known to produce
    res = sampler.generate(model.params(), [prompt], SamplingParams(temperature=0, max_new_tokens=24,
                                                                    stop_strings=(stop,)))
    s = res.samples[0]
    assert s.finish_reason == "stop_string"
    got = tok.decode(s.tokens, skip_special_tokens=False)
    assert stop in got and stop not in tok.decode(s.tokens[:-1], skip_special_tokens=False)
    assert s.tokens.tolist() == free.samples[0].tokens.tolist()[: len(s.tokens)]


def test_stop_string_on_some_rows_reuses_the_compiled_decode(tiny_policy_dir):
    # Marking rows done between chunks must keep the flags' placement: an uncommitted array
    # made jit compile decode a second time for every shape (7 s per program for SmolLM2).
    model = from_pretrained(tiny_policy_dir, dtype=jnp.float32)
    tok = load_tokenizer(tiny_policy_dir)
    sampler = Sampler.for_tokenizer(model.config, tok, chunk=4)
    prompts = [tok(p)["input_ids"] for p in ("def add(a, b):\n    return", "def mul(x, y):\n    r")]
    sp = dict(temperature=0, max_new_tokens=24)
    free = sampler.generate(model.params(), prompts, SamplingParams(**sp))
    texts = [tok.decode(s.tokens, skip_special_tokens=False) for s in free.samples]
    stops = [texts[0][i:i + 2] for i in range(len(texts[0]) - 1) if texts[0][i:i + 2] not in texts[1]]
    assert stops, texts  # some piece of row 0's text that row 1 never writes
    before = compilations()
    res = sampler.generate(model.params(), prompts, SamplingParams(**sp, stop_strings=(stops[0],)))
    assert [s.finish_reason for s in res.samples][0] == "stop_string"
    assert res.samples[1].finish_reason != "stop_string"
    assert res.samples[1].tokens.tolist() == free.samples[1].tokens.tolist()
    assert compilations() == before


@pytest.mark.parametrize("prompts,kw,msg", [
    ([[]], {}, "prompt 0 is empty"),
    ([], {}, "prompts: empty list"),
    ([[1] * 500], {"max_new_tokens": 20}, "exceeds the model's context of 512"),
    ([[1, 2]], {"n": 0}, "n=0: must be a positive integer"),
    ([[1, 2]], {"top_p": 0.0}, r"top_p=0.0: must be in \(0, 1\]"),
    ([[1, 2]], {"top_p": 1.5}, r"top_p=1.5: must be in \(0, 1\]"),
    ([[1, 2]], {"temperature": -1.0}, "temperature=-1.0: must be >= 0"),
    ([[1, 99999]], {}, r"token id 99999 outside \[0, 320\)"),
    ([[1, 2]], {"stop_strings": ("x",)}, "stop_strings need a tokenizer"),
])
def test_bad_input_is_a_clear_error(tiny, prompts, kw, msg):
    cfg, params = tiny
    with pytest.raises(SamplingError, match=msg):
        Sampler(cfg, eos_token_ids=[2]).generate(params, prompts, SamplingParams(**kw))


@pytest.mark.parametrize("family", ["llama", "qwen3", "olmo2"])
def test_unrolled_and_scanned_layers_sample_the_same(tiny_hf_dirs, family):
    # The CPU default decodes over per-layer buffers; accelerators scan the stacked weights. Same math.
    model = from_pretrained(tiny_hf_dirs[family], dtype=jnp.float32)
    params = model.params()
    sp = SamplingParams(n=2, temperature=0.9, max_new_tokens=10, seed=5)
    runs = [Sampler(model.config, eos_token_ids=[2], unroll_layers=u).generate(params, PROMPTS, sp)
            for u in (False, True)]
    assert _tokens(runs[0]) == _tokens(runs[1])
    for a, b in zip(runs[0].samples, runs[1].samples):
        np.testing.assert_allclose(a.logprobs, b.logprobs, atol=1e-5)
