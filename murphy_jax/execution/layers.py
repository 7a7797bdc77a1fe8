"""Which isolation layers to apply, how to describe them to the zygote, and what happened when we tried."""
from __future__ import annotations

import os
import sys

import murphy_jax

from .config import LAYERS, ExecutorConfig
from .zygote_client import LayerUnavailable, ZygoteClient

NS_LAYERS = ("userns", "pidns", "netns", "fs")
# Host paths every sandbox can read (if they exist); the Python installation is added at run time.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
CANDIDATE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                 "PYTHONIOENCODING": "utf-8", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                 "MKL_NUM_THREADS": "1"}


def repo_root() -> str:
    """Directory holding the ``murphy_jax`` package (hidden from the sandbox: it may hold data and configs)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(murphy_jax.__file__)))


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def python_paths() -> list[str]:
    """This interpreter's import path, minus the project checkout (but keeping a virtualenv inside it)."""
    prefixes = [os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)]
    root = os.path.realpath(repo_root())
    out = []
    for p in sys.path:
        if not p or not os.path.isdir(p):
            continue
        real = os.path.realpath(p)
        if _under(real, root) and not any(_under(real, pre) for pre in prefixes):
            continue
        if real not in out:
            out.append(real)
    return out


def sandbox_spec(cfg: ExecutorConfig, on: set[str], host_scratch: str) -> dict:
    """The zygote's static settings for the layers in ``on``."""
    userns = "userns" in on
    root = os.geteuid() == 0
    drop_uid = cfg.sandbox_uid if root and not userns else None
    limits = {}
    if "rlimits" in on:
        limits = {"memory_mb": cfg.memory_mb, "file_size_mb": cfg.file_size_mb, "open_files": cfg.max_open_files,
                  # RLIMIT_NPROC counts every process of a uid; without a private uid it would count the host's.
                  "processes": cfg.max_processes if (userns or drop_uid is not None) else None}
    paths = python_paths()
    expose = list(SYSTEM_PATHS) + [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                                   os.path.dirname(sys.executable)] + paths + list(cfg.expose_paths)
    return {
        "ns": userns, "pidns": "pidns" in on, "netns": "netns" in on, "fs": "fs" in on,
        "expose": expose, "scratch_mb": cfg.scratch_mb, "sys_path": paths, "preload": list(cfg.preload_modules),
        "scratch_root": "/tmp" if "fs" in on else host_scratch, "env": dict(CANDIDATE_ENV), "limits": limits,
        "guard": "audit" in on, "block_processes": cfg.block_processes, "drop_uid": drop_uid,
    }


def zygote_env(cfg: ExecutorConfig) -> dict:
    """Environment of the zygote process itself (never the trainer's: it may hold credentials)."""
    env = dict(CANDIDATE_ENV)
    env["PYTHONHASHSEED"] = str(cfg.hash_seed) if cfg.hash_seed >= 0 else "random"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def start_sandbox(cfg: ExecutorConfig, host_scratch: str, python: str):
    """Start a zygote with every wanted layer that works here; returns (client, {layer: status})."""
    wanted = set(cfg.wanted_layers())
    status = {layer: "disabled" for layer in LAYERS if layer not in wanted}
    on = set(wanted)
    if "userns" not in on:
        for layer in ("pidns", "netns", "fs"):
            if layer in on:
                on.discard(layer)
                status[layer] = "unavailable: needs userns"
    if "fs" in on and "pidns" not in on:
        on.discard("fs")
        status["fs"] = "unavailable: needs pidns (a private /proc)"
    root = os.geteuid() == 0
    ids = (cfg.sandbox_uid, cfg.sandbox_uid) if root else (os.getuid(), os.getgid())
    while True:
        try:
            zyg = ZygoteClient(python, sandbox_spec(cfg, on, host_scratch), map_ids=ids, env=zygote_env(cfg),
                               timeout=cfg.start_timeout_s)
            break
        except LayerUnavailable as e:
            failed = e.layer if e.layer in on else "userns"
            dropped = {failed} | ({"pidns", "netns", "fs"} if failed == "userns" else set()) | \
                      ({"fs"} if failed == "pidns" else set())
            dropped &= on
            if not dropped:
                raise
            for layer in dropped:
                status[layer] = f"unavailable: {e.reason}" if layer == failed else f"unavailable: needs {failed}"
            on -= dropped
    for layer in on:
        status[layer] = "active"
    return zyg, {layer: status[layer] for layer in LAYERS}
