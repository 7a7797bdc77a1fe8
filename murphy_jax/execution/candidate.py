"""The judge's view of a candidate process: spawn it through the zygote, talk to it, hold it to its limits.

Limits are enforced from outside the candidate: a per-test CPU budget measured by the kernel
(read from /proc once the test has run longer than the budget could account for), a
wall-clock backstop for sleeping or blocked programs, and caps on what it may write.
Whatever the candidate does, the judge's waits end by a deadline.
"""
from __future__ import annotations

import os
import select
import signal
import time
from dataclasses import dataclass, field

from .sandbox import wire
from .zygote_client import ZygoteClient, ZygoteError

CPU_POLL_S = 0.05
EXIT_GRACE_S = 1.0


class Fault(BaseException):
    """The candidate failed the current test by misbehaving: timeout, crash, output flood, protocol abuse.

    A BaseException so that test code catching ``Exception`` cannot swallow it; the session
    also remembers it, so a bare ``except:`` in test code cannot turn it into a pass either.
    """

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class InfraFault(Exception):
    """The sandbox machinery failed (zygote gone, child preamble crashed): not the program's fault."""


class LoadFailure(Exception):
    """The program failed while being loaded (syntax error, exception or exit at import time)."""

    def __init__(self, status: str, message: str, info: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.info = info or {}


@dataclass
class Budget:
    """Limits for the current test (or load)."""

    cpu_s: float
    wall_s: float
    start: float = field(default_factory=time.monotonic)
    cpu_base: float | None = None  # candidate CPU at the start of the test (None: unknown yet)

    @property
    def wall_deadline(self) -> float:
        """Monotonic time at which the test's wall-clock budget runs out."""
        return self.start + self.wall_s


class Output:
    """One output stream of one candidate: a head kept for the result, a tail of the current call."""

    def __init__(self, keep: int):
        self.keep = keep
        self.head = bytearray()
        self.recent = bytearray()  # since the last take_recent(); capped, for replay into the test

    def feed(self, data: bytes) -> None:
        """Account for bytes the candidate wrote."""
        if len(self.head) < self.keep:
            self.head += data[: self.keep - len(self.head)]
        if len(self.recent) < (1 << 20):
            self.recent += data[: (1 << 20) - len(self.recent)]

    def take_recent(self) -> bytes:
        """What was written since the last call (to replay into the test's own streams)."""
        data = bytes(self.recent)
        self.recent.clear()
        return data


class CandidateProcess:
    """One live candidate: its pid in the sandbox and the judge's ends of its pipes."""

    def __init__(self, zyg: ZygoteClient, mode: str, stdin_fd: int, cpu_s: float, *,
                 keep_bytes: int, output_limit: int, max_frame: int):
        self.zyg = zyg
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        try:
            self.ticket = zyg.request_spawn(mode, [stdin_fd, out_w, err_w, req_r, rep_w], cpu_s)
        except ZygoteError as e:
            for fd in (out_r, out_w, err_r, err_w, req_r, req_w, rep_r, rep_w):
                os.close(fd)
            raise InfraFault(str(e)) from None

        for fd in (out_w, err_w, req_r, rep_w):
            os.close(fd)
        for fd in (out_r, err_r, req_w, rep_r):
            os.set_blocking(fd, False)
        self.out_fd, self.err_fd, self.req_fd, self.rep_fd = out_r, err_r, req_w, rep_r
        self.stdout = Output(keep_bytes)
        self.stderr = Output(keep_bytes)
        self.written = 0
        self.output_limit = output_limit
        self.reader = wire.FrameReader(rep_r, max_frame)
        self.last_cpu = 0.0  # the candidate's own report; only used as a test's CPU baseline
        self.killed = False
        self.closed = False
        self.next_poll = 0.0
        self.eof: set[int] = set()  # output fds the candidate has closed (select must skip them)
        self.started = False  # the agent said so: the sandbox set-up worked, the program's code is running

    @property
    def pid(self) -> int | None:
        """The candidate's pid, None once it is gone (waits for the zygote's answer the first time)."""
        try:
            return self.zyg.wait(self.ticket).pid
        except ZygoteError as e:
            raise InfraFault(str(e)) from None

    @property
    def pidfd(self) -> int | None:
        """A pidfd for the candidate (None before the zygote answered, or on kernels without pidfds)."""
        return self.ticket.pidfd

    @property
    def exited(self) -> bool:
        """The forker has reported this candidate gone (and its leftovers cleaned up)."""
        return self.ticket.exit is not None

    # -- talking ---------------------------------------------------------------------------
    def send(self, msg: dict, budget: Budget) -> None:
        """Send one request (bounded by the test's wall deadline)."""
        try:
            wire.send(self.req_fd, msg, budget.wall_deadline)
        except (wire.WireError, BrokenPipeError) as e:
            self.pid  # a spawn that failed is an infrastructure failure, not the program's timeout
            if time.monotonic() >= budget.wall_deadline:
                raise Fault("timeout", self._timeout_text(budget)) from None
            self.wait_exit()
            raise self._death_fault(f"stopped reading requests ({e})") from None

    def receive(self, seq, budget: Budget) -> dict:
        """Wait for the reply to ``seq`` (or the first frame when seq is None), draining output meanwhile."""
        while True:
            try:
                frame = self.reader.pop()
            except wire.WireError as e:
                raise Fault("runtime_error", f"the program corrupted the test channel ({e})") from None
            if frame is not None:
                if not self.started and isinstance(frame, dict) and frame.get("op") == "started":
                    self.started = True
                    continue
                if not isinstance(frame, dict) or (seq is not None and frame.get("q") != seq):
                    raise Fault("runtime_error", "the program wrote to the test channel")
                cpu = frame.get("cpu")
                if type(cpu) in (int, float):
                    self.last_cpu = float(cpu)
                self.drain()
                return frame
            if self.reader.eof:
                self.drain()
                self.wait_exit()
                raise self._death_fault("stopped before answering")
            self._step(budget)

    def run_to_exit(self, budget: Budget) -> tuple[list, dict]:
        """Stdio mode: wait for the process to end; returns (frames it sent, exit status)."""
        frames: list = []
        budget.cpu_base = 0.0  # a fresh process: all of its CPU counts
        while True:
            self._collect(frames)
            if self.exited:
                self.pid  # the zygote's answer to the spawn always comes first: take it
                self.drain()
                if not self.reader.eof:
                    self.reader.fill()  # frames written just before the end
                self._collect(frames)
                if not self.started:
                    raise InfraFault("the sandbox failed to start the candidate process")
                return frames, self.ticket.exit.get("status", {})
            self._step(budget)

    def _collect(self, frames: list) -> None:
        try:
            while (frame := self.reader.pop()) is not None:
                if isinstance(frame, dict) and frame.get("op") == "started":
                    self.started = True
                frames.append(frame)
        except wire.WireError:
            self.reader.buf.clear()  # junk on the side channel only loses its diagnostics

    def _step(self, budget: Budget) -> None:
        """Wait, within the test's limits, for a frame, output or a zygote message, and take it in."""
        now = time.monotonic()
        if now >= budget.wall_deadline:
            raise Fault("timeout", self._timeout_text(budget))
        self._check_cpu(budget, now)
        wait = min(budget.wall_deadline, max(self.next_poll, budget.start + budget.cpu_s)) - now
        fds = [fd for fd in (self.rep_fd, self.out_fd, self.err_fd) if fd not in self.eof] + [self.zyg.sock]
        try:
            ready, _, _ = select.select(fds, [], [], max(0.0, wait))
        except InterruptedError:
            return
        if self.rep_fd in ready:
            self.reader.fill()
            if self.reader.eof:
                self.eof.add(self.rep_fd)
        if self.out_fd in ready or self.err_fd in ready:
            self.drain()
        if self.zyg.sock in ready:
            self._zygote_message()

    def _check_cpu(self, budget: Budget, now: float) -> None:
        # A single thread cannot use more CPU than wall time, so poll only once the test has
        # been running longer than its CPU budget; then every CPU_POLL_S.
        if now - budget.start < budget.cpu_s or now < self.next_poll:
            return
        self.next_poll = now + CPU_POLL_S
        cpu = self.zyg.cpu(self.pid) if not self.exited and self.pid is not None else None
        if cpu is None:
            return
        base = budget.cpu_base if budget.cpu_base is not None else self.last_cpu
        if cpu - base > budget.cpu_s:
            raise Fault("timeout", f"exceeded the time limit ({budget.cpu_s:g} s of CPU)")

    def _timeout_text(self, budget: Budget) -> str:
        return f"exceeded the time limit (no answer within {budget.wall_s:g} s of wall-clock time)"

    def _zygote_message(self) -> None:
        try:
            self.zyg.read_one()
        except ZygoteError as e:
            raise InfraFault(str(e)) from None

    def drain(self) -> None:
        """Read whatever output is waiting; raises Fault once the output cap is exceeded."""
        fds = [fd for fd in (self.out_fd, self.err_fd) if fd not in self.eof]
        if not fds or not select.select(fds, [], [], 0)[0]:
            return
        for fd, sink in ((self.out_fd, self.stdout), (self.err_fd, self.stderr)):
            if fd in self.eof:
                continue
            for _ in range(64):
                try:
                    data = os.read(fd, 1 << 16)
                except (BlockingIOError, OSError):
                    break
                if not data:
                    self.eof.add(fd)
                    break
                self.written += len(data)
                sink.feed(data)
                if self.written > self.output_limit:
                    raise Fault("output_limit", f"wrote more than {self.output_limit} bytes of output")

    # -- ending ------------------------------------------------------------------------------
    def wait_exit(self, timeout: float = EXIT_GRACE_S) -> dict | None:
        """Wait (briefly) for the zygote to report this process's exit."""
        deadline = time.monotonic() + timeout
        while not self.exited:
            try:
                if self.zyg.recv(deadline) is None:
                    return None
            except ZygoteError as e:
                raise InfraFault(str(e)) from None
        return self.ticket.exit

    def exit_info(self) -> dict | None:
        """The forker's exit report (status, CPU, peak RSS), once there is one."""
        return self.ticket.exit

    def _death_fault(self, what: str) -> Fault:
        if not self.started:
            raise InfraFault("the sandbox failed to start the candidate process")
        status = (self.exit_info() or {}).get("status", {})
        return Fault(*classify_exit(status, what))

    def kill(self) -> None:
        """Kill the candidate now (through its pidfd, so a recycled pid can never be hit)."""
        if not self.killed:
            self.killed = True
            try:
                pid = self.pid
            except InfraFault:
                return  # never started: nothing to kill
            if not self.exited and (pid is not None or self.pidfd is not None):
                self.zyg.kill(pid, self.pidfd)

    def close(self) -> None:
        """Release the judge's fds (the process itself goes at cleanup or kill)."""
        if not self.closed:
            self.closed = True
            pidfd, self.ticket.pidfd = self.ticket.pidfd, None  # nobody may signal through a closed fd number
            for fd in (self.out_fd, self.err_fd, self.req_fd, self.rep_fd, pidfd):
                if fd is None:
                    continue
                try:
                    os.close(fd)
                except OSError:
                    pass


def classify_exit(status: dict, what: str) -> tuple[str, str]:
    """(status, message) for a candidate that died on its own."""
    sig = status.get("signal")
    if sig is None:
        code = status.get("code")
        return "runtime_error", f"the program exited with code {code} ({what})"
    if sig == signal.SIGXCPU:
        return "timeout", "exceeded the CPU limit for the whole program"
    if sig == signal.SIGKILL:
        return "memory_limit", "was killed by the system (out of memory?)"
    if sig == signal.SIGSEGV:
        return "runtime_error", "crashed with a segmentation fault (stack overflow from deep recursion?)"
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = f"signal {sig}"
    return "runtime_error", f"was killed by {name}"
