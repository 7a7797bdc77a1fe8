"""Two JAX processes on CPU (gloo collectives, 2 fake devices each) train like one process with 4 devices."""
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from murphy_jax.train.metrics import read_jsonl

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOL = 1e-4  # relative; only float summation order differs (rows sit on other devices)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cmd(workdir, policy, steps, extra=()):
    kv = {"model.path": policy, "data.train": f"jsonl:{policy}/tasks.jsonl", "prompts.system": "",
          "sampling.temperature": 1.5, "sampling.max_new_tokens": 40, "sampling.max_prompt_tokens": 470,
          "data.tasks_per_step": 4, "rollout.group_size": 4, "rollout.children": 2, "rl.batch.buckets": "(512,)",
          "rl.batch.micro_batch_size": 4, "mesh.data": 4, "mesh.fsdp": 1, "train.steps": steps,
          "optim.lr": 3e-3, "checkpoint.every": 1, "train.export_hf": False, "log.progress": False,
          "executor.workers": 1,
          # Every step trains, including those whose groups all tie: the comparison below reads train/* metrics.
          "rl.prune.drop_zero_spread": False}
    return ([sys.executable, "-m", "murphy_jax.cli.train", "--config", os.path.join(REPO, "configs/tiny.py"),
             "--workdir", str(workdir)] + [f"--config.{k}={v}" for k, v in kv.items()] + list(extra))


def _env(devices: int) -> dict:
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _launch_pair(workdir, policy, steps, extra=()):
    port = _port()
    procs = []
    for pid in range(2):
        dist = [f"--config.distributed.coordinator=127.0.0.1:{port}", "--config.distributed.num_processes=2",
                f"--config.distributed.process_id={pid}", "--config.distributed.heartbeat_timeout_s=10"]
        procs.append(subprocess.Popen(_cmd(workdir, policy, steps, list(extra) + dist), env=_env(2), cwd=REPO,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    return procs


def _params(workdir, step):
    import jax

    from murphy_jax.train.checkpoint import restore_params_numpy

    return [np.asarray(x) for x in jax.tree.leaves(restore_params_numpy(os.path.join(workdir, "checkpoints", str(step))))]


@pytest.fixture(scope="module")
def single_run(tiny_sft_policy, tmp_path_factory):
    wd = tmp_path_factory.mktemp("single")
    res = subprocess.run(_cmd(wd, tiny_sft_policy, 2), env=_env(4), cwd=REPO, capture_output=True, text=True,
                         timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    return wd


def test_two_processes_equal_one(single_run, tiny_sft_policy, tmp_path):
    wd = tmp_path / "multi"
    procs = _launch_pair(wd, tiny_sft_policy, 2)
    outs = [p.communicate(timeout=900) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    assert "finished at step 2" in outs[0][0]
    one, two = read_jsonl(str(single_run / "metrics.jsonl")), read_jsonl(str(wd / "metrics.jsonl"))
    assert [r["step"] for r in two] == [1, 2]  # only process 0 writes metrics
    for a, b in zip(one, two):
        # Same trees: every host sampled its tasks' own PRNG streams.
        for key in ("compute/nodes", "compute/generated_tokens", "compute/executor_calls", "reward/mean",
                    "pass/turn1_rate", "tree/zero_spread_groups"):
            assert a[key] == pytest.approx(b[key], rel=1e-6), key
        for key in ("train/loss", "train/grad_norm", "train/pg_loss", "train/trained_tokens"):
            assert a[key] == pytest.approx(b[key], rel=TOL, abs=1e-7), key
    assert any(r["train/grad_norm"] > 0 for r in one)
    for x, y in zip(_params(single_run, 2), _params(wd, 2)):
        # Adam divides by sqrt(v): float-order noise in near-zero gradient coordinates grows to a few
        # percent of one step (lr 3e-3), hence an absolute tolerance of 1e-4 on parameters.
        np.testing.assert_allclose(x, y, rtol=TOL, atol=1e-4)
    # Both processes' data positions are in the checkpoint.
    import json
    meta = json.load(open(wd / "checkpoints" / "2" / "meta" / "metadata"))
    assert sorted(meta["data_positions"]) == ["0", "1"]


def test_killing_one_process_stops_the_other(tiny_sft_policy, tmp_path):
    wd = tmp_path / "killed"
    procs = _launch_pair(wd, tiny_sft_policy, 50)
    deadline = time.time() + 600
    while not (wd / "metrics.jsonl").exists() or not (wd / "metrics.jsonl").read_text().strip():
        assert all(p.poll() is None for p in procs) and time.time() < deadline
        time.sleep(0.5)
    procs[1].send_signal(signal.SIGKILL)
    t0 = time.time()
    out, err = procs[0].communicate(timeout=180)  # heartbeat timeout 10 s: never a hang
    assert procs[0].returncode != 0
    assert time.time() - t0 < 120
    assert "stopped sending heartbeats" in err or "detected fatal errors" in err, err[-2000:]
    procs[1].communicate()
