"""Orbax checkpoints that survive a crash: async saves, keep-last-K, preemption (SIGTERM/SIGINT), exact resume.

A checkpoint holds the TrainState (params, optimizer state, update count, PRNG
key) and a JSON ``meta`` item (RL step, data positions of every host, metrics
of the step). Orbax writes each step to a temporary directory and renames it
when complete, so a save interrupted by a crash is never listed as a valid
step; restore takes the newest complete one. A save that would not fit on its
disk is refused before anything is written (one clear error instead of a flood
of storage tracebacks and a half-written step), so the newest complete step
stays the one to resume from.

A complete step can still be damaged afterwards (a truncated or deleted array
file, corrupt JSON metadata: a disk fault, a careless copy). ``restore_readable``
then falls back to the newest step that reads back, with one warning per bad
step, and moves the bad steps to ``<checkpoints>.unreadable/`` so that the run
can write those step numbers again; when no step reads back it raises
``CheckpointUnreadableError`` (one line naming the directory).
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import signal
import sys
import threading
import time
from typing import Callable

import jax
import numpy as np
import orbax.checkpoint as ocp

from murphy_jax.errors import EXIT_PREEMPTED
from murphy_jax.errors import MurphyUserError
from murphy_jax.train import distributed as dist

log = logging.getLogger(__name__)


class CheckpointSpaceError(MurphyUserError, OSError):
    """A checkpoint would not fit on its disk with the configured reserve left free."""


class CheckpointUnreadableError(MurphyUserError):
    """Checkpoints exist but none can be read back (truncated arrays, corrupt metadata).

    A user error (exit 2), not an infrastructure one: the machine works, rerunning
    cannot help, and only the user can decide what to do with the workdir (restore
    the checkpoints from a copy, or move them aside to start the run over).
    """


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

    def restore_readable(self, state_template, check_meta=None):
        """(state, meta, step) of the newest step that reads back, or None when there is no checkpoint.

        A step whose arrays or metadata cannot be read (or whose meta ``check_meta(meta, step)``
        rejects with an exception) is skipped with one warning naming the step and the cause,
        and moved to ``<directory>.unreadable/`` once an older step has been restored; every
        host falls back together. Raises ``CheckpointUnreadableError`` when no step is readable
        (nothing is moved then).
        """
        steps = sorted(self.manager.all_steps(), reverse=True)
        if not steps:
            return None
        bad: list[tuple[int, str]] = []
        for step in steps:
            reason = ""
            try:
                state, meta = self.restore(state_template, step)
                if check_meta is not None:
                    check_meta(meta, step)
            except Exception as e:  # any damage reads as some storage/JSON/key error; the cause is reported
                quiet_abandoned_reads()
                reason = unreadable_reason(os.path.join(self.directory, str(step)), e)
            # One host failing to read must send every host to the same older step.
            if not dist.agree_max(int(bool(reason))):
                _warn_orbax_metadata(os.path.join(self.directory, str(step)), step)
                if bad:
                    self._set_aside([s for s, _ in bad])
                return state, meta, step
            reason = reason or "unreadable on another host"
            bad.append((step, reason))
            older = f"falling back to step {steps[len(bad)]}" if len(bad) < len(steps) else "no older step left"
            log.warning("checkpoint step %d in %s is unreadable (%s); %s", step, self.directory, reason, older)
        newest, why = bad[0]
        raise CheckpointUnreadableError(
            f"no readable checkpoint in {self.directory}: all {len(bad)} step(s) are damaged (newest, step "
            f"{newest}: {why}); restore them from a copy, or move that directory aside to start the run over")

    def _set_aside(self, steps: list[int]) -> None:
        """Move unreadable steps out of orbax's view (kept for inspection) so their numbers can be saved again."""
        aside = self.directory + ".unreadable"
        if jax.process_index() == 0:
            os.makedirs(aside, exist_ok=True)
            for step in steps:
                target = os.path.join(aside, f"{step}.{time.strftime('%Y%m%dT%H%M%S')}")
                os.replace(os.path.join(self.directory, str(step)), target)
                log.warning("moved unreadable checkpoint step %d to %s", step, target)
        dist.agree_max(0)  # every host waits until the moves are done before orbax lists steps again
        self.manager.reload()

    def wait(self) -> None:
        """Block until pending async saves are on disk."""
        self.manager.wait_until_finished()

    def close(self) -> None:
        self.manager.wait_until_finished()
        self.manager.close()


