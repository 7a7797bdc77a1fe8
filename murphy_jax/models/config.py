"""ModelConfig: one decoder family described by data, read from an HF ``config.json``.

Covers Llama (incl. SmolLM2), Qwen2/Qwen2.5, Qwen3 and OLMo-2. The fields that
differ between families are explicit (norm placement, q/k norm, biases, RoPE),
so the decoder has no ``if model_type == ...`` branches.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp

from murphy_jax.errors import MurphyUserError

SUPPORTED_MODEL_TYPES = ("llama", "qwen2", "qwen3", "olmo2")
ROPE_TYPES = ("default", "linear", "llama3", "yarn")

class ConfigError(MurphyUserError, ValueError):
    """The model config is unsupported or inconsistent; the message names the field."""


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of one decoder-only model. Frozen and hashable (usable as a jit static arg)."""

    model_type: str  # llama | qwen2 | qwen3 | olmo2
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    max_position_embeddings: int = 2048
    rms_norm_eps: float = 1e-6
    norm_placement: str = "pre"  # "pre" (Llama/Qwen) or "post" (OLMo-2: norm the sublayer output)
    qk_norm: str = "none"  # "none" | "head" (Qwen3: per head over head_dim) | "full" (OLMo-2: over all heads)
    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    tie_word_embeddings: bool = False
    hidden_act: str = "silu"
    rope_theta: float = 10000.0
    rope_type: str = "default"
    # Scaling parameters as a sorted tuple of (key, value) pairs so the config stays hashable.
    rope_scaling: tuple = ()
    # Llama/Qwen RMSNorm multiply by the weight after casting back to the compute dtype,
    # OLMo-2 before; the difference is visible in bf16, so we follow each family.
    norm_weight_order: str = "after_cast"  # "after_cast" | "before_cast"
    dtype: Any = jnp.bfloat16  # compute dtype of activations
    param_dtype: Any = jnp.bfloat16  # storage dtype of parameters
    remat: str = "none"  # "none" | "full" | "dots": rematerialise each layer in the backward pass

    def __post_init__(self) -> None:
        if self.model_type not in SUPPORTED_MODEL_TYPES:
            raise ConfigError(
                f"model_type={self.model_type!r} is not supported; supported: {', '.join(SUPPORTED_MODEL_TYPES)}")
        if self.num_heads % self.num_kv_heads:
            raise ConfigError(
                f"num_attention_heads={self.num_heads} must be a multiple of num_key_value_heads={self.num_kv_heads}")
        if self.rope_type not in ROPE_TYPES:
            raise ConfigError(f"rope type {self.rope_type!r} is not supported; supported: {ROPE_TYPES}")
        if self.norm_placement not in ("pre", "post"):
            raise ConfigError(f"norm_placement={self.norm_placement!r} must be 'pre' or 'post'")
        if self.qk_norm not in ("none", "head", "full"):
            raise ConfigError(f"qk_norm={self.qk_norm!r} must be 'none', 'head' or 'full'")
        if self.remat not in ("none", "full", "dots"):
            raise ConfigError(f"remat={self.remat!r} must be 'none', 'full' or 'dots'")
        if self.hidden_act != "silu":
            raise ConfigError(f"hidden_act={self.hidden_act!r} is not supported; only 'silu' (SwiGLU)")
        for name in ("vocab_size", "hidden_size", "intermediate_size", "num_layers", "num_heads", "head_dim"):
            if int(getattr(self, name)) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")

    @property
    def rope_scaling_dict(self) -> dict:
        return dict(self.rope_scaling)

    @property
    def q_size(self) -> int:
        return self.num_heads * self.head_dim

    @property
    def kv_size(self) -> int:
        return self.num_kv_heads * self.head_dim

    def replace(self, **kw) -> "ModelConfig":
        """A copy with some fields changed (e.g. dtype=jnp.float32 for parity)."""
        return dataclasses.replace(self, **kw)

    def num_params(self) -> int:
        """Parameter count, embeddings included."""
        h, i, L = self.hidden_size, self.intermediate_size, self.num_layers
        attn = h * self.q_size + 2 * h * self.kv_size + self.q_size * h
        attn += (self.q_size + 2 * self.kv_size) * self.qkv_bias + h * self.o_bias
        mlp = 3 * h * i + (2 * i + h) * self.mlp_bias
        norms = 2 * h + {"none": 0, "head": 2 * self.head_dim, "full": self.q_size + self.kv_size}[self.qk_norm]
        emb = self.vocab_size * h * (1 if self.tie_word_embeddings else 2)
        return L * (attn + mlp + norms) + emb + h

    @classmethod
    def from_hf(cls, config: str | os.PathLike | dict, **overrides) -> "ModelConfig":
        """Build from an HF ``config.json`` (path, directory or dict), transformers 4.x or 5.x field names."""
        hf = _read_hf_config(config)
        mt = hf.get("model_type")
        if mt not in SUPPORTED_MODEL_TYPES:
            raise ConfigError(
                f"model_type={mt!r} is not supported; supported: {', '.join(SUPPORTED_MODEL_TYPES)}")
        _check_unsupported_fields(hf)
        try:
            hidden = int(hf["hidden_size"])
            heads = int(hf["num_attention_heads"])
            kw: dict[str, Any] = dict(
                model_type=mt,
                vocab_size=int(hf["vocab_size"]),
                hidden_size=hidden,
                intermediate_size=int(hf["intermediate_size"]),
                num_layers=int(hf["num_hidden_layers"]),
                num_heads=heads,
                num_kv_heads=int(hf.get("num_key_value_heads") or heads),
                head_dim=int(hf.get("head_dim") or hidden // heads),
            )
        except KeyError as e:
            raise ConfigError(f"config.json is missing required field {e.args[0]!r}") from None
        kw["max_position_embeddings"] = int(hf.get("max_position_embeddings", 2048))
        kw["rms_norm_eps"] = float(hf.get("rms_norm_eps", 1e-6))
        kw["tie_word_embeddings"] = bool(hf.get("tie_word_embeddings", False))
        kw["hidden_act"] = hf.get("hidden_act", "silu")
        attn_bias = bool(hf.get("attention_bias", False))
        if mt == "qwen2":
            kw.update(qkv_bias=True, o_bias=False)
        else:
            kw.update(qkv_bias=attn_bias, o_bias=attn_bias)
        kw["mlp_bias"] = bool(hf.get("mlp_bias", False))
        if mt == "qwen3":
            kw["qk_norm"] = "head"
        if mt == "olmo2":
            kw.update(qk_norm="full", norm_placement="post", norm_weight_order="before_cast")
        theta, rtype, scaling = _rope_from_hf(hf)
        kw.update(rope_theta=theta, rope_type=rtype, rope_scaling=tuple(sorted(scaling.items())))
        kw.update(overrides)
        return cls(**kw)


def _read_hf_config(config) -> dict:
    if isinstance(config, dict):
        return dict(config)
    path = os.fspath(config)
    if os.path.isdir(path):
        path = os.path.join(path, "config.json")
    if not os.path.exists(path):
        raise ConfigError(f"no config.json at {path}")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path} is not valid JSON: {e}") from None


