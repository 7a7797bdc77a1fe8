"""The correspondence between our parameter tree and HF checkpoint tensor names and layouts.

HF stores ``nn.Linear`` weights as [out, in]; we store kernels input-first with
heads as their own axis ([hidden, heads, head_dim] for q/k/v, [heads, head_dim,
hidden] for o). Each layout change is a pure reshape+transpose, so on a memmap
it is a view and slicing it for one device shard reads only that shard.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from murphy_jax.models.config import ModelConfig


@dataclass(frozen=True)
class TensorMap:
    """One parameter: our path in the params dict, its HF name template, and the layout change."""

    path: tuple[str, ...]
    hf: str  # may contain "{i}" for the layer index
    kind: str  # copy | t | heads_in | heads_out | heads_bias
    heads: int = 0  # number of heads for the heads_* kinds

    @property
    def stacked(self) -> bool:
        return "{i}" in self.hf


def tensor_maps(cfg: ModelConfig) -> list[TensorMap]:
    """All parameters of ``cfg`` with their HF names."""
    nh, nkv = cfg.num_heads, cfg.num_kv_heads
    pre = "model.layers.{i}."
    out = [TensorMap(("embed", "embedding"), "model.embed_tokens.weight", "copy")]
    for proj, n in (("q_proj", nh), ("k_proj", nkv), ("v_proj", nkv)):
        out.append(TensorMap(("layers", "attn", proj, "kernel"), pre + f"self_attn.{proj}.weight", "heads_in", n))
        if cfg.qkv_bias:
            out.append(TensorMap(("layers", "attn", proj, "bias"), pre + f"self_attn.{proj}.bias", "heads_bias", n))
    out.append(TensorMap(("layers", "attn", "o_proj", "kernel"), pre + "self_attn.o_proj.weight", "heads_out", nh))
    if cfg.o_bias:
        out.append(TensorMap(("layers", "attn", "o_proj", "bias"), pre + "self_attn.o_proj.bias", "copy"))
    if cfg.qk_norm != "none":
        out.append(TensorMap(("layers", "attn", "q_norm", "scale"), pre + "self_attn.q_norm.weight", "copy"))
        out.append(TensorMap(("layers", "attn", "k_norm", "scale"), pre + "self_attn.k_norm.weight", "copy"))
    for proj in ("gate_proj", "up_proj", "down_proj"):
        out.append(TensorMap(("layers", "mlp", proj, "kernel"), pre + f"mlp.{proj}.weight", "t"))
        if cfg.mlp_bias:
            out.append(TensorMap(("layers", "mlp", proj, "bias"), pre + f"mlp.{proj}.bias", "copy"))
    if cfg.norm_placement == "pre":
        attn_norm, mlp_norm = "input_layernorm", "post_attention_layernorm"
    else:  # OLMo-2 names its norms after the sublayer they follow
        attn_norm, mlp_norm = "post_attention_layernorm", "post_feedforward_layernorm"
    out.append(TensorMap(("layers", "attn_norm", "scale"), pre + f"{attn_norm}.weight", "copy"))
    out.append(TensorMap(("layers", "mlp_norm", "scale"), pre + f"{mlp_norm}.weight", "copy"))
    out.append(TensorMap(("final_norm", "scale"), "model.norm.weight", "copy"))
    if not cfg.tie_word_embeddings:
        out.append(TensorMap(("lm_head", "kernel"), "lm_head.weight", "t"))
    return out


def hf_shape(m: TensorMap, ours: tuple[int, ...]) -> tuple[int, ...]:
    """The HF tensor shape that corresponds to one layer of our parameter shape ``ours``."""
    if m.kind == "copy":
        return ours
    if m.kind == "t":
        return ours[::-1]
    if m.kind == "heads_in":  # ours [hidden, n, d] <- hf [n*d, hidden]
        return (ours[1] * ours[2], ours[0])
    if m.kind == "heads_out":  # ours [n, d, hidden] <- hf [hidden, n*d]
        return (ours[2], ours[0] * ours[1])
    if m.kind == "heads_bias":  # ours [n, d] <- hf [n*d]
        return (ours[0] * ours[1],)
    raise ValueError(m.kind)


def to_ours(m: TensorMap, w: np.ndarray, ours: tuple[int, ...]) -> np.ndarray:
    """HF layout -> our layout for one layer, as a view when ``w`` allows it."""
    if m.kind == "copy":
        return w
    if m.kind == "t":
        return w.T
    if m.kind == "heads_in":
        h, n, d = ours
        return w.reshape(n, d, h).transpose(2, 0, 1)
    if m.kind == "heads_out":
        n, d, h = ours
        return w.reshape(h, n, d).transpose(1, 2, 0)
    if m.kind == "heads_bias":
        return w.reshape(ours)
    raise ValueError(m.kind)


def to_hf(m: TensorMap, x: np.ndarray) -> np.ndarray:
    """Our layout -> HF layout for one layer (contiguous copy)."""
    if m.kind == "copy":
        return np.ascontiguousarray(x)
    if m.kind == "t":
        return np.ascontiguousarray(x.T)
    if m.kind == "heads_in":
        h, n, d = x.shape
        return np.ascontiguousarray(x.transpose(1, 2, 0).reshape(n * d, h))
    if m.kind == "heads_out":
        n, d, h = x.shape
        return np.ascontiguousarray(x.transpose(2, 0, 1).reshape(h, n * d))
    if m.kind == "heads_bias":
        return np.ascontiguousarray(x.reshape(-1))
    raise ValueError(m.kind)


def hf_architecture(cfg: ModelConfig) -> str:
    """The transformers class name for ``cfg.model_type``."""
    return {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM",
            "olmo2": "Olmo2ForCausalLM"}[cfg.model_type]


def hf_config_dict(cfg: ModelConfig, base: dict | None = None) -> dict:
    """An HF config.json dict for ``cfg`` (fields of ``base`` that we don't model are kept)."""
    d = dict(base or {})
    for legacy in ("rope_scaling", "rope_parameters", "rope_theta"):
        d.pop(legacy, None)
    d.update(
        model_type=cfg.model_type, architectures=[hf_architecture(cfg)], vocab_size=cfg.vocab_size,
        hidden_size=cfg.hidden_size, intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_layers, num_attention_heads=cfg.num_heads,
        num_key_value_heads=cfg.num_kv_heads, head_dim=cfg.head_dim,
        max_position_embeddings=cfg.max_position_embeddings, rms_norm_eps=cfg.rms_norm_eps,
        tie_word_embeddings=cfg.tie_word_embeddings, hidden_act=cfg.hidden_act,
    )
    if cfg.model_type != "qwen2":
        d["attention_bias"] = cfg.qkv_bias
    if cfg.model_type == "llama":
        d["mlp_bias"] = cfg.mlp_bias
    # transformers 4.x reads rope_theta/rope_scaling, 5.x rope_parameters and also
    # accepts the legacy pair, so the legacy pair loads in both.
    d["rope_theta"] = cfg.rope_theta
    if cfg.rope_type != "default":
        d["rope_scaling"] = {"rope_type": cfg.rope_type, **cfg.rope_scaling_dict}
    return d
