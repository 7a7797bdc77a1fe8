"""A worker: a fresh interpreter (started by the executor, never forked from it) that owns one sandbox.

It receives jobs on a pipe, one at a time, and judges each one: inline for assert, call and
stdio tasks (test code runs in fresh namespaces; the builtins, std streams and working
directory it may touch are restored afterwards, and an alarm stops runaway test code at the
program deadline), in a forked judge for pytest tasks (pytest keeps global state), or always
forked with ``judge_fork="always"``. Whatever happens to the judge, the worker assembles a
complete ExecResult or reports an infrastructure failure, and always has the sandbox kill and
wipe what the run left behind before it answers.
"""
from __future__ import annotations

import builtins
import collections
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback

from .candidate import Fault, InfraFault
from .config import ExecutorConfig
from .judge import Judge
from .layers import start_sandbox
from .result import describe_test, overall_status
from .sandbox import wire
from .testcode import Compiled, compile_task
from .zygote_client import ZygoteError
from ..data.task import CodeTask

TASK_CACHE = 512
KILL_GRACE_S = 5.0


class Worker:
    """The job loop."""

    def __init__(self, fd_in: int, fd_out: int):
        self.fd_in = fd_in
        self.fd_out = fd_out
        first = wire.recv_blocking(fd_in)
        self.cfg = ExecutorConfig.from_dict(first["config"])
        self.python = first["python"]
        sweep_stale_dirs(tempfile.gettempdir())
        # The pid in the names lets a later worker remove what a SIGKILLed one could not (sweep_stale_dirs).
        self.scratch = tempfile.mkdtemp(prefix=f"murphy-sandbox-{os.getpid()}-")
        self.workdir = tempfile.mkdtemp(prefix=f"murphy-judge-{os.getpid()}-")
        with open(os.path.join(self.workdir, "pytest.ini"), "w") as f:
            f.write("[pytest]\n")
        # Test code runs with this as its working directory (its files never reach the candidate, whose
        # scratch lives in the sandbox); it is emptied after every job.
        self.jobdir = os.path.join(self.workdir, "job")
        os.mkdir(self.jobdir)
        if os.geteuid() == 0:
            os.chown(self.scratch, self.cfg.sandbox_uid, self.cfg.sandbox_uid)
        self.tasks: collections.OrderedDict = collections.OrderedDict()
        self.zyg = None
        self.layers = {}

    def start_zygote(self) -> None:
        """(Re)start the sandbox with the layers that work here; a restart must get the same layers as the start."""
        if self.zyg is not None:
            self.zyg.close()
            self.zyg = None
        zyg, layers = start_sandbox(self.cfg, self.scratch, self.python)
        if self.layers and layers != self.layers:
            # The executor checked the layers once, at start-up: a sandbox that comes back with fewer
            # (the host changed under us) must not run candidates silently degraded.
            zyg.close()
            lost = ", ".join(f"{k}: {v}" for k, v in layers.items() if v != self.layers.get(k))
            raise ZygoteError(f"the sandbox restarted with different isolation layers ({lost})")
        self.zyg, self.layers = zyg, layers

    def serve(self) -> None:
        """Answer jobs until the executor hangs up."""
        try:
            self.start_zygote()
        except Exception as e:
            wire.send(self.fd_out, {"op": "hello", "error": f"{type(e).__name__}: {e}"})
            return
        wire.send(self.fd_out, {"op": "hello", "layers": self.layers, "pid": os.getpid()})
        while True:
            try:
                job = wire.recv_blocking(self.fd_in)
            except (wire.WireError, OSError):
                return
            if job.get("op") == "exit":
                return
            wire.send(self.fd_out, self.handle(job))

    def handle(self, job: dict) -> dict:
        """One job -> one reply (result, need_task or infra)."""
        key = job["key"]
        entry = self.tasks.get(key)
        if entry is None:
            if job.get("task") is None:
                return {"op": "need_task", "id": job["id"]}
            task = CodeTask.from_dict(job["task"])
            entry = (task, compile_task(task))
            if entry[1].error:
                return {"op": "task_error", "id": job["id"], "error": f"task {task.task_id!r}: {entry[1].error}"}
            self.tasks[key] = entry
            if len(self.tasks) > TASK_CACHE:
                self.tasks.popitem(last=False)
        self.tasks.move_to_end(key)
        task, compiled = entry
        if any(t.kind == "pytest" for t in task.all_tests) and "pytest" not in sys.modules:
            import pytest  # noqa: F401  (once per worker; every later judge inherits it)
        try:
            if self.zyg is None or not self.zyg.alive():
                self.start_zygote()
            result = self.judge(job, task, compiled)
        except (ZygoteError, _JudgeCrashed, OSError) as e:
            self.recover()
            return {"op": "infra", "id": job["id"], "error": str(e)}
        return {"op": "result", "id": job["id"], "result": result}

    def recover(self) -> None:
        """After an infrastructure failure: make sure the next job gets a clean sandbox."""
        try:
            self.start_zygote()
        except Exception:
            self.zyg = None

    def judge(self, job: dict, task: CodeTask, compiled: Compiled) -> dict:
        """Judge one job (inline, or in a forked judge for pytest tasks), clean the sandbox, assemble the result."""
        t0 = time.monotonic()
        fork = self.cfg.judge_fork == "always" or any(t.kind == "pytest" for t in task.all_tests)
        try:
            outcomes, done, infra, timed_out = (self._forked if fork else self._inline)(job, task, compiled)
        finally:
            _empty(self.jobdir)
        if fork or infra is not None or timed_out:
            self.zyg.cleanup()  # candidates we did not start ourselves, or a judge that did not finish
        else:
            self.zyg.settle()
        if infra is not None:
            raise _JudgeCrashed(infra)
        if done is None and not timed_out:
            raise _JudgeCrashed("the judge ended without a verdict")
        return self.assemble(task, outcomes, done or {}, timed_out, time.monotonic() - t0)

    def _deadline_s(self) -> float:
        cfg = self.cfg
        return cfg.program_timeout_s * cfg.wall_factor + cfg.wall_grace_s + KILL_GRACE_S

    def _inline(self, job, task, compiled):
        """Run the judge in this process: no fork, test code in fresh namespaces, global state restored after."""
        messages: list = []
        saved = (sys.stdout, sys.stderr, dict(builtins.__dict__), os.getcwd())
        sys.stdout = sys.stderr = _NULL
        os.chdir(self.jobdir)
        previous = signal.signal(signal.SIGALRM, _budget_exhausted)
        signal.setitimer(signal.ITIMER_REAL, self._deadline_s())
        infra, timed_out = None, False
        try:
            judge = Judge(job, task, compiled, self.zyg, self.cfg, messages.append, self.workdir)
            try:
                if compiled.error:
                    judge.fill(0, "failed", compiled.error)
                    judge.emit({"op": "done", "program_status": None, "message": compiled.error})
                else:
                    judge.run()
            finally:
                judge.close()
        except InfraFault as e:
            infra = str(e)
        except Fault:  # the alarm fired outside any test (runaway trusted code): the budget ran out
            timed_out = True
        except Exception:
            infra = traceback.format_exc()[-4000:]
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            sys.stdout, sys.stderr = saved[0], saved[1]
            builtins.__dict__.clear()
            builtins.__dict__.update(saved[2])
            os.chdir(saved[3])
        return _collect(messages) + (infra, timed_out)

    def _forked(self, job, task, compiled):
        """Run the judge in a child process (fresh state for pytest, killable at the deadline)."""
        t0 = time.monotonic()
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            _judge_child(job, task, compiled, self, w)
        os.close(w)
        reader = wire.FrameReader(r, 64 << 20)
        messages, timed_out = [], False
        try:
            while True:
                try:
                    messages.append(reader.read(t0 + self._deadline_s()))
                except wire.WireError:
                    timed_out = not reader.eof
                    break
        finally:
            if timed_out:
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(r)
        outcomes, done = _collect(messages)
        infra = next((m.get("error") for m in messages if m.get("op") == "infra"), None)
        return outcomes, done, infra, timed_out

    def assemble(self, task: CodeTask, outcomes: dict, done: dict, timed_out: bool, wall: float) -> dict:
        """The ExecResult (as a dict) from the streamed verdicts; tests without one failed by timeout."""
        full = []
        for i, t in enumerate(task.all_tests):
            o = outcomes.get(i)
            if o is None:
                o = {"index": i, "public": i < len(task.public_tests), "kind": t.kind, "name": describe_test(t),
                     "status": "timeout", "message": "no verdict before the program's time budget ran out"}
            full.append(o)
        status = overall_status([_Status(o["status"]) for o in full], done.get("program_status"))
        message = done.get("message", "") if not timed_out else "The program ran out of its total time budget."
        return {"status": status, "outcomes": full, "task_id": task.task_id, "message": message,
                "stdout": done.get("stdout", ""), "stderr": done.get("stderr", ""), "wall_s": round(wall, 6),
                "reward_tests": self.cfg.reward_tests, "reward_kind": self.cfg.reward_kind, "meta": {}}

    def close(self) -> None:
        """Stop the sandbox and remove the worker's directories."""
        if self.zyg is not None:
            self.zyg.close()
        shutil.rmtree(self.scratch, ignore_errors=True)
        shutil.rmtree(self.workdir, ignore_errors=True)


