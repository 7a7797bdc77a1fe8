"""The ``audit`` layer: a PEP 578 audit hook installed in the candidate just before its code runs.

This is a tripwire, not the boundary. It turns the common abuse (spawning processes,
opening sockets, loading ctypes, signalling other processes, writing outside scratch when
the read-only root is unavailable) into a clean ``PermissionError`` in the candidate, which
shows up as a runtime error in feedback. Code in the candidate's own address space can in
principle defeat any in-process guard (e.g. via memory writes), which is why the kernel
layers contain the process and the verdict is decided in another process altogether.

The hook only calls functions captured at install time, so monkeypatching ``os`` or
``posixpath`` cannot change what it checks.
"""
from __future__ import annotations

import os
import socket
import sys

_PROCESS_EVENTS = ("os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn", "os.system",
                   "subprocess.Popen", "pty.spawn", "os.startfile")
_DNS_EVENTS = ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo")
_BLOCKED_IMPORTS = frozenset({"ctypes", "_ctypes", "cffi", "_cffi_backend"})
_WRITE_EVENTS = ("os.remove", "os.rmdir", "os.rename", "os.mkdir", "os.chmod", "os.chown", "os.truncate",
                 "os.symlink", "os.link", "os.utime", "os.chflags", "os.lchflags", "os.setxattr", "os.removexattr")
_WRITE_FLAGS = 0o1 | 0o2 | 0o100 | 0o1000 | 0o2000  # O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND


def build(*, block_processes: bool, confine_writes: bool):
    """Build the hook once (in the zygote); returns ``install(scratch)`` to arm it in a child."""
    deny = PermissionError
    getpid = os.getpid
    state = {"scratch": "/", "prefix": "/"}
    startswith = str.startswith
    endswith = str.endswith
    fsdecode = _fsdecode
    af_unix = int(socket.AF_UNIX)

    def blocked(what):
        raise deny(f"blocked by the sandbox: {what}")

    def on_import(args):
        name = args[0]
        if isinstance(name, str) and name.partition(".")[0] in _BLOCKED_IMPORTS:
            # ImportError, not PermissionError: libraries that use ctypes optionally (numpy) carry on without it.
            raise ImportError(f"blocked by the sandbox: import {name}")

    def on_kill(args):
        if args and args[0] != getpid():
            blocked("signalling another process")

    def on_socket(args):
        family = args[1] if len(args) > 1 else None
        if family is not None and int(family) != af_unix:
            blocked("network sockets")

    def outside(path) -> bool:
        p = fsdecode(path)
        if p is None:
            return False
        return startswith(p, "/") and not startswith(p, state["prefix"]) and p != state["scratch"] \
            and not startswith(p, "/dev/")

    def on_open(args):
        path, mode, flags = (tuple(args) + (None, None, None))[:3]
        p = fsdecode(path)
        if p is None:
            return
        if startswith(p, "/proc/") and (endswith(p, "/mem") or "/map_files" in p):
            blocked("process memory files")
        if startswith(p, "/dev/") and p in ("/dev/mem", "/dev/kmem", "/dev/port"):
            blocked("raw memory devices")
        if confine_writes and outside(path):
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                      (isinstance(flags, int) and flags & _WRITE_FLAGS)
            if writing:
                blocked("writing outside the scratch directory")

    def on_write_event(args):
        for a in tuple(args)[:2]:
            if outside(a):
                blocked("changing files outside the scratch directory")

    table = {"import": on_import, "open": on_open, "os.kill": on_kill, "os.killpg": on_kill,
             "socket.__new__": on_socket}
    for ev in _DNS_EVENTS:
        table[ev] = lambda args, ev=ev: blocked(ev)
    if block_processes:
        for ev in _PROCESS_EVENTS:
            table[ev] = lambda args, ev=ev: blocked("starting processes")
    if confine_writes:
        for ev in _WRITE_EVENTS:
            table[ev] = on_write_event
    get = table.get

    def hook(event, args):
        handler = get(event)
        if handler is not None:
            handler(args)
        elif startswith(event, "ctypes."):
            blocked(event)

    def install(scratch: str) -> None:
        state["scratch"] = scratch
        state["prefix"] = scratch.rstrip("/") + "/"
        sys.addaudithook(hook)

    return install


def _fsdecode(path):
    """Path argument as str, without calling into candidate-defined ``__fspath__``."""
    if isinstance(path, str):
        return path
    if isinstance(path, (bytes, bytearray)):
        return bytes(path).decode("utf-8", "surrogateescape")
    return None
