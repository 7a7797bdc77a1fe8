"""murphy-train end to end: real executor, orbax, TensorBoard; crash (SIGKILL), SIGTERM and resume."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from murphy_jax.train.metrics import read_jsonl

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Wall-clock and step counters differ between runs by nature; everything else must match exactly.
_VOLATILE = ("time", "time/", "throughput/", "compile/")


def _overrides(policy: str, steps: int, **extra) -> list[str]:
    kv = {
        "model.path": policy, "data.train": f"jsonl:{policy}/tasks.jsonl", "prompts.system": "",
        "sampling.temperature": 1.5, "sampling.max_new_tokens": 40, "data.tasks_per_step": 2,
        "rollout.group_size": 4, "rollout.children": 2, "rl.batch.buckets": "(512,)",
        "sampling.max_prompt_tokens": 470,
        "rl.batch.micro_batch_size": 4, "train.steps": steps, "optim.lr": 3e-3, "checkpoint.every": 1,
        "checkpoint.keep": 10, "train.export_hf": False,
    }
    kv.update(extra)
    return [f"--config.{k}={v}" for k, v in kv.items()]


def _cmd(workdir, policy, steps, **extra):
    return [sys.executable, "-m", "murphy_jax.cli.train", "--config", os.path.join(REPO, "configs/tiny.py"),
            "--workdir", str(workdir)] + _overrides(policy, steps, **extra)


def _env(tmp_path_factory=None):
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)  # one CPU device, like a user's laptop
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _run(workdir, policy, steps, timeout=600, **extra):
    res = subprocess.run(_cmd(workdir, policy, steps, **extra), capture_output=True, text=True, timeout=timeout,
                         env=_env(), cwd=REPO)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def _stable(records):
    """Last record per step, without wall-clock fields."""
    out = {}
    for r in records:
        out[r["step"]] = {k: v for k, v in r.items() if not k.startswith(_VOLATILE)}
    return out


def _params(workdir, step):
    from murphy_jax.train.checkpoint import restore_params_numpy

    return restore_params_numpy(os.path.join(workdir, "checkpoints", str(step)))


def _flat_arrays(tree):
    import jax

    return [np.asarray(x) for x in jax.tree.leaves(tree)]


@pytest.fixture(scope="module")
def reference_run(tiny_sft_policy, tmp_path_factory):
    """An uninterrupted 4-step run (the baseline the crash tests must reproduce exactly)."""
    wd = tmp_path_factory.mktemp("uninterrupted")
    res = _run(wd, tiny_sft_policy, 4, **{"train.export_hf": True})
    return wd, res


def test_run_writes_checkpoints_metrics_tensorboard_and_export(reference_run):
    wd, res = reference_run
    assert "finished at step 4" in res.stdout
    assert sorted(int(s) for s in os.listdir(wd / "checkpoints") if s.isdigit()) == [1, 2, 3, 4]
    cfg = json.load(open(wd / "config.json"))
    assert cfg["train"]["steps"] == 4 and cfg["sampling"]["temperature"] == 1.5
    recs = read_jsonl(str(wd / "metrics.jsonl"))
    assert [r["step"] for r in recs] == [1, 2, 3, 4]
    for key in ("reward/mean", "pass/turn1_rate", "train/loss", "train/grad_norm", "train/clip_frac",
                "train/lr", "compute/generated_tokens", "compute/executor_calls", "tree/rescued_frac",
                "time/generate_s", "time/execute_s", "time/train_step_s", "time/checkpoint_s",
                "throughput/gen_tokens_per_s", "compile/count", "compile/seconds", "rollout/job_retries"):
        assert key in recs[-1], key
    # The first step compiles the sampler, credit and train-step programs; the jax.monitoring watch sees them.
    assert recs[0]["compile/count"] > 0 and recs[0]["compile/seconds"] > 0
    assert any(r["train/grad_norm"] > 0 for r in recs), "the tiny policy must produce real advantages"
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ea = EventAccumulator(str(wd / "tb"))
    ea.Reload()
    assert [e.step for e in ea.Scalars("reward/mean")] == [1, 2, 3, 4]
    # The exported policy loads in transformers and generates.
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(wd / "hf_export")
    model = AutoModelForCausalLM.from_pretrained(wd / "hf_export", dtype=torch.float32)
    out = model.generate(**tok("def f", return_tensors="pt"), max_new_tokens=5, do_sample=False)
    assert out.shape[1] > 2
    assert (wd / "trees" / "last.jsonl").exists()


def test_sigkill_then_rerun_resumes_bitwise(reference_run, tiny_sft_policy, tmp_path):
    ref_wd, _ = reference_run
    wd = tmp_path / "killed"
    proc = subprocess.Popen(_cmd(wd, tiny_sft_policy, 4), env=_env(), cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while not (wd / "checkpoints" / "2").exists():  # orbax renames a checkpoint into place when complete
        assert proc.poll() is None, "run ended before it could be killed"
        assert time.time() < deadline
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _run(wd, tiny_sft_policy, 4)
    ref, got = _stable(read_jsonl(str(ref_wd / "metrics.jsonl"))), _stable(read_jsonl(str(wd / "metrics.jsonl")))
    assert sorted(got) == [1, 2, 3, 4]
    for step in (3, 4):
        assert got[step] == ref[step], f"step {step} differs after resume"
    for a, b in zip(_flat_arrays(_params(ref_wd, 4)), _flat_arrays(_params(wd, 4))):
        np.testing.assert_array_equal(a, b)


def test_sigterm_writes_a_final_checkpoint(tiny_sft_policy, tmp_path):
    wd = tmp_path / "preempted"
    proc = subprocess.Popen(_cmd(wd, tiny_sft_policy, 50, **{"checkpoint.every": 100}), env=_env(), cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 600
    while not (wd / "metrics.jsonl").exists() or not (wd / "metrics.jsonl").read_text().strip():
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 75, err[-2000:]  # EXIT_PREEMPTED
    assert "preempted at step" in out
    step = int(out.split("preempted at step")[1].split(";")[0])
    assert 1 <= step < 50
    assert (wd / "checkpoints" / str(step)).exists()  # written on SIGTERM although every=100


def test_interrupted_checkpoint_is_never_used(reference_run, tiny_sft_policy, tmp_path):
    ref_wd, _ = reference_run
    wd = tmp_path / "partial"
    shutil.copytree(ref_wd, wd, ignore=shutil.ignore_patterns("hf_export"))
    # What a crash in the middle of writing step 5 leaves behind: orbax's temporary directory.
    partial = wd / "checkpoints" / "5.orbax-checkpoint-tmp-1764000000"
    shutil.copytree(wd / "checkpoints" / "4", partial)
    for f in (partial / "state").rglob("*"):
        if f.is_file():
            f.write_bytes(b"\0" * 7)
    from murphy_jax.train.checkpoint import Checkpointer

    assert Checkpointer(str(wd / "checkpoints"), keep=10).latest_step() == 4
    _run(wd, tiny_sft_policy, 5)
    assert (wd / "checkpoints" / "5").exists()
    assert [r["step"] for r in read_jsonl(str(wd / "metrics.jsonl"))][-1] == 5


def test_full_disk_stops_with_one_line_and_keeps_the_last_checkpoint(reference_run, tiny_sft_policy, tmp_path):
    ref_wd, _ = reference_run
    wd = tmp_path / "full_disk"
    shutil.copytree(ref_wd, wd, ignore=shutil.ignore_patterns("hf_export"))
    reserve = (shutil.disk_usage(wd).total + 2**30) / 2**30  # more than the whole disk: the save cannot fit
    res = subprocess.run(_cmd(wd, tiny_sft_policy, 5, **{"checkpoint.min_free_gb": reserve}), capture_output=True,
                         text=True, timeout=600, env=_env(), cwd=REPO)
    assert res.returncode == 2, res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    assert "murphy-train: error: checkpoint step 5 not saved" in res.stderr and "resume from step 4" in res.stderr
    assert sorted(os.listdir(wd / "checkpoints")) == ["1", "2", "3", "4"]
    _run(wd, tiny_sft_policy, 5)  # the same command with room again resumes from step 4
    assert (wd / "checkpoints" / "5").exists()
