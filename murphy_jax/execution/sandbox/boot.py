"""Entry script of the sandbox zygote: ``python -s -S -B -P boot.py CTL_FD``.

Runs in a fresh interpreter started by the worker (never a fork of the trainer). It loads
this folder as the package ``murphy_sandbox``, reads its spec from the control socket and
enters the namespaces the spec asks for (the worker writes the uid/gid maps) and preloads
modules. With a PID namespace it forks the namespace's init, which builds the read-only root,
drops its capabilities and becomes the forker of candidates (zygote.Forker); its socket is
handed to the worker and this process just waits. Without one, this process is the forker.
A layer that fails is reported as ``{"op": "failed", ...}`` before exiting, never half-applied.
"""
import importlib.util
import json
import os
import signal
import socket
import sys


def _load_package():
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("murphy_sandbox", os.path.join(here, "__init__.py"),
                                                  submodule_search_locations=[here])
    pkg = importlib.util.module_from_spec(spec)
    sys.modules["murphy_sandbox"] = pkg
    spec.loader.exec_module(pkg)


def _send(sock, msg):
    sock.send(json.dumps(msg).encode())


def _recv(sock):
    data = sock.recv(1 << 20)
    if not data:
        os._exit(3)
    return json.loads(data)


def _start_forker(spec, sources):
    """Fork the PID namespace's init: it builds the root and becomes the forker.

    Returns (the socket to hand to the worker, the init's pid).
    """
    from murphy_sandbox import nsboot, zygote

    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        ours.close()
        os.close(spec["status_fd"])
        try:
            nsboot.set_pdeathsig(signal.SIGKILL)
            if spec["fs"]:
                nsboot.build_root(sources, scratch_mb=spec["scratch_mb"])
            nsboot.sethostname("sandbox")
            nsboot.drop_capabilities()
            nsboot.set_dumpable(False)
            os.close(os.pidfd_open(os.getpid()))  # pidfds (Linux 5.3) are how the judge reaches candidates
            os.makedirs(spec["scratch_root"], exist_ok=True)
            prepared = zygote.prepare(spec)
            zygote.freeze()
        except Exception as e:
            _send(theirs, {"op": "failed", "layer": "fs" if spec["fs"] else "pidns", "error": f"{type(e).__name__}: {e}"})
            os._exit(4)
        _send(theirs, {"op": "ok"})
        zygote.Forker(theirs, prepared, pid1=True).serve()
        os._exit(0)
    theirs.close()
    reply = _recv(ours)
    if reply.get("op") != "ok":
        raise _Failed(reply)
    return ours, pid


class _Failed(Exception):
    pass


def _preload(spec):
    for name in spec["preload"]:
        try:
            importlib.import_module(name)
        except Exception:  # a missing optional module just is not preloaded
            pass


def main():
    """Become the zygote (or report why not)."""
    sock = socket.socket(fileno=int(sys.argv[1]))
    spec = _recv(sock)
    sys.path.extend(p for p in spec["sys_path"] if p not in sys.path)
    _load_package()
    from murphy_sandbox import nsboot, zygote

    step, forker, prepared = "start", None, None
    # Without a PID namespace we fork candidates and size their RLIMIT_AS from our own status; keep a
    # handle on it now (after a pivot, our /proc would be the sandbox's, where we have no entry).
    spec["status_fd"] = os.open(f"/proc/{os.getpid()}/status", os.O_RDONLY)
    try:
        nsboot.set_pdeathsig(signal.SIGKILL)
        if spec["ns"]:
            step = "userns"
            flags = nsboot.CLONE_NEWUSER | nsboot.CLONE_NEWIPC | nsboot.CLONE_NEWUTS
            if spec["pidns"]:
                flags |= nsboot.CLONE_NEWPID
            if spec["netns"]:
                flags |= nsboot.CLONE_NEWNET
            if spec["fs"]:
                flags |= nsboot.CLONE_NEWNS
            nsboot.unshare(flags)
            _send(sock, {"op": "need_maps"})
            if _recv(sock).get("op") != "maps_done":
                raise OSError("the worker could not write the id maps")
            sources = nsboot.open_sources(spec["expose"]) if spec["fs"] else []
            if spec["fs"]:
                spec["preserved"] = sorted(nsboot.preserved_under(sources))
                spec["shm_dir"] = "/dev/shm"
            _preload(spec)  # still as the launching uid: the sandbox uid may not be able to read the install
            os.setresgid(0, 0, 0)
            os.setresuid(0, 0, 0)
            if spec["pidns"]:
                step = "pidns"
                forker, spec["init_pid"] = _start_forker(spec, sources)
                os.chdir("/")  # the init's pivot_root moved our root; leave the old cwd behind
            for _, fd, _ in sources:
                if fd >= 0:
                    os.close(fd)
            step = "userns"
            nsboot.drop_capabilities()
        nsboot.set_dumpable(False)
        if forker is None:  # no PID namespace: we fork the candidates ourselves
            step = "subreaper"
            nsboot.set_child_subreaper()
            if not spec["ns"]:
                _preload(spec)
            os.makedirs(spec["scratch_root"], exist_ok=True)
            prepared = zygote.prepare(spec, spec.pop("status_fd"))
        else:
            os.close(spec.pop("status_fd"))
    except _Failed as e:
        _send(sock, e.args[0])
        os._exit(4)
    except Exception as e:
        _send(sock, {"op": "failed", "layer": step, "error": f"{type(e).__name__}: {e}"})
        os._exit(4)
    if forker is None:
        zygote.freeze()
        _send(sock, {"op": "ready"})
        zygote.Forker(sock, prepared, pid1=False).serve()
    else:  # the worker talks to the forker directly; we only keep the namespace's init company
        socket.send_fds(sock, [json.dumps({"op": "ready", "init_pid": spec["init_pid"]}).encode()], [forker.fileno()])
        forker.close()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        try:
            os.waitpid(spec["init_pid"], 0)
        except ChildProcessError:
            pass
    os._exit(0)


if __name__ == "__main__":
    main()
