"""Starting and talking to the sandbox zygote (from the worker and from the judges it forks)."""
from __future__ import annotations

import collections
import json
import os
import select
import signal
import socket
import struct
import subprocess
import time

BOOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox", "boot.py")
RUN_DIR = "run"  # keep in sync with sandbox/zygote.py
_CLK_TCK = os.sysconf("SC_CLK_TCK")
# The forker's binary protocol (sandbox/zygote.py, class Forker).
_SPAWN = struct.Struct("<cd")
_SEQ = struct.Struct("<q")
_PID = struct.Struct("<i")
_EXIT = struct.Struct("<idq")


def write_id_maps(pid: int, uid: int, gid: int) -> None:
    """Map root inside ``pid``'s new user namespace to ``uid``/``gid`` outside (done from the parent side)."""
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
        with open(f"/proc/{pid}/{name}", "w") as f:
            f.write(text)


class ZygoteError(RuntimeError):
    """The zygote died or stopped answering: an infrastructure failure."""


class LayerUnavailable(RuntimeError):
    """A requested isolation layer could not be set up on this machine."""

    def __init__(self, layer: str, reason: str):
        super().__init__(f"isolation layer {layer!r} unavailable: {reason}")
        self.layer = layer
        self.reason = reason


class Ticket:
    """One spawn request, filled in by the zygote's answers: seq, then pid and pidfd (or error), then exit."""

    __slots__ = ("seq", "pid", "pidfd", "error", "exit")

    def __init__(self):
        self.seq = self.pid = self.pidfd = self.error = self.exit = None


