#!/usr/bin/env python3
"""The project's two front doors: ``python3 run.py demo`` and ``python3 run.py test``.

Needs only Python 3.11+ and pip. Creates ``.venv`` beside this file, installs the
pinned dependency set from ``requirements/lock.txt`` plus the package itself, and
reinstalls only when the lock file or setup.py changes.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements" / "lock.txt"


def _venv_python() -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / "python"


def _fingerprint() -> str:
    h = hashlib.sha256()
    for f in (LOCK, ROOT / "setup.py"):
        h.update(f.read_bytes())
    h.update(sys.version.encode())
    return h.hexdigest()[:16]


def ensure_env() -> Path:
    """Create or refresh the virtualenv; returns its python."""
    if sys.version_info < (3, 11):
        sys.exit(f"murphy_jax needs Python 3.11+, this is {sys.version.split()[0]}")
    py = _venv_python()
    stamp = VENV / ".murphy-installed"
    want = _fingerprint()
    if py.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return py
    if not py.exists():
        print(f"[run.py] creating virtualenv in {VENV}", flush=True)
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV)])
    print("[run.py] installing pinned dependencies (first run takes a few minutes)", flush=True)
    pip = [str(py), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.check_call(pip + ["-r", str(LOCK)])
    subprocess.check_call(pip + ["--no-deps", "-e", str(ROOT)])
    stamp.write_text(want)
    return py


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "env"):
        print(__doc__)
        print("usage: python3 run.py {demo|test|env} [extra args]")
        return 2
    cmd, rest = argv[0], argv[1:]
    py = ensure_env()
    env = dict(os.environ)
    if cmd == "env":
        print(py)
        return 0
    if cmd == "test":
        args = [str(py), "-m", "pytest", "-n", os.environ.get("MURPHY_TEST_WORKERS", "2"), "tests"] + rest
    else:
        args = [str(py), "-m", "murphy_jax.cli.demo"] + rest
    return subprocess.call(args, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
