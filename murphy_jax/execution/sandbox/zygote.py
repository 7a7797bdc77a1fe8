"""The zygote: a clean interpreter (inside the namespaces) that forks one candidate process per request.

It never runs untrusted code itself and never sees tests or expected values. The worker
talks to its ``Forker`` over a tiny binary protocol on a SOCK_SEQPACKET socket; the
candidate's five fds travel as SCM_RIGHTS and the reply carries a pidfd, so the judge can
read the candidate's CPU time and kill it directly.

Forks are made cheap by keeping the forking process idle while its child lives: both sides
of a fork share pages copy-on-write, so a parent that keeps running Python after fork()
copies every page it touches (on a VM each copy costs microseconds). The forker therefore
blocks in ``wait4`` until its candidate is gone, and its loop does as little as possible.

When a candidate is gone the forker cleans up before reporting it: with a PID namespace it
is the namespace's init (pid 1) and kills every other process in one atomic ``kill(-1)``
(double-forked daemons included); without one it is the boot process itself, a child
subreaper that kills its descendants. Either way it then wipes the scratch space.
"""
from __future__ import annotations

import _signal
import gc
import os
import resource
import shutil
import signal
import socket
import struct
import sys

from . import agent, guard

EXIT_PREAMBLE = 125  # the child failed before the program started (the judge sees no "started")
RUN_DIR = "run"  # every candidate runs in <scratch>/run, wiped between runs, so its environment is fixed
_IGNORED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2,
            signal.SIGALRM, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)
_SPAWN = struct.Struct("<cd")  # spawn request: mode (b"f" function, b"m" main), CPU seconds
_SEQ = struct.Struct("<q")  # which spawn a reply is about (the forker numbers them from 1)
_PID = struct.Struct("<i")  # 0 when the candidate is in our PID namespace (the worker reads the pidfd instead)
_EXIT = struct.Struct("<idq")  # wait status, CPU seconds, peak RSS (KiB)


def prepare(spec: dict, status_fd=None) -> dict:
    """Set up, once, the state every candidate inherits, and return what the child preamble needs.

    The environment, std streams, argv and site builtins are exactly what a candidate should see.
    """
    run_dir = os.path.join(spec["scratch_root"], RUN_DIR)
    os.environ.clear()
    os.environ.update(dict(spec["env"], HOME=run_dir, TMPDIR=run_dir, PWD=run_dir))
    agent.install_std_streams(agent.std_streams())
    agent.install_site_builtins()
    sys.argv = [agent.FILENAME]
    for sig in _IGNORED:  # stray signals must not kill the process that forks candidates
        signal.signal(sig, signal.SIG_IGN)
    return {
        "spec": spec,
        "run_dir": run_dir,
        "guard": guard.build(block_processes=spec["block_processes"], confine_writes=not spec.get("fs"))
        if spec.get("guard") else None,
        "vm_bytes": _vm_size_bytes(status_fd),
        "privileged_modules": [m for m in sys.modules if m.partition(".")[0] in ("ctypes", "_ctypes")],
    }


def freeze() -> None:
    """Warm the request path and freeze the heap: children inherit specialised code and never scan it."""
    agent.warm_up()
    gc.collect()
    gc.freeze()


def fork_candidate(prepared: dict, mode: str, cpu_s: float, fds: list[int], close: list[int]) -> int:
    """Fork a candidate wired to ``fds`` (stdin, stdout, stderr, rpc_in, rpc_out); returns its pid."""
    pid = os.fork()
    if pid == 0:
        try:
            _child(prepared, mode, cpu_s, fds, close)
        finally:
            os._exit(EXIT_PREAMBLE)
    for fd in fds:
        os.close(fd)
    return pid


class Forker:
    """Fork one candidate per request and wait for it; on ``cleanup`` kill every leftover and wipe the scratch.

    Binary protocol on a SOCK_SEQPACKET socket to the worker, one datagram per message:
    ``S`` mode(1) cpu_s(f64) + five fds -> ``P`` seq pid + pidfd, then ``E`` seq status cpu rss
    once the candidate is gone *and* everything it left is killed and wiped (or ``F`` seq text
    if the fork failed); ``C`` -> ``D`` after the same clean-up, on demand. Requests are served
    in order, so a spawn queued behind a dying candidate gets a clean sandbox.
    """

    def __init__(self, sock: socket.socket, prepared: dict, *, pid1: bool):
        self.sock = sock
        self.prepared = prepared
        self.pid1 = pid1  # init of the PID namespace: one kill(-1) reaches everything (else: a subreaper)
        spec = prepared["spec"]
        self.drop_uid = spec.get("drop_uid")
        self.wipe = [(spec["scratch_root"], set(spec.get("preserved", ())))] + \
            ([(spec["shm_dir"], set())] if spec.get("shm_dir") else [])
        self.seq = 0

    def serve(self) -> None:
        """Main loop (returns when the worker hangs up)."""
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self.sock, 64, 8)
            except OSError:
                return
            if not data:
                return
            if data[:1] == b"S":
                self.spawn(data, fds)
            else:
                for fd in fds:
                    os.close(fd)
                if data[:1] == b"C":
                    self.cleanup()
                    self.sock.send(b"D")

    def spawn(self, data: bytes, fds: list[int]) -> None:
        """Fork a candidate, report it, then wait for it (idle: no page copies while it lives)."""
        self.seq += 1
        seq = _SEQ.pack(self.seq)
        run_dir = self.prepared["run_dir"]
        try:
            mode, cpu_s = _SPAWN.unpack(data[1:1 + _SPAWN.size])
            try:
                os.mkdir(run_dir)
            except FileExistsError:
                pass
            if self.drop_uid is not None:
                os.chown(run_dir, self.drop_uid, self.drop_uid)
            pid = fork_candidate(self.prepared, "main" if mode == b"m" else "function", cpu_s, fds,
                                 [self.sock.fileno()])
        except (OSError, struct.error) as e:
            for fd in fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.sock.send(b"F" + seq + str(e).encode()[:200])
            return
        try:
            pidfd = [os.pidfd_open(pid)]
        except (AttributeError, OSError):  # kernels before 5.3: the judge falls back to the pid
            pidfd = []
        socket.send_fds(self.sock, [b"P" + seq + _PID.pack(0 if self.pid1 else pid)], pidfd)
        for fd in pidfd:
            os.close(fd)
        _, status, usage = os.wait4(pid, 0)
        self.cleanup()
        self.sock.send(b"E" + seq + _EXIT.pack(status, usage.ru_utime + usage.ru_stime, usage.ru_maxrss))

    def cleanup(self) -> None:
        """Kill everything the run left behind, reap it, and wipe the scratch space."""
        if self.pid1:
            try:
                os.kill(-1, signal.SIGKILL)  # as init: everyone in the namespace but us, atomically
            except ProcessLookupError:
                pass
            _reap_all()
        else:
            for _ in range(1000):
                kids = _children_of(os.getpid())
                if not kids:
                    break
                for pid in kids:
                    for kill in (os.killpg, os.kill):
                        try:
                            kill(pid, signal.SIGKILL)
                        except (ProcessLookupError, PermissionError):
                            pass
                _reap_all()
        for root, preserved in self.wipe:
            _wipe(root, preserved)


