"""Orbax checkpoints that survive a crash: async saves, keep-last-K, SIGTERM, exact resume.

A checkpoint holds the TrainState (params, optimizer state, update count, PRNG
key) and a JSON ``meta`` item (RL step, data positions of every host, metrics
of the step). Orbax writes each step to a temporary directory and renames it
when complete, so a save interrupted by a crash is never listed as a valid
step; restore takes the newest complete one. A save that would not fit on its
disk is refused before anything is written (one clear error instead of a flood
of storage tracebacks and a half-written step), so the newest complete step
stays the one to resume from.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import threading

import jax
import numpy as np
import orbax.checkpoint as ocp

from murphy_jax.train import distributed as dist

log = logging.getLogger(__name__)


class CheckpointSpaceError(OSError):
    """A checkpoint would not fit on its disk with the configured reserve left free."""


def state_bytes(tree) -> int:
    """Bytes this process writes when saving ``tree``: the replica-0 shards of its arrays it holds."""
    total = 0
    for leaf in jax.tree.leaves(tree):
        if isinstance(leaf, jax.Array):
            total += sum(s.data.nbytes for s in leaf.addressable_shards if s.replica_id == 0)
        else:
            total += np.asarray(leaf).nbytes
    return int(total)


class Checkpointer:
    """Wraps an orbax ``CheckpointManager`` for the trainer's state + meta."""

    def __init__(self, directory: str, *, keep: int, async_save: bool = True, min_free_gb: float = 0.0):
        if min_free_gb < 0:
            raise ValueError(f"checkpoint.min_free_gb must be >= 0, got {min_free_gb}")
        self.directory = os.path.abspath(directory)
        self.min_free_bytes = int(min_free_gb * 2**30)
        opts = ocp.CheckpointManagerOptions(max_to_keep=keep, enable_async_checkpointing=async_save,
                                            create=True)
        self.manager = ocp.CheckpointManager(self.directory, options=opts, item_names=("state", "meta"))

    def latest_step(self) -> int | None:
        """Newest complete checkpoint step, or None."""
        return self.manager.latest_step()

    def save(self, step: int, state, meta: dict, *, force: bool = False) -> bool:
        """Start saving (asynchronously when configured); returns whether a save was started.

        Raises ``CheckpointSpaceError`` on every host, before writing anything, when
        any host's checkpoint disk lacks room for its part of ``state`` plus
        ``min_free_gb``.
        """
        self.check_space(step, state)
        args = ocp.args.Composite(state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta))
        return bool(self.manager.save(step, args=args, force=force))

    def check_space(self, step: int, state) -> None:
        """Raise ``CheckpointSpaceError`` unless every host can write ``state`` and keep the reserve free."""
        self.manager.wait_until_finished()  # a pending save's bytes are not on disk yet (orbax waits anyway)
        need = state_bytes(state) + self.min_free_bytes
        free = shutil.disk_usage(self.directory).free
        # Every host must refuse together: one host entering orbax's save alone would hang the others.
        if dist.agree_max(int(free < need)):
            latest = self.latest_step()
            resume = (f"rerun the same command to resume from step {latest}" if latest is not None
                      else "no earlier checkpoint exists")
            reserve = self.min_free_bytes / 2**30
            raise CheckpointSpaceError(
                f"checkpoint step {step} not saved: {self.directory} needs {_gb(need)} "
                f"({_gb(need - self.min_free_bytes)} of state + checkpoint.min_free_gb={reserve:g}) "
                f"but {_gb(free)} are free on this host (or less on another); free some space or use a workdir "
                f"on a larger disk, then {resume}")

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


def _gb(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


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
    meta = param_metadata(step_dir)
    item = {"params": jax.tree.map(lambda v: jax.ShapeDtypeStruct(v.shape, v.dtype), meta)}
    args = {"params": jax.tree.map(lambda v: ocp.RestoreArgs(restore_type=np.ndarray), meta)}
    out = ocp.PyTreeCheckpointer().restore(os.path.join(step_dir, "state"), args=ocp.args.PyTreeRestore(
        item=item, restore_args=args, partial_restore=True))
    return out["params"]
