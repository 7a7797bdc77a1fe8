"""A task file with one malformed row among good ones: skipped with a counted warning, or one error naming file:line.

Three kinds of bad row (a broken JSON line, a row missing a required field, a field of the
wrong type) in a real CodeTask JSONL file, loaded through ``load_tasks``, ``murphy-eval`` and
``murphy-train``.
"""
import json
import logging
import os
import subprocess
import sys

import pytest

from murphy_jax.data.bundled import load_bundled
from murphy_jax.data.sources import ON_BAD_ROW, BadRowError, SourceError, load_tasks
from murphy_jax.data.task import write_jsonl
from murphy_jax.errors import MurphyUserError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _cut_line(line: str) -> str:
    return line[:37]  # a line cut mid-write


def _drop_prompt(line: str) -> str:
    row = json.loads(line)
    del row["prompt"]
    return json.dumps(row)


def _tests_not_a_list(line: str) -> str:
    row = json.loads(line)
    row["public_tests"] = "assert f(1) == 2"
    return json.dumps(row)


BAD = {
    "broken JSON": (_cut_line, "malformed JSON line"),
    "missing field": (_drop_prompt, "missing required field 'prompt'"),
    "wrong type": (_tests_not_a_list, "public_tests: must be a list"),
}


def _task_file(tmp_path, damage, bad_line: int = 4, n: int = 6) -> tuple[str, list[str]]:
    """``n`` good bundled tasks with line ``bad_line`` (1-based) damaged; returns (path, ids of good rows)."""
    path = str(tmp_path / "tasks.jsonl")
    tasks = list(load_bundled("train"))[:n]
    write_jsonl(tasks, path)
    with open(path) as f:
        lines = f.read().splitlines()
    lines[bad_line - 1] = damage(lines[bad_line - 1])
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path, [t.task_id for i, t in enumerate(tasks) if i != bad_line - 1]


@pytest.mark.parametrize("kind", sorted(BAD))
def test_error_names_the_file_line_and_cause(tmp_path, kind):
    damage, cause = BAD[kind]
    path, _ = _task_file(tmp_path, damage)
    with pytest.raises(BadRowError) as err:
        load_tasks(path, on_bad_row="error")
    msg = str(err.value)
    assert isinstance(err.value, MurphyUserError) and isinstance(err.value, SourceError)
    assert msg.startswith(f"{path}:4: ") and cause in msg and "\n" not in msg, msg
    assert "more bad row" not in msg  # exactly one bad row


@pytest.mark.parametrize("kind", sorted(BAD))
def test_skip_keeps_the_good_rows_and_warns_with_the_count(tmp_path, kind, caplog):
    damage, _ = BAD[kind]
    path, good = _task_file(tmp_path, damage)
    with caplog.at_level(logging.WARNING, logger="murphy_jax.data.sources"):
        rep = load_tasks(path, on_bad_row="skip")
    assert [t.task_id for t in rep.tasks] == good
    assert rep.n_rows == 6 and rep.n_skipped == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "skipped 1 malformed row(s) of 6" in warnings[0]
    assert f"{path}:4" in warnings[0], warnings[0]


def test_skip_is_the_default_and_lists_the_first_line_numbers(tmp_path, caplog):
    # Seven bad rows among good ones: the warning counts them all and lists the first five.
    path = str(tmp_path / "many.jsonl")
    tasks = list(load_bundled("train"))[:10]
    write_jsonl(tasks, path)
    with open(path) as f:
        lines = f.read().splitlines()
    for i in range(1, 8):
        lines[i] = _cut_line(lines[i])
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    assert ON_BAD_ROW[0] == "skip"
    with caplog.at_level(logging.WARNING, logger="murphy_jax.data.sources"):
        rep = load_tasks(path)
    assert len(rep.tasks) == 3
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "skipped 7 malformed row(s) of 10" in warning
    assert ", ".join(f"{path}:{n}" for n in range(2, 7)) + ", ..." in warning and f"{path}:7" not in warning
    with pytest.raises(BadRowError, match=r"many.jsonl:2: malformed JSON line.*6 more bad row"):
        load_tasks(path, on_bad_row="error")


def test_clean_file_warns_nothing_in_either_mode(tmp_path, caplog):
    path = str(tmp_path / "clean.jsonl")
    write_jsonl(list(load_bundled("train"))[:3], path)
    with caplog.at_level(logging.WARNING, logger="murphy_jax.data.sources"):
        assert len(load_tasks(path, on_bad_row="error")) == len(load_tasks(path)) == 3
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_duplicate_task_id_is_a_bad_row(tmp_path):
    path = str(tmp_path / "dup.jsonl")
    t = list(load_bundled("train"))[:2]
    write_jsonl([t[0], t[1], t[0]], path)
    assert len(load_tasks(path)) == 2
    with pytest.raises(BadRowError, match=f"task_id '{t[0].task_id}': duplicate task_id"):
        load_tasks(path, on_bad_row="error")


def test_bad_option_value_and_config_key_are_refused(tmp_path):
    path, _ = _task_file(tmp_path, _cut_line)
    with pytest.raises(SourceError, match=r"on_bad_row='warn': must be one of \['skip', 'error'\]"):
        load_tasks(path, on_bad_row="warn")
    from configs.base import get_config
    from murphy_jax.train import config as run_config

    c = get_config()
    assert c.data.on_bad_row == "skip"
    c.data.on_bad_row = "warn"
    with pytest.raises(MurphyUserError, match="data.on_bad_row"):
        run_config.validate(c, get_config())


def _env():
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    return env


def test_eval_on_bad_row_error_is_one_line(tmp_path, tiny_policy_dir):
    path, _ = _task_file(tmp_path, _drop_prompt, bad_line=2)
    base = [sys.executable, "-m", "murphy_jax.cli.eval", "--model", tiny_policy_dir, "--benchmark", path,
            "--out", str(tmp_path / "out")]
    res = subprocess.run(base + ["--on-bad-row", "error"], capture_output=True, text=True, timeout=300,
                         env=_env(), cwd=REPO)
    assert res.returncode == 2, res.stderr[-3000:]
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"murphy-eval: error: {path}:2: "), res.stderr
    assert "missing required field 'prompt'" in lines[0]
    assert not os.path.exists(tmp_path / "out")


def test_train_data_on_bad_row_error_is_one_line(tmp_path):
    path, _ = _task_file(tmp_path, _tests_not_a_list, bad_line=3)
    cmd = [sys.executable, "-m", "murphy_jax.cli.train", "--config", os.path.join(REPO, "configs/tiny.py"),
           "--workdir", str(tmp_path / "run"), f"--config.data.train=jsonl:{path}", "--config.data.on_bad_row=error"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=_env(), cwd=REPO)
    assert res.returncode == 2, res.stderr[-3000:]
    err = [ln for ln in res.stderr.splitlines() if "error" in ln]
    assert len(err) == 1 and f"{path}:3: invalid CodeTask" in err[0] and "public_tests" in err[0], res.stderr
    assert "Traceback" not in res.stderr
