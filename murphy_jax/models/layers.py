"""Pure decoder math over plain parameter dicts: norms, attention with GQA and a KV cache, SwiGLU, the layer scan.

Everything here is a function of arrays; the NNX module in ``decoder.py`` only
owns the parameters. Attention masks are derived from positions: a key at
absolute position ``kp`` is visible to a query at ``qp`` when ``0 <= kp <= qp``
(``kp = -1`` marks padding and empty cache slots). This one rule covers padded
training batches, batched prefill of ragged prompts and cached decoding.
Packed training rows (``murphy_jax/rl/packing.py``) add per-token segment
arrays on the cache-less path: a key must also lie in the query's own segment
or in the query's prefix segment (a shared prompt prefix), so attention never
crosses packed rows.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from murphy_jax.models.config import ModelConfig
from murphy_jax.models.rope import apply_rope, inv_frequencies, rope_tables

# A large finite negative instead of -inf: fully masked rows (padding queries)
# then give a finite uniform softmax rather than NaNs that poison gradients.
_MASK_VALUE = -0.7 * float(jnp.finfo(jnp.float32).max)


class KVCache(NamedTuple):
    """Keys/values of every layer, plus the absolute position held in each slot (-1: empty)."""

    k: jax.Array  # [layers, batch, slots, kv_heads, head_dim]
    v: jax.Array  # [layers, batch, slots, kv_heads, head_dim]
    pos: jax.Array  # [batch, slots] int32

    @staticmethod
    def zeros(cfg: ModelConfig, batch: int, slots: int, dtype=None) -> "KVCache":
        """An empty cache for ``batch`` rows of ``slots`` tokens."""
        shape = (cfg.num_layers, batch, slots, cfg.num_kv_heads, cfg.head_dim)
        dt = dtype or cfg.dtype
        return KVCache(jnp.zeros(shape, dt), jnp.zeros(shape, dt), jnp.full((batch, slots), -1, jnp.int32))


def rms_norm(x: jax.Array, scale: jax.Array, eps: float, weight_order: str = "after_cast") -> jax.Array:
    """RMSNorm over the last axis, statistics in float32, result in x's dtype."""
    xf = x.astype(jnp.float32)
    xf = xf * jax.lax.rsqrt(jnp.mean(xf * xf, axis=-1, keepdims=True) + eps)
    if weight_order == "before_cast":
        return (scale.astype(jnp.float32) * xf).astype(x.dtype)
    return scale.astype(x.dtype) * xf.astype(x.dtype)


def _dense(x: jax.Array, p: dict, spec: str, dtype) -> jax.Array:
    y = jnp.einsum(spec, x, p["kernel"].astype(dtype), preferred_element_type=jnp.float32).astype(dtype)
    if "bias" in p:
        y = y + p["bias"].astype(dtype)
    return y


def _segment_visible(segments, c0: int, c1: int, se: int) -> jax.Array:
    """[b, c1 - c0, se]: key in the query's own segment or in its prefix segment (``segments`` = (seg, prefix))."""
    seg, pre = segments
    k = seg[:, None, :se]
    return (k == seg[:, c0:c1, None]) | (k == pre[:, c0:c1, None])


def attention_scores(q, k, q_pos, k_pos, dtype, segments=None) -> jax.Array:
    """Softmax probabilities [b, kv, group, t, s] for q [b,t,kv,group,d], k [b,s,kv,d] (reference form)."""
    scale = q.shape[-1] ** -0.5
    s = jnp.einsum("btkgd,bskd->bkgts", q, k, preferred_element_type=jnp.float32) * scale
    visible = (k_pos[:, None, :] >= 0) & (k_pos[:, None, :] <= q_pos[:, :, None])  # [b, t, s]
    if segments is not None:
        visible = visible & _segment_visible(segments, 0, q.shape[1], k.shape[1])
    s = jnp.where(visible[:, None, None], s, _MASK_VALUE)
    return jax.nn.softmax(s, axis=-1).astype(dtype)


# Queries per attention block. A block's scores [b, kv, group*block, s] stay small enough
# for the CPU's caches; one [b, kv, group, t, s] tensor for a 1024-token prompt ran ~6x slower.
Q_BLOCK = 128


