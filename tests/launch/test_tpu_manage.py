"""launch/tpu.py logs / status / stop / delete, dry runs, worker failures and input errors (fake gcloud)."""
from __future__ import annotations

import pytest

from fake_gcloud import DESCRIBE, QR, TPU_VM, ZONE, by_worker, command_of, git_repo, ssh_prefix  # noqa: F401


# ---- logs / status / stop / delete -------------------------------------------------------

def test_logs_one_worker_skips_describe(fake):
    r = fake.run("logs", "--name", "t1", "--zone", ZONE, env={"FAKE_GCLOUD_SSH_OUT": "step 7 loss 0.1"})
    assert r.returncode == 0, r.stderr
    assert fake.argvs() == [ssh_prefix(0) + ['--command=tail -n 100 "$HOME"/murphy_logs/train-worker0.log']]
    assert "step 7 loss 0.1" in r.stdout.splitlines()  # one worker: no prefix


def test_logs_all_workers_follow_prefixes_worker_ids(fake):
    r = fake.run("logs", "--name", "t1", "--zone", ZONE, "--worker", "all", "--follow", "-n", "5",
                 env={"FAKE_GCLOUD_WORKERS": "3", "FAKE_GCLOUD_SSH_OUT": "hello from {worker}"})
    assert r.returncode == 0, r.stderr
    argvs = fake.argvs()
    assert argvs[0] == DESCRIBE
    assert sorted(argvs[1:]) == sorted(
        ssh_prefix(w) + [f'--command=tail -n 5 -F "$HOME"/murphy_logs/train-worker{w}.log'] for w in range(3))
    for w in range(3):
        assert f"[worker {w}] hello from {w}" in r.stdout.splitlines()


def test_status_shows_state_and_each_worker(fake):
    r = fake.run("status", "--name", "t1", "--zone", ZONE, "--queued",
                 env={"FAKE_GCLOUD_WORKERS": "2", "FAKE_GCLOUD_SSH_OUT": "murphy-train: running (pid 42)"})
    assert r.returncode == 0, r.stderr
    argvs = fake.argvs()
    assert argvs[:2] == [QR + ["describe", "t1", f"--zone={ZONE}", "--format=json"], DESCRIBE]
    assert sorted(a[:-1] for a in argvs[2:]) == [ssh_prefix(0), ssh_prefix(1)]
    assert "TPU t1: state=READY health=HEALTHY accelerator=v5litepod-16" in r.stdout
    assert "[worker 1] murphy-train: running (pid 42)" in r.stdout


def test_status_of_a_preempted_slice_does_not_ssh(fake):
    r = fake.run("status", "--name", "t1", "--zone", ZONE, env={"FAKE_GCLOUD_STATE": "PREEMPTED"})
    assert r.returncode == 1
    assert fake.argvs() == [DESCRIBE]
    assert "state=PREEMPTED" in r.stdout


def test_stop_signals_every_worker(fake):
    r = fake.run("stop", "--name", "t1", "--zone", ZONE, "--signal", "KILL", "--wait", "30",
                 env={"FAKE_GCLOUD_WORKERS": "2"})
    assert r.returncode == 0, r.stderr
    argvs = fake.argvs()
    assert argvs[0] == DESCRIBE
    for w in (0, 1):
        (ssh,) = by_worker(argvs[1:])[w]
        assert ssh[:-1] == ssh_prefix(w)
        assert 'kill -s KILL -- "-$P"' in command_of(ssh) and "-lt 30" in command_of(ssh)


def test_delete_asks_unless_yes(fake):
    r = fake.run("delete", "--name", "t1", "--zone", ZONE, input="n\n")
    assert r.returncode == 1 and "not deleted" in r.stdout and fake.argvs() == []
    r = fake.run("delete", "--name", "t1", "--zone", ZONE, input="y\n")
    assert r.returncode == 0 and "Delete TPU t1 in us-east5-b?" in r.stdout
    r = fake.run("delete", "--name", "t1", "--zone", ZONE, "--queued", "--yes")
    assert r.returncode == 0, r.stderr
    assert fake.argvs() == [TPU_VM + ["delete", "t1", f"--zone={ZONE}", "--quiet"],
                            QR + ["delete", "t1", f"--zone={ZONE}", "--force", "--quiet"]]


