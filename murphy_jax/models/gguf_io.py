"""GGUF (llama.cpp) checkpoints as a tensor source with HF names, plus their config and tokenizer.

Quantised tensors are dequantised to float32 with the ``gguf`` package. llama.cpp
permutes the rows of q/k projections for its interleaved RoPE; we undo that so
the weights are in the HF (half-rotation) layout the decoder expects.
"""
from __future__ import annotations

import os
import re

import numpy as np

from murphy_jax.models.safetensors_io import WeightsError

_LAYER = {
    "attn_q.weight": "self_attn.q_proj.weight", "attn_k.weight": "self_attn.k_proj.weight",
    "attn_v.weight": "self_attn.v_proj.weight", "attn_output.weight": "self_attn.o_proj.weight",
    "attn_q.bias": "self_attn.q_proj.bias", "attn_k.bias": "self_attn.k_proj.bias",
    "attn_v.bias": "self_attn.v_proj.bias",
    "ffn_gate.weight": "mlp.gate_proj.weight", "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight", "attn_norm.weight": "input_layernorm.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
}
_GLOBAL = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
           "output.weight": "lm_head.weight"}
_SUPPORTED_ARCH = ("llama",)


def _reader(path: str):
    try:
        from gguf import GGUFReader
    except ImportError as e:  # pragma: no cover - gguf is a core dependency
        raise WeightsError("reading GGUF files needs the 'gguf' package") from e
    try:
        return GGUFReader(path)
    except Exception as e:  # the reader raises assorted errors on bad files
        raise WeightsError(f"{path}: not a readable GGUF file ({type(e).__name__}: {e})") from None


def _field(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    return f.contents()


def _unpermute(w: np.ndarray, n_head: int) -> np.ndarray:
    rows = w.shape[0]
    return w.reshape(n_head, rows // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


class GGUFSource:
    """Tensors of a GGUF file under HF names, dequantised on access; ``hf_config`` is the matching config dict."""

    def __init__(self, path: str):
        self.path = os.fspath(path)
        self._r = _reader(self.path)
        arch = _field(self._r, "general.architecture")
        if arch not in _SUPPORTED_ARCH:
            raise WeightsError(f"{self.path}: GGUF architecture {arch!r} is not supported "
                               f"(supported: {', '.join(_SUPPORTED_ARCH)})")
        self.hf_config = self._config(arch)
        self._tensors = {}
        for t in self._r.tensors:
            name = self._hf_name(t.name)
            if name is not None:
                self._tensors[name] = t

    def _config(self, arch: str) -> dict:
        g = lambda k, d=None: _field(self._r, f"{arch}.{k}", d)  # noqa: E731
        tokens = self._r.fields.get("tokenizer.ggml.tokens")
        heads = int(g("attention.head_count"))
        hidden = int(g("embedding_length"))
        cfg = {
            "model_type": "llama", "architectures": ["LlamaForCausalLM"],
            "hidden_size": hidden, "intermediate_size": int(g("feed_forward_length")),
            "num_hidden_layers": int(g("block_count")), "num_attention_heads": heads,
            "num_key_value_heads": int(g("attention.head_count_kv", heads)),
            "head_dim": int(g("rope.dimension_count", hidden // heads)),
            "max_position_embeddings": int(g("context_length", 2048)),
            "rms_norm_eps": float(g("attention.layer_norm_rms_epsilon", 1e-5)),
            "rope_theta": float(g("rope.freq_base", 10000.0)),
            "vocab_size": int(g("vocab_size", len(tokens.data) if tokens else 0)),
            "tie_word_embeddings": not any(t.name == "output.weight" for t in self._r.tensors),
            "hidden_act": "silu",
        }
        for key, hf_key in (("bos_token_id", "bos_token_id"), ("eos_token_id", "eos_token_id")):
            v = _field(self._r, f"tokenizer.ggml.{key}")
            if v is not None:
                cfg[hf_key] = int(v)
        scaling = _field(self._r, f"{arch}.rope.scaling.type")
        if scaling not in (None, "none"):
            raise WeightsError(f"{self.path}: GGUF rope scaling {scaling!r} is not supported")
        return cfg

    @staticmethod
    def _hf_name(name: str) -> str | None:
        if name in _GLOBAL:
            return _GLOBAL[name]
        m = re.fullmatch(r"blk\.(\d+)\.(.+)", name)
        if m and m.group(2) in _LAYER:
            return f"model.layers.{m.group(1)}.{_LAYER[m.group(2)]}"
        return None

    def names(self) -> list[str]:
        return list(self._tensors)

    def __contains__(self, name: str) -> bool:
        return name in self._tensors

    def shape(self, name: str) -> tuple[int, ...]:
        # GGUF lists dims fastest-first; numpy/HF order is the reverse.
        return tuple(int(s) for s in reversed(self._tensors[name].shape))

    def get(self, name: str) -> np.ndarray:
        """The dequantised float32 tensor in HF layout."""
        from gguf import quants

        t = self._tensors[name]
        w = quants.dequantize(t.data, t.tensor_type).astype(np.float32, copy=False)
        w = w.reshape(self.shape(name))
        if name.endswith("q_proj.weight") or name.endswith("q_proj.bias"):
            w = _unpermute(w, self.hf_config["num_attention_heads"])
        elif name.endswith("k_proj.weight") or name.endswith("k_proj.bias"):
            w = _unpermute(w, self.hf_config["num_key_value_heads"])
        return w


def gguf_tokenizer(path: str):
    """The HF fast tokenizer (with chat template) stored in a GGUF file's metadata."""
    from transformers import AutoTokenizer

    d, fn = os.path.split(os.path.abspath(path))
    return AutoTokenizer.from_pretrained(d, gguf_file=fn)