def attend(q, keys, values, q_pos, k_pos, dtype, *, prefix_causal_from: int | None = None,
           segments=None) -> jax.Array:
    """Masked softmax attention: q [b,t,kv,group,d], keys/values [b,s,kv,d] -> [b,t,kv,group,d].

    Same math as ``attention_scores`` followed by the value product, arranged as batched
    matmuls over blocks of queries. ``prefix_causal_from=w`` promises that query ``i`` sits
    in key slot ``w + i`` and that no slot after the queries' own is filled (a prefill):
    a block then reads only the key slots up to its last query. ``segments=(seg, prefix)``
    (int32 [b, t] each, cache-less only: keys are the queries) also requires
    ``k_seg == q_seg or k_seg == q_prefix``.
    """
    b, t, kh, g, d = q.shape
    if t == 1:  # a decode step: no blocks, and no transposed copy of the whole cache per step
        probs = attention_scores(q, keys, q_pos, k_pos, dtype, segments)
        return jnp.einsum("bkgts,bskd->btkgd", probs, values, preferred_element_type=jnp.float32).astype(dtype)
    scale = d ** -0.5
    kt, vt = keys.transpose(0, 2, 1, 3), values.transpose(0, 2, 1, 3)  # [b, kv, s, d]
    qt = q.transpose(0, 2, 3, 1, 4)  # [b, kv, group, t, d]
    outs = []
    for c0 in range(0, t, Q_BLOCK):
        c1 = min(t, c0 + Q_BLOCK)
        n, se = c1 - c0, keys.shape[1] if prefix_causal_from is None else min(keys.shape[1], prefix_causal_from + c1)
        s = jnp.einsum("bkqd,bksd->bkqs", qt[:, :, :, c0:c1].reshape(b, kh, g * n, d), kt[:, :, :se],
                       preferred_element_type=jnp.float32) * scale
        visible = (k_pos[:, None, :se] >= 0) & (k_pos[:, None, :se] <= q_pos[:, c0:c1, None])  # [b, n, se]
        if segments is not None:
            visible = visible & _segment_visible(segments, c0, c1, se)
        s = jnp.where(visible[:, None, None], s.reshape(b, kh, g, n, se), _MASK_VALUE)
        p = jax.nn.softmax(s, axis=-1).astype(dtype).reshape(b, kh, g * n, se)
        o = jnp.einsum("bkqs,bksd->bkqd", p, vt[:, :, :se], preferred_element_type=jnp.float32).astype(dtype)
        outs.append(o.reshape(b, kh, g, n, d))
    o = outs[0] if len(outs) == 1 else jnp.concatenate(outs, axis=3)
    return o.transpose(0, 3, 1, 2, 4)


def attention(cfg: ModelConfig, p: dict, x, cos, sin, q_pos, kv, layer, write_index, prefix_causal_from=None,
              segments=None):
    """Self-attention for one layer; with a cache, writes this step's k/v at ``write_index`` first.

    ``kv`` is either ``None`` (keys are this call's tokens, positions ``q_pos``
    with -1 for padding) or ``(k_all, v_all, k_pos)``: the stacked cache of all
    layers and the positions of its slots after this step's write.
    ``segments`` (cache-less only): (segment_ids, prefix_ids) of packed rows, see ``attend``.
    Returns (output, updated (k_all, v_all) or None).
    """
    b, t, _ = x.shape
    dt = cfg.dtype
    q = _dense(x, p["q_proj"], "bth,hnd->btnd", dt)
    k = _dense(x, p["k_proj"], "bth,hnd->btnd", dt)
    v = _dense(x, p["v_proj"], "bth,hnd->btnd", dt)
    if cfg.qk_norm == "head":
        q = rms_norm(q, p["q_norm"]["scale"], cfg.rms_norm_eps, cfg.norm_weight_order)
        k = rms_norm(k, p["k_norm"]["scale"], cfg.rms_norm_eps, cfg.norm_weight_order)
    elif cfg.qk_norm == "full":
        q = rms_norm(q.reshape(b, t, -1), p["q_norm"]["scale"], cfg.rms_norm_eps,
                     cfg.norm_weight_order).reshape(q.shape)
        k = rms_norm(k.reshape(b, t, -1), p["k_norm"]["scale"], cfg.rms_norm_eps,
                     cfg.norm_weight_order).reshape(k.shape)
    q = apply_rope(q, cos, sin)
    k = apply_rope(k, cos, sin)
    new_kv = None
    if kv is None:
        keys, values, k_pos = k, v, q_pos
    else:
        k_all, v_all, k_pos = kv
        zero = jnp.zeros((), jnp.int32)
        start = (layer, zero, write_index, zero, zero)
        k_all = jax.lax.dynamic_update_slice(k_all, k[None].astype(k_all.dtype), start)
        v_all = jax.lax.dynamic_update_slice(v_all, v[None].astype(v_all.dtype), start)
        keys = k_all[layer].astype(dt)
        values = v_all[layer].astype(dt)
        new_kv = (k_all, v_all)
    g = cfg.num_heads // cfg.num_kv_heads
    q = q.reshape(b, t, cfg.num_kv_heads, g, cfg.head_dim)
    o = attend(q, keys, values, q_pos, k_pos, dt, prefix_causal_from=prefix_causal_from, segments=segments)
    o = o.reshape(b, t, cfg.num_heads, cfg.head_dim)
    return _dense(o, p["o_proj"], "btnd,ndh->bth", dt), new_kv


