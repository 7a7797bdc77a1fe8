"""Every command with bad input, run as a user runs it: one stderr line naming the cause, the documented
exit status, no traceback, and nothing written (docs/cli.md, murphy_jax/errors.py).

The cases run as real subprocesses (``python -m murphy_jax.cli.NAME``) on the tiny random Llama, three
at a time in threads: about a minute of CPU for the whole table (most of it importing JAX).

Read-only directories: the tests run as root, whom permission bits (``chmod 555``) do not stop. Two
kinds of unwritable place bind root too and are used here: a path below a regular FILE (creating it
fails with ENOTDIR on any POSIX system) and a read-only tmpfs mounted in a private mount namespace
(``unshare -m``; the mount exists only for that one command and vanishes with it). The second needs
the right to create mount namespaces; where that is missing those rows are skipped, the first kind
still runs.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from murphy_jax.cli._errors import guarded
from murphy_jax.errors import EXIT_INFRA, EXIT_INTERNAL, EXIT_USAGE, MurphyUserError
from murphy_jax.execution import InfraError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--config", "configs/tiny.py"]
# Mounts a read-only tmpfs on $0 in a private mount namespace, then runs the command in it.
RO_MOUNT = 'mount -t tmpfs -o ro murphy-ro "$0" && exec "$@"'


@dataclass
class Case:
    """One command line with bad input and what the user must see."""

    id: str
    cli: str  # module under murphy_jax.cli
    args: list[str]  # {name} is replaced by the path of that fixture input
    message: str  # a distinctive part of the one stderr line
    status: int = EXIT_USAGE
    untouched: tuple[str, ...] = ()  # input names (paths) that must not be created or changed
    read_only: bool = False  # run with a read-only tmpfs mounted on {ro}


CASES = [
    # murphy-train: the config file and its overrides
    Case("train-missing-config", "train", ["--config", "nope.py", "--workdir", "{run}"],
         "--config nope.py: no such file", untouched=("run",)),
    Case("train-config-raises", "train", ["--config", "configs/tiny.py:v9-8", "--workdir", "{run}"],
         "mesh preset 'v9-8': unknown hardware", untouched=("run",)),
    Case("train-typo-key", "train", TINY + ["--workdir", "{run}", "--config.rollout.turnz=3"],
         "rollout.turnz: unknown config key; did you mean 'rollout.turns'?", untouched=("run",)),
    Case("train-unknown-flag", "train", TINY + ["--wrkdir", "{run}"], "Unknown command line flag 'wrkdir'",
         untouched=("run",)),
    Case("train-no-workdir", "train", TINY, "--workdir is required"),
    # murphy-train: the model; nothing may be written before it has loaded
    Case("train-missing-model", "train", TINY + ["--workdir", "{run}", "--config.model.path=/no/such/model"],
         "model path '/no/such/model' does not exist", untouched=("run",)),
    Case("train-corrupt-model-config", "train", TINY + ["--workdir", "{run}", "--config.model.path={corrupt}"],
         "config.json: invalid JSON", untouched=("run",)),
    Case("train-truncated-weights", "train", TINY + ["--workdir", "{run}", "--config.model.path={truncated}"],
         "model.safetensors: corrupt safetensors header", untouched=("run",)),
    Case("train-existing-workdir-unchanged", "train",
         TINY + ["--workdir", "{existing}", "--config.model.path={truncated}"], "model.safetensors",
         untouched=("existing",)),
    # murphy-train: the workdir
    Case("train-export-only-no-checkpoint", "train", TINY + ["--workdir", "{run}", "--export_only"],
         "--export_only: no checkpoint in", untouched=("run",)),
    Case("train-export-only-empty-workdir", "train", TINY + ["--workdir", "{existing}", "--export_only"],
         "--export_only: no checkpoint in", untouched=("existing",)),
    Case("train-workdir-below-a-file", "train", TINY + ["--workdir", "{a_file}/run"],
         "is not a directory", untouched=("a_file",)),
    Case("train-workdir-read-only", "train", TINY + ["--workdir", "{ro}/run"], "Read-only file system",
         read_only=True),
    # murphy-plan
    Case("plan-missing-config", "plan", ["--config", "nope.py"], "--config nope.py: no such file"),
    Case("plan-unknown-hardware", "plan", TINY + ["--hardware", "v9-8"], "--hardware='v9-8': must be one of"),
    Case("plan-bad-memory", "plan", TINY + ["--device-memory", "12XB"], "--device-memory: cannot read '12XB'"),
    # murphy-eval
    Case("eval-corrupt-model-config", "eval",
         ["--model", "{corrupt}", "--benchmark", "bundled:heldout", "--out", "{out}"], "config.json: invalid JSON",
         untouched=("out",)),
    Case("eval-empty-model-dir", "eval", ["--model", "{empty}", "--benchmark", "bundled:heldout", "--out", "{out}"],
         "holds no model", untouched=("out", "empty")),
    Case("eval-unknown-benchmark", "eval", ["--model", "{policy}", "--benchmark", "humaneval-x", "--out", "{out}"],
         "unknown task source 'humaneval-x'", untouched=("out",)),
    Case("eval-bad-iters", "eval", ["--model", "{policy}", "--benchmark", "bundled:heldout", "--iters", "0",
                                    "--out", "{out}"], "--iters must be >= 1", untouched=("out",)),
    Case("eval-out-below-a-file", "eval", ["--model", "{policy}", "--benchmark", "bundled:heldout",
                                           "--out", "{a_file}/out"], "is not a directory", untouched=("a_file",)),
    Case("eval-out-read-only", "eval", ["--model", "{policy}", "--benchmark", "bundled:heldout", "--out", "{ro}"],
         "--out {ro}: cannot write in this directory: Read-only file system", read_only=True),
    # murphy-generate
    Case("generate-empty-model-dir", "generate", ["--model", "{empty}", "--prompt", "x"],
         "the directory is empty; it holds no model", untouched=("empty",)),
    Case("generate-corrupt-model-config", "generate", ["--model", "{corrupt}", "--prompt", "x"],
         "config.json: invalid JSON"),
    Case("generate-empty-prompt", "generate", ["--model", "{policy}", "--prompt", ""], "prompt 0 is empty"),
    Case("generate-chat-empty-prompt", "generate", ["--model", "{policy}", "--chat", "--prompt", ""],
         "prompt 0 is empty"),
    # murphy-exec
    Case("exec-negative-timeout", "exec", ["--task", "{task}", "--solution", "{solution}", "--timeout", "-1"],
         "argument --timeout: -1: must be > 0 seconds"),
    Case("exec-missing-task", "exec", ["--task", "{run}/task.json", "--solution", "{solution}"],
         "cannot read the task file"),
    Case("exec-malformed-task", "exec", ["--task", "{bad_task}", "--solution", "{solution}"], "bad task: "),
    Case("exec-missing-solution", "exec", ["--task", "{task}", "--solution", "{run}/s.py"],
         "cannot read the solution"),
    Case("exec-unknown-argument", "exec", ["--task", "{task}", "--solution", "{solution}", "--bogus"],
         "unrecognized arguments: --bogus"),
]


def _env(**extra) -> dict:
    env = dict(os.environ, JAX_PLATFORMS="cpu", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", **extra)
    env.pop("XLA_FLAGS", None)  # the test session's 8 fake devices are not what a user has
    if "MURPHY_DEBUG" not in extra:
        env.pop("MURPHY_DEBUG", None)
    return env


def _snapshot(path: str):
    """What a path holds: None when absent, else every entry below it with its size and mtime."""
    if not os.path.lexists(path):
        return None
    if not os.path.isdir(path):
        st = os.stat(path)
        return ("file", st.st_size, st.st_mtime_ns)
    out = []
    for root, dirs, files in os.walk(path):
        for name in sorted(dirs + files):
            p = os.path.join(root, name)
            st = os.lstat(p)
            out.append((os.path.relpath(p, path), st.st_size, st.st_mtime_ns))
    return sorted(out)


def _can_mount_read_only(ro: str) -> bool:
    try:
        probe = subprocess.run(["unshare", "-m", "sh", "-c", RO_MOUNT, ro, "sh", "-c", f"! touch {ro}/x"],
                               capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _run(case: Case, paths: dict, read_only_ok: bool) -> dict:
    args = [a.format(**paths) for a in case.args]
    cmd = [sys.executable, "-m", f"murphy_jax.cli.{case.cli}", *args]
    if case.read_only:
        if not read_only_ok:
            return {"skip": "cannot mount a read-only tmpfs in a private mount namespace here (unshare -m)"}
        cmd = ["unshare", "-m", "sh", "-c", RO_MOUNT, paths["ro"], *cmd]
    before = {name: _snapshot(paths[name]) for name in case.untouched}
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=_env(), timeout=300)
    after = {name: _snapshot(paths[name]) for name in case.untouched}
    return {"res": res, "before": before, "after": after, "message": case.message.format(**paths)}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, tiny_policy_dir):
    """The bad (and good) inputs of the table, each case with its own not-yet-existing run/out paths."""
    root = tmp_path_factory.mktemp("cli_errors")
    common = {"policy": tiny_policy_dir}
    corrupt = root / "corrupt_config"
    shutil.copytree(tiny_policy_dir, corrupt)
    (corrupt / "config.json").write_text('{"model_type": "lla')
    truncated = root / "truncated_weights"
    shutil.copytree(tiny_policy_dir, truncated)
    with open(truncated / "model.safetensors", "r+b") as f:
        f.truncate(1000)
    (root / "empty").mkdir()
    (root / "a_file").write_text("a regular file: nothing can be created below it\n")
    (root / "ro").mkdir()
    from murphy_jax.data.task import CodeTask, TestCase

    good = CodeTask(task_id="t", prompt="write f", entry_point="f",
                    public_tests=(TestCase(kind="assert", code="assert f(1) == 2"),))
    (root / "task.json").write_text(good.to_json())
    (root / "bad_task.json").write_text('{"task_id": "x", ')
    (root / "solution.py").write_text("def f(x):\n    return x + 1\n")
    common.update({name: str(root / name) for name in ("empty", "a_file", "ro")})
    common.update(corrupt=str(corrupt), truncated=str(truncated), task=str(root / "task.json"),
                  bad_task=str(root / "bad_task.json"), solution=str(root / "solution.py"))
    per_case = {}
    for case in CASES:
        d = root / "cases" / case.id
        d.mkdir(parents=True)
        (d / "existing").mkdir()
        per_case[case.id] = dict(common, run=str(d / "run"), out=str(d / "out"), existing=str(d / "existing"))
    return per_case


@pytest.fixture(scope="module")
def results(inputs):
    """Every case run once, three at a time."""
    read_only_ok = _can_mount_read_only(next(iter(inputs.values()))["ro"])
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {c.id: pool.submit(_run, c, inputs[c.id], read_only_ok) for c in CASES}
        return {k: f.result() for k, f in futures.items()}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line_and_writes_nothing(case, results):
    r = results[case.id]
    if "skip" in r:
        pytest.skip(r["skip"])
    res = r["res"]
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert res.returncode == case.status, res.stderr[-3000:]
    assert len(lines) == 1, res.stderr[-3000:]
    assert lines[0].startswith(f"murphy-{case.cli}: error: ") and r["message"] in lines[0], lines[0]
    assert "Traceback" not in res.stderr + res.stdout
    assert r["after"] == r["before"], f"{case.untouched} changed: {r['before']} -> {r['after']}"


def test_debug_flag_and_environment_show_the_traceback(inputs):
    paths = inputs["exec-missing-task"]
    cmd = [sys.executable, "-m", "murphy_jax.cli.exec", "--task", paths["run"] + "/task.json", "--solution",
           paths["solution"]]
    for extra, env in (["--debug"], _env()), ([], _env(MURPHY_DEBUG="1")):
        res = subprocess.run(cmd + extra, capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
        assert res.returncode == EXIT_USAGE
        assert "Traceback (most recent call last)" in res.stderr and "FileNotFoundError" in res.stderr
        # The summary line stays the last one, so the reason is where the user looks first.
        assert res.stderr.strip().splitlines()[-1].startswith("murphy-exec: error: cannot read the task file")
    res = subprocess.run([sys.executable, "-m", "murphy_jax.cli.train", "--config", "nope.py", "--debug"],
                         capture_output=True, text=True, cwd=REPO, env=_env(), timeout=120)
    assert res.returncode == EXIT_USAGE and "Traceback" in res.stderr
    assert res.stderr.strip().splitlines()[-1] == (
        "murphy-train: error: --config nope.py: no such file (the configs are configs/NAME.py)")


@pytest.mark.parametrize("cli, expected", [
    ("train", ["--workdir", "--describe_config", "--export_only", "--config", "--debug"]),
    ("plan", ["--hardware", "--device_memory", "--strict", "--config", "--debug"]),
])
def test_help_lists_the_flags_and_where_config_keys_are_documented(cli, expected):
    res = subprocess.run([sys.executable, "-m", f"murphy_jax.cli.{cli}", "--help"], capture_output=True,
                         text=True, cwd=REPO, env=_env(), timeout=120)
    assert res.returncode == 0, res.stderr
    flags = [line.split(":")[0].strip() for line in res.stdout.splitlines() if line.startswith("  --")]
    for flag in expected:
        assert any(f in (flag, flag.replace("--", "--[no]")) for f in flags), (flag, flags)
    # every flag comes with its help string on the same line
    assert all(line.split(":", 1)[1].strip() for line in res.stdout.splitlines() if line.startswith("  --"))
    assert "--describe_config" in res.stdout.split(f"murphy-{cli} flags:")[1].split("\n\n")[-1]
    assert "docs/cli.md" in res.stdout


def test_each_kind_of_error_has_its_status_and_one_line(capsys):
    def raises(e):
        def body():
            raise e
        return body

    assert guarded("prog", raises(MurphyUserError("bad --x: must be > 0")), debug=False) == EXIT_USAGE
    assert capsys.readouterr().err == "prog: error: bad --x: must be > 0\n"
    assert guarded("prog", raises(InfraError("sandbox: mount failed\ndetails")), debug=False) == EXIT_INFRA
    assert capsys.readouterr().err == "prog: infrastructure failure: sandbox: mount failed\n"
    assert guarded("prog", raises(KeyError("k")), debug=False) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("prog: internal error (KeyError: 'k')") and "--debug" in err
    assert guarded("prog", raises(KeyError("k")), debug=True) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("prog: internal error (KeyError")
    assert guarded("prog", lambda: 1, debug=False) == 1 and guarded("prog", lambda: None, debug=False) == 0
    with pytest.raises(SystemExit):
        guarded("prog", raises(SystemExit(0)), debug=False)


def test_the_table_covers_every_command():
    assert {c.cli for c in CASES} == {"train", "eval", "generate", "exec", "plan"}
    assert len({c.id for c in CASES}) == len(CASES)  # results are looked up by id