def sweep_stale_dirs(tmp: str) -> list[str]:
    """Remove the sandbox and judge directories of workers that no longer run (killed before their cleanup).

    Returns the removed paths. A directory is left alone unless the pid in its name is
    gone, so workers of other executors on the machine keep theirs.
    """
    removed = []
    try:
        names = os.listdir(tmp)
    except OSError:
        return removed
    for name in names:
        prefix, _, rest = name.partition("-")
        kind, _, rest = rest.partition("-")
        pid = rest.partition("-")[0]
        if prefix != "murphy" or kind not in ("sandbox", "judge") or not pid.isdigit():
            continue
        if _pid_alive(int(pid)):
            continue
        path = os.path.join(tmp, name)
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True  # another user's process
    return True


class _JudgeCrashed(RuntimeError):
    pass


class _Status:
    """Just enough of a TestOutcome for overall_status."""

    __slots__ = ("status",)

    def __init__(self, status: str):
        self.status = status


class _NullWriter:
    """sys.stdout/stderr while an inline judge runs: the candidate's replayed output goes nowhere."""

    def write(self, text) -> int:
        return len(text)

    def flush(self) -> None:
        pass


_NULL = _NullWriter()


def _budget_exhausted(signum, frame):
    raise Fault("timeout", "the program's total time budget ran out")