def mlp(cfg: ModelConfig, p: dict, x) -> jax.Array:
    """SwiGLU: down(silu(gate(x)) * up(x))."""
    dt = cfg.dtype
    gate = _dense(x, p["gate_proj"], "bth,hi->bti", dt)
    up = _dense(x, p["up_proj"], "bth,hi->bti", dt)
    return _dense(jax.nn.silu(gate) * up, p["down_proj"], "bti,ih->bth", dt)


def block(cfg: ModelConfig, p: dict, x, cos, sin, q_pos, kv, layer, write_index, prefix_causal_from=None,
          segments=None):
    """One decoder layer, pre-norm (Llama/Qwen) or post-norm (OLMo-2)."""
    norm = lambda y, name: rms_norm(y, p[name]["scale"], cfg.rms_norm_eps, cfg.norm_weight_order)  # noqa: E731
    if cfg.norm_placement == "pre":
        a, kv = attention(cfg, p["attn"], norm(x, "attn_norm"), cos, sin, q_pos, kv, layer, write_index,
                          prefix_causal_from, segments)
        x = x + a
        return x + mlp(cfg, p["mlp"], norm(x, "mlp_norm")), kv
    a, kv = attention(cfg, p["attn"], x, cos, sin, q_pos, kv, layer, write_index, prefix_causal_from, segments)
    x = x + norm(a, "attn_norm")
    return x + norm(mlp(cfg, p["mlp"], x), "mlp_norm"), kv


def _remat(cfg: ModelConfig, fn):
    if cfg.remat == "full":
        return jax.checkpoint(fn, policy=jax.checkpoint_policies.nothing_saveable)
    if cfg.remat == "dots":
        return jax.checkpoint(fn, policy=jax.checkpoint_policies.dots_with_no_batch_dims_saveable)
    return fn


def hidden_states(cfg: ModelConfig, params: dict, input_ids, positions, cache: KVCache | None = None,
                  write_index=None, act_sharding=None, prefill: bool = False, segment_ids=None, prefix_ids=None):
    """Final-normed hidden states [b, t, hidden] (and the updated cache when one is given).

    ``positions`` int32[b, t] are absolute positions, -1 for padding tokens.
    With a cache, this call's tokens are written into slots
    ``[write_index, write_index + t)`` of every row before attending.
    ``prefill=True`` (with a Python-int ``write_index``) promises that the cache
    holds nothing from ``write_index`` on and that each row's tokens are in
    position order (right padding), so attention skips slots no query can see.
    ``act_sharding`` (a sharding of [b, t, hidden]) pins every layer's
    activations, e.g. batch rows over data*fsdp: without it XLA may keep a
    whole micro-batch's activations on every FSDP device.
    ``segment_ids``/``prefix_ids`` int32[b, t] (no cache): packed rows, a key
    visible only in the query's own or prefix segment (see ``attend``).
    """
    dt = cfg.dtype
    pin = (lambda y: jax.lax.with_sharding_constraint(y, act_sharding)) if act_sharding is not None else (
        lambda y: y)
    x = pin(jnp.take(params["embed"]["embedding"], input_ids, axis=0).astype(dt))
    inv_freq, scaling = inv_frequencies(cfg)
    cos, sin = rope_tables(jnp.maximum(positions, 0), inv_freq, scaling)
    prefix = None
    segments = None
    if segment_ids is not None:
        if cache is not None:
            raise ValueError("segment_ids: packed rows are a cache-less (training) input")
        segments = (segment_ids, segment_ids if prefix_ids is None else prefix_ids)
    if prefill:
        if cache is None or not isinstance(write_index, int):
            raise ValueError("prefill=True needs a cache and a Python-int write_index")
        prefix = write_index
    layers = params["layers"]
    if isinstance(layers, (list, tuple)):
        x, new_cache = _unrolled(cfg, layers, x, cos, sin, positions, cache, write_index, pin, prefix, segments)
    else:
        x, new_cache = _scanned(cfg, layers, x, cos, sin, positions, cache, write_index, pin, prefix, segments)
    x = rms_norm(x, params["final_norm"]["scale"], cfg.rms_norm_eps, cfg.norm_weight_order)
    return x, new_cache


