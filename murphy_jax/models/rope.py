"""Rotary position embeddings as in HF transformers (half-rotation layout, not interleaved).

Inverse frequencies are computed once on the host in float32 the same way
transformers does, so that fp32 logits agree to ~1e-6 with the reference.
"""
from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from murphy_jax.models.config import ModelConfig


def inv_frequencies(cfg: ModelConfig) -> tuple[np.ndarray, float]:
    """Return (inv_freq float32[head_dim // 2], attention scaling of cos/sin) for the config's RoPE type."""
    dim = cfg.head_dim
    base = np.float32(cfg.rope_theta)
    exponent = np.arange(0, dim, 2, dtype=np.int64).astype(np.float32) / np.float32(dim)
    inv = (np.float32(1.0) / np.power(base, exponent, dtype=np.float32)).astype(np.float32)
    p = cfg.rope_scaling_dict
    if cfg.rope_type == "default":
        return inv, 1.0
    if cfg.rope_type == "linear":
        return (inv / np.float32(p["factor"])).astype(np.float32), 1.0
    if cfg.rope_type == "llama3":
        return _llama3(inv, p), 1.0
    if cfg.rope_type == "yarn":
        return _yarn(cfg, p)
    raise ValueError(f"unknown rope type {cfg.rope_type!r}")


def _llama3(inv: np.ndarray, p: dict) -> np.ndarray:
    # Llama 3.1: long wavelengths are slowed down by `factor`, short ones kept,
    # and the band in between interpolated smoothly.
    factor, lo, hi = float(p["factor"]), float(p["low_freq_factor"]), float(p["high_freq_factor"])
    old_ctx = float(p["original_max_position_embeddings"])
    wavelen = (2 * math.pi / inv).astype(np.float32)
    low_wl, high_wl = old_ctx / lo, old_ctx / hi
    scaled = np.where(wavelen > low_wl, inv / factor, inv).astype(np.float32)
    smooth = (old_ctx / wavelen - lo) / (hi - lo)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = ~(wavelen < high_wl) & ~(wavelen > low_wl)
    return np.where(medium, smoothed, scaled).astype(np.float32)


def _yarn(cfg: ModelConfig, p: dict) -> tuple[np.ndarray, float]:
    dim, base = cfg.head_dim, float(cfg.rope_theta)
    factor = float(p["factor"])
    orig = float(p["original_max_position_embeddings"])

    def mscale(scale, m=1.0):
        return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0

    attn = p.get("attention_factor")
    if attn is None:
        m, m_all = p.get("mscale"), p.get("mscale_all_dim")
        attn = mscale(factor, m) / mscale(factor, m_all) if (m and m_all) else mscale(factor)
    beta_fast, beta_slow = p.get("beta_fast") or 32, p.get("beta_slow") or 1

    def corr_dim(rot):
        return dim * math.log(orig / (rot * 2 * math.pi)) / (2 * math.log(base))

    low, high = corr_dim(beta_fast), corr_dim(beta_slow)
    if p.get("truncate", True):
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001
    ramp = np.clip((np.arange(dim // 2, dtype=np.float32) - low) / (high - low), 0, 1)
    pos_freqs = np.power(np.float32(base), np.arange(0, dim, 2).astype(np.float32) / np.float32(dim))
    extra, inter = 1.0 / pos_freqs, 1.0 / (factor * pos_freqs)
    keep = 1 - ramp
    return (inter * (1 - keep) + extra * keep).astype(np.float32), float(attn)


def rope_tables(positions: jnp.ndarray, inv_freq: np.ndarray, scaling: float = 1.0):
    """cos, sin float32[..., head_dim] for integer positions [...]."""
    freqs = positions.astype(jnp.float32)[..., None] * jnp.asarray(inv_freq)
    emb = jnp.concatenate([freqs, freqs], axis=-1)
    return jnp.cos(emb) * scaling, jnp.sin(emb) * scaling


def apply_rope(x: jnp.ndarray, cos: jnp.ndarray, sin: jnp.ndarray) -> jnp.ndarray:
    """Rotate x [batch, seq, heads, head_dim] with cos/sin [batch, seq, head_dim] (computed in float32)."""
    half = x.shape[-1] // 2
    xf = x.astype(jnp.float32)
    rotated = jnp.concatenate([-xf[..., half:], xf[..., :half]], axis=-1)
    out = xf * cos[:, :, None, :] + rotated * sin[:, :, None, :]
    return out.astype(x.dtype)
