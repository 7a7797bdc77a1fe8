"""Executor: the pool of sandboxed workers the rest of the project calls.

Workers are fresh interpreters started with ``subprocess`` (fork+exec in C, so the calling
process, typically the JAX trainer, is never forked into Python code). Each worker owns one
sandbox and runs one job at a time; one dispatcher thread per worker feeds it from a shared
queue, restarts it if it dies, and retries a job that failed for infrastructure reasons.
Infrastructure failures reach the caller as InfraError, never as a verdict.
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import itertools
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import weakref

from .config import LAYER_DOC, ExecutorConfig
from .layers import CANDIDATE_ENV, repo_root
from .result import ExecResult, InfraError
from .sandbox import wire
from ..data.task import CodeTask, TaskFormatError

log = logging.getLogger("murphy_jax.execution")
_BOOT = "import sys; sys.path.insert(0, sys.argv[3]); from murphy_jax.execution.worker import main; main()"


class _WorkerDied(Exception):
    pass


class _Worker:
    """Parent-side handle of one worker process."""

    def __init__(self, cfg: ExecutorConfig, python: str):
        self.cfg = cfg
        self.python = python
        self.proc = None
        self.layers: dict = {}

    def start(self) -> None:
        """Spawn the worker and wait until its sandbox is up."""
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        env = dict(CANDIDATE_ENV, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1",
                   TMPDIR=os.environ.get("TMPDIR", "/tmp"))
        self.proc = subprocess.Popen([self.python, "-I", "-c", _BOOT, str(to_r), str(from_w), repo_root()],
                                     pass_fds=(to_r, from_w), env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, close_fds=True, start_new_session=True)
        os.close(to_r)
        os.close(from_w)
        self.to_fd, self.reader = to_w, wire.FrameReader(from_r)
        try:
            wire.send(self.to_fd, {"config": self.cfg.to_dict(), "python": self.python})
            hello = self.reader.read(time.monotonic() + self.cfg.start_timeout_s)
        except (wire.WireError, OSError) as e:
            self.kill()
            raise InfraError(f"executor worker failed to start: {e}") from None
        if hello.get("error"):
            self.kill()
            raise InfraError(f"executor worker failed to start its sandbox: {hello['error']}")
        self.layers = hello["layers"]
        self.known: set = set()

    def run(self, job: dict, task_json: str) -> dict:
        """Send one job and wait for its reply (resending the task if the worker no longer has it)."""
        cfg = self.cfg
        deadline = time.monotonic() + cfg.program_timeout_s * cfg.wall_factor + cfg.wall_grace_s + 30.0
        try:
            with_task = job["key"] not in self.known
            for _ in range(2):
                wire.write_all(self.to_fd, _job_frame(job, task_json if with_task else None), deadline)
                reply = self.reader.read(deadline)
                if reply.get("op") != "need_task":
                    self.known.add(job["key"])
                    return reply
                with_task = True
            raise _WorkerDied("the worker kept asking for the task")
        except (wire.WireError, OSError) as e:
            raise _WorkerDied(str(e)) from None

    def kill(self) -> int | None:
        """Stop the worker (its sandbox dies with it); returns its exit status (negative: the signal)."""
        if self.proc is None:
            return None
        for fd in (getattr(self, "to_fd", None), getattr(getattr(self, "reader", None), "fd", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        code, self.proc = self.proc.returncode, None
        return code


class BatchFuture:
    """Results of ``submit_batch``: ``result()`` returns them in submission order."""

    def __init__(self, futures: list):
        self.futures = futures

    def done(self) -> bool:
        """True when every execution has finished."""
        return all(f.done() for f in self.futures)

    def result(self, timeout: float | None = None) -> list[ExecResult]:
        """Block until all are done; raises InfraError if any execution hit an infrastructure failure."""
        deadline = None if timeout is None else time.monotonic() + timeout
        return [f.result(None if deadline is None else max(0.0, deadline - time.monotonic())) for f in self.futures]


class Executor:
    """Sandboxed, tamper-proof test execution with a worker pool sized to the cores."""

    def __init__(self, config: ExecutorConfig | None = None, **overrides):
        if config is None:
            config = ExecutorConfig(**overrides)
        elif overrides:
            config = ExecutorConfig.from_dict({**config.to_dict(), **overrides})
        self.cfg = config
        self.python = config.python or sys.executable
        self._queue: queue.Queue = queue.Queue()
        self._closed = False
        self._ids = itertools.count()
        self._tasks: dict = {}
        self._tasks_lock = threading.Lock()
        self._retry_lock = threading.Lock()
        self._n_retries = 0
        self._workers = [_Worker(config, self.python) for _ in range(config.n_workers)]
        starters = [threading.Thread(target=self._start_one, args=(w,)) for w in self._workers]
        self._start_errors: list = []
        for t in starters:
            t.start()
        for t in starters:
            t.join()
        if self._start_errors:
            self._shutdown()
            raise self._start_errors[0]
        self.layers = dict(self._workers[0].layers)
        self._check_layers()
        self._threads = [threading.Thread(target=self._dispatch, args=(w,), daemon=True,
                                          name=f"murphy-exec-{i}") for i, w in enumerate(self._workers)]
        for t in self._threads:
            t.start()
        self._finalizer = weakref.finalize(self, _shutdown_workers, self._queue, self._workers, self._threads)
        if config.canary:
            self._canary()
        log.info("executor: %d workers; isolation layers: %s", len(self._workers),
                 ", ".join(f"{k}={v}" for k, v in self.layers.items()))

    # -- start-up ---------------------------------------------------------------------------------
    def _start_one(self, worker: _Worker) -> None:
        try:
            worker.start()
        except Exception as e:
            self._start_errors.append(e if isinstance(e, InfraError) else InfraError(str(e)))

    def _check_layers(self) -> None:
        missing = {k: v for k, v in self.layers.items() if k in self.cfg.require_layers and v != "active"}
        if not missing:
            return
        detail = "; ".join(f"{k} ({LAYER_DOC[k]}): {v}" for k, v in missing.items())
        if not self.cfg.allow_degraded:
            self._shutdown()
            raise InfraError(f"required isolation layer(s) unavailable: {detail}. Set executor.allow_degraded=True "
                             "to run without them, or executor.disable_layers to stop requiring them.")
        log.warning("executor running DEGRADED, without: %s", detail)

    def _canary(self) -> None:
        from .canary import canary_cases
        cases = canary_cases()
        results = self.run_batch([c[0] for c in cases], [c[1] for c in cases])
        for (program, task, want), got in zip(cases, results):
            if got.status != want:
                self.close()
                raise InfraError(f"executor canary failed: {task.task_id} should be {want}, got {got.status} "
                                 f"({got.message or [o.message for o in got.outcomes]})")

    # -- public API ---------------------------------------------------------------------------------
    def submit(self, program, task: CodeTask) -> concurrent.futures.Future:
        """Queue one execution; the future's result is an ExecResult (or it raises InfraError)."""
        return self.submit_batch([program], [task]).futures[0]

    def submit_batch(self, programs, tasks) -> BatchFuture:
        """Queue executions without blocking; ``.result()`` gives ExecResults in order."""
        if self._closed:
            raise RuntimeError("the executor is closed")
        programs, tasks = list(programs), list(tasks)
        if len(programs) != len(tasks):
            raise ValueError(f"{len(programs)} programs but {len(tasks)} tasks")
        prepared = [self._prepare(t) for t in tasks]  # bad tasks raise here, before anything is queued
        futures = []
        for program, task, (key, task_json) in zip(programs, tasks, prepared):
            fut: concurrent.futures.Future = concurrent.futures.Future()
            source, early = self._source(program, task)
            if early is not None:
                fut.set_result(early)
            else:
                self._queue.put((source, task, key, task_json, fut))
            futures.append(fut)
        return BatchFuture(futures)

    def run(self, program, task: CodeTask) -> ExecResult:
        """Run one program against the task's public and private tests."""
        return self.submit(program, task).result()

    def run_batch(self, programs, tasks) -> list[ExecResult]:
        """Run many programs (concurrently, up to the worker count); results in order."""
        return self.submit_batch(programs, tasks).result()

    @property
    def infra_retries(self) -> int:
        """Jobs re-run so far because of an infrastructure failure (a worker or sandbox that died, a failed restart)."""
        return self._n_retries

    def no_code(self, task: CodeTask) -> ExecResult:
        """The result for a response without code (zero reward; feedback says so)."""
        return ExecResult.no_code(task, reward_tests=self.cfg.reward_tests, reward_kind=self.cfg.reward_kind)

    def close(self) -> None:
        """Stop the workers (idempotent)."""
        if not self._closed:
            self._closed = True
            self._finalizer()

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------------
    def _prepare(self, task) -> tuple[str, str]:
        """Validate a task once and cache its wire form, keyed by the object's identity."""
        if not isinstance(task, CodeTask):
            raise TypeError(f"expected a CodeTask, got {type(task).__name__}")
        with self._tasks_lock:
            hit = self._tasks.get(id(task))
            if hit is not None and hit[0]() is task:
                return hit[1], hit[2]
        task.validate()  # test code that does not compile is reported by the worker (TaskFormatError from the future)
        task_json = json.dumps(task.to_dict())  # ASCII (escapes everything else), so it splices into frames
        key = hashlib.sha1(task_json.encode("ascii")).hexdigest()
        with self._tasks_lock:
            if len(self._tasks) > 10_000:
                self._tasks = {k: v for k, v in self._tasks.items() if v[0]() is not None}
            self._tasks[id(task)] = (weakref.ref(task), key, task_json)
        return key, task_json

    def _source(self, program, task):
        """The program as text, or an immediate syntax_error result for bytes that are not UTF-8."""
        if isinstance(program, (bytes, bytearray)):
            try:
                program = bytes(program).decode("utf-8")
            except UnicodeDecodeError as e:
                return None, self._program_error(task, f"the source is not valid UTF-8 ({e})")
        if not isinstance(program, str):
            raise TypeError(f"a program must be str or bytes, got {type(program).__name__}")
        return program, None

    def _program_error(self, task: CodeTask, message: str) -> ExecResult:
        from .result import TestOutcome, describe_test
        outcomes = tuple(TestOutcome(index=i, public=i < len(task.public_tests), kind=t.kind, name=describe_test(t),
                                     status="syntax_error", message="syntax error")
                         for i, t in enumerate(task.all_tests))
        return ExecResult(status="syntax_error", outcomes=outcomes, task_id=task.task_id, message=message,
                          reward_tests=self.cfg.reward_tests, reward_kind=self.cfg.reward_kind)

    def _dispatch(self, worker: _Worker) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            source, task, key, task_json, fut = item
            if not fut.set_running_or_notify_cancel():
                continue
            job = {"op": "run", "id": next(self._ids), "program": source, "key": key}
            error, attempts = None, self.cfg.job_retries + 1
            for attempt in range(attempts):
                if attempt:
                    with self._retry_lock:  # one counter shared by the dispatcher threads
                        self._n_retries += 1
                    log.warning("executor infrastructure failure on %s (re-running it, attempt %d of %d): %s",
                                task.task_id, attempt + 1, attempts, error)
                try:
                    if worker.proc is None:
                        worker.start()
                        self._check_restarted(worker)
                    reply = worker.run(job, task_json)
                except (_WorkerDied, InfraError) as e:
                    code = worker.kill()
                    error = f"worker failed ({e}); it {_exit_text(code)}" if isinstance(e, _WorkerDied) else str(e)
                    continue
                if reply.get("op") == "result":
                    error = None
                    fut.set_result(ExecResult.from_dict(reply["result"]))
                    break
                if reply.get("op") == "task_error":
                    error = None
                    fut.set_exception(TaskFormatError(reply["error"]))
                    break
                error = reply.get("error", "unknown infrastructure failure")
            if error is not None:
                fut.set_exception(InfraError(f"{task.task_id}: the executor failed {attempts} time(s) on this "
                                             f"program (executor.job_retries={self.cfg.job_retries}); last: {error}"))

    def _check_restarted(self, worker: _Worker) -> None:
        """A replacement worker must have every layer the executor started with (it was checked only then)."""
        lost = {k: v for k, v in worker.layers.items() if self.layers.get(k) == "active" and v != "active"}
        if lost:
            worker.kill()
            raise InfraError("a restarted worker lacks isolation layer(s) the executor started with: " +
                             "; ".join(f"{k}: {v}" for k, v in lost.items()))

    def _shutdown(self) -> None:
        for w in self._workers:
            w.kill()


def _exit_text(code: int | None) -> str:
    """How a worker process ended, for error messages."""
    if code is None:
        return "was not running"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def _job_frame(job: dict, task_json: str | None) -> bytes:
    """The job as a frame, with the task's cached JSON spliced in rather than encoded again."""
    head = wire.dumps(job)[wire.HEADER.size:-1]  # the job object without its closing brace
    body = head + (b',"task":' + task_json.encode("ascii") + b"}" if task_json is not None else b',"task":null}')
    return wire.frame(body)


def _shutdown_workers(q: queue.Queue, workers: list, threads: list) -> None:
    """Let the dispatchers finish what is queued, then stop the workers."""
    for _ in threads:
        q.put(None)
    for t in threads:
        if t is not threading.current_thread():
            t.join(timeout=60)
    for w in workers:
        if w.proc is not None:
            try:
                wire.send(w.to_fd, {"op": "exit"}, time.monotonic() + 1.0)
            except (wire.WireError, OSError):
                pass
    for w in workers:
        w.kill()
