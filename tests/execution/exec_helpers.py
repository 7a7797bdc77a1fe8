"""Helpers for executor tests: real executors with small limits, task builders, host-side checks."""
from __future__ import annotations

import os

import pytest

from murphy_jax.data.task import CodeTask, TestCase
from murphy_jax.execution import Executor, ExecutorConfig, InfraError

# Small limits keep misbehaving programs cheap: 1 s of CPU per test, 2.5 s wall backstop.
SMALL = dict(test_timeout_s=1.0, wall_factor=2.0, wall_grace_s=0.5, program_timeout_s=8.0, memory_mb=256,
             output_limit_bytes=100_000, file_size_mb=4, scratch_mb=16, max_processes=16)


def start_executor(**overrides) -> Executor:
    """An executor with every isolation layer required; skips the test where the machine cannot provide them."""
    try:
        return Executor(ExecutorConfig(**{**SMALL, **overrides}))
    except InfraError as e:
        if "unavailable" in str(e):
            pytest.skip(f"isolation layers unavailable on this machine: {e}")
        raise


def task(*tests, private=(), **kw) -> CodeTask:
    """A CodeTask from TestCase objects or assert strings (entry point ``f`` unless given)."""
    def as_test(t):
        return t if isinstance(t, TestCase) else TestCase(kind="assert", code=t)
    kw.setdefault("entry_point", "f")
    kw.setdefault("task_id", "t")
    kw.setdefault("prompt", "write f")
    return CodeTask(public_tests=tuple(as_test(t) for t in tests), private_tests=tuple(as_test(t) for t in private),
                    **kw)


def descendants(pid: int) -> set[int]:
    """All live descendants of a process (host view)."""
    out, stack = set(), [pid]
    while stack:
        p = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    kids = {int(x) for x in f.read().split()}
            except OSError:
                kids = set()
            out |= kids
            stack.extend(kids)
    return out


def zygotes(executor: Executor) -> list[int]:
    """Host pids of the executor's sandbox zygotes (the workers' boot.py children)."""
    out = []
    for w in executor._workers:
        if w.proc is None:
            continue
        for pid in descendants(w.proc.pid):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"boot.py" in f.read():
                        out.append(pid)
            except OSError:
                pass
    return out


class HostWatch:
    """What the host looks like around runs: the sandbox's processes and its scratch space."""

    def __init__(self, executor: Executor):
        self.ex = executor
        self.baseline = self.snapshot()

    def snapshot(self) -> dict:
        # Every process of a run lives in the sandbox's PID namespace, so it descends from a worker
        # (children of the zygote, orphans adopted by the namespace's init).
        workers = [w.proc.pid for w in self.ex._workers if w.proc is not None]
        procs = set().union(*(descendants(p) for p in workers)) if workers else set()
        scratch = set()
        for z in zygotes(self.ex):
            try:  # the sandbox's /tmp, seen from the host through the zygote's root
                scratch |= {f"{z}:{e}" for e in os.listdir(f"/proc/{z}/root/tmp")}
            except OSError:
                pass
        return {"procs": procs, "scratch": scratch}

    def leftovers(self) -> dict:
        """Processes and scratch entries that were not there when the executor was idle at the start."""
        now = self.snapshot()
        return {k: sorted(now[k] - self.baseline[k]) for k in now if now[k] - self.baseline[k]}
