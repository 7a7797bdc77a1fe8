"""Jitted prefill and decode over a KV cache: pure functions of (params, state, controls).

Layout: prompts are right-padded to a bucket length ``P``; the cache has
``P + G`` slots; generated token ``j`` of every row lives in slot ``P + j``
with absolute position ``prompt_len + j``. Padding slots carry position -1 and
are never attended to, so rows of different lengths decode together.

Prefix sharing: the ``Bp`` distinct prompts are prefilled once and their cache
rows repeated ``n`` times, instead of prefilling ``Bp * n`` copies.

The decode loop feeds the previous token and samples the next, so it stops
right after the last token is sampled (no wasted forward), and runs at most
``limit`` steps per call so the host can check stop strings between chunks.
"""
from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from murphy_jax.models.config import ModelConfig
from murphy_jax.models.layers import KVCache, forward, hidden_states, logits_from_hidden
from murphy_jax.sampling.processing import row_keys, sample


class Mode(NamedTuple):
    """Static sampling switches (each combination compiles once per shape bucket)."""

    greedy: bool
    top_k: int
    use_top_p: bool


class Controls(NamedTuple):
    """Dynamic sampling controls (changing them never recompiles)."""

    key: jax.Array  # PRNG key of the seed
    temperature: jax.Array  # float32 scalar
    top_p: jax.Array  # float32 scalar
    stop_ids: jax.Array  # int32[S], -1 padded


class DecodeState(NamedTuple):
    """Everything the decode loop carries; lives on the device between chunks."""

    cache: KVCache
    tokens: jax.Array  # int32[B, G]
    logprobs: jax.Array  # float32[B, G]
    lengths: jax.Array  # int32[B] tokens generated, stop token included
    done: jax.Array  # bool[B]
    prompt_lens: jax.Array  # int32[B]
    row_ids: jax.Array  # int32[B] PRNG stream of each row
    step: jax.Array  # int32 scalar: tokens sampled so far


def _sample(logits, state_rows, step, mode: Mode, c: Controls):
    keys = row_keys(c.key, state_rows, step)
    return sample(logits, keys, greedy=mode.greedy, temperature=c.temperature, top_k=mode.top_k,
                  use_top_p=mode.use_top_p, top_p=c.top_p)


def _is_stop(tok, stop_ids):
    return (tok[:, None] == stop_ids[None, :]).any(axis=-1)


@functools.partial(jax.jit, static_argnames=("cfg", "n", "gen_slots", "mode", "cache_sharding"))
def prefill(params, prompt_ids, prompt_lens, active, row_ids, c: Controls, *, cfg: ModelConfig, n: int,
            gen_slots: int, mode: Mode, cache_sharding=None) -> DecodeState:
    """Prefill ``Bp`` prompts once, share their cache across ``n`` samples each, sample the first token.

    ``prompt_ids`` int32[Bp, P] right-padded; ``prompt_lens`` int32[Bp];
    ``active`` bool[Bp] (False for batch padding); ``row_ids`` int32[Bp * n].
    """
    bp, p = prompt_ids.shape
    positions = jnp.where(jnp.arange(p)[None, :] < prompt_lens[:, None], jnp.arange(p)[None, :], -1)
    cache = KVCache.zeros(cfg, bp, p + gen_slots)
    h, cache = hidden_states(cfg, params, prompt_ids, positions.astype(jnp.int32), cache, 0, prefill=True)
    last = jnp.take_along_axis(h, jnp.maximum(prompt_lens - 1, 0)[:, None, None], axis=1)  # [Bp, 1, H]
    logits = logits_from_hidden(cfg, params, last)[:, 0]
    rep = lambda x, axis: jnp.repeat(x, n, axis=axis)  # noqa: E731  (prompt-major rows)
    cache = KVCache(rep(cache.k, 1), rep(cache.v, 1), rep(cache.pos, 0))
    if cache_sharding is not None:
        cache = jax.lax.with_sharding_constraint(cache, cache_sharding)
    logits, lens, act = rep(logits, 0), rep(prompt_lens, 0), rep(active, 0)
    tok, lp = _sample(logits, row_ids, 0, mode, c)
    b = bp * n
    tokens = jnp.zeros((b, gen_slots), jnp.int32).at[:, 0].set(jnp.where(act, tok, 0))
    logprobs = jnp.zeros((b, gen_slots), jnp.float32).at[:, 0].set(jnp.where(act, lp, 0.0))
    done = ~act | _is_stop(tok, c.stop_ids)
    return DecodeState(cache, tokens, logprobs, act.astype(jnp.int32), done, lens, row_ids,
                       jnp.ones((), jnp.int32))


@functools.partial(jax.jit, static_argnames=("cfg", "prompt_slots", "mode"), donate_argnames=("state",))
def decode(params, state: DecodeState, limit, c: Controls, *, cfg: ModelConfig, prompt_slots: int,
           mode: Mode) -> DecodeState:
    """Decode until every row is done or ``state.step == limit`` (a dynamic bound <= the buffer size)."""

    def cond(s: DecodeState):
        return (s.step < limit) & ~jnp.all(s.done)

    def body(s: DecodeState):
        t = s.step
        prev = jax.lax.dynamic_index_in_dim(s.tokens, t - 1, axis=1, keepdims=True)  # [B, 1]
        pos = jnp.where(s.done, -1, s.prompt_lens + t - 1)[:, None].astype(jnp.int32)
        logits, cache = forward(cfg, params, prev, pos, s.cache, prompt_slots + t - 1)
        tok, lp = _sample(logits[:, 0], s.row_ids, t, mode, c)
        tok = jnp.where(s.done, 0, tok)
        tokens = jax.lax.dynamic_update_index_in_dim(s.tokens, tok[:, None], t, axis=1)
        logprobs = jax.lax.dynamic_update_index_in_dim(s.logprobs, jnp.where(s.done, 0.0, lp)[:, None], t, axis=1)
        lengths = s.lengths + (~s.done).astype(jnp.int32)
        done = s.done | _is_stop(tok, c.stop_ids)
        return s._replace(cache=cache, tokens=tokens, logprobs=logprobs, lengths=lengths, done=done, step=t + 1)

    return jax.lax.while_loop(cond, body, state)


def compilations() -> int:
    """How many distinct shapes/modes the engine has compiled in this process."""
    return prefill._cache_size() + decode._cache_size()