# ---- dry run, failures, errors -----------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["create", "--accelerator-type", "v5litepod-16", "--queued"],
    ["create", "--accelerator-type", "v4-8"],
    ["install", "--num-workers", "2"],
    ["install", "--num-workers", "2", "--repo-url", "https://example.com/r.git"],
    ["run", "--num-workers", "2", "--config", "configs/tiny.py", "--workdir", "gs://b/r", "--env", "X=1",
     "--", "--config.rl.turns=2"],
    ["logs", "--worker", "all", "--num-workers", "2"],
    ["status", "--num-workers", "2", "--queued"],
    ["stop", "--num-workers", "2"],
    ["delete", "--queued"],
])
def test_dry_run_prints_and_runs_nothing_even_without_gcloud(fake, args):
    r = fake.run(args[0], "--name", "t1", "--zone", ZONE, "--dry-run", *args[1:], env={"PATH": str(fake.tmp)})
    assert r.returncode == 0, r.stderr
    assert not fake.log.exists()
    printed = [line for line in r.stdout.splitlines() if line.startswith("+ gcloud compute tpus ")]
    assert printed


def test_dry_run_of_a_fan_out_needs_num_workers(fake):
    r = fake.run("stop", "--name", "t1", "--zone", ZONE, "--dry-run")
    assert r.returncode == 2
    assert r.stderr.strip() == ("tpu.py: error: --dry-run cannot ask gcloud for the worker count; "
                                "pass --num-workers N")


def test_one_failing_worker_is_named_and_fails_the_command(fake):
    r = fake.run("stop", "--name", "t1", "--zone", ZONE,
                 env={"FAKE_GCLOUD_WORKERS": "4", "FAKE_GCLOUD_FAIL_WORKERS": "2"})
    assert r.returncode == 1
    assert r.stderr.strip() == "tpu.py: error: stop: failed on 1 of 4 worker(s): worker 2 (exit 1)"
    assert "[worker 2] ssh: connect to host tpu-worker-2 port 22: Connection timed out" in r.stdout
    assert sorted(by_worker(fake.argvs()[1:])) == [0, 1, 2, 3]  # the others still ran


def test_install_failure_on_scp_skips_that_workers_install(fake):
    src = git_repo(fake.tmp / "src")
    r = fake.run("install", "--name", "t1", "--zone", ZONE, "--source", str(src), "--num-workers", "3",
                 env={"FAKE_GCLOUD_FAIL_WORKERS": "0,2"})
    assert r.returncode == 1
    assert "install: failed on 2 of 3 worker(s): worker 0 (exit 1), worker 2 (exit 1)" in r.stderr
    per = by_worker(fake.argvs())
    assert [a[3] for a in per[0]] == ["scp"] and [a[3] for a in per[2]] == ["scp"]
    assert [a[3] for a in per[1]] == ["scp", "ssh"]


def test_first_fan_out_without_a_gcloud_key_runs_one_ssh_first(fake):
    (fake.home / ".ssh" / "google_compute_engine").unlink()
    r = fake.run("stop", "--name", "t1", "--zone", ZONE, "--num-workers", "3")
    assert r.returncode == 0, r.stderr
    argvs = fake.argvs()
    assert argvs[0] == ssh_prefix(0) + ["--command=true"]
    assert sorted(a[:-1] for a in argvs[1:]) == [ssh_prefix(w) for w in range(3)]


@pytest.mark.parametrize("args,message", [
    (["stop", "--zone", ZONE], "tpu.py: error: --name is required (or set MURPHY_TPU_NAME)"),
    (["stop", "--name", "t1"], "tpu.py: error: --zone is required (or set MURPHY_TPU_ZONE)"),
    (["logs", "--name", "t1", "--zone", ZONE, "--", "x"], "tpu.py: error: logs takes no arguments after --"),
    (["logs", "--name", "t1", "--zone", ZONE, "--worker", "9", "--num-workers", "2"],
     "tpu.py: error: --worker '9': the slice has workers 0..1"),
    (["create", "--name", "t1", "--zone", ZONE],
     "tpu.py create: error: the following arguments are required: --accelerator-type (see tpu.py create -h)"),
    (["run", "--name", "t1", "--zone", ZONE, "--config", "c.py"],
     "tpu.py run: error: the following arguments are required: --workdir (see tpu.py run -h)"),
])
def test_missing_or_bad_flags_are_one_line_errors(fake, args, message):
    r = fake.run(*args)
    assert r.returncode == 2
    assert r.stderr.strip() == message
    assert fake.argvs() == []


def test_env_var_defaults_for_name_zone_project(fake):
    r = fake.run("delete", "--yes", env={"MURPHY_TPU_NAME": "envtpu", "MURPHY_TPU_ZONE": "europe-west4-a",
                                         "MURPHY_TPU_PROJECT": "proj"})
    assert r.returncode == 0, r.stderr
    assert fake.argvs() == [TPU_VM + ["delete", "envtpu", "--zone=europe-west4-a", "--project=proj", "--quiet"]]


def test_missing_gcloud_is_a_clear_error(fake):
    r = fake.run("stop", "--name", "t1", "--zone", ZONE, env={"PATH": str(fake.tmp)})
    assert r.returncode == 2
    assert r.stderr.strip().startswith("tpu.py: error: gcloud not found on PATH")
    assert len(r.stderr.strip().splitlines()) == 1
