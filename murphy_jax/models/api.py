"""``from_pretrained`` / ``load_tokenizer``: one entry point for HF directories, GGUF files and hub repo ids."""
from __future__ import annotations

import json
import os

import jax.numpy as jnp
from jax.sharding import Mesh

from murphy_jax.errors import MurphyUserError
from murphy_jax.models.config import ConfigError, ModelConfig
from murphy_jax.models.decoder import Decoder, abstract_decoder
from murphy_jax.models.gguf_io import GGUFSource, gguf_tokenizer
from murphy_jax.models.safetensors_io import SafetensorsDir, WeightsError
from murphy_jax.models.sharding import DEFAULT_RULES, param_shardings
from murphy_jax.models.weights import build_model, load_params

_HUB_PATTERNS = ["*.json", "*.safetensors", "tokenizer*", "*.model", "*.txt", "*.jinja"]


class ModelNotFoundError(MurphyUserError, FileNotFoundError):
    """Neither a local path nor a hub repo that could be fetched."""


def resolve(path_or_repo_id: str) -> str:
    """A local directory or .gguf file for ``path_or_repo_id``, downloading from the HF hub if needed."""
    p = os.path.expanduser(os.fspath(path_or_repo_id))
    if os.path.exists(p):
        return p
    looks_like_repo = p.count("/") == 1 and not p.startswith((".", "/")) and not p.endswith(".gguf")
    if not looks_like_repo:
        raise ModelNotFoundError(f"model path {p!r} does not exist")
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(p, allow_patterns=_HUB_PATTERNS)
    except Exception as e:  # offline, unknown repo, auth: all mean the same to the caller
        raise ModelNotFoundError(f"model {p!r} is not a local path and could not be fetched from the HF hub "
                                 f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None


def _gguf_in(path: str) -> str | None:
    if path.endswith(".gguf") and os.path.isfile(path):
        return path
    if os.path.isdir(path) and not os.path.exists(os.path.join(path, "config.json")):
        found = sorted(f for f in os.listdir(path) if f.endswith(".gguf"))
        if len(found) == 1:
            return os.path.join(path, found[0])
    return None


def load_config(path_or_repo_id: str, *, dtype=None, param_dtype=None, **overrides) -> ModelConfig:
    """The ModelConfig of a checkpoint without loading its weights."""
    path = resolve(path_or_repo_id)
    gguf = _gguf_in(path)
    hf = GGUFSource(gguf).hf_config if gguf else _read_json(os.path.join(path, "config.json"))
    return _make_config(hf, dtype, param_dtype, overrides)


def _read_json(path: str) -> dict:
    if not os.path.exists(path):
        raise ConfigError(f"{os.path.dirname(path)}: not a model directory (no config.json and no single .gguf)")
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path}: invalid JSON ({e})") from None


def _make_config(hf: dict, dtype, param_dtype, overrides) -> ModelConfig:
    dt = jnp.dtype(dtype) if dtype is not None else jnp.bfloat16
    pdt = jnp.dtype(param_dtype) if param_dtype is not None else dt
    return ModelConfig.from_hf(hf, dtype=dt, param_dtype=pdt, **overrides)


def from_pretrained(path_or_repo_id: str, *, dtype=None, mesh: Mesh | None = None, param_dtype=None,
                    rules=DEFAULT_RULES, **config_overrides) -> Decoder:
    """Load a Decoder from an HF directory, a GGUF file or a hub repo id.

    ``dtype`` sets compute and parameter dtype (default bfloat16; pass
    ``jnp.float32`` for parity checks); ``param_dtype`` overrides the storage
    dtype alone. With ``mesh``, every parameter is streamed straight into its
    sharding under ``rules``.
    """
    path = resolve(path_or_repo_id)
    gguf = _gguf_in(path)
    if gguf:
        source = GGUFSource(gguf)
        hf = source.hf_config
    else:
        hf = _read_json(os.path.join(path, "config.json"))
        source = SafetensorsDir(path)
    cfg = _make_config(hf, dtype, param_dtype, config_overrides)
    shardings = param_shardings(abstract_decoder(cfg), mesh, rules) if mesh is not None else None
    model = build_model(cfg, load_params(cfg, source, shardings, where=gguf or path))
    # Kept as a JSON string (a static attribute) so export can preserve fields we don't model.
    model.hf_config_json = json.dumps(hf, sort_keys=True)
    return model


def load_tokenizer(path_or_repo_id: str):
    """The HF tokenizer of a checkpoint: from ``tokenizer.json`` in a directory or from GGUF metadata."""
    from transformers import AutoTokenizer

    path = resolve(path_or_repo_id)
    gguf = _gguf_in(path)
    if gguf:
        return gguf_tokenizer(gguf)
    if not os.path.isdir(path):
        raise WeightsError(f"{path}: expected a model directory or a .gguf file")
    return AutoTokenizer.from_pretrained(path)
