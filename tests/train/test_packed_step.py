"""Packed (and prefix-shared) micro-batches give the loss and gradients of the bucketed layout, exactly."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from murphy_jax.models import ModelConfig
from murphy_jax.models.decoder import Decoder
from murphy_jax.rl.batching import pack
from murphy_jax.rl.packing import pack_rows
from murphy_jax.train.step import (is_packed, make_train_step, micro_loss, reference_logprobs,
                                   split_micro_batches)

HF = dict(model_type="llama", vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
          num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
AGGS = ("token_mean", "seq_mean_token_mean", "seq_mean_token_sum_norm")
SLOT = 16


@pytest.fixture(scope="module")
def model():
    cfg = ModelConfig.from_hf(HF, dtype=jnp.float32, param_dtype=jnp.float32)
    return Decoder(cfg, rngs=nnx.Rngs(0))


def _tree(seed=0):
    """Ragged groups: G first attempts sharing a prompt, refinements sharing a longer one, singletons."""
    rng = np.random.RandomState(seed)
    prompts, responses = [], []
    for g, (plen, size) in enumerate([(9, 4), (21, 2), (5, 3), (30, 1), (14, 2), (1, 2)]):
        p = rng.randint(1, 96, plen)
        for _ in range(size):
            prompts.append(p.copy())
            responses.append(rng.randint(1, 96, rng.randint(1, SLOT + 1)))
    old = [-3.0 + 0.3 * rng.randn(len(r)) for r in responses]
    return prompts, responses, old, rng.randn(len(prompts)).astype(np.float32)


def _bucketed(seqs, mb=4):
    out = []
    for rows in pack(*seqs, buckets=[32, 64], micro_batch_size=1).batches:
        out += split_micro_batches(rows, mb)
    return out


def _packed(seqs, *, share, pack_len=48, mb=2, max_rows=4):
    return pack_rows(*seqs, pack_len=pack_len, micro_batch_size=mb, max_rows=max_rows, slot_len=SLOT,
                     share_prefix=share).micro_batches()


def _norms(micro):
    return {"num_tokens": np.float32(sum(m["loss_mask"].sum() for m in micro)),
            "num_seqs": np.float32(sum(m["loss_mask"].any(-1).sum() for m in micro))}


def _loss_and_grads(model, micro, aggregation, ref_params=None):
    cfg, params = model.config, model.params()
    kw = dict(eps_low=0.2, eps_high=0.28, aggregation=aggregation, beta=0.05 if ref_params else 0.0, norm_len=24.0)
    norms = _norms(micro)
    grad = jax.jit(jax.value_and_grad(lambda p, b: micro_loss(p, b, norms, cfg=cfg, loss_kw=kw)[0]))
    total, grads = 0.0, None
    for m in micro:
        b = {k: jnp.asarray(v) for k, v in m.items() if k != "node_index" and k != "prompt_len"
             and k != "response_len"}
        if ref_params is not None:
            b["ref_logprobs"] = reference_logprobs(ref_params, b, cfg=cfg)
        loss, g = grad(params, b)
        total += float(loss)
        grads = g if grads is None else jax.tree.map(jnp.add, grads, g)
    return total, grads


@pytest.mark.parametrize("aggregation", AGGS)
@pytest.mark.parametrize("with_ref", [False, True])
@pytest.mark.parametrize("share", [False, True])
def test_packed_loss_and_every_gradient_leaf_equal_bucketed(model, aggregation, with_ref, share):
    seqs = _tree()
    ref = jax.tree.map(lambda x: x * 0.9, model.params()) if with_ref else None
    packed = _packed(seqs, share=share)
    assert all(is_packed(m) for m in packed)
    want_loss, want = _loss_and_grads(model, _bucketed(seqs), aggregation, ref)
    got_loss, got = _loss_and_grads(model, packed, aggregation, ref)
    np.testing.assert_allclose(got_loss, want_loss, rtol=2e-5, atol=1e-6)
    for (path, a), b in zip(jax.tree_util.tree_leaves_with_path(want), jax.tree.leaves(got)):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=2e-4, atol=2e-6, err_msg=str(path))
