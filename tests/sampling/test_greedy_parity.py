"""Greedy output equals transformers.generate (torch, fp32) token for token, batched with padding."""
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from murphy_jax.models import from_pretrained, load_tokenizer
from murphy_jax.sampling import Sampler, SamplingParams
from murphy_jax.testing.tiny_hf import VARIANTS, load_torch

PROMPTS = [[5, 6, 7, 8, 9, 10, 11], [12, 13], list(range(20, 61)), [99]]


def _hf_greedy(model, prompt, max_new, eos):
    with torch.no_grad():
        out = model.generate(torch.tensor([prompt]), max_new_tokens=max_new, do_sample=False, eos_token_id=eos,
                             pad_token_id=0, attention_mask=torch.ones(1, len(prompt), dtype=torch.long))
    return out[0, len(prompt):].tolist()


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_tiny_greedy_matches_transformers(tiny_hf_dirs, variant):
    path = tiny_hf_dirs[variant]
    ref = load_torch(path)
    model = from_pretrained(path, dtype=jnp.float32)
    sampler = Sampler(model.config, eos_token_ids=[2])
    res = sampler.generate(model.params(), PROMPTS, SamplingParams(temperature=0, max_new_tokens=24))
    for i, p in enumerate(PROMPTS):
        expect = _hf_greedy(ref, p, 24, 2)
        got = res.samples[i]
        assert got.tokens.tolist() == expect, f"prompt {i}"
        assert got.finish_reason == ("stop" if expect[-1] == 2 and len(expect) < 24 else "length")


def test_stop_token_stops_its_row_only(tiny_hf_dirs):
    path = tiny_hf_dirs["llama"]
    model = from_pretrained(path, dtype=jnp.float32)
    free = Sampler(model.config, eos_token_ids=[-5]).generate(
        model.params(), PROMPTS, SamplingParams(temperature=0, max_new_tokens=16))
    stop_tok = int(free.samples[0].tokens[5])  # row 0 emits this at step 5 (maybe earlier too)
    first = free.samples[0].tokens.tolist().index(stop_tok)
    res = Sampler(model.config, eos_token_ids=[-5]).generate(
        model.params(), PROMPTS, SamplingParams(temperature=0, max_new_tokens=16, stop_token_ids=(stop_tok,)))
    for i in range(len(PROMPTS)):
        full = free.samples[i].tokens.tolist()
        cut = full.index(stop_tok) + 1 if stop_tok in full else len(full)
        assert res.samples[i].tokens.tolist() == full[:cut]
        assert res.samples[i].finish_reason == ("stop" if stop_tok in full else "length")
        np.testing.assert_allclose(res.samples[i].logprobs, free.samples[i].logprobs[:cut], atol=1e-6)
    assert len(res.samples[0].tokens) == first + 1


@pytest.mark.smollm2
def test_smollm2_chat_prompts_batched_match_transformers(smollm2_gguf, smollm2_dir):
    tok = load_tokenizer(smollm2_dir)
    texts = ["What is 2+2?", "Write a Python function is_even(n) that returns True if n is even.",
             "Name three colors."]
    prompts = []
    for t in texts:
        ids = tok.apply_chat_template([{"role": "user", "content": t}], add_generation_prompt=True, tokenize=True)
        prompts.append(list(ids["input_ids"] if not isinstance(ids, list) else ids))
    assert len({len(p) for p in prompts}) == 3  # different lengths, batched together with padding
    model = from_pretrained(smollm2_dir, dtype=jnp.float32)
    sampler = Sampler.for_tokenizer(model.config, tok)
    res = sampler.generate(model.params(), prompts, SamplingParams(temperature=0, max_new_tokens=40))
    ref = load_torch(smollm2_gguf)
    for i, p in enumerate(prompts):
        assert res.samples[i].tokens.tolist() == _hf_greedy(ref, p, 40, list(sampler.eos)), texts[i]
    assert "4" in res.samples[0].text
