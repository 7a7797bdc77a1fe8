"""launch/tpu.py against a fake `gcloud` on PATH that records every call.

The CLI is run as users run it (`python launch/tpu.py ...`, a subprocess). The fake
gcloud appends its argv as one JSON line to a log, answers `describe --format=json`
with N canned workers, and fails for the workers named in FAKE_GCLOUD_FAIL_WORKERS.
The shell snippets sent through `ssh --command` are also executed here under bash
(with a fake trainer) to prove what they do on a worker: argv quoting, env passing,
detaching, the pid file, status and stop.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fake_gcloud import DESCRIBE, QR, REPO, TPU_VM, ZONE, by_worker, command_of, git_repo, ssh_prefix  # noqa: F401


# ---- create ------------------------------------------------------------------------------

def test_create_direct_spot_with_project_and_extra_flags(fake):
    r = fake.run("create", "--name", "t1", "--zone", ZONE, "--project", "p1",
                 "--accelerator-type", "v5litepod-16", "--spot", "--", "--network=n1")
    assert r.returncode == 0, r.stderr
    expected = TPU_VM + ["create", "t1", f"--zone={ZONE}", "--project=p1",
                         "--accelerator-type=v5litepod-16", "--version=v2-alpha-tpuv5-lite",
                         "--spot", "--network=n1"]
    assert fake.argvs() == [expected]
    assert "+ gcloud compute tpus tpu-vm create t1" in r.stdout


@pytest.mark.parametrize("acc,runtime", [("v4-32", "tpu-ubuntu2204-base"), ("v5p-16", "v2-alpha-tpuv5"),
                                         ("v6e-8", "v2-alpha-tpuv6e")])
def test_create_runtime_defaults_by_family(fake, acc, runtime):
    r = fake.run("create", "--name", "t1", "--zone", ZONE, "--accelerator-type", acc, "--preemptible")
    assert r.returncode == 0, r.stderr
    assert fake.argvs() == [TPU_VM + ["create", "t1", f"--zone={ZONE}", f"--accelerator-type={acc}",
                                      f"--version={runtime}", "--preemptible"]]


def test_create_queued_polls_describe_until_active(fake):
    r = fake.run("create", "--name", "t1", "--zone", ZONE, "--accelerator-type", "v5p-32", "--queued",
                 "--spot", "--valid-until-duration", "6h", "--poll-interval", "0",
                 env={"FAKE_GCLOUD_QR_STATES": "WAITING_FOR_RESOURCES,WAITING_FOR_RESOURCES,PROVISIONING,ACTIVE"})
    assert r.returncode == 0, r.stderr
    describe = QR + ["describe", "t1", f"--zone={ZONE}", "--format=json"]
    assert fake.argvs() == [
        QR + ["create", "t1", f"--zone={ZONE}", "--node-id=t1", "--accelerator-type=v5p-32",
              "--runtime-version=v2-alpha-tpuv5", "--spot", "--valid-until-duration=6h"],
        describe, describe, describe, describe]
    states = [line for line in r.stdout.splitlines() if line.startswith("queued resource t1:")]
    assert [s.split(": ")[1].split(" ")[0] for s in states] == ["WAITING_FOR_RESOURCES", "PROVISIONING", "ACTIVE"]


def test_create_queued_failed_and_timeout(fake):
    r = fake.run("create", "--name", "t1", "--zone", ZONE, "--accelerator-type", "v6e-16", "--queued",
                 "--poll-interval", "0", env={"FAKE_GCLOUD_QR_STATES": "FAILED"})
    assert r.returncode == 1 and "queued resource t1 is FAILED" in r.stderr
    r = fake.run("create", "--name", "t2", "--zone", ZONE, "--accelerator-type", "v6e-16", "--queued",
                 "--poll-interval", "0", "--wait-timeout", "0",
                 env={"FAKE_GCLOUD_QR_STATES": "WAITING_FOR_RESOURCES"})
    assert r.returncode == 1 and "still WAITING_FOR_RESOURCES" in r.stderr


def test_create_rejects_bad_combinations(fake):
    r = fake.run("create", "--name", "t1", "--zone", ZONE, "--accelerator-type", "v5p-8", "--queued",
                 "--preemptible")
    assert r.returncode == 2 and "--spot, not --preemptible" in r.stderr
    r = fake.run("create", "--name", "t1", "--zone", ZONE, "--accelerator-type", "v9x-8")
    assert r.returncode == 2 and "pass --runtime-version" in r.stderr
    assert fake.argvs() == []


# ---- install -----------------------------------------------------------------------------

def test_install_ships_git_archive_then_installs_per_worker(fake):
    src = git_repo(fake.tmp / "src")
    r = fake.run("install", "--name", "t1", "--zone", ZONE, "--source", str(src),
                 env={"FAKE_GCLOUD_WORKERS": "3"})
    assert r.returncode == 0, r.stdout + r.stderr
    calls = fake.calls()
    assert calls[0]["argv"] == DESCRIBE
    per = by_worker([c["argv"] for c in calls[1:]])
    assert sorted(per) == [0, 1, 2]
    for w, (scp, ssh) in per.items():
        assert scp[:4] == TPU_VM + ["scp"]
        assert scp[5:] == ["t1:murphy_jax.tar.gz", f"--zone={ZONE}", f"--worker={w}"]
        assert ssh[:-1] == ssh_prefix(w)
    scp_calls = [c for c in calls if c["argv"][3] == "scp"]
    assert all(c["tar_members"] == ["configs/tiny.py", "run.py"] for c in scp_calls)
    assert "uncommitted changes to tracked files are NOT shipped" in r.stdout
    assert "install: ok on all 3 worker(s)" in r.stdout
    assert not Path(scp_calls[0]["argv"][4]).exists()  # temporary tarball removed

    # The remote script, run here: extract, bootstrap python, run.py env, jax[tpu] on top.
    tar = fake.tmp / "archive.tar.gz"
    subprocess.run(["git", "-C", str(src), "archive", "--format=tar.gz", "-o", str(tar), "HEAD"], check=True)
    home = fake.tmp / "worker_home"
    (home / "murphy_jax" / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(tar, home / "murphy_jax.tar.gz")
    calls_file = home / "calls.txt"
    rec = f'#!/bin/sh\necho "$(basename "$0") $*" >> {calls_file}\n'
    for tool in ("pip", "python"):
        (home / "murphy_jax" / ".venv" / "bin" / tool).write_text(rec)
        (home / "murphy_jax" / ".venv" / "bin" / tool).chmod(0o755)
    fakepy = home / "py311"
    fakepy.write_text(rec)
    fakepy.chmod(0o755)
    script = command_of(per[0][1]).replace("python3.11", str(fakepy))
    subprocess.run(["bash", "-c", script], env=dict(os.environ, HOME=str(home)), check=True, cwd=home)
    assert (home / "murphy_jax" / "run.py").read_text() == "print('committed')\n"
    assert not (home / "murphy_jax.tar.gz").exists()
    assert calls_file.read_text().splitlines() == [
        "py311 -c import ensurepip, venv", "py311 run.py env",
        "pip install --disable-pip-version-check -q jax[tpu]==0.10.2 -f "
        "https://storage.googleapis.com/jax-releases/libtpu_releases.html",
        'python -c import jax, murphy_jax; print("murphy_jax installed; jax", jax.__version__)']


def test_install_from_repo_url_clones_on_each_worker(fake):
    r = fake.run("install", "--name", "t1", "--zone", ZONE, "--num-workers", "2",
                 "--repo-url", "https://example.com/me/murphy_jax.git", "--ref", "v1",
                 "--jax-version", "0.10.3")
    assert r.returncode == 0, r.stderr
    per = by_worker(fake.argvs())
    assert len(fake.argvs()) == 2  # --num-workers given: no describe, no scp
    for w in (0, 1):
        (ssh,) = per[w]
        assert ssh[:-1] == ssh_prefix(w)
        cmd = command_of(ssh)
        assert cmd.startswith('set -e; if [ ! -d "$HOME"/murphy_jax/.git ]; then git clone '
                              'https://example.com/me/murphy_jax.git "$HOME"/murphy_jax; fi; '
                              'git -C "$HOME"/murphy_jax fetch origin v1; '
                              'git -C "$HOME"/murphy_jax checkout --force FETCH_HEAD; ')
        assert "'jax[tpu]==0.10.3'" in cmd


def test_install_refuses_a_slice_that_is_not_ready(fake):
    r = fake.run("install", "--name", "t1", "--zone", ZONE, env={"FAKE_GCLOUD_STATE": "PREEMPTED"})
    assert r.returncode == 1
    assert r.stderr.strip() == "tpu.py: error: TPU t1 is PREEMPTED, not READY (see `tpu.py status`)"
    assert fake.argvs() == [DESCRIBE]


# ---- run ---------------------------------------------------------------------------------

OVERRIDES = ["--config.rl.turns=3", "--config.name=my run", "--config.data.path=a=b=c",
             "--config.note=it's \"quoted\" $HOME"]


def test_run_starts_same_command_on_every_worker(fake):
    r = fake.run("run", "--name", "t1", "--zone", ZONE, "--config", "configs/tiny.py",
                 "--workdir", "gs://bucket/run1", "--", *OVERRIDES, env={"FAKE_GCLOUD_WORKERS": "4"})
    assert r.returncode == 0, r.stderr
    argvs = fake.argvs()
    assert argvs[0] == DESCRIBE
    per = by_worker(argvs[1:])
    assert sorted(per) == [0, 1, 2, 3]
    for w, (ssh,) in per.items():
        assert ssh[:-1] == ssh_prefix(w)
        assert f"train-worker{w}.log" in command_of(ssh)
    # Apart from the worker id the command is identical everywhere.
    assert len({command_of(per[w][0]).replace(f"worker{w}", "workerN").replace(f"worker {w}", "worker N")
                for w in per}) == 1
    assert "run: ok on all 4 worker(s)" in r.stdout


def _fake_trainer(home: Path) -> Path:
    """A murphy-train stand-in: records argv/env/pid; on SIGTERM marks it and keeps going
    for a while, like a trainer writing its final checkpoint."""
    bindir = home / "murphy_jax" / ".venv" / "bin"
    bindir.mkdir(parents=True)
    out = home / "trainer.json"
    t = bindir / "murphy-train"
    t.write_text(f"""#!{sys.executable}
