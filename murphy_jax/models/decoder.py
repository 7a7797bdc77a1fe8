"""The NNX decoder: parameter containers with logical sharding axes; the math lives in ``layers.py``.

Per-layer parameters are stacked along a leading ``layers`` axis and the
forward pass scans over them, so compile time does not grow with depth and
rematerialisation is per layer.

Every ``nnx.Param`` carries ``axes``: one logical name per dimension, mapped to
mesh axes by ``sharding.py``.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from murphy_jax.models import layers as L
from murphy_jax.models.config import ModelConfig


def _param(rngs: nnx.Rngs | None, shape, axes, dtype, init: str = "normal", std: float = 0.02) -> nnx.Param:
    if init == "ones":
        value = jnp.ones(shape, dtype)
    elif init == "zeros":
        value = jnp.zeros(shape, dtype)
    else:
        value = (std * jax.random.normal(rngs.params(), shape, jnp.float32)).astype(dtype)
    return nnx.Param(value, axes=tuple(axes))


class Linear(nnx.Module):
    """A kernel (input dims first) with an optional bias; shapes include the layer stack."""

    def __init__(self, in_shape, out_shape, in_axes, out_axes, *, bias: bool, stack: tuple, cfg: ModelConfig,
                 rngs: nnx.Rngs):
        lead, lead_axes = stack, ("layers",) * len(stack)
        self.kernel = _param(rngs, (*lead, *in_shape, *out_shape), (*lead_axes, *in_axes, *out_axes),
                             cfg.param_dtype)
        if bias:
            self.bias = _param(rngs, (*lead, *out_shape), (*lead_axes, *out_axes), cfg.param_dtype, "zeros")


class RMSNorm(nnx.Module):
    """Scale vector of an RMSNorm (initialised to ones)."""

    def __init__(self, size: int, *, stack: tuple, cfg: ModelConfig):
        self.scale = _param(None, (*stack, size), (*("layers",) * len(stack), "norm"), cfg.param_dtype, "ones")


class Attention(nnx.Module):
    """q/k/v/o projections (heads kept as their own axis) and optional q/k norms."""

    def __init__(self, cfg: ModelConfig, *, stack: tuple, rngs: nnx.Rngs):
        h, nh, nkv, hd = cfg.hidden_size, cfg.num_heads, cfg.num_kv_heads, cfg.head_dim
        mk = lambda i, o, ia, oa, b: Linear(i, o, ia, oa, bias=b, stack=stack, cfg=cfg, rngs=rngs)  # noqa: E731
        self.q_proj = mk((h,), (nh, hd), ("embed",), ("q_heads", "head_dim"), cfg.qkv_bias)
        self.k_proj = mk((h,), (nkv, hd), ("embed",), ("kv_heads", "head_dim"), cfg.qkv_bias)
        self.v_proj = mk((h,), (nkv, hd), ("embed",), ("kv_heads", "head_dim"), cfg.qkv_bias)
        self.o_proj = mk((nh, hd), (h,), ("q_heads", "head_dim"), ("embed",), cfg.o_bias)
        if cfg.qk_norm == "head":
            self.q_norm = RMSNorm(hd, stack=stack, cfg=cfg)
            self.k_norm = RMSNorm(hd, stack=stack, cfg=cfg)
        elif cfg.qk_norm == "full":
            self.q_norm = RMSNorm(nh * hd, stack=stack, cfg=cfg)
            self.k_norm = RMSNorm(nkv * hd, stack=stack, cfg=cfg)


class MLP(nnx.Module):
    """SwiGLU projections."""

    def __init__(self, cfg: ModelConfig, *, stack: tuple, rngs: nnx.Rngs):
        h, i = cfg.hidden_size, cfg.intermediate_size
        self.gate_proj = Linear((h,), (i,), ("embed",), ("mlp",), bias=cfg.mlp_bias, stack=stack, cfg=cfg, rngs=rngs)
        self.up_proj = Linear((h,), (i,), ("embed",), ("mlp",), bias=cfg.mlp_bias, stack=stack, cfg=cfg, rngs=rngs)
        self.down_proj = Linear((i,), (h,), ("mlp",), ("embed",), bias=cfg.mlp_bias, stack=stack, cfg=cfg, rngs=rngs)


class Block(nnx.Module):
    """All decoder layers, stacked: ``attn_norm``/``mlp_norm`` sit before (pre-norm) or after (post-norm) each branch."""

    def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
        stack = (cfg.num_layers,)
        self.attn_norm = RMSNorm(cfg.hidden_size, stack=stack, cfg=cfg)
        self.attn = Attention(cfg, stack=stack, rngs=rngs)
        self.mlp_norm = RMSNorm(cfg.hidden_size, stack=stack, cfg=cfg)
        self.mlp = MLP(cfg, stack=stack, rngs=rngs)


class Embed(nnx.Module):
    """Token embedding table [vocab, hidden]."""

    def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
        self.embedding = _param(rngs, (cfg.vocab_size, cfg.hidden_size), ("vocab", "embed"), cfg.param_dtype)


class Decoder(nnx.Module):
    """A decoder-only causal LM. ``model(input_ids)`` -> float32 logits [batch, seq, vocab]."""

    def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
        self.config = cfg
        self.embed = Embed(cfg, rngs=rngs)
        self.layers = Block(cfg, rngs=rngs)
        self.final_norm = RMSNorm(cfg.hidden_size, stack=(), cfg=cfg)
        if not cfg.tie_word_embeddings:
            self.lm_head = Linear((cfg.hidden_size,), (cfg.vocab_size,), ("embed",), ("vocab",), bias=False,
                                  stack=(), cfg=cfg, rngs=rngs)

    def params(self) -> dict:
        """The parameters as a nested dict of arrays (the input of the pure functions in ``layers``)."""
        return nnx.to_pure_dict(nnx.state(self, nnx.Param))

    def __call__(self, input_ids: jax.Array, positions: jax.Array | None = None) -> jax.Array:
        """Logits for ``input_ids`` int32[batch, seq]; ``positions`` (-1 marks padding) default to 0..seq-1."""
        return L.forward(self.config, self.params(), input_ids, positions)

    def decode(self, input_ids, positions, cache: L.KVCache, write_index):
        """Logits and updated cache for tokens written into ``cache`` at slot ``write_index``."""
        return L.forward(self.config, self.params(), input_ids, positions, cache, write_index)


def abstract_decoder(cfg: ModelConfig) -> Decoder:
    """A Decoder whose parameters are shape/dtype placeholders (no memory): the target for loaders."""
    return nnx.eval_shape(lambda: Decoder(cfg, rngs=nnx.Rngs(0)))


def positions_from_mask(mask: jax.Array) -> jax.Array:
    """Positions for a 0/1 attention mask [batch, seq] (left or right padding): cumsum - 1, -1 on padding."""
    mask = mask.astype(jnp.int32)
    return jnp.where(mask > 0, jnp.cumsum(mask, axis=-1) - 1, -1)