def _check_unsupported_fields(hf: dict) -> None:
    if hf.get("use_sliding_window"):
        raise ConfigError("use_sliding_window=true is not supported (sliding-window attention)")
    if float(hf.get("partial_rotary_factor", 1.0)) != 1.0:
        raise ConfigError(f"partial_rotary_factor={hf['partial_rotary_factor']} is not supported (only 1.0)")
    lt = hf.get("layer_types")
    if lt and any(t != "full_attention" for t in lt):
        raise ConfigError(f"layer_types={sorted(set(lt))} is not supported (only full_attention)")


def _rope_from_hf(hf: dict) -> tuple[float, str, dict]:
    """Normalise transformers 4.x (rope_theta + rope_scaling) and 5.x (rope_parameters) into one form."""
    params = dict(hf.get("rope_parameters") or {})
    legacy = dict(hf.get("rope_scaling") or {})
    if params and any(isinstance(v, dict) for v in params.values()):
        raise ConfigError("per-layer-type rope_parameters are not supported")
    merged = {**legacy, **params}
    theta = merged.pop("rope_theta", None) or hf.get("rope_theta") or 10000.0
    rtype = merged.pop("rope_type", None) or merged.pop("type", None) or "default"
    merged.pop("type", None)
    if rtype not in ROPE_TYPES:
        raise ConfigError(f"rope_type={rtype!r} is not supported; supported: {', '.join(ROPE_TYPES)}")
    merged.pop("partial_rotary_factor", None)
    if rtype in ("llama3", "yarn"):
        merged.setdefault("original_max_position_embeddings",
                          hf.get("original_max_position_embeddings", hf.get("max_position_embeddings", 2048)))
    required = {"linear": ("factor",), "llama3": ("factor", "low_freq_factor", "high_freq_factor"),
                "yarn": ("factor",)}.get(rtype, ())
    for key in required:
        if merged.get(key) is None:
            raise ConfigError(f"rope_type={rtype!r} needs rope parameter {key!r}")
    # Keep only JSON scalars so the config stays hashable.
    return float(theta), rtype, {k: v for k, v in merged.items() if isinstance(v, (int, float, bool, str))}
