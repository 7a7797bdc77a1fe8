"""``murphy-exec``: the command line in a subprocess, as a user runs it."""
import json
import os
import subprocess
import sys

import pytest
from exec_helpers import task

from murphy_jax.data.task import TestCase

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def murphy_exec(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "murphy_jax.cli.exec", *args], capture_output=True, text=True,
                          cwd=ROOT, input=stdin, timeout=120)


@pytest.fixture
def files(tmp_path):
    t = task("assert f(1) == 2", private=["assert f(2) == 3"])
    (tmp_path / "task.json").write_text(t.to_json())
    (tmp_path / "good.py").write_text("def f(x):\n    return x + 1\n")
    (tmp_path / "bad.py").write_text("def f(x):\n    return x\n")
    (tmp_path / "latin1.py").write_bytes(b"# \xe9\ndef f(x):\n    return x + 1\n")
    return tmp_path


def test_passing_and_failing_programs(files):
    good = murphy_exec("--task", str(files / "task.json"), "--solution", str(files / "good.py"))
    assert good.returncode == 0 and "passed (2/2 tests passed" in good.stdout
    bad = murphy_exec("--task", str(files / "task.json"), "--solution", str(files / "bad.py"), "--feedback")
    assert bad.returncode == 1 and "failed (0/2" in bad.stdout and "Expected: 2" in bad.stdout
    assert "hidden test(s) failed" in bad.stdout


def test_json_output_is_a_full_result(files):
    out = murphy_exec("--task", str(files / "task.json"), "--solution", "-", "--json", stdin="def f(x):\n    return 2\n")
    result = json.loads(out.stdout)
    assert out.returncode == 1 and result["status"] == "failed"
    assert [o["status"] for o in result["outcomes"]] == ["passed", "failed"] and result["outcomes"][1]["public"] is False


def test_bad_inputs_get_clear_errors(files):
    (files / "broken.json").write_text('{"task_id": "x", ')
    out = murphy_exec("--task", str(files / "broken.json"), "--solution", str(files / "good.py"))
    assert out.returncode == 2 and "bad task" in out.stderr and "malformed" in out.stderr
    out = murphy_exec("--task", str(files / "missing.json"), "--solution", str(files / "good.py"))
    assert out.returncode == 2 and "cannot read" in out.stderr
    out = murphy_exec("--task", str(files / "task.json"), "--solution", str(files / "latin1.py"), "--json")
    assert out.returncode == 1 and json.loads(out.stdout)["status"] == "syntax_error"


def test_stdio_task_from_the_command_line(files):
    t = task(TestCase(kind="stdio", stdin="4\n", expected="16\n"), io_mode="stdio", entry_point=None)
    (files / "stdio.json").write_text(t.to_json())
    (files / "sq.py").write_text("n = int(input())\nprint(n * n)\n")
    out = murphy_exec("--task", str(files / "stdio.json"), "--solution", str(files / "sq.py"))
    assert out.returncode == 0, out.stdout + out.stderr
