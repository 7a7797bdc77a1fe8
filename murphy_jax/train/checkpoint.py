"""Orbax checkpoints that survive a crash: async saves, keep-last-K, SIGTERM, exact resume.

A checkpoint holds the TrainState (params, optimizer state, update count, PRNG
key) and a JSON ``meta`` item (RL step, data positions of every host, metrics
of the step). Orbax writes each step to a temporary directory and renames it
when complete, so a save interrupted by a crash is never listed as a valid
step; restore takes the newest complete one.
"""
from __future__ import annotations

import logging
import os
import signal
import threading

import jax
import orbax.checkpoint as ocp

log = logging.getLogger(__name__)


class Checkpointer:
    """Wraps an orbax ``CheckpointManager`` for the trainer's state + meta."""

    def __init__(self, directory: str, *, keep: int, async_save: bool = True):
        self.directory = os.path.abspath(directory)
        opts = ocp.CheckpointManagerOptions(max_to_keep=keep, enable_async_checkpointing=async_save,
                                            create=True)
        self.manager = ocp.CheckpointManager(self.directory, options=opts, item_names=("state", "meta"))

    def latest_step(self) -> int | None:
        """Newest complete checkpoint step, or None."""
        return self.manager.latest_step()

    def save(self, step: int, state, meta: dict, *, force: bool = False) -> bool:
        """Start saving (asynchronously when configured); returns whether a save was started."""
        args = ocp.args.Composite(state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta))
        return bool(self.manager.save(step, args=args, force=force))

    def restore(self, state_template, step: int | None = None):
        """(state, meta) of ``step`` (default newest), placed with ``state_template``'s shardings."""
        step = self.latest_step() if step is None else step
        abstract = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=x.sharding), state_template)
        out = self.manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract),
                                                                  meta=ocp.args.JsonRestore()))
        return out["state"], out["meta"]

    def wait(self) -> None:
        """Block until pending async saves are on disk."""
        self.manager.wait_until_finished()

    def close(self) -> None:
        self.manager.wait_until_finished()
        self.manager.close()


class PreemptionFlag:
    """Turns SIGTERM (how preemption arrives) into a flag the training loop checks between steps."""

    def __init__(self):
        self._event = threading.Event()
        self._previous = None

    def install(self) -> "PreemptionFlag":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        log.warning("SIGTERM received: finishing this step, saving a checkpoint, then exiting")
        self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def uninstall(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
            self._previous = None


def param_metadata(step_dir: str) -> dict:
    """The ``params`` subtree of a checkpoint's array metadata (shapes and dtypes; nothing is loaded)."""
    tree = ocp.PyTreeCheckpointer().metadata(os.path.join(step_dir, "state")).item_metadata.tree
    if not isinstance(tree, dict) or "params" not in tree:
        raise ValueError(f"{step_dir}: not a murphy_jax training checkpoint (no 'params' in its state)")
    return tree["params"]


def restore_params_numpy(step_dir: str) -> dict:
    """Only ``params`` of a checkpoint step directory, as host numpy arrays, whatever mesh wrote it.

    Reads the parameter tree's metadata first so the optimizer state is never
    loaded, and restores every array as numpy (no devices, no shardings).
    """
    import numpy as np

    meta = param_metadata(step_dir)
    item = {"params": jax.tree.map(lambda v: jax.ShapeDtypeStruct(v.shape, v.dtype), meta)}
    args = {"params": jax.tree.map(lambda v: ocp.RestoreArgs(restore_type=np.ndarray), meta)}
    out = ocp.PyTreeCheckpointer().restore(os.path.join(step_dir, "state"), args=ocp.args.PyTreeRestore(
        item=item, restore_args=args, partial_restore=True))
    return out["params"]