import json, os, signal, sys, time
def term(*_):
    open({str(home / 'got_term')!r}, "w").write("TERM")
    time.sleep(30)
signal.signal(signal.SIGTERM, term)
json.dump({{"argv": sys.argv[1:], "pid": os.getpid(), "pgid": os.getpgid(0), "cwd": os.getcwd(),
           "HF_TOKEN": os.environ.get("HF_TOKEN"), "WANDB_PROJECT": os.environ.get("WANDB_PROJECT"),
           "unbuffered": os.environ.get("PYTHONUNBUFFERED")}}, open({str(out)!r} + ".tmp", "w"))
os.rename({str(out)!r} + ".tmp", {str(out)!r})
print("step 1 loss 0.5", flush=True)
time.sleep(60)
""")
    t.chmod(0o755)
    return out


def _load_remote():
    """launch/_remote.py, for the status/stop/logs snippets the CLI sends (same builders)."""
    spec = importlib.util.spec_from_file_location("murphy_launch_remote", REPO / "launch" / "_remote.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _wait_for(path: Path, timeout=15.0):
    end = time.time() + timeout
    while not path.exists():
        assert time.time() < end, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.skipif(not all(shutil.which(t) for t in ("bash", "setsid", "nohup")),
                    reason="needs bash, setsid and nohup to execute the remote snippets")
def test_run_env_quoting_detach_status_and_stop_on_a_simulated_worker(fake):
    secret = "s3cr et'$x\"y"
    r = fake.run("run", "--name", "t1", "--zone", ZONE, "--num-workers", "2", "--config", "configs/tiny.py",
                 "--workdir", "gs://bucket/run1", "--env", "HF_TOKEN", "--env", "WANDB_PROJECT=murphy",
                 "--", *OVERRIDES, env={"HF_TOKEN": secret})
    assert r.returncode == 0, r.stderr
    assert secret not in r.stdout + r.stderr  # the value travels in a file, not on a command line
    calls = fake.calls()
    assert len(calls) == 4
    per = by_worker([c["argv"] for c in calls])
    for w, (scp, ssh) in per.items():
        assert scp[:4] == TPU_VM + ["scp"]
        assert scp[5:] == ["t1:.murphy_run.env", f"--zone={ZONE}", f"--worker={w}"]
        assert ssh[:-1] == ssh_prefix(w)
    env_call = next(c for c in calls if c["argv"][3] == "scp")
    assert env_call["src_mode"] == "0o600"

    # Worker 1's side: the env file arrives, the command runs under bash, the trainer detaches.
    home = fake.tmp / "worker_home"
    out = _fake_trainer(home)
    (home / ".murphy_run.env").write_text(env_call["src_text"])
    script = command_of(per[1][1])
    remote = _load_remote()

    def bash(snippet):
        return subprocess.run(["bash", "-c", snippet], env={"HOME": str(home), "PATH": os.environ["PATH"]},
                              capture_output=True, text=True, timeout=20, cwd=home)

    started = bash(script)
    assert started.returncode == 0, started.stderr
    _wait_for(out)
    info = json.loads(out.read_text())
    try:
        assert info["argv"] == ["--config", "configs/tiny.py", "--workdir", "gs://bucket/run1", *OVERRIDES]
        assert info["HF_TOKEN"] == secret and info["WANDB_PROJECT"] == "murphy"
        assert info["unbuffered"] == "1" and info["cwd"] == str(home / "murphy_jax")
        assert not (home / ".murphy_run.env").exists()  # secrets removed once sourced
        pidfile = home / "murphy_logs" / "train-worker1.pid"
        assert int(pidfile.read_text()) == info["pid"] == info["pgid"]  # own process group
        assert f"pid {info['pid']}" in started.stdout

        status = bash(remote.status_script(1, "murphy_logs"))
        assert f"murphy-train: running (pid {info['pid']})" in status.stdout

        again = bash(script)  # a second start on a live worker refuses
        assert again.returncode == 3 and "already running" in again.stderr

        log = (home / "murphy_logs" / "train-worker1.log").read_text()
        assert "worker 1: start" in log
        _wait_for_text(home / "murphy_logs" / "train-worker1.log", "step 1 loss 0.5")
        assert bash(remote.logs_script(1, "murphy_logs", 1, False)).stdout.strip() == "step 1 loss 0.5"

        stop = bash(remote.stop_script(1, "murphy_logs", "TERM", 1))
        assert f"sent SIGTERM to murphy-train (process group {info['pid']})" in stop.stdout
        assert stop.returncode == 4 and "still running after 1s" in stop.stderr
        _wait_for(home / "got_term")
        kill = bash(remote.stop_script(1, "murphy_logs", "KILL", 0))
        assert kill.returncode == 0 and "sent SIGKILL" in kill.stdout
    finally:
        try:
            os.killpg(info["pid"], signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    # A stale pid file (process gone) reads as not running, and stop is a no-op.
    dead = subprocess.Popen(["true"])
    dead.wait()
    pidfile.write_text(str(dead.pid))
    assert "murphy-train: not running" in bash(remote.status_script(1, "murphy_logs")).stdout
    assert bash(remote.stop_script(1, "murphy_logs", "TERM", 0)).stdout.strip() == \
        "murphy-train is not running"


def _wait_for_text(path: Path, text: str, timeout=15.0):
    end = time.time() + timeout
    while text not in path.read_text():
        assert time.time() < end, f"{text!r} never appeared in {path}"
        time.sleep(0.05)


def test_run_env_errors_are_one_line(fake):
    r = fake.run("run", "--name", "t1", "--zone", ZONE, "--num-workers", "1", "--config", "c.py",
                 "--workdir", "gs://b/r", "--env", "NOT_SET_ANYWHERE_123")
    assert r.returncode == 2
    assert r.stderr.strip() == "tpu.py: error: --env NOT_SET_ANYWHERE_123: not set in the local environment"
    assert fake.argvs() == []
