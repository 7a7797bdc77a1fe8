"""Helpers for data tests: shared dataset paths (skip when absent) and the oracle runner."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
ORACLE = Path(__file__).with_name("_oracle.py")


def shared_path(*parts: str) -> Path:
    """A file under ../shared/data, or skip the test saying which one is missing."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared dataset {p} is absent (tests read it from ../shared/data, never from the repo)")
    return p


def run_oracle(pairs) -> dict[str, list]:
    """Run ``(task, program)`` pairs through tests/data/_oracle.py; returns task_id -> failed tests."""
    lines = "".join(json.dumps({"task": t.to_dict(), "program": p}) + "\n" for t, p in pairs)
    proc = subprocess.run([sys.executable, str(ORACLE)], input=lines, capture_output=True, text=True,
                          timeout=300, check=True)
    out = {}
    for line in proc.stdout.splitlines():
        r = json.loads(line)
        out[r["task_id"]] = r["failed"]
    return out
