"""One cached decode step (one new token per row) over a decode-only parameter layout.

Same math as ``layers.forward`` with a cache and ``t == 1``, arranged for a
weight-bound step on XLA's CPU backend (see ``murphy_jax/sampling/decode_params.py``
for the layout and docs/sampling.md for the measurements):

* every projection is one 2-D ``[in, out]`` matmul on a ``[batch, in]``
  activation: q/k/v fused into one kernel, gate/up fused into one, o_proj
  flattened over (heads, head_dim). The reference's 3-D head kernels made XLA
  transpose o_proj's kernel (1.3 MB per layer) at every step.
* attention scores are laid out ``[b, slots, kv, group]`` (the cache's own
  slot-major order). A broadcast-multiply-reduce form was tried and ran ~4x
  slower at batch 8 (XLA CPU materialises the product).
* kernels may be int8 with one float32 scale per output column (``quant.py``).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from murphy_jax.models.config import ModelConfig
from murphy_jax.models.layers import _MASK_VALUE, KVCache, rms_norm
from murphy_jax.models.rope import apply_rope, inv_frequencies, rope_tables

# Key marking a parameter dict as prepared by ``prepare_decode_params``.
LAYOUT_KEY = "decode_layout"


def is_decode_layout(params) -> bool:
    """Whether ``params`` is a decode-only layout (``decode_params.prepare_decode_params``)."""
    return isinstance(params, dict) and LAYOUT_KEY in params


def matmul(x: jax.Array, p: dict, dtype, out_dtype=None) -> jax.Array:
    """``x [b, in] @ kernel [in, out]`` (+ bias) in ``out_dtype`` (default ``dtype``).

    An int8 ``kernel_q`` is widened to ``dtype`` and its per-column ``scale`` applied to the float32 product.
    """
    if "kernel_q" in p:
        y = jnp.dot(x, p["kernel_q"].astype(dtype), preferred_element_type=jnp.float32) * p["scale"]
    else:
        y = jnp.dot(x, p["kernel"].astype(dtype), preferred_element_type=jnp.float32)
    y = y.astype(out_dtype or dtype)
    if "bias" in p:
        y = y + p["bias"].astype(out_dtype or dtype)
    return y


def _attend_one(q, keys, values, q_pos, k_pos, dtype):
    """q [b, kv, g, d]; keys/values [b, s, kv, d] -> [b, kv, g, d] (the reference's t == 1 math)."""
    scale = q.shape[-1] ** -0.5
    s = jnp.einsum("bkgd,bskd->bskg", q, keys, preferred_element_type=jnp.float32) * scale
    visible = (k_pos >= 0) & (k_pos <= q_pos[:, None])  # [b, s]
    s = jnp.where(visible[:, :, None, None], s, _MASK_VALUE)
    p = jax.nn.softmax(s, axis=1).astype(dtype)
    return jnp.einsum("bskg,bskd->bkgd", p, values, preferred_element_type=jnp.float32).astype(dtype)


def _attention(cfg: ModelConfig, p: dict, x, cos, sin, q_pos, k_all, v_all, k_pos, layer, write_index):
    b = x.shape[0]
    dt = cfg.dtype
    nh, nkv, hd = cfg.num_heads, cfg.num_kv_heads, cfg.head_dim
    qkv = matmul(x, p["qkv"], dt)
    q, k, v = jnp.split(qkv, [nh * hd, (nh + nkv) * hd], axis=-1)
    if cfg.qk_norm == "full":
        q = rms_norm(q, p["q_norm"]["scale"], cfg.rms_norm_eps, cfg.norm_weight_order)
        k = rms_norm(k, p["k_norm"]["scale"], cfg.rms_norm_eps, cfg.norm_weight_order)
    q, k, v = q.reshape(b, 1, nh, hd), k.reshape(b, 1, nkv, hd), v.reshape(b, 1, nkv, hd)
    if cfg.qk_norm == "head":
        q = rms_norm(q, p["q_norm"]["scale"], cfg.rms_norm_eps, cfg.norm_weight_order)
        k = rms_norm(k, p["k_norm"]["scale"], cfg.rms_norm_eps, cfg.norm_weight_order)
    q = apply_rope(q, cos, sin)
    k = apply_rope(k, cos, sin)
    zero = jnp.zeros((), jnp.int32)
    start = (layer, zero, write_index, zero, zero)
    k_all = jax.lax.dynamic_update_slice(k_all, k[None].astype(k_all.dtype), start)
    v_all = jax.lax.dynamic_update_slice(v_all, v[None].astype(v_all.dtype), start)
    o = _attend_one(q.reshape(b, nkv, nh // nkv, hd), k_all[layer].astype(dt), v_all[layer].astype(dt),
                    q_pos, k_pos, dt)
    return matmul(o.reshape(b, nh * hd), p["o"], dt), k_all, v_all


def _mlp(cfg: ModelConfig, p: dict, x):
    gate, up = jnp.split(matmul(x, p["gate_up"], cfg.dtype), 2, axis=-1)
    return matmul(jax.nn.silu(gate) * up, p["down"], cfg.dtype)


def _block(cfg, p, x, cos, sin, q_pos, k_all, v_all, k_pos, layer, write_index):
    norm = lambda y, name: rms_norm(y, p[name]["scale"], cfg.rms_norm_eps, cfg.norm_weight_order)  # noqa: E731
    if cfg.norm_placement == "pre":
        a, k_all, v_all = _attention(cfg, p, norm(x, "attn_norm"), cos, sin, q_pos, k_all, v_all, k_pos, layer,
                                     write_index)
        x = x + a
        return x + _mlp(cfg, p, norm(x, "mlp_norm")), k_all, v_all
    a, k_all, v_all = _attention(cfg, p, x, cos, sin, q_pos, k_all, v_all, k_pos, layer, write_index)
    x = x + norm(a, "attn_norm")
    return x + norm(_mlp(cfg, p, x), "mlp_norm"), k_all, v_all


def decode_forward(cfg: ModelConfig, params: dict, input_ids, positions, cache: KVCache, write_index):
    """(float32 logits [b, 1, vocab], updated cache): ``layers.forward`` for one token per row, decode layout.

    ``input_ids``/``positions`` int32[b, 1] (position -1: an idle row); the
    token's key/value go to slot ``write_index`` of every row.
    """
    if input_ids.shape[1] != 1:
        raise ValueError(f"decode_forward takes one token per row, got {input_ids.shape[1]}")
    dt = cfg.dtype
    pos = positions[:, 0].astype(jnp.int32)
    x = jnp.take(params["embed"]["embedding"], input_ids[:, 0], axis=0).astype(dt)  # [b, hidden]
    inv_freq, scaling = inv_frequencies(cfg)
    cos, sin = rope_tables(jnp.maximum(positions, 0), inv_freq, scaling)
    write_index = jnp.asarray(write_index, jnp.int32)
    k_pos = jax.lax.dynamic_update_slice(cache.pos, positions.astype(jnp.int32), (jnp.zeros((), jnp.int32),
                                                                                   write_index))
    k_all, v_all = cache.k, cache.v
    for i, lp in enumerate(params["layers"]):
        x, k_all, v_all = _block(cfg, lp, x, cos, sin, pos, k_all, v_all, k_pos, i, write_index)
    x = rms_norm(x, params["final_norm"]["scale"], cfg.rms_norm_eps, cfg.norm_weight_order)
    logits = matmul(x, params["head"], dt, jnp.float32) if "head" in params else jnp.einsum(
        "bh,vh->bv", x, params["embed"]["embedding"].astype(dt), preferred_element_type=jnp.float32)
    return logits[:, None], KVCache(k_all, v_all, k_pos)
