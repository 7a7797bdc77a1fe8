"""GGUF (llama.cpp) checkpoints as a tensor source with HF names, plus their config and tokenizer.

Architectures: ``llama`` (SmolLM2, Llama) and ``qwen2`` (Qwen2/Qwen2.5, q/k/v biases). Every tensor
type gguf-py's ``gguf.quants.dequantize`` supports (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
Q2_K..Q6_K, the IQ and TQ types) is dequantised to float32 on access.

llama.cpp's converter permutes the rows of q/k projections of *llama*-architecture models (it
uses the interleaved RoPE there); we undo that so the weights are in the HF (half-rotation)
layout the decoder expects. It does not permute ``qwen2`` (whose GGUF uses the NeoX RoPE, the
HF layout already), nor does transformers' GGUF loader, so the Qwen2 rows are read as stored.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

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


@dataclass(frozen=True)
class _Arch:
    model_type: str
    hf_class: str
    permuted_qk: bool  # llama.cpp interleaved the q/k rows for its RoPE kernel
    default_eps: float
    extra: tuple = ()  # (key, value) pairs added to the HF config


_ARCHS = {
    "llama": _Arch("llama", "LlamaForCausalLM", True, 1e-5),
    "qwen2": _Arch("qwen2", "Qwen2ForCausalLM", False, 1e-6, (("use_sliding_window", False),)),
}


def supported_architectures() -> tuple[str, ...]:
    """GGUF ``general.architecture`` values this module reads."""
    return tuple(_ARCHS)


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


def dequantize(data: np.ndarray, qtype, *, what: str = "tensor") -> np.ndarray:
    """float32 values of a GGUF tensor's raw ``data`` of type ``qtype`` (gguf-py's dequantiser)."""
    from gguf import GGMLQuantizationType, quants

    try:
        return quants.dequantize(data, qtype).astype(np.float32, copy=False)
    except NotImplementedError:
        name = GGMLQuantizationType(qtype).name
        raise WeightsError(f"{what}: GGUF tensor type {name} cannot be dequantised by gguf-py "
                           f"(installed gguf {_gguf_version()})") from None


def _gguf_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gguf")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


class GGUFSource:
    """Tensors of a GGUF file under HF names, dequantised on access; ``hf_config`` is the matching config dict."""

    def __init__(self, path: str):
        self.path = os.fspath(path)
        self._r = _reader(self.path)
        arch = _field(self._r, "general.architecture")
        if arch not in _ARCHS:
            raise WeightsError(f"{self.path}: GGUF architecture {arch!r} is not supported "
                               f"(supported: {', '.join(_ARCHS)})")
        self.arch = _ARCHS[arch]
        self._tensors = {}
        for t in self._r.tensors:
            name = self._hf_name(t.name)
            if name is not None:
                self._tensors[name] = t
        self.hf_config = self._config(arch)

    def _config(self, arch: str) -> dict:
        g = lambda k, d=None: _field(self._r, f"{arch}.{k}", d)  # noqa: E731
        a = self.arch
        heads = int(g("attention.head_count"))
        hidden = int(g("embedding_length"))
        emb = self._tensors.get("model.embed_tokens.weight")
        if emb is not None:  # the embedding's rows: the size the weights have, whatever the token list says
            vocab = int(emb.shape[-1])
        else:
            tokens = self._r.fields.get("tokenizer.ggml.tokens")
            vocab = int(g("vocab_size", len(tokens.data) if tokens else 0))
        cfg = {
            "model_type": a.model_type, "architectures": [a.hf_class],
            "hidden_size": hidden, "intermediate_size": int(g("feed_forward_length")),
            "num_hidden_layers": int(g("block_count")), "num_attention_heads": heads,
            "num_key_value_heads": int(g("attention.head_count_kv", heads)),
            "head_dim": int(g("attention.key_length", g("rope.dimension_count", hidden // heads))),
            "max_position_embeddings": int(g("context_length", 2048)),
            # Stored as float32: 1e-6 reads back as 9.99999997e-07; keep the value the HF config had.
            "rms_norm_eps": float(str(np.float32(g("attention.layer_norm_rms_epsilon", a.default_eps)))),
            "rope_theta": float(g("rope.freq_base", 10000.0)),
            "vocab_size": vocab,
            "tie_word_embeddings": "lm_head.weight" not in self._tensors,
            "hidden_act": "silu",
            **dict(a.extra),
        }
        for key in ("bos_token_id", "eos_token_id", "padding_token_id"):
            v = _field(self._r, f"tokenizer.ggml.{key}")
            if v is not None:
                cfg[key.replace("padding", "pad")] = int(v)
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

    def tensor_type(self, name: str) -> str:
        """The GGUF storage type of one tensor (e.g. ``Q4_K``), by HF name."""
        return self._tensors[name].tensor_type.name

    def get(self, name: str) -> np.ndarray:
        """The dequantised float32 tensor in HF layout."""
        t = self._tensors[name]
        w = dequantize(t.data, t.tensor_type, what=f"{self.path}: {t.name}").reshape(self.shape(name))
        if self.arch.permuted_qk:
            if name.endswith(("q_proj.weight", "q_proj.bias")):
                w = _unpermute(w, self.hf_config["num_attention_heads"])
            elif name.endswith(("k_proj.weight", "k_proj.bias")):
                w = _unpermute(w, self.hf_config["num_key_value_heads"])
        return w


def gguf_tokenizer(path: str):
    """The HF fast tokenizer (with chat template) stored in a GGUF file's metadata."""
    from transformers import AutoTokenizer

    d, fn = os.path.split(os.path.abspath(path))
    return AutoTokenizer.from_pretrained(d, gguf_file=fn)
