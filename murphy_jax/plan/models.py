"""The planner's view of ``model.path``: a ModelConfig without weights, offline where possible.

Planning must work on a laptop with no network and no checkpoint on disk, so
the models this project's experiment configs name are known presets: their
architecture numbers are copied from the published ``config.json`` of each
Hugging Face repository (values that matter for memory only: sizes, heads,
vocabulary, tied head). Everything else goes through the same resolution as
training: ``random:<variant>`` is built from the tiny variants, a local
directory or ``.gguf`` is read without loading weights (``load_config``), and
any other hub id has its ``config.json`` fetched, and nothing else.
"""
from __future__ import annotations

import os

import jax.numpy as jnp

from murphy_jax.models.config import ModelConfig

# Published config.json values (huggingface.co/<repo>/blob/main/config.json), trimmed to what the
# decoder reads. Instruct/base variants of one size share an architecture, hence the aliases.
_SMOLLM2_135M = dict(model_type="llama", vocab_size=49152, hidden_size=576, intermediate_size=1536,
                     num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3, tie_word_embeddings=True,
                     max_position_embeddings=8192, rope_theta=100000.0, rms_norm_eps=1e-5)
_QWEN3 = dict(model_type="qwen3", vocab_size=151936, head_dim=128, max_position_embeddings=40960,
              rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True)
_QWEN3_0P6B = dict(_QWEN3, hidden_size=1024, intermediate_size=3072, num_hidden_layers=28, num_attention_heads=16,
                   num_key_value_heads=8)
_QWEN3_1P7B = dict(_QWEN3, hidden_size=2048, intermediate_size=6144, num_hidden_layers=28, num_attention_heads=16,
                   num_key_value_heads=8)
_QWEN3_4B = dict(_QWEN3, hidden_size=2560, intermediate_size=9728, num_hidden_layers=36, num_attention_heads=32,
                 num_key_value_heads=8)
_OLMO2_7B = dict(model_type="olmo2", vocab_size=100352, hidden_size=4096, intermediate_size=11008,
                 num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32, tie_word_embeddings=False,
                 max_position_embeddings=4096, rope_theta=500000.0, rms_norm_eps=1e-6)

KNOWN_MODELS: dict[str, dict] = {
    "smollm2": _SMOLLM2_135M,
    "HuggingFaceTB/SmolLM2-135M-Instruct": _SMOLLM2_135M,
    "HuggingFaceTB/SmolLM2-135M": _SMOLLM2_135M,
    "Qwen/Qwen3-0.6B": _QWEN3_0P6B,
    "Qwen/Qwen3-0.6B-Base": _QWEN3_0P6B,
    "Qwen/Qwen3-1.7B": _QWEN3_1P7B,
    "Qwen/Qwen3-1.7B-Base": _QWEN3_1P7B,
    "Qwen/Qwen3-4B": _QWEN3_4B,
    "Qwen/Qwen3-4B-Base": _QWEN3_4B,
    "allenai/OLMo-2-1124-7B": _OLMO2_7B,
    "allenai/OLMo-2-1124-7B-SFT": _OLMO2_7B,
    "allenai/OLMo-2-1124-7B-DPO": _OLMO2_7B,
    "allenai/OLMo-2-1124-7B-Instruct": _OLMO2_7B,
}


def hf_config_for(path: str) -> tuple[dict | None, str]:
    """(HF config dict or None, where it came from) for ``model.path`` without touching the network.

    None means "not known offline": the caller falls back to ``load_config``.
    """
    if path.startswith("random:"):
        from murphy_jax.testing.tiny_hf import VARIANTS  # torch is imported lazily there, not needed here
        from murphy_jax.testing.tiny_tokenizer import VOCAB_SIZE

        variant = path.split(":", 1)[1]
        if variant not in VARIANTS:
            raise ValueError(f"model.path={path!r}: variant must be one of {sorted(VARIANTS)}")
        # Same dict murphy_jax.train.policy._random_model writes to config.json.
        hf = dict(VARIANTS[variant], vocab_size=VOCAB_SIZE, max_position_embeddings=4096)
        return {k: v for k, v in hf.items() if v is not None}, f"tiny random variant {variant!r}"
    local = os.path.expanduser(path)
    if path != "smollm2" and os.path.exists(local):
        return None, local  # a real directory/GGUF wins over a preset of the same name
    if path in KNOWN_MODELS:
        return dict(KNOWN_MODELS[path]), f"built-in preset of {path!r} (published config.json)"
    return None, path


def _hub_config(repo_id: str) -> dict:
    """config.json of a hub repository, and nothing else (never the weights)."""
    import json

    try:
        from huggingface_hub import hf_hub_download

        with open(hf_hub_download(repo_id, "config.json"), encoding="utf-8") as f:
            return json.load(f)
    except Exception as e:  # offline, unknown repo, auth: all mean the same to the caller
        raise ValueError(f"model.path={repo_id!r} is not a local path, not a built-in preset "
                         f"({', '.join(sorted(KNOWN_MODELS))}) and its config.json could not be fetched "
                         f"({type(e).__name__})") from None


def model_config(path: str, *, dtype: str = "bfloat16", param_dtype: str = "float32",
                 remat: str = "none") -> tuple[ModelConfig, str]:
    """(ModelConfig, source description) for ``model.path`` and the run's dtypes; never loads weights."""
    hf, source = hf_config_for(path)
    kw = dict(dtype=jnp.dtype(dtype), param_dtype=jnp.dtype(param_dtype), remat=remat)
    if hf is None and os.path.exists(os.path.expanduser(path)):
        from murphy_jax.models.api import load_config  # reads config.json or GGUF metadata only

        return load_config(os.path.expanduser(path), **kw), source
    if hf is None:
        hf, source = _hub_config(path), f"config.json of {path!r} from the HF hub"
    return ModelConfig.from_hf(hf, **kw), source
