"""Linux isolation primitives for the sandbox zygote: namespaces, a read-only minimal root, no capabilities.

Runs only in the zygote bootstrap (a fresh interpreter that never ran untrusted code).
Everything is done with plain syscalls through ctypes so no external tool (bubblewrap,
util-linux) is needed; each step raises ``LayerError`` naming what failed so the worker
can report the layer as unavailable instead of half-applying it.
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import re

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
MNT_DETACH = 2
_OPT_FLAGS = {"ro": MS_RDONLY, "nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC,
              "noatime": MS_NOATIME, "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME}

PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_SECUREBITS, PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 28, 38, 36
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
# NOROOT, NO_SETUID_FIXUP, KEEP_CAPS_LOCKED, NO_CAP_AMBIENT_RAISE and their locks: root gets no
# capabilities back on exec, and the process can never undo this.
SECUREBITS_LOCKED_NOROOT = 0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40 | 0x80
_PIVOT_ROOT = {"x86_64": 155, "amd64": 155, "aarch64": 41, "arm64": 41, "riscv64": 41}

DEVICES = ("null", "zero", "full", "random", "urandom")
# Where the new root is assembled before pivot_root: a host directory that exists everywhere and that
# the sandbox uid can search. Host mounts below it are covered by the new root (see seal_mounts).
NEW_ROOT = "/tmp"

_libc = None
_UNREACHABLE = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.EACCES)


class LayerError(OSError):
    """An isolation step failed; the message names the step and the errno text."""


def libc():
    """The C library, loaded once."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise LayerError(err, f"{what}: {os.strerror(err)}")
    return ret


def _b(s):
    return None if s is None else os.fsencode(s)


def unshare(flags: int) -> None:
    """unshare(2)."""
    _check(libc().unshare(ctypes.c_int(flags)), "unshare")


def mount(src, target, fstype, flags: int, data=None) -> None:
    """mount(2)."""
    _check(libc().mount(_b(src), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data)),
           f"mount {src or fstype or ''} on {target}")


def umount2(target: str, flags: int) -> None:
    """umount2(2)."""
    _check(libc().umount2(_b(target), ctypes.c_int(flags)), f"umount {target}")


def prctl(option: int, arg2: int = 0) -> None:
    """prctl(2) with one argument."""
    _check(libc().prctl(ctypes.c_int(option), ctypes.c_ulong(arg2), ctypes.c_ulong(0),
                        ctypes.c_ulong(0), ctypes.c_ulong(0)), f"prctl({option})")


def set_pdeathsig(sig: int) -> None:
    """Get ``sig`` when the parent dies (the zygote and its children must not outlive the worker)."""
    prctl(PR_SET_PDEATHSIG, sig)


def set_dumpable(flag: bool) -> None:
    """PR_SET_DUMPABLE: a non-dumpable process cannot be ptraced or have /proc/PID/mem opened by peers."""
    prctl(PR_SET_DUMPABLE, 1 if flag else 0)


def set_child_subreaper() -> None:
    """Orphaned descendants (double-fork daemons) get reparented to us, so we can kill them."""
    prctl(PR_SET_CHILD_SUBREAPER, 1)


def sethostname(name: str) -> None:
    """sethostname(2) (inside a UTS namespace)."""
    raw = name.encode()
    _check(libc().sethostname(raw, ctypes.c_size_t(len(raw))), "sethostname")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> None:
    """Give up every capability for good: securebits locked, bounding and ambient sets cleared, no_new_privs."""
    prctl(PR_SET_SECUREBITS, SECUREBITS_LOCKED_NOROOT)
    for cap in range(64):
        if libc().prctl(ctypes.c_int(PR_CAPBSET_DROP), ctypes.c_ulong(cap), ctypes.c_ulong(0),
                        ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
            break  # past the last capability this kernel knows
    libc().prctl(ctypes.c_int(PR_CAP_AMBIENT), ctypes.c_ulong(PR_CAP_AMBIENT_CLEAR_ALL), ctypes.c_ulong(0),
                 ctypes.c_ulong(0), ctypes.c_ulong(0))
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _check(libc().capset(ctypes.byref(header), data), "capset")
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def pivot_root(new_root: str, put_old: str) -> None:
    """pivot_root(2) by raw syscall number (glibc has no wrapper)."""
    nr = _PIVOT_ROOT.get(platform.machine().lower())
    if nr is None:
        raise LayerError(0, f"pivot_root: unknown syscall number on {platform.machine()}")
    _check(libc().syscall(ctypes.c_long(nr), _b(new_root), _b(put_old)), "pivot_root")


def _unescape(field: bytes) -> str:
    # The kernel writes space, tab, newline and backslash in paths as \ooo (\040 is a space).
    return os.fsdecode(re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), field))


def _mountinfo() -> list[tuple[int, str, set[str]]]:
    """(mount id, mount point, per-mount options) of every mount in our namespace, parents first."""
    out = []
    with open("/proc/self/mountinfo", "rb") as f:  # bytes: a mount point need not be valid UTF-8
        for line in f:
            parts = line.split()
            out.append((int(parts[0]), _unescape(parts[4]), set(os.fsdecode(parts[5]).split(","))))
    return out


def _mount_id(fd: int) -> int:
    """Id of the mount an open file lives on (``mnt_id`` in fdinfo, Linux 3.15)."""
    with open(f"/proc/self/fdinfo/{fd}", "rb") as f:
        for line in f:
            if line.startswith(b"mnt_id:"):
                return int(line.split()[1])
    raise LayerError(0, "fdinfo has no mnt_id (Linux < 3.15)")


