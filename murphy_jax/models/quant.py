"""Weight-only int8 quantisation of 2-D kernels: symmetric, one float32 scale per output column.

``w ~= q * scale`` with ``q = round(w / scale)`` in [-127, 127] and
``scale = max|w[:, j]| / 127``; each weight is off by at most ``scale_j / 2``.
Used for decode-only parameter copies (``murphy_jax/sampling/decode_params.py``).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def quantize_int8(w: jax.Array) -> dict:
    """{"kernel_q": int8 [in, out], "scale": float32 [out]} for a kernel ``w`` [in, out]."""
    wf = w.astype(jnp.float32)
    amax = jnp.max(jnp.abs(wf), axis=0)
    scale = jnp.where(amax > 0, amax / 127.0, 1.0)
    q = jnp.clip(jnp.round(wf / scale), -127, 127).astype(jnp.int8)
    return {"kernel_q": q, "scale": scale}


def dequantize(p: dict) -> jax.Array:
    """The float32 kernel an int8 ``{"kernel_q", "scale"}`` stands for."""
    return p["kernel_q"].astype(jnp.float32) * p["scale"]