def unstack_layers(params: dict) -> dict:
    """``params`` with the stacked layer weights split into one dict per layer (separate buffers).

    ``hidden_states`` then runs the layers as an unrolled Python loop. On XLA's
    CPU backend this avoids copying every layer's weights out of the stack at
    each decode step (the dot cannot read a dynamic slice in place), which
    otherwise triples the memory traffic of a weight-bound decode step.
    """
    layers = params["layers"]
    n = jax.tree.leaves(layers)[0].shape[0]
    return {**params, "layers": [jax.tree.map(lambda x, i=i: x[i], layers) for i in range(n)]}


def _unrolled(cfg, layers, x, cos, sin, positions, cache, write_index, pin, prefix=None, segments=None):
    if cache is None:
        for lp in layers:
            x, _ = block(cfg, lp, pin(x), cos, sin, positions, None, None, None, segments=segments)
        return pin(x), None
    write_index = jnp.asarray(write_index, jnp.int32)
    k_pos = jax.lax.dynamic_update_slice(cache.pos, positions.astype(jnp.int32),
                                         (jnp.zeros((), jnp.int32), write_index))
    k_all, v_all = cache.k, cache.v
    for i, lp in enumerate(layers):
        x, (k_all, v_all) = block(cfg, lp, x, cos, sin, positions, (k_all, v_all, k_pos), i, write_index, prefix)
    return x, KVCache(k_all, v_all, k_pos)


def _scanned(cfg, layers, x, cos, sin, positions, cache, write_index, pin, prefix=None, segments=None):
    idx = jnp.arange(cfg.num_layers, dtype=jnp.int32)
    if cache is None:
        def body(h, xs):
            lp, _ = xs
            h, _ = block(cfg, lp, pin(h), cos, sin, positions, None, None, None, segments=segments)
            return pin(h), None

        x, _ = jax.lax.scan(_remat(cfg, body), x, (layers, idx))
        new_cache = None
    else:
        write_index = jnp.asarray(write_index, jnp.int32)
        k_pos = jax.lax.dynamic_update_slice(cache.pos, positions.astype(jnp.int32),
                                             (jnp.zeros((), jnp.int32), write_index))

        def body(carry, xs):
            h, k_all, v_all = carry
            lp, i = xs
            h, (k_all, v_all) = block(cfg, lp, h, cos, sin, positions, (k_all, v_all, k_pos), i, write_index,
                                      prefix)
            return (h, k_all, v_all), None

        (x, k_all, v_all), _ = jax.lax.scan(body, (x, cache.k, cache.v), (layers, idx))
        new_cache = KVCache(k_all, v_all, k_pos)
    return x, new_cache


def logits_from_hidden(cfg: ModelConfig, params: dict, h) -> jax.Array:
    """float32 logits [b, t, vocab] from final hidden states (tied or untied head)."""
    if cfg.tie_word_embeddings:
        w = params["embed"]["embedding"].astype(cfg.dtype)
        return jnp.einsum("bth,vh->btv", h, w, preferred_element_type=jnp.float32)
    w = params["lm_head"]["kernel"].astype(cfg.dtype)
    return jnp.einsum("bth,hv->btv", h, w, preferred_element_type=jnp.float32)


def forward(cfg: ModelConfig, params: dict, input_ids, positions=None, cache: KVCache | None = None,
            write_index=None, act_sharding=None):
    """Logits [b, t, vocab] float32 (and the updated cache when one is given).

    Without ``positions``, tokens are at 0..t-1. Pure: jit it with the
    parameter dict as an argument and shardings of your choice.
    """
    if positions is None:
        positions = jnp.broadcast_to(jnp.arange(input_ids.shape[1], dtype=jnp.int32), input_ids.shape)
    if cache is not None and isinstance(params, dict) and "decode_layout" in params:
        # A decode-only layout (murphy_jax/sampling/decode_params.py): one-token steps only.
        from murphy_jax.models.decode_layers import decode_forward
        return decode_forward(cfg, params, input_ids, positions, cache, write_index)
    h, new_cache = hidden_states(cfg, params, input_ids, positions, cache, write_index, act_sharding)
    logits = logits_from_hidden(cfg, params, h)
    return logits if cache is None else (logits, new_cache)