def _child(prepared: dict, mode: str, cpu_s: float, fds: list[int], close: list[int]) -> None:
    """Everything between fork and the candidate's first line: trusted, and it never returns.

    Kept to raw syscalls on purpose: every Python object this touches is a page copied.
    """
    os.setsid()
    for fd in close:
        os.close(fd)
    high = [os.dup(fd) for fd in fds]  # move out of 0..4 first so dup2 cannot clobber a source
    for fd in fds:
        os.close(fd)
    for target, fd in enumerate(high):
        os.dup2(fd, target, inheritable=True)
        os.close(fd)
    os.closerange(len(high), 1 << 16)
    for sig in _IGNORED:
        _signal.signal(sig, _signal.SIG_DFL)
    _signal.signal(_signal.SIGINT, _signal.default_int_handler)
    os.chdir(prepared["run_dir"])
    uid = prepared["spec"].get("drop_uid")
    if uid is not None:  # root without a user namespace: run as an unprivileged uid
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    _apply_rlimits(prepared["spec"]["limits"], prepared["vm_bytes"], cpu_s)
    _forget_privileged_modules(prepared["privileged_modules"])
    if prepared["guard"] is not None:
        prepared["guard"](prepared["run_dir"])
    a = agent.Agent()
    try:
        a.run_main() if mode == "main" else a.serve()
    except BaseException:  # the program broke its own agent: its failure, never the sandbox's
        os._exit(1)
    os._exit(0)


def _vm_size_bytes(status_fd) -> int:
    """Our address-space size (the candidate's RLIMIT_AS is set relative to it)."""
    if status_fd is not None:
        text = os.pread(status_fd, 1 << 16, 0).decode()
        os.close(status_fd)
    else:
        with open("/proc/self/status") as f:
            text = f.read()
    for line in text.splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def _apply_rlimits(limits: dict, vm_bytes: int, cpu_s) -> None:
    if not limits:
        return
    pairs = {
        resource.RLIMIT_AS: vm_bytes + limits["memory_mb"] * (1 << 20),
        resource.RLIMIT_FSIZE: limits["file_size_mb"] * (1 << 20),
        resource.RLIMIT_NOFILE: limits["open_files"],
        resource.RLIMIT_CORE: 0,
    }
    if limits.get("processes"):
        pairs[resource.RLIMIT_NPROC] = limits["processes"]
    for res, value in pairs.items():
        resource.setrlimit(res, (value, value))
    if cpu_s:
        soft = int(cpu_s) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))


def _forget_privileged_modules(names) -> None:
    """Drop the zygote's handles on ctypes so re-importing it trips the guard (defence in depth only)."""
    nsboot = sys.modules.get(__name__.rpartition(".")[0] + ".nsboot")
    if nsboot is not None:
        nsboot._libc = None
    for name in names:
        sys.modules.pop(name, None)


def _reap_all() -> None:
    """Reap every child that has exited or been killed, until none is left."""
    while True:
        try:
            os.wait4(-1, 0)
        except ChildProcessError:
            return


def _children_of(pid: int) -> list[int]:
    out = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(x) for x in f.read().split())
        except OSError:
            pass
    return out


def _wipe(root: str, preserved: set[str]) -> None:
    """Remove everything under ``root`` except mount points of exposed paths and their parents."""
    try:
        os.rmdir(os.path.join(root, RUN_DIR))  # the usual case: the program wrote nothing
    except OSError:
        pass
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        if entry.path in preserved:
            if not os.path.ismount(entry.path):
                _wipe(entry.path, preserved)
            continue
        try:
            if not entry.is_dir(follow_symlinks=False):
                os.unlink(entry.path)
                continue
            try:
                shutil.rmtree(entry.path)
            except OSError:  # a candidate may have chmod-ed its directories; the zygote (same uid) undoes that
                for dirpath, dirnames, _ in os.walk(entry.path):
                    for d in [dirpath] + [os.path.join(dirpath, n) for n in dirnames]:
                        os.chmod(d, 0o700)
                shutil.rmtree(entry.path, ignore_errors=True)
        except OSError:
            pass
