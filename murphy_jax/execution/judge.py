"""The judge: runs one program against one task's tests and decides every verdict.

A judge runs inside a worker (a fresh interpreter that never imported JAX), or in a child
forked from it for pytest tasks, and it never executes candidate code: the candidate lives
in a sandboxed process forked by the sandbox's forker and is reached only through the
session protocol. Expected values (stdio outputs, call results, the right-hand sides of
asserts) stay in the judge. Each finished test is emitted at once, so a judge stopped at the
program deadline still leaves the verdicts it reached.
"""
from __future__ import annotations

import builtins
import copy
import json
import os
import random
import time
from dataclasses import dataclass

from . import asserts
from .candidate import Budget, CandidateProcess, Fault, InfraFault, LoadFailure, classify_exit
from .compare import stdio_equal, value_equal
from .proxy import CandidateError, snapshot_repr
from .result import describe_test
from .session import Session
from .testcode import Compiled


@dataclass
class Limits:
    """Resolved time limits for one job."""

    test_cpu_s: float
    test_wall_s: float
    program_cpu_s: float
    program_wall_s: float


class Judge:
    """Runs one job; ``emit`` receives each message for the worker."""

    def __init__(self, job: dict, task, compiled: Compiled, zyg, cfg, emit, workdir: str):
        self.program = job["program"]
        self.task = task
        self.compiled = compiled
        self.zyg = zyg
        self.cfg = cfg
        self.emit = emit
        self.workdir = workdir
        cpu = task.time_limit_s or cfg.test_timeout_s
        self.limits = Limits(cpu, cpu * cfg.wall_factor + cfg.wall_grace_s, cfg.program_timeout_s,
                             cfg.program_timeout_s * cfg.wall_factor + cfg.wall_grace_s)
        self.start = time.monotonic()
        self.cpu_spent = 0.0
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.devnull = os.open(os.devnull, os.O_RDONLY)

    # -- common ---------------------------------------------------------------------------------
    def run(self) -> None:
        """Judge every test, then report the run-level data."""
        random.seed(0)  # tests that draw random inputs see the same ones on every run: verdicts are reproducible
        tests = self.task.all_tests
        if self.task.io_mode == "stdio" or all(t.kind == "stdio" for t in tests):
            program_status, message = self.run_stdio()
        else:
            program_status, message = self.run_function()
        keep = self.cfg.capture_bytes
        self.emit({"op": "done", "program_status": program_status, "message": message,
                   "stdout": bytes(self.stdout[:keep]).decode("utf-8", "replace"),
                   "stderr": bytes(self.stderr[:keep]).decode("utf-8", "replace")})

    def close(self) -> None:
        """Release the judge's fds and stop a candidate still running (also after an unexpected error)."""
        session = getattr(self, "session", None)
        if session is not None:
            session.close()
        os.close(self.devnull)

    def budget(self) -> Budget | None:
        """This test's limits, cut down to what is left of the program's budget (None: nothing left)."""
        wall_left = self.limits.program_wall_s - (time.monotonic() - self.start)
        cpu_left = self.limits.program_cpu_s - self.cpu_spent
        if wall_left <= 0 or cpu_left <= 0:
            return None
        return Budget(min(self.limits.test_cpu_s, cpu_left), min(self.limits.test_wall_s, wall_left))

    def outcome(self, i: int, test, status: str, message: str = "", **extra) -> None:
        """Stream one test's verdict to the worker."""
        keep = self.cfg.capture_bytes
        for key in ("expected", "actual", "traceback"):
            if isinstance(extra.get(key), str) and len(extra[key]) > keep:
                extra[key] = extra[key][:keep] + " ... [truncated]"
        out = {"index": i, "public": i < len(self.task.public_tests), "kind": test.kind,
               "name": describe_test(test), "status": status, "message": message[:2000]}
        out.update({k: v for k, v in extra.items() if v is not None})
        self.emit({"op": "outcome", "outcome": out})

    def fill(self, start: int, status: str, message: str) -> None:
        """Give every test from ``start`` on the same verdict (program-level failures)."""
        for i, test in enumerate(self.task.all_tests[start:], start):
            self.outcome(i, test, status, message)

    # -- function mode (assert / call / pytest) -----------------------------------------------
    def run_function(self):
        """assert / call / pytest tests against one program loaded in function mode."""
        names = set(self.compiled.names)
        if self.task.entry_point:
            names.add(self.task.entry_point.partition(".")[0])
        sess = Session(self.zyg, self.program, names=names, stdin_fd=self.devnull,
                       program_cpu_s=self.limits.program_cpu_s, keep_bytes=self.cfg.capture_bytes,
                       output_limit=self.cfg.output_limit_bytes, max_frame=self.cfg.max_message_mb << 20)
        self.session = sess
        self.base_ns, self.base_inc = None, None
        sess.begin(self.limits.test_cpu_s, self.limits.test_wall_s)
        try:
            sess.load()
        except LoadFailure as e:
            self.fill(0, e.status, _first_line(e.message) if e.status != "syntax_error" else "syntax error")
            self._keep_output(sess)
            return ("syntax_error" if e.status == "syntax_error" else None), e.message
        except Fault as f:
            self.fill(0, f.status, f"while loading the program: {f.message}")
            self._keep_output(sess)
            return None, f"The program failed while loading: {f.message}"
        self.cpu_spent += sess.cpu_used() or 0.0
        pytest_results, emitted = None, set()

        def pytest_done(name: str, verdict: dict) -> None:  # streamed, so a killed judge keeps what it found
            for k, t in enumerate(self.task.all_tests):
                if t.kind == "pytest" and t.name == name and k not in emitted:
                    emitted.add(k)
                    self.outcome(k, t, **verdict)

        for i, test in enumerate(self.task.all_tests):
            if i in emitted:
                continue
            budget = self.budget()
            if budget is None:
                self.outcome(i, test, "timeout", "the program's total time budget was used up by earlier tests")
                continue
            if test.kind == "pytest":
                if pytest_results is None:
                    from .pytest_runner import run_pytest
                    pytest_results = run_pytest(self, sess, pytest_done)
                if i not in emitted:
                    pytest_done(test.name, pytest_results[test.name])
                continue
            sess.begin(budget.cpu_s, budget.wall_s, test=i)
            t0 = time.monotonic()
            try:
                if i in self.compiled.calls and not sess.pending:
                    self.send_ahead(i)
                extra = self.run_call(test) if test.kind == "call" else self.run_assert(i)
                status, message = "passed", ""
            except BaseException as exc:  # includes Fault; verdicts never escape as exceptions
                status, message, extra = self.classify(exc, sess.fault)
            fault = sess.end()
            if fault is not None and status == "passed":  # test code swallowed the fault
                status, message, extra = fault.status, fault.message, {}
            cpu = sess.cpu_used()
            self.cpu_spent += cpu if cpu is not None else time.monotonic() - t0
            self.outcome(i, test, status, message, cpu_s=cpu, wall_s=round(time.monotonic() - t0, 6), **extra)
        sess.close()
        self._keep_output(sess)
        return None, ""

    def namespace(self) -> dict:
        """Globals for one assert test: the candidate's names, then trusted setup, then the entry point."""
        sess = self.session
        sess.ensure()
        if self.base_ns is None or self.base_inc != sess.inc:
            ns = {"__name__": "__test__", "__builtins__": builtins, asserts.HELPER: asserts.compare}
            ns.update(sess.globals)
            if self.compiled.setup is not None:
                exec(self.compiled.setup, ns)
            ep = self.task.entry_point
            if ep and "." not in ep:
                if ep in sess.globals:
                    ns[ep] = ns["candidate"] = sess.globals[ep]
                else:
                    ns.pop(ep, None)  # a trusted stub from the setup must never stand in for the candidate
                    ns["candidate"] = _Missing(ep)
            self.base_ns, self.base_inc = ns, sess.inc
        return dict(self.base_ns)

    def send_ahead(self, start: int) -> None:
        """Queue the calls of the pipelinable tests from ``start`` on (see testcode)."""
        sess = self.session
        ns = self.namespace()  # also makes sure the process is up
        batch = []
        for k in range(start, len(self.task.all_tests)):
            plan = self.compiled.calls.get(k)
            if plan is None:
                break
            name, node = plan
            target = sess.globals.get(self.task.entry_point) if name == "candidate" else sess.globals.get(name)
            is_call_test = self.task.all_tests[k].kind == "call"
            if target is None or getattr(target, "_name", None) is None or \
                    (not is_call_test and ns.get(name) is not target):
                break  # unknown, shadowed by trusted setup, or not a candidate function: run it normally
            batch.append((k, sess.resolve(target), node))
        sess.prefetch(batch)

    def run_assert(self, i: int) -> dict:
        """Run assert test ``i``; passing means its code completed."""
        exec(self.compiled.tests[i], self.namespace())
        return {}

    def run_call(self, test) -> dict:
        """Call the entry point with the test's arguments and compare with the expected value here."""
        sess = self.session
        ep = self.task.entry_point
        cls_name, _, method = ep.partition(".")
        target = sess.global_value(cls_name)
        if method:
            target = getattr(target(), method)
        result = target(*copy.deepcopy(test.args))
        extra = {"expected": _json_text(test.expected), "actual": snapshot_repr(result)}
        if not value_equal(result, test.expected, self.cfg.float_rel_tol, self.cfg.float_abs_tol):
            raise _WrongAnswer(extra)
        return extra

    def classify(self, exc: BaseException, fault: Fault | None):
        """(status, message, extra) for a test that raised."""
        if fault is not None:
            return fault.status, fault.message, {}
        if isinstance(exc, Fault):
            return exc.status, exc.message, {}
        if isinstance(exc, InfraFault):
            raise exc
        if isinstance(exc, _WrongAnswer):
            return "failed", "wrong answer", exc.extra
        if isinstance(exc, asserts.ComparisonFailed):
            return "failed", str(exc), {"expected": exc.expected, "actual": exc.actual}
        if isinstance(exc, CandidateError):
            info = getattr(exc, "murphy", {})
            kind = info.get("type", type(exc).__name__)
            status = "memory_limit" if kind == "MemoryError" else "runtime_error"
            return status, f"{kind}: {info.get('msg', '')}".strip().rstrip(":"), \
                {"exc_type": kind, "traceback": info.get("tb") or None}
        if isinstance(exc, _MissingEntryPoint):
            return "failed", str(exc), {}
        if isinstance(exc, AssertionError):
            return "failed", f"assertion failed{': ' + str(exc) if str(exc) else ''}", {}
        return "failed", f"the test raised {type(exc).__name__}: {exc}", {}

    def _keep_output(self, sess: Session) -> None:
        self.stdout += sess.stdout
        self.stderr += sess.stderr

    # -- stdio mode ----------------------------------------------------------------------------
    def run_stdio(self):
        """Every stdio test in a fresh process."""
        tests = self.task.all_tests
        for i, test in enumerate(tests):
            budget = self.budget()
            if budget is None:
                self.outcome(i, test, "timeout", "the program's total time budget was used up by earlier tests")
                continue
            verdict = self.run_stdio_test(i, test, budget)
            if verdict == "syntax_error":
                return "syntax_error", self._syntax_message
        return None, ""

    def run_stdio_test(self, i: int, test, budget: Budget):
        """Run the program on one test's input and judge its output and exit status."""
        stdin = _memfd(test.stdin.encode("utf-8", "surrogateescape"))
        proc = None
        t0 = time.monotonic()
        try:
            proc = CandidateProcess(self.zyg, "main", stdin, self.limits.program_cpu_s - self.cpu_spent,
                                    keep_bytes=max(self.cfg.capture_bytes, len(test.expected) * 2 + 1024),
                                    output_limit=self.cfg.output_limit_bytes, max_frame=1 << 20)
            proc.send({"program": self.program}, budget)
            frames, exit_status = proc.run_to_exit(budget)
            fault = None
        except Fault as f:
            fault, frames, exit_status = f, [], None
        finally:
            os.close(stdin)
        if proc is not None:
            proc.kill()
            proc.close()
            if len(self.stdout) < self.cfg.capture_bytes:
                self.stdout += proc.stdout.head[: self.cfg.capture_bytes - len(self.stdout)]
            if len(self.stderr) < self.cfg.capture_bytes:
                self.stderr += proc.stderr.head[: self.cfg.capture_bytes - len(self.stderr)]
        cpu = (proc.exit_info() or {}).get("cpu") if proc is not None else None
        self.cpu_spent += cpu if cpu is not None else time.monotonic() - t0
        stdout = bytes(proc.stdout.head).decode("utf-8", "replace") if proc is not None else ""
        common = {"cpu_s": cpu, "wall_s": round(time.monotonic() - t0, 6)}
        if fault is not None:
            self.outcome(i, test, fault.status, fault.message, actual=stdout or None, **common)
            return fault.status
        info = next((f for f in frames if isinstance(f, dict) and f.get("op") == "done"), {})
        if "syntax" in info:
            self._syntax_message = info["syntax"].get("tb") or info["syntax"].get("msg", "")
            self.fill(i, "syntax_error", "syntax error")
            return "syntax_error"
        status, message = "passed", ""
        extra = {"expected": test.expected, "actual": stdout}
        if exit_status.get("signal") is not None or exit_status.get("code"):
            if "exc" in info:
                kind = info["exc"].get("type", "")
                status = "memory_limit" if kind == "MemoryError" else "runtime_error"
                message = f"{kind}: {info['exc'].get('msg', '')}"
                extra.update(exc_type=kind, traceback=info["exc"].get("tb"))
            else:
                status, message = classify_exit(exit_status, "stdio")
                tail = bytes(proc.stderr.head[-2000:]).decode("utf-8", "replace").strip()
                if tail:
                    extra["traceback"] = tail
        elif not stdio_equal(stdout, test.expected, self.cfg.float_rel_tol, self.cfg.float_abs_tol):
            status, message = "failed", "wrong output"
        self.outcome(i, test, status, message, **extra, **common)
        return status


class _WrongAnswer(Exception):
    def __init__(self, extra: dict):
        super().__init__("wrong answer")
        self.extra = extra


class _MissingEntryPoint(NameError):
    pass


class _Missing:
    """Stands for an entry point the program does not define; using it fails the test clearly."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, *args, **kwargs):
        raise _MissingEntryPoint(f"the program does not define {self.name!r}")

    def __getattr__(self, attr):
        raise _MissingEntryPoint(f"the program does not define {self.name!r}")


def _memfd(data: bytes) -> int:
    fd = os.memfd_create("stdin", 0) if hasattr(os, "memfd_create") else _tempfile_fd()
    _write_all(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _tempfile_fd() -> int:
    import tempfile
    fd, path = tempfile.mkstemp()
    os.unlink(path)
    return fd


def _json_text(value) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else text
