"""Bad input gets a clear error or a syntax_error result, and never hurts the pool."""
import json

import pytest
from exec_helpers import task

from murphy_jax.data.task import CodeTask, TaskFormatError, TestCase

GOOD = ("def f(x):\n    return x\n", task("assert f(1) == 1"))


def test_malformed_task_json_and_unknown_test_kinds_raise_task_format_error(ex):
    with pytest.raises(TaskFormatError, match="malformed"):
        CodeTask.from_json('{"task_id": "x", ')
    d = json.loads(task("assert f(1) == 1").to_json())
    d["public_tests"][0]["kind"] = "fuzz"
    with pytest.raises(TaskFormatError, match="kind"):
        CodeTask.from_dict(d)
    with pytest.raises(TaskFormatError, match="kind"):
        ex.run("x = 1", CodeTask(task_id="x", prompt="p", public_tests=(TestCase(kind="fuzz"),)))
    with pytest.raises(TaskFormatError, match="no tests"):
        ex.submit_batch(["x = 1"], [CodeTask(task_id="x", prompt="p")])
    with pytest.raises(TypeError):
        ex.run("x = 1", {"task_id": "x"})
    assert ex.run(*GOOD).passed


def test_test_code_that_does_not_compile_is_the_tasks_fault(ex):
    with pytest.raises(TaskFormatError, match="does not compile"):
        ex.run("def f(x):\n    return x\n", task("assert f(1) ==="))
    assert ex.run(*GOOD).passed


@pytest.mark.parametrize("program, what", [
    ("", "empty"), ("   \n\t\n", "empty"), (b"\xff\xfe def f(x): pass", "UTF-8"), ("x = 1\x00", "null"),
    ("def f(x):\n    return '\udc80'\n", ""), ("(" * 300 + ")" * 300, ""), ("def f(:\n", "line 1"),
])
def test_unrunnable_sources_are_syntax_errors(ex, program, what):
    r = ex.run(program, task("assert f(1) == 1"))
    assert r.status == "syntax_error" and r.reward() == 0.0
    assert what.lower() in r.message.lower()
    assert ex.run(*GOOD).passed


def test_bytes_programs_are_decoded_and_programs_must_be_text_or_bytes(ex):
    assert ex.run(b"def f(x):\n    return x\n", task("assert f(1) == 1")).passed
    with pytest.raises(TypeError):
        ex.run(123, task("assert f(1) == 1"))


def test_a_very_large_program_still_runs(ex):
    body = "".join(f"v{i} = {i}\n" for i in range(50_000))
    assert ex.run(body + "def f(x):\n    return x\n", task("assert f(1) == 1")).passed
