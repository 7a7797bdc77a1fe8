"""Pure logit processing and sampling: temperature, top-k, top-p, Gumbel-max with per-row keys.

Order follows HF ``generate``: temperature, then top-k, then top-p on the
temperature-scaled, top-k-filtered distribution. Ties at a cut-off are kept.

Log-probs returned with a sampled token are those of the distribution the
token was actually drawn from: ``log softmax(logits / T)`` restricted to the
top-k/top-p set and renormalised. So at ``T != 1`` or with truncation they are
*not* the model's raw log-probs; a trainer that uses them as the old policy of
an importance ratio must apply the same temperature to its own logits. Greedy
decoding has a degenerate distribution, so for greedy rows we return the raw
model log-prob (T = 1, no truncation) of the argmax token.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

NEG_INF = -jnp.inf


def sampling_logprobs(logits: jax.Array, temperature, *, top_k: int = 0, use_top_p: bool = False,
                      top_p=1.0) -> jax.Array:
    """log of the sampling distribution [B, V] (``-inf`` outside the top-k/top-p set).

    ``top_k`` is static (0 disables); ``use_top_p`` statically enables the
    nucleus filter whose mass ``top_p`` is dynamic.
    """
    x = logits.astype(jnp.float32) / jnp.asarray(temperature, jnp.float32)
    if top_k:
        kth = jax.lax.top_k(x, top_k)[0][..., -1:]
        x = jnp.where(x < kth, NEG_INF, x)
    if use_top_p:
        desc = jnp.sort(x, axis=-1)[..., ::-1]
        probs = jax.nn.softmax(desc, axis=-1)
        before = jnp.cumsum(probs, axis=-1) - probs  # mass strictly above each token
        keep = (before < jnp.asarray(top_p, jnp.float32)[..., None]) | (jnp.arange(x.shape[-1]) == 0)
        cutoff = jnp.min(jnp.where(keep, desc, jnp.inf), axis=-1, keepdims=True)
        x = jnp.where(x < cutoff, NEG_INF, x)
    return jax.nn.log_softmax(x, axis=-1)


def row_keys(seed_key: jax.Array, row_ids: jax.Array, step) -> jax.Array:
    """One PRNG key per row and token index: samples don't depend on batch composition, padding or scheduling.

    ``step`` is the index of the token being sampled: one for all rows or int32[B], one per row.
    """
    steps = jnp.broadcast_to(jnp.asarray(step, jnp.int32), row_ids.shape)
    return jax.vmap(lambda r, s: jax.random.fold_in(jax.random.fold_in(seed_key, r), s))(row_ids, steps)


def sample(logits: jax.Array, keys: jax.Array, *, greedy: bool, temperature, top_k: int = 0,
           use_top_p: bool = False, top_p=1.0) -> tuple[jax.Array, jax.Array]:
    """(tokens int32[B], log-probs float32[B]) for one step; ``keys`` from ``row_keys``."""
    if greedy:
        tok = jnp.argmax(logits, axis=-1).astype(jnp.int32)
        lp = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
        return tok, jnp.take_along_axis(lp, tok[:, None], axis=-1)[:, 0]
    lp = sampling_logprobs(logits, temperature, top_k=top_k, use_top_p=use_top_p, top_p=top_p)
    gumbel = jax.vmap(lambda k: jax.random.gumbel(k, (logits.shape[-1],), jnp.float32))(keys)
    tok = jnp.argmax(lp + gumbel, axis=-1).astype(jnp.int32)
    return tok, jnp.take_along_axis(lp, tok[:, None], axis=-1)[:, 0]
