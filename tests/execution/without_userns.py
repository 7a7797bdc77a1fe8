"""Run a command where user namespaces cannot be created (needs root): ``without_userns.py CMD...``.

Tests use it to see the executor on a machine that forbids user namespaces (Docker's default
seccomp profile, kernel.unprivileged_userns_clone=0, Ubuntu's AppArmor restriction): a user
namespace mapping uids 0-65535 to the same host uids sets its max_user_namespaces to 0 and
runs the command inside, as its root.
"""
import ctypes
import os
import sys

CLONE_NEWUSER = 0x10000000


def main() -> int:
    r, w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWUSER) != 0:
            os._exit(97)
        os.write(w, b"x")
        os.read(go_r, 1)  # wait for the maps
        with open("/proc/sys/user/max_user_namespaces", "w") as f:
            f.write("0")
        os.execvp(sys.argv[1], sys.argv[1:])
    os.read(r, 1)
    for name in ("uid_map", "gid_map"):
        with open(f"/proc/{pid}/{name}", "w") as f:
            f.write("0 0 65536")
    os.write(go_w, b"x")
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
