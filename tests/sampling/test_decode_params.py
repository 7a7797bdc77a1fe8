"""Decode-only parameter layouts give the reference forward's logits and cache (float), or a bounded error (int8)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from murphy_jax.models.config import ModelConfig
from murphy_jax.models.decoder import Decoder
from murphy_jax.models.layers import KVCache, forward, unstack_layers
from murphy_jax.models.quant import dequantize, quantize_int8
from murphy_jax.sampling.decode_params import prepare_decode_params

VARIANTS = {
    "llama_tied": dict(model_type="llama", tie_word_embeddings=True),
    "qwen2_bias": dict(model_type="qwen2", qkv_bias=True),
    "qwen3_head_norm": dict(model_type="qwen3", qk_norm="head"),
    "olmo2_post": dict(model_type="olmo2", qk_norm="full", norm_placement="post", norm_weight_order="before_cast"),
}


def _model(**kw):
    cfg = ModelConfig(vocab_size=97, hidden_size=32, intermediate_size=48, num_layers=2, num_heads=4, num_kv_heads=2,
                      head_dim=8, dtype=jnp.float32, param_dtype=jnp.float32, **kw)
    params = Decoder(cfg, rngs=nnx.Rngs(0)).params()
    # non-trivial norms and biases, so a mis-placed one changes the logits
    params = jax.tree.map(lambda x: x + 0.1 * jax.random.normal(jax.random.PRNGKey(x.size), x.shape), params)
    return cfg, params


def _one_step(cfg, params, dparams):
    b, p = 3, 5
    ids = jax.random.randint(jax.random.PRNGKey(1), (b, p), 0, cfg.vocab_size)
    pos = jnp.where(jnp.arange(p)[None] < jnp.array([[5], [3], [1]]), jnp.arange(p)[None], -1)
    _, cache = forward(cfg, params, ids, pos, KVCache.zeros(cfg, b, 9), 0)
    tok = jnp.array([[4], [7], [11]])
    qpos = jnp.array([[5], [3], [-1]])  # the last row is idle
    return forward(cfg, unstack_layers(params), tok, qpos, cache, 6), forward(cfg, dparams, tok, qpos, cache, 6)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_model_weights_match_reference(name):
    cfg, params = _model(**VARIANTS[name])
    (ref, rc), (out, oc) = _one_step(cfg, params, prepare_decode_params(params, cfg))
    np.testing.assert_allclose(np.asarray(out), np.asarray(ref), rtol=1e-5, atol=1e-5)
    for a, b in zip(jax.tree.leaves(oc), jax.tree.leaves(rc)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_int8_weight_error_is_half_a_step():
    w = jax.random.normal(jax.random.PRNGKey(3), (64, 40)) * jnp.linspace(0.01, 3.0, 40)
    q = quantize_int8(w)
    err = jnp.abs(dequantize(q) - w)
    assert q["kernel_q"].dtype == jnp.int8
    assert bool(jnp.all(err <= q["scale"] / 2 + 1e-7))  # the bound docs/sampling.md states
    assert float(jnp.max(err)) > 0  # it is a real quantisation


def test_int8_logits_close_but_not_equal():
    cfg, params = _model(**VARIANTS["llama_tied"])
    (ref, _), (out, _) = _one_step(cfg, params, prepare_decode_params(params, cfg, weights="int8"))
    d = float(jnp.max(jnp.abs(out - ref)))
    assert 0 < d < 0.05 * float(jnp.max(jnp.abs(ref)))


def test_unknown_weights_rejected():
    cfg, params = _model(**VARIANTS["llama_tied"])
    with pytest.raises(ValueError, match="weights"):
        prepare_decode_params(params, cfg, weights="fp4")