def _empty(path: str) -> None:
    """Remove what a job's test code left in its directory (usually nothing: one cheap listdir)."""
    for entry in os.scandir(path):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def _collect(messages: list) -> tuple[dict, dict | None]:
    outcomes = {m["outcome"]["index"]: m["outcome"] for m in messages if m.get("op") == "outcome"}
    done = next((m for m in messages if m.get("op") == "done"), None)
    return outcomes, done


def _judge_child(job, task, compiled, worker: Worker, w: int) -> None:
    """Body of the forked judge process; never returns."""
    try:
        os.chdir(worker.jobdir)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        judge = Judge(job, task, compiled, worker.zyg, worker.cfg, lambda m: wire.send(w, m), worker.workdir)
        if compiled.error:
            judge.fill(0, "failed", compiled.error)
            judge.emit({"op": "done", "program_status": None, "message": compiled.error})
        else:
            judge.run()
    except BaseException:
        try:
            wire.send(w, {"op": "infra", "error": traceback.format_exc()[-4000:]})
        except BaseException:
            pass
    finally:
        os._exit(0)


def main() -> None:
    """Entry point: ``python -I -c '...main()' FD_IN FD_OUT``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the trainer; we leave when it hangs up
    _make_undumpable()
    sys.dont_write_bytecode = True
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    os.umask(0)  # files the tests create in the shared scratch stay writable by the candidate
    worker = Worker(int(sys.argv[1]), int(sys.argv[2]))
    try:
        worker.serve()
    finally:
        worker.close()


def _make_undumpable() -> None:
    # Expected values live in this process and its judges: no same-uid process may read their memory.
    try:
        from .sandbox import nsboot
        nsboot.set_dumpable(False)
    except OSError:
        pass