def _gb(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


# JSON files every step directory has (relative paths); the array data files are binary and found by orbax.
_JSON_FILES = ("meta/metadata", "state/_METADATA")
# JSON files that only some orbax versions write: checked when present.
_OPTIONAL_JSON = ("state/_sharding", "state/array_metadatas")


def _json_fault(step_dir: str, name: str) -> str | None:
    path = os.path.join(step_dir, name)
    if not os.path.exists(path):
        return f"{name} is missing"
    try:
        with open(path, encoding="utf-8") as f:
            json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        return f"{name} is not valid JSON ({e})"
    return None


def unreadable_reason(step_dir: str, error: BaseException) -> str:
    """One line saying why ``step_dir`` could not be restored: the damaged file when it can be named, else the
    innermost storage error (orbax wraps TensorStore's precise message in a multi-page spec dump)."""
    names = list(_JSON_FILES)
    for name in _OPTIONAL_JSON:
        path = os.path.join(step_dir, name)
        if os.path.isdir(path):  # one file per process
            names += [f"{name}/{n}" for n in sorted(os.listdir(path))]
        elif os.path.exists(path):
            names.append(name)
    for name in names:
        fault = _json_fault(step_dir, name)
        if fault:
            return fault
    inner = error
    while inner.__cause__ is not None or inner.__context__ is not None:
        inner = inner.__cause__ or inner.__context__
    text = " ".join(str(inner).split())
    if not text or text.startswith("Encountered error while reading"):
        text = " ".join(str(error).split())
    text = text.replace(step_dir.rstrip("/") + "/", "")
    return f"{type(inner).__name__}: {text[:300]}"


def _abandoned_read(unraisable) -> bool:
    obj, exc = unraisable.object, unraisable.exc_value
    if getattr(obj, "cr_code", None) is not None and "orbax" in (obj.cr_code.co_filename or ""):
        return True  # a read orbax started for another array of the damaged step, never awaited
    return isinstance(exc, RuntimeError) and str(exc) == "Event loop is closed"


def quiet_abandoned_reads() -> None:
    """After a failed restore, drop the "Exception ignored" tracebacks of its abandoned async reads.

    Orbax reads all arrays concurrently; when one fails, the others' coroutines are garbage
    collected later (often at exit) and Python prints a page of traceback for each, burying the
    one-line report of what was damaged. Other unraisable exceptions still reach the previous hook.
    """
    previous = sys.unraisablehook
    if getattr(previous, "_murphy_quiet", False):
        return

    def hook(unraisable):
        if _abandoned_read(unraisable):
            log.debug("ignored an abandoned checkpoint read: %s", unraisable.exc_value)
            return
        previous(unraisable)

    hook._murphy_quiet = True
    sys.unraisablehook = hook


def _warn_orbax_metadata(step_dir: str, step: int) -> None:
    # Orbax keeps only timestamps there and tolerates a damaged copy, so the step stays usable: say so once.
    fault = _json_fault(step_dir, "_CHECKPOINT_METADATA")
    if fault and not fault.endswith("is missing"):
        log.warning("checkpoint step %d in %s: %s; it holds only save timestamps, so the step is used",
                    step, os.path.dirname(step_dir), fault)


class Preempted(SystemExit):
    """The run was asked to stop (SIGTERM/SIGINT) and abandoned the work in flight; exit status 75.

    A ``SystemExit`` so that ``except Exception`` handlers on the way up (executor
    retries, error reporting) let it through, and so that one nobody catches ends
    the process with ``EXIT_PREEMPTED``; ``str()`` is the one-line message.
    """

    def __init__(self, message: str = "preempted"):
        super().__init__(EXIT_PREEMPTED)
        self.message = message

    def __str__(self) -> str:
        return self.message


class PreemptionFlag:
    """SIGTERM/SIGINT -> a flag that the loops poll at safe points, plus a watchdog for the grace period.

    The handler only sets the flag (and arms the watchdog): the rollout polls
    ``check()`` between decode chunks and executor batches, the trainer between
    micro-batches and steps, and unwinds with :class:`Preempted`. If the process
    is still alive shortly before ``grace_s`` after the first signal (stuck in a
    long compiled call, or a save that does not fit), the watchdog prints
    ``on_timeout()`` and ends it with status 75 (``os._exit``): checkpoints
    are renamed into place only when complete, so the newest one on disk stays
    intact. A second signal exits at once the same way (Ctrl-C twice).
    After SIGTERM the watchdog stays armed past ``uninstall``: the process is
    going away, and the command's own wind-down (executor shutdown, reports)
    stays bounded too. After SIGINT it is disarmed, so an interrupted run in a
    notebook leaves the kernel alive.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, grace_s: float = 30.0, *, on_timeout: Callable[[], str] | None = None):
        if not grace_s > 0:
            raise ValueError(f"preemption grace period must be > 0 seconds, got {grace_s}")
        self.grace_s = float(grace_s)
        self.on_timeout = on_timeout
        self._event = threading.Event()
        self._previous: dict = {}
        self._signalled_at: float | None = None
        self.signum: int | None = None  # the first signal received
        self._watchdog: threading.Timer | None = None

    def install(self) -> "PreemptionFlag":
        """Take over SIGTERM and SIGINT (main thread only; elsewhere the flag can only be set by ``request``)."""
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        name = signal.Signals(signum).name
        if self._event.is_set():
            self._expire(f"second {name}")
            return
        log.warning("%s received: abandoning the work in flight; exiting within %gs", name, self.grace_s)
        self.signum = signum
        self.request()

    def request(self) -> None:
        """Set the flag and arm the watchdog (what the signal handler does)."""
        if self._event.is_set():
            return
        self._signalled_at = time.monotonic()
        self._event.set()
        # Leave a little of the grace period for the process teardown after the forced exit starts.
        self._watchdog = threading.Timer(self.grace_s - min(1.0, self.grace_s / 10), self._expire,
                                         args=(f"grace period of {self.grace_s:g}s ran out",))
        self._watchdog.daemon = True
        self._watchdog.start()

    def _expire(self, why: str) -> None:
        try:
            detail = self.on_timeout() if self.on_timeout is not None else "the work in flight is lost"
        except Exception as e:  # the exit must happen whatever the report costs
            detail = f"({type(e).__name__} while reporting)"
        try:
            sys.stdout.flush()
            sys.stderr.write(f"preempted ({why}): {detail}\n")
            sys.stderr.flush()
        finally:
            os._exit(EXIT_PREEMPTED)

    @property
    def requested(self) -> bool:
        """Whether a stop was requested."""
        return self._event.is_set()

    def seconds_left(self) -> float:
        """Seconds until the watchdog fires (the full grace period before any signal)."""
        if self._signalled_at is None:
            return self.grace_s
        return max(0.0, self.grace_s - (time.monotonic() - self._signalled_at))

    def check(self) -> None:
        """Raise :class:`Preempted` when a stop was requested (the host check of the loops)."""
        if self._event.is_set():
            raise Preempted()

    def skip_teardown(self) -> None:
        """After SIGTERM: end the process at interpreter exit with status 75 without the rest of the teardown.

        Call it once the preempted work is saved and the process is about to exit:
        freeing JAX's compiled programs and arrays at exit takes seconds (more on a
        loaded host), and the watchdog thread cannot run during the interpreter's
        final teardown, so this is what keeps the exit inside the grace period.
        """
        if self.signum == signal.SIGTERM:
            atexit.register(_exit_now)

    def uninstall(self) -> None:
        """Give the signals back; disarm the watchdog unless SIGTERM armed it (see the class doc)."""
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous = {}
        if self._watchdog is not None and self.signum != signal.SIGTERM:
            self._watchdog.cancel()
            self._watchdog = None


def _exit_now() -> None:
    # Registered last, so it runs first among the exit handlers: the others (and the final GC) are skipped.
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(EXIT_PREEMPTED)


def newest_complete_step(directory: str) -> int | None:
    """The newest checkpoint step renamed into place in ``directory`` (no orbax call: safe from any thread)."""
    try:
        steps = [int(n) for n in os.listdir(directory) if n.isdigit()]
    except OSError:
        return None
    return max(steps, default=None)


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
