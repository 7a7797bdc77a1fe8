"""Cached model directories (a converted GGUF, a random test model) that are whole or absent, never half-written.

``build_cached(dest, build)`` runs ``build(tmp)`` in a temporary sibling of ``dest``, writes a
manifest (``.complete``: every file's name and size) last and renames the directory into
place, so a conversion killed mid-way leaves only a temporary directory, never a ``dest`` that
looks usable. A ``dest`` without a manifest, or whose files no longer match it (half-written by
an older version that wrote in place, a weight file truncated or deleted since), is reported in
one warning and rebuilt; temporaries left by dead builders are removed with a warning.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
from typing import Callable

log = logging.getLogger(__name__)

MARKER = ".complete"
_TMP = ".partial"  # temporaries are <dest>.partial-<pid>-<random>; older versions used <dest>.partial
_STALE = ".stale-"


def _files(root: str) -> dict[str, int]:
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            path = os.path.join(d, n)
            rel = os.path.relpath(path, root)
            if rel != MARKER:
                out[rel] = os.path.getsize(path)
    return out


def write_manifest(directory: str) -> None:
    """Mark ``directory`` complete: the name and size of every file in it (written last, by rename)."""
    files = _files(directory)
    tmp = os.path.join(directory, MARKER + ".tmp")
    with open(tmp, "w") as f:
        json.dump({"files": files}, f, indent=0, sort_keys=True)
    os.replace(tmp, os.path.join(directory, MARKER))


def problem(dest: str) -> str | None:
    """Why ``dest`` is not a complete cached directory ("missing" when absent), or None when it is complete."""
    if not os.path.isdir(dest):
        return "missing"
    marker = os.path.join(dest, MARKER)
    if not os.path.exists(marker):
        return "no completion marker: an interrupted build or an older layout"
    try:
        with open(marker) as f:
            text = f.read()
        manifest = json.loads(text)["files"] if text.strip() else None
    except (ValueError, KeyError, TypeError) as e:
        return f"unreadable {MARKER} ({type(e).__name__})"
    if manifest is None:  # an empty marker of an older version, written last too: check what it can
        return None if os.path.exists(os.path.join(dest, "config.json")) else "config.json is missing"
    for name, size in sorted(manifest.items()):
        path = os.path.join(dest, name)
        if not os.path.exists(path):
            return f"{name} is missing"
        if os.path.getsize(path) != size:
            return f"{name} has {os.path.getsize(path)} bytes, {size} expected (truncated?)"
    return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _remove_leftovers(dest: str, what: str) -> None:
    """Temporaries of builders that died (their pid is gone) and directories set aside for removal."""
    parent, base = os.path.split(dest)
    for name in os.listdir(parent):
        path = os.path.join(parent, name)
        if name.startswith(base + _STALE):
            shutil.rmtree(path, ignore_errors=True)
        elif name == base + _TMP or name.startswith(base + _TMP + "-"):
            pid = name[len(base + _TMP) + 1:].split("-", 1)[0]
            if pid.isdigit() and _pid_alive(int(pid)) and int(pid) != os.getpid():
                continue  # another process is building right now
            log.warning("%s: removing %s, left by an interrupted build", what, path)
            shutil.rmtree(path, ignore_errors=True)


def build_cached(dest: str, build: Callable[[str], None], *, what: str = "model cache") -> str:
    """``dest``, built by ``build(tmp_dir)`` first when it is missing or incomplete (with a warning for the latter).

    Not a lock: callers that may race on one ``dest`` serialise around this call (the loser of a
    race would still only ever see a complete directory or none).
    """
    why = problem(dest)
    if why is None:
        return dest
    parent = os.path.dirname(os.path.abspath(dest))
    os.makedirs(parent, exist_ok=True)
    if why != "missing":
        log.warning("%s %s is incomplete (%s); rebuilding it", what, dest, why)
    _remove_leftovers(dest, what)
    tmp = tempfile.mkdtemp(prefix=f"{os.path.basename(dest)}{_TMP}-{os.getpid()}-", dir=parent)
    stale = None
    try:
        build(tmp)
        write_manifest(tmp)
        if os.path.lexists(dest):  # a directory cannot be renamed over a non-empty one: set the old one aside
            stale = tempfile.mkdtemp(prefix=os.path.basename(dest) + _STALE, dir=parent)
            os.replace(dest, os.path.join(stale, "old"))
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if stale:
            shutil.rmtree(stale, ignore_errors=True)
    return dest


@contextlib.contextmanager
def locked(path: str):
    """Hold an exclusive lock on ``path + '.lock'``: concurrent runs (and test workers) sharing one cache
    wait for the first download or conversion instead of repeating it."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