class ZygoteClient:
    """A running zygote: its process, the socket to its forker, and the spawn requests in flight.

    Start-up speaks JSON with the boot process; after ``ready`` every message is the forker's
    binary protocol (with a PID namespace the boot process hands over the init's socket).
    """

    def __init__(self, python: str, spec: dict, *, map_ids: tuple[int, int] | None, env: dict,
                 timeout: float = 30.0):
        self.spec = spec
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = mine
        self.tickets: collections.deque = collections.deque()  # spawn requests awaiting the zygote's answer
        self.by_seq: dict[int, Ticket] = {}  # answered spawns, until their exit is reported
        self.init_pid = None
        self.binary = False  # start-up is JSON
        cmd = [python, "-s", "-S", "-B", "-P", BOOT, str(theirs.fileno())]
        self.proc = subprocess.Popen(cmd, pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, close_fds=True)
        theirs.close()
        deadline = time.monotonic() + timeout
        try:
            self.send(spec)
            while True:
                msg = self.recv(deadline)
                if msg is None:
                    raise ZygoteError("the zygote did not start in time")
                op = msg.get("op")
                if op == "need_maps":
                    write_id_maps(self.proc.pid, *map_ids)
                    self.send({"op": "maps_done"})
                elif op == "failed":
                    raise LayerUnavailable(_LAYER_OF_STEP.get(msg.get("layer"), msg.get("layer")), msg.get("error", ""))
                elif op == "ready":
                    self.init_pid = msg.get("init_pid")  # the PID namespace's init, which forks candidates
                    if msg["_fds"]:
                        self.sock.close()
                        self.sock = socket.socket(fileno=msg["_fds"][0])
                    break
        except BaseException:
            self.close()
            raise
        self.pid = self.proc.pid
        self.binary = True

    def send(self, msg: dict) -> None:
        """Send one JSON message (start-up only)."""
        self._send(json.dumps(msg).encode())

    def _send(self, data: bytes, fds=()) -> None:
        try:
            if fds:
                socket.send_fds(self.sock, [data], list(fds))
            else:
                self.sock.send(data)
        except OSError as e:
            raise ZygoteError(f"zygote link broken: {e}") from None

    def recv(self, deadline: float | None):
        """Next message, or None at the deadline (spawn answers and exits are recorded as they pass)."""
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        r, _, _ = select.select([self.sock], [], [], wait)
        if not r:
            return None
        return self.read_one()

    def read_one(self):
        """Read a message that select() said is there, and record what it says about spawns."""
        try:
            data, fds, _, _ = socket.recv_fds(self.sock, 1 << 16, 4)
        except OSError as e:
            raise ZygoteError(f"zygote link broken: {e}") from None
        if not data:
            raise ZygoteError("the zygote exited")
        if not self.binary:
            msg = json.loads(data)
            msg["_fds"] = fds
            return msg
        kind = data[:1]
        seq = _SEQ.unpack_from(data, 1)[0] if kind in (b"P", b"E", b"F") else None
        if kind in (b"P", b"F") and self.tickets:
            ticket = self.tickets.popleft()  # the forker answers spawn requests in order
            ticket.seq = seq
            if kind == b"P":
                ticket.pidfd = fds[0] if fds else None
                # In the PID namespace (pid 0 here): our view of its pid comes from the pidfd (None once gone).
                ticket.pid = _PID.unpack_from(data, 1 + _SEQ.size)[0] or _pidfd_pid(ticket.pidfd)
            else:
                ticket.error = "spawn failed: " + data[1 + _SEQ.size:].decode("utf-8", "replace")
            self.by_seq[seq] = ticket
        elif kind == b"E" and seq in self.by_seq:
            status, cpu, rss = _EXIT.unpack_from(data, 1 + _SEQ.size)
            self.by_seq.pop(seq).exit = {"status": _decode_status(status), "cpu": cpu, "rss_kb": rss}
        else:  # e.g. about a candidate a forked judge started and left behind
            for fd in fds:
                os.close(fd)
        return kind

    def request_spawn(self, mode: str, fds, cpu_s: float) -> Ticket:
        """Ask for a candidate in ``mode`` (function | main) with fds [stdin, stdout, stderr, rpc_in, rpc_out].

        Does not wait: the caller can write to the candidate's pipes at once. The ticket is filled
        in as the zygote's messages are read; ``wait`` blocks for its answer.
        """
        ticket = Ticket()
        self._send(b"S" + _SPAWN.pack(b"m" if mode == "main" else b"f", cpu_s), fds)
        self.tickets.append(ticket)
        return ticket

    def wait(self, ticket: Ticket, timeout: float = 10.0) -> Ticket:
        """Block until the zygote has answered this ticket's spawn request."""
        deadline = time.monotonic() + timeout
        while ticket.seq is None:
            if self.recv(deadline) is None:
                raise ZygoteError(f"no answer to a spawn request within {timeout}s")
        if ticket.error:
            raise ZygoteError(ticket.error)
        return ticket

    @staticmethod
    def cpu(pid: int) -> float | None:
        """CPU seconds a live candidate has used (kernel accounting, not the candidate's word)."""
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / _CLK_TCK
        except (OSError, ValueError, IndexError):
            return None

    @staticmethod
    def kill(pid: int | None, pidfd: int | None) -> None:
        """Kill one candidate now (whatever it started goes at cleanup)."""
        try:
            if pidfd is not None:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            elif pid is not None:
                os.kill(pid, signal.SIGKILL)
        except OSError:
            pass

    def settle(self, timeout: float = 30.0) -> None:
        """Return once every candidate this client started is gone and its leftovers cleaned up.

        The forker cleans up after each candidate before it reports the exit, so this only has
        to stop candidates still alive and wait for their reports.
        """
        deadline = time.monotonic() + timeout
        while True:
            for ticket in self.by_seq.values():  # still running (its owner closed its pidfd only after a kill)
                if ticket.pidfd is not None:
                    self.kill(None, ticket.pidfd)
            if not self.tickets and not self.by_seq:
                return
            if self.recv(deadline) is None:
                raise ZygoteError(f"the sandbox did not settle within {timeout}s")

    def cleanup(self, timeout: float = 30.0) -> None:
        """Kill everything and wipe the scratch on demand (after a forked judge or a failure)."""
        self.kill_strays()
        self._send(b"C")
        deadline = time.monotonic() + timeout
        while True:  # spawn answers and exits on the way are recorded
            kind = self.recv(deadline)
            if kind is None:
                raise ZygoteError(f"the sandbox did not clean up within {timeout}s")
            if kind == b"D":
                break
        self.by_seq.clear()  # (each pidfd belongs to, and is closed by, its CandidateProcess)

    def kill_strays(self) -> None:
        """Kill the forker's children (a candidate whose judge went away) before asking for a cleanup.

        The forker waits for its candidate before it reads another request, so a candidate left
        computing would stall the cleanup. Its pid cannot be reused before the forker reaps it.
        """
        parent = self.init_pid or self.pid  # the forker (the namespace's init) or the zygote itself
        try:
            with open(f"/proc/{parent}/task/{parent}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            return
        for pid in kids:
            if pid != self.init_pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def alive(self) -> bool:
        """Whether the sandbox's boot process is still running."""
        return self.proc.poll() is None

    def close(self) -> None:
        """Kill the zygote (its namespace dies with it)."""
        try:
            self.sock.close()
        except OSError:
            pass
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def _decode_status(status: int) -> dict:
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    return {"code": os.WEXITSTATUS(status)}


def _pidfd_pid(pidfd) -> int | None:
    """The pid a pidfd refers to, as this process's PID namespace sees it (from its fdinfo)."""
    if pidfd is None:
        return None
    try:
        with open(f"/proc/self/fdinfo/{pidfd}") as f:
            for line in f:
                if line.startswith("Pid:"):
                    pid = int(line.split()[1])
                    return pid if pid > 0 else None
    except (OSError, ValueError):
        pass
    return None


_LAYER_OF_STEP = {"start": "userns", "userns": "userns", "pidns": "pidns", "fs": "fs", "subreaper": "userns",
                  "preload": "preload"}