def seal_mounts(root: str, writable, keep_dev=()) -> int:
    """Remount every mount visible below ``root`` read-only, nosuid and (except ``keep_dev``) nodev; returns how many.

    Mountinfo also lists mounts that are not reachable below ``root``: host mounts under the
    directory the new root was mounted over (a tmpfs or bind below /tmp on a CI runner), and
    mounts stacked under another one at the same place (recursive binds copy both). Their path
    then names nothing or another mount, so each entry is opened and its mount id compared
    with the one mountinfo gives: a mismatch or a missing path means nothing in the sandbox can
    reach that mount by any path (unmounting what covers it needs capabilities the sandbox drops
    for good, and the kernel locks copied mounts together), and it is left alone. Every mount
    that is reachable is remounted through the descriptor, so the flags applied are its own.
    """
    done = 0
    prefix = root.rstrip("/") + "/"
    for mnt_id, point, opts in _mountinfo():
        if not point.startswith(prefix) or point in writable:
            continue
        try:
            fd = os.open(point, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as e:
            # Gone (ENOENT, ENOTDIR: hidden under the new root), a symlink of ours where it was (ELOOP),
            # or behind a directory we cannot search (EACCES): the candidate, with our uid and no
            # capabilities at all, cannot reach it either.
            if e.errno in _UNREACHABLE:
                continue
            raise LayerError(e.errno, f"open {point}: {e.strerror}") from None
        try:
            if _mount_id(fd) != mnt_id:
                continue  # the path reaches another mount: this one is covered
            flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | _flags_from_opts(opts - {"ro", "rw"})
            if point not in keep_dev:
                flags |= MS_NODEV
            mount(None, f"/proc/self/fd/{fd}", None, flags)
            done += 1
        finally:
            os.close(fd)
    return done


def _flags_from_opts(opts: set[str]) -> int:
    return sum(f for o, f in _OPT_FLAGS.items() if o in opts)


def open_sources(paths) -> list[tuple[str, int, str]]:
    """Open every path to expose (O_PATH) while we can still traverse to it; returns (path, fd, kind).

    Paths inside another listed path are dropped (they are visible through it), and
    symlinks are recreated as symlinks, so nothing is ever created inside a bind mount.
    """
    wanted = set()
    for p in paths:
        if p and os.path.isabs(p):
            wanted.add(os.path.normpath(p))
            wanted.add(os.path.realpath(p))
    kept: list[str] = []
    for p in sorted(wanted, key=len):
        parent = os.path.dirname(p)
        if os.path.realpath(parent) != parent:
            continue  # reached through a symlinked ancestor; its real path is in the set
        if not any(p == k or p.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(p)
    out = []
    for p in kept:
        if not os.path.lexists(p):
            continue
        if os.path.islink(p):
            out.append((p, -1, "link:" + os.readlink(p)))
            continue
        fd = os.open(p, os.O_PATH | os.O_CLOEXEC)
        out.append((p, fd, "dir" if os.path.isdir(p) else "file"))
    return out


def preserved_under(sources, scratch: str = "/tmp") -> set[str]:
    """Paths inside the scratch tmpfs that hold exposed host paths (never wiped between runs)."""
    keep = set()
    for path, _, _ in sources:
        if path.startswith(scratch + "/"):
            parts = path[len(scratch) + 1:].split("/")
            for i in range(1, len(parts) + 1):
                keep.add(scratch + "/" + "/".join(parts[:i]))
    return keep


def build_root(sources, *, scratch_mb: int, mount_point: str = NEW_ROOT) -> None:
    """Pivot into a fresh tmpfs root holding only ``sources`` (read-only), /dev basics, a new /proc and a scratch /tmp.

    Must run as root of a new user+mount namespace (and inside the new PID namespace, so
    the new /proc shows only sandbox processes). Afterwards ``/tmp`` and ``/dev/shm`` are
    the only writable places, both size-capped tmpfs. Exposed host paths that live under
    /tmp (a virtualenv in a CI temp clone) are bound inside the scratch tmpfs, read-only.
    """
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    new = os.path.realpath(mount_point)  # mountinfo names resolved paths: a symlinked /tmp would escape seal_mounts
    mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=0755")
    os.makedirs(new + "/tmp")
    mount("tmpfs", new + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(scratch_mb)}m,mode=1777")
    for path, fd, kind in sorted(sources, key=lambda s: s[0].count("/")):
        target = new + path
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if kind.startswith("link:"):
            if not os.path.lexists(target):
                os.symlink(kind[5:], target)
            continue
        if kind == "dir":
            os.makedirs(target, exist_ok=True)
        elif not os.path.exists(target):
            open(target, "w").close()
        mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
    dev = new + "/dev"
    os.makedirs(dev, exist_ok=True)
    for name in DEVICES:
        if os.path.exists("/dev/" + name):
            open(f"{dev}/{name}", "w").close()
            mount("/dev/" + name, f"{dev}/{name}", None, MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{dev}/{name}")
    seal_mounts(new, writable={new + "/tmp", dev + "/shm", new + "/proc"},
                keep_dev={f"{dev}/{name}" for name in DEVICES})
    os.makedirs(new + "/proc", exist_ok=True)
    mount("proc", new + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.makedirs(dev + "/shm", exist_ok=True)
    mount("tmpfs", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, f"size={int(scratch_mb)}m,mode=1777")
    os.chdir(new)
    pivot_root(".", ".")
    umount2(".", MNT_DETACH)  # the old root was stacked under the new one by pivot_root(".", ".")
    os.chdir("/")
    mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
