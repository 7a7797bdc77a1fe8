"""The bundled task set: several hundred small Python function-writing problems written for this project.

    from murphy_jax.data.bundled import load_bundled
    train = load_bundled("train")      # ~80%, for training
    heldout = load_bundled("heldout")  # ~20%, for evaluation
    everything = load_bundled("all")   # train followed by heldout

The tasks live in ``train.jsonl`` and ``heldout.jsonl`` next to this file,
generated from the hand-written catalogue in ``catalog/`` by
``python -m murphy_jax.data.bundled.build`` (see ``docs/bundled_tasks.md``).
Loading reads only those files; it never imports or runs the catalogue.
"""
from __future__ import annotations

from pathlib import Path

from murphy_jax.data.task import CodeTask, read_jsonl

SPLITS = ("train", "heldout", "all")
DATA_DIR = Path(__file__).resolve().parent


def split_path(split: str) -> Path:
    """Path of the JSONL file for ``train`` or ``heldout``."""
    if split not in ("train", "heldout"):
        raise ValueError(f"bundled split {split!r} has no file of its own; use 'train' or 'heldout'")
    return DATA_DIR / f"{split}.jsonl"


def load_bundled(split: str) -> list[CodeTask]:
    """Load the bundled tasks of ``split`` (``train``, ``heldout`` or ``all``) as fresh CodeTask objects."""
    if split not in SPLITS:
        raise ValueError(f"unknown bundled split {split!r}; choose one of {SPLITS}")
    names = ("train", "heldout") if split == "all" else (split,)
    tasks: list[CodeTask] = []
    for name in names:
        path = split_path(name)
        if not path.exists():
            raise FileNotFoundError(
                f"{path} is missing; regenerate it with `python -m murphy_jax.data.bundled.build`")
        tasks.extend(read_jsonl(path))
    return tasks


__all__ = ["SPLITS", "load_bundled", "split_path"]
