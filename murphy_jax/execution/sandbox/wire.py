"""Length-prefixed JSON frames over pipes, with size caps and deadlines.

Used on three links: executor <-> worker, judge <-> candidate agent, and (as plain
datagrams) worker/judge <-> zygote. Frames are ASCII JSON (``ensure_ascii``), so any
Python ``str`` (lone surrogates included) survives the trip unchanged.
"""
from __future__ import annotations

import json
import os
import select
import struct
import time

HEADER = struct.Struct("!I")
MAX_FRAME = 64 << 20  # hard ceiling; links pass a smaller cap where one applies
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode  # one encoder: json.dumps(separators=...) builds one per call


class WireError(Exception):
    """The peer closed the link, sent garbage, or a frame broke a size cap."""


class FrameTooLarge(WireError):
    """A frame announced more bytes than the reader's cap allows."""


def dumps(obj) -> bytes:
    """Encode one frame (header + JSON)."""
    body = _ENCODE(obj).encode("ascii")
    return HEADER.pack(len(body)) + body


def frame(body: bytes) -> bytes:
    """A frame around already-encoded JSON (to splice cached JSON into a message without re-encoding it)."""
    return HEADER.pack(len(body)) + body


def write_all(fd: int, data: bytes, deadline: float | None = None) -> None:
    """Write every byte to a (possibly non-blocking) fd, waiting at most until ``deadline``."""
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
            view = view[n:]
            continue
        except BlockingIOError:
            pass
        wait = None if deadline is None else deadline - time.monotonic()
        if wait is not None and wait <= 0:
            raise WireError("write timed out")
        select.select([], [fd], [], wait)


def send(fd: int, obj, deadline: float | None = None) -> None:
    """Send one frame."""
    write_all(fd, dumps(obj), deadline)


class FrameReader:
    """Incremental frame decoder fed from non-blocking reads."""

    def __init__(self, fd: int, cap: int = MAX_FRAME):
        self.fd = fd
        self.cap = min(cap, MAX_FRAME)
        self.buf = bytearray()
        self.eof = False

    def fill(self) -> int:
        """Read what is available now; returns bytes read (0 at EOF)."""
        try:
            chunk = os.read(self.fd, 1 << 20)
        except BlockingIOError:
            return -1
        if not chunk:
            self.eof = True
        self.buf += chunk
        return len(chunk)

    def pop(self):
        """Return the next complete frame's object, or ``None`` if none is buffered."""
        if len(self.buf) < HEADER.size:
            return None
        (n,) = HEADER.unpack_from(self.buf)
        if n > self.cap:
            raise FrameTooLarge(f"frame of {n} bytes exceeds the {self.cap}-byte cap")
        if len(self.buf) < HEADER.size + n:
            return None
        body = bytes(self.buf[HEADER.size:HEADER.size + n])
        del self.buf[:HEADER.size + n]
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as e:  # RecursionError: a frame nested thousands deep
            raise WireError(f"malformed frame: {e}") from None

    def read(self, deadline: float | None = None):
        """Block (until ``deadline``) for the next frame; raises WireError on EOF or timeout."""
        while True:
            obj = self.pop()
            if obj is not None:
                return obj
            if self.eof:
                raise WireError("peer closed the link")
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                raise WireError("read timed out")
            r, _, _ = select.select([self.fd], [], [], wait)
            if r:
                self.fill()


def recv_blocking(fd: int, cap: int = MAX_FRAME):
    """Read exactly one frame from a blocking fd (used where nothing else must be watched)."""
    head = _read_exact(fd, HEADER.size)
    (n,) = HEADER.unpack(head)
    if n > min(cap, MAX_FRAME):
        raise FrameTooLarge(f"frame of {n} bytes exceeds the cap")
    try:
        return json.loads(_read_exact(fd, n))
    except (ValueError, RecursionError) as e:
        raise WireError(f"malformed frame: {e}") from None


def _read_exact(fd: int, n: int) -> bytes:
    parts, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise WireError("peer closed the link")
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)
