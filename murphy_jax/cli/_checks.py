"""Cheap checks of a command's inputs, run before anything is written or any heavy work starts.

Each raises :class:`murphy_jax.errors.MurphyUserError` with one line naming the flag, the path and the cause.
"""
from __future__ import annotations

import os
import tempfile

from murphy_jax.errors import MurphyUserError, one_line


def check_writable_dir(path: str, flag: str) -> None:
    """Raise unless ``path`` is a writable directory or could be created as one; creates nothing that stays.

    Permission bits do not bind root, so the check writes (and at once removes) an unnamed file in the
    nearest existing ancestor instead of asking ``os.access``.
    """
    p = os.path.abspath(path)
    probe = p
    while not os.path.lexists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        what = "is not a directory" if probe == p else f"cannot be created: {probe} is not a directory"
        raise MurphyUserError(f"{flag} {path}: {what}")
    try:
        tempfile.TemporaryFile(dir=probe).close()
    except OSError as e:
        where = "" if probe == p else f" (its nearest existing parent {probe})"
        raise MurphyUserError(f"{flag} {path}: cannot write in this directory{where}: {e.strerror or e}") from None


def check_model_files(path: str, tokenizer_path: str | None = None, *, flag: str = "--model") -> None:
    """Raise unless ``path`` (a resolved local model) has a readable config and ``tokenizer_path`` a tokenizer.

    Reads the config and builds the tokenizer, loads no weights: what the real load would fail on first,
    reported as one line instead of a library's multi-line message.
    """
    from murphy_jax.models import load_config, load_tokenizer

    if os.path.isdir(path) and not os.listdir(path):
        raise MurphyUserError(f"{flag} {path}: the directory is empty; it holds no model "
                              "(expected config.json with safetensors weights, or one .gguf file)")
    load_config(path)  # ConfigError (a MurphyUserError) names the file and the field
    tok = tokenizer_path or path
    try:
        load_tokenizer(tok)
    except MurphyUserError:
        raise
    except Exception as e:  # transformers and tokenizers have many ways of saying there is no usable tokenizer
        raise MurphyUserError(f"{flag} {path}: cannot load the tokenizer from {tok} ({one_line(e)})") from None
