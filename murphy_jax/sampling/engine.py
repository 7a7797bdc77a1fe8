"""Jitted programs of a decode pool: pure functions of (params, pool, controls).

A *pool* is ``R`` decode rows with one KV cache of ``G + P`` slots per row:
slots ``[0, G)`` are a ring for generated tokens, slots ``[G, G + P)`` hold
the row's prompt (right-padded to ``P``). Decode step ``T`` of the pool writes
every row's new key/value at slot ``T % G``: a row that entered the pool at
step ``T0`` writes slots ``T0, T0 + 1, ...`` (mod ``G``), which never collide
while it generates at most ``G`` tokens. Attention masks come from the
positions stored with each slot (``layers.py``: key visible iff
``0 <= k_pos <= q_pos``; -1 marks empty/stale slots), so the slot order does
not matter and rows at different points of their generation decode together
with one scalar write index.

Rows are refilled between decode calls: ``prefill`` runs ``rb`` prompts once
(no ``n`` copies), ``insert`` repeats each prompt's cache rows ``n`` times into
free pool rows (donated pool buffers), samples their first token and resets
their counters. Each row keeps its own token counter, and token ``j`` of a
row is drawn with the key of (its stream id, ``j``), so samples don't depend
on when or where a row ran.
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
    """Static sampling switches (each combination compiles its own programs)."""

    greedy: bool
    top_k: int
    use_top_p: bool


class Controls(NamedTuple):
    """Dynamic sampling controls (changing them never recompiles)."""

    key: jax.Array  # PRNG key of the seed
    temperature: jax.Array  # float32 scalar
    top_p: jax.Array  # float32 scalar
    stop_ids: jax.Array  # int32[S], -1 padded
    max_new: jax.Array  # int32 scalar: a row is done after this many tokens


class Pool(NamedTuple):
    """The decode rows and everything they carry; lives on the device between calls."""

    cache: KVCache  # k/v [L, R, G + P, kv, d]; pos [R, G + P]
    tokens: jax.Array  # int32[R, G] generated tokens, token j in column j
    logprobs: jax.Array  # float32[R, G]
    lengths: jax.Array  # int32[R] tokens generated (stop token included)
    done: jax.Array  # bool[R] finished or empty
    prompt_lens: jax.Array  # int32[R]
    row_ids: jax.Array  # int32[R] PRNG stream of each row
    step: jax.Array  # int32 scalar: decode steps run on this pool (ring slot = step % G)
    busy: jax.Array  # int32 scalar: row-steps that sampled a token (occupancy)


def _sample(logits, row_ids, counters, mode: Mode, c: Controls):
    keys = row_keys(c.key, row_ids, counters)
    return sample(logits, keys, greedy=mode.greedy, temperature=c.temperature, top_k=mode.top_k,
                  use_top_p=mode.use_top_p, top_p=c.top_p)


def _is_stop(tok, stop_ids):
    return (tok[:, None] == stop_ids[None, :]).any(axis=-1)


@functools.partial(jax.jit, static_argnames=("cfg", "rows", "prompt_slots", "gen_slots", "cache_sharding"))
def new_pool(*, cfg: ModelConfig, rows: int, prompt_slots: int, gen_slots: int, cache_sharding=None) -> Pool:
    """An empty pool: every row done, every slot empty."""
    cache = KVCache.zeros(cfg, rows, gen_slots + prompt_slots)
    if cache_sharding is not None:
        cache = jax.lax.with_sharding_constraint(cache, cache_sharding)
    zi = jnp.zeros((rows,), jnp.int32)
    return Pool(cache, jnp.zeros((rows, gen_slots), jnp.int32), jnp.zeros((rows, gen_slots), jnp.float32), zi,
                jnp.ones((rows,), bool), zi, zi, jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32))


@functools.partial(jax.jit, static_argnames=("cfg",))
def prefill(params, prompt_ids, prompt_lens, *, cfg: ModelConfig) -> tuple[KVCache, jax.Array]:
    """(cache [L, rb, P], float32 logits [rb, V] after each prompt's last token) for right-padded prompts.

    ``prompt_ids`` int32[rb, P]; ``prompt_lens`` int32[rb] (>= 1; padding rows use 1).
    """
    rb, p = prompt_ids.shape
    ar = jnp.arange(p)[None, :]
    positions = jnp.where(ar < prompt_lens[:, None], ar, -1).astype(jnp.int32)
    h, cache = hidden_states(cfg, params, prompt_ids, positions, KVCache.zeros(cfg, rb, p), 0, prefill=True)
    last = jnp.take_along_axis(h, jnp.maximum(prompt_lens - 1, 0)[:, None, None], axis=1)  # [rb, 1, H]
    return cache, logits_from_hidden(cfg, params, last)[:, 0]


@functools.partial(jax.jit, static_argnames=("n", "mode", "cache_sharding"), donate_argnames=("pool",))
def insert(pool: Pool, pcache: KVCache, logits, prompt_lens, dest, row_ids, c: Controls, *, n: int, mode: Mode,
           cache_sharding=None) -> Pool:
    """Put ``n`` samples of each prefilled prompt into pool rows ``dest`` (int32[rb * n], prompt-major).

    ``dest`` entries equal to the pool's row count are dropped (batch padding).
    Samples each row's first token with counter 0 and resets its counters.
    """
    g = pool.tokens.shape[1]
    m = dest.shape[0]
    src = jnp.arange(m) // n
    k = pool.cache.k.at[:, dest, g:].set(pcache.k[:, src].astype(pool.cache.k.dtype), mode="drop")
    v = pool.cache.v.at[:, dest, g:].set(pcache.v[:, src].astype(pool.cache.v.dtype), mode="drop")
    pos_rows = jnp.concatenate([jnp.full((m, g), -1, jnp.int32), pcache.pos[src]], axis=1)
    cache = KVCache(k, v, pool.cache.pos.at[dest].set(pos_rows, mode="drop"))
    if cache_sharding is not None:
        cache = jax.lax.with_sharding_constraint(cache, cache_sharding)
    tok, lp = _sample(logits[src], row_ids, jnp.zeros((m,), jnp.int32), mode, c)
    first = jnp.arange(g)[None, :] == 0
    done = _is_stop(tok, c.stop_ids) | (c.max_new <= 1)
    return pool._replace(
        cache=cache,
        tokens=pool.tokens.at[dest].set(jnp.where(first, tok[:, None], 0), mode="drop"),
        logprobs=pool.logprobs.at[dest].set(jnp.where(first, lp[:, None], 0.0), mode="drop"),
        lengths=pool.lengths.at[dest].set(1, mode="drop"),
        done=pool.done.at[dest].set(done, mode="drop"),
        prompt_lens=pool.prompt_lens.at[dest].set(prompt_lens[src], mode="drop"),
        row_ids=pool.row_ids.at[dest].set(row_ids, mode="drop"))


@functools.partial(jax.jit, static_argnames=("cfg", "mode"), donate_argnames=("pool",))
def decode(params, pool: Pool, limit, refill_at, c: Controls, *, cfg: ModelConfig, mode: Mode) -> Pool:
    """Decode until every row is done, ``pool.step == limit``, or at least ``refill_at`` rows are done."""
    g = pool.tokens.shape[1]
    cols = jnp.arange(g)[None, :]

    def cond(s: Pool):
        return (s.step < limit) & ~jnp.all(s.done) & (jnp.sum(s.done) < refill_at)

    def body(s: Pool):
        j = s.lengths  # index of the token this step samples
        live = ~s.done
        prev = jnp.take_along_axis(s.tokens, jnp.maximum(j - 1, 0)[:, None], axis=1)  # [R, 1]
        pos = jnp.where(live, s.prompt_lens + j - 1, -1)[:, None].astype(jnp.int32)
        logits, cache = forward(cfg, params, prev, pos, s.cache, s.step % g)
        tok, lp = _sample(logits[:, 0], s.row_ids, j, mode, c)
        hit = (cols == j[:, None]) & live[:, None]
        lengths = j + live.astype(jnp.int32)
        done = s.done | (live & (_is_stop(tok, c.stop_ids) | (lengths >= c.max_new)))
        return s._replace(cache=cache, tokens=jnp.where(hit, tok[:, None], s.tokens),
                          logprobs=jnp.where(hit, lp[:, None], s.logprobs), lengths=lengths, done=done,
                          step=s.step + 1, busy=s.busy + jnp.sum(live, dtype=jnp.int32))

    return jax.lax.while_loop(cond, body, pool)


def compilations() -> int:
    """How many distinct shapes/modes the engine has compiled in this process."""
    return new_pool._cache_size() + prefill._cache_size() + insert._cache_size() + decode._cache_size()
