"""The blocked attention form against the reference einsum form."""
import jax.numpy as jnp
import numpy as np

from murphy_jax.models.layers import Q_BLOCK, attend, attention_scores


def _reference(q, k, v, q_pos, k_pos):
    p = attention_scores(q, k, q_pos, k_pos, jnp.float32)
    return jnp.einsum("bkgts,bskd->btkgd", p, v)


def _inputs(b, t, s, kv=2, g=3, d=8, seed=0):
    r = np.random.default_rng(seed)
    q = jnp.asarray(r.standard_normal((b, t, kv, g, d)), jnp.float32)
    k = jnp.asarray(r.standard_normal((b, s, kv, d)), jnp.float32)
    v = jnp.asarray(r.standard_normal((b, s, kv, d)), jnp.float32)
    return q, k, v


def test_blocked_attention_equals_reference_over_several_blocks():
    t = 2 * Q_BLOCK + 37  # three blocks, the last one partial
    q, k, v = _inputs(2, t, t)
    pos = np.tile(np.arange(t, dtype=np.int32), (2, 1))
    pos[1, t - 50:] = -1  # a right-padded row
    pos = jnp.asarray(pos)
    got = attend(q, k, v, pos, pos, jnp.float32)
    np.testing.assert_allclose(got, _reference(q, k, v, pos, pos), atol=2e-6)


def test_prefill_skips_only_slots_no_query_can_see():
    # A prefill: t prompt slots then g empty generation slots; row 1 has 40 padding tokens.
    t, gen = Q_BLOCK + 70, 16
    q, k, v = _inputs(2, t, t + gen, seed=1)
    q_pos = np.tile(np.arange(t, dtype=np.int32), (2, 1))
    q_pos[1, t - 40:] = -1
    k_pos = np.concatenate([q_pos, np.full((2, gen), -1, np.int32)], axis=1)
    q_pos, k_pos = jnp.asarray(q_pos), jnp.asarray(k_pos)
    got = attend(q, k, v, q_pos, k_pos, jnp.float32, prefix_causal_from=0)
    ref = _reference(q, k, v, q_pos, k_pos)
    valid = np.asarray(q_pos) >= 0  # padding queries see nothing; their (unused) output may differ
    np.testing.assert_allclose(np.asarray(got)[valid], np.asarray(ref)[valid], atol=2e-6)
