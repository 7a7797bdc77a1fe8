"""Damaged checkpoints: the newest step truncated or its metadata corrupt -> resume from the previous good one.

The first tests damage real orbax step directories written by ``Checkpointer`` (fast); the
last ones damage a real ``murphy-train`` run and check that resuming warns, falls back and ends
with exactly the parameters and metrics of an undamaged run, that a workdir with no readable
step stops with one line, and that ``murphy-eval`` reports a damaged checkpoint in one line.
"""
import glob
import json
import logging
import os
import shutil
import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest

from murphy_jax.errors import MurphyUserError
from murphy_jax.train.checkpoint import Checkpointer, CheckpointUnreadableError
from murphy_jax.train.metrics import read_jsonl

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _state(step: int) -> dict:
    return {"params": {"w": jnp.arange(4000, dtype=jnp.float32) * step, "b": jnp.full((3,), step, jnp.float32)},
            "step": jnp.int32(step)}


def _meta(step: int) -> dict:
    return {"rl_step": step, "data_positions": {"0": {"epoch": 0, "cursor": 2 * step}}}


def _check_meta(meta, step):  # what Trainer._restore requires of a meta
    if meta.get("rl_step") != step:
        raise ValueError(f"meta's rl_step is {meta.get('rl_step')!r}, not {step}")


@pytest.fixture
def three_steps(tmp_path):
    d = str(tmp_path / "checkpoints")
    ck = Checkpointer(d, keep=5, async_save=False)
    for s in (1, 2, 3):
        ck.save(s, _state(s), _meta(s))
    ck.close()
    return d


def _largest_array_file(step_dir: str) -> str:
    files = [f for f in glob.glob(os.path.join(step_dir, "state", "ocdbt.process_0", "d", "*"))]
    return max(files, key=os.path.getsize)


def _truncate_array(step_dir):
    f = _largest_array_file(step_dir)
    with open(f, "r+b") as fh:
        fh.truncate(os.path.getsize(f) // 3)


def _delete_array(step_dir):
    os.remove(_largest_array_file(step_dir))


def _garble(rel):
    def damage(step_dir):
        with open(os.path.join(step_dir, rel), "w") as f:
            f.write('{"rl_step": 3, "data_pos')  # cut mid-write
    return damage


def _meta_without_step(step_dir):
    with open(os.path.join(step_dir, "meta", "metadata"), "w") as f:
        json.dump({"data_positions": {"0": {"epoch": 0, "cursor": 6}}}, f)


DAMAGES = {
    "array file truncated": (_truncate_array, "OUT_OF_RANGE"),
    "array file deleted": (_delete_array, "params.w"),
    "murphy meta not JSON": (_garble("meta/metadata"), "meta/metadata is not valid JSON"),
    "murphy meta without rl_step": (_meta_without_step, "rl_step is None, not 3"),
    "orbax _METADATA not JSON": (_garble("state/_METADATA"), "state/_METADATA is not valid JSON"),
    "orbax array metadata not JSON": (_garble("state/array_metadatas/process_0"),
                                      "state/array_metadatas/process_0 is not valid JSON"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_damaged_newest_step_falls_back_to_the_previous_one(three_steps, damage, caplog):
    fn, cause = DAMAGES[damage]
    fn(os.path.join(three_steps, "3"))
    ck = Checkpointer(three_steps, keep=5, async_save=False)
    assert ck.latest_step() == 3  # orbax alone would pick the damaged step
    with caplog.at_level(logging.WARNING, logger="murphy_jax.train.checkpoint"):
        state, meta, step = ck.restore_readable(_state(0), _check_meta)
    assert step == 2 and meta == _meta(2)
    np.testing.assert_array_equal(np.asarray(state["params"]["w"]), np.arange(4000, dtype=np.float32) * 2)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    first = warnings[0]
    assert "\n" not in first and "checkpoint step 3" in first and "falling back to step 2" in first, first
    assert cause in first, first
    assert "TensorStore(" not in first and len(first) < 600
    # The bad step is kept for inspection but out of orbax's way: step 3 can be written again.
    assert sorted(os.listdir(three_steps)) == ["1", "2"]
    assert [n.split(".")[0] for n in os.listdir(three_steps + ".unreadable")] == ["3"]
    assert ck.save(3, _state(3), _meta(3), force=True)
    ck.wait()
    assert ck.restore_readable(_state(0), _check_meta)[2] == 3
    ck.close()


def test_two_damaged_steps_fall_back_twice(three_steps, caplog):
    _truncate_array(os.path.join(three_steps, "3"))
    _garble("meta/metadata")(os.path.join(three_steps, "2"))
    ck = Checkpointer(three_steps, keep=5, async_save=False)
    with caplog.at_level(logging.WARNING, logger="murphy_jax.train.checkpoint"):
        _, meta, step = ck.restore_readable(_state(0), _check_meta)
    assert step == 1 and meta == _meta(1)
    text = caplog.text
    assert "step 3" in text and "falling back to step 2" in text and "step 2" in text and "falling back to step 1" in text
    assert sorted(os.listdir(three_steps)) == ["1"]
    ck.close()


def test_orbax_checkpoint_metadata_damage_keeps_the_step(three_steps, caplog):
    # _CHECKPOINT_METADATA holds only save timestamps and orbax tolerates losing it: the data is intact,
    # so falling back would throw away a good step. It is used, with a warning.
    _garble("_CHECKPOINT_METADATA")(os.path.join(three_steps, "3"))
    ck = Checkpointer(three_steps, keep=2, async_save=False)
    with caplog.at_level(logging.WARNING, logger="murphy_jax.train.checkpoint"):
        state, meta, step = ck.restore_readable(_state(0), _check_meta)
    assert step == 3 and meta == _meta(3)
    np.testing.assert_array_equal(np.asarray(state["params"]["b"]), [3, 3, 3])
    assert "checkpoint step 3" in caplog.text and "_CHECKPOINT_METADATA is not valid JSON" in caplog.text
    ck.save(4, _state(4), _meta(4), force=True)  # and later saves (which prune step 3's kin) still work
    ck.close()
    assert sorted(os.listdir(three_steps)) == ["3", "4"]


def test_no_readable_step_is_one_user_error_naming_the_directory(three_steps):
    for s in ("1", "2", "3"):
        _truncate_array(os.path.join(three_steps, s))
    ck = Checkpointer(three_steps, keep=5, async_save=False)
    with pytest.raises(CheckpointUnreadableError) as err:
        ck.restore_readable(_state(0), _check_meta)
    msg = str(err.value)
    assert isinstance(err.value, MurphyUserError)
    assert "\n" not in msg and f"no readable checkpoint in {three_steps}" in msg and "newest, step 3" in msg, msg
    assert sorted(os.listdir(three_steps)) == ["1", "2", "3"]  # nothing is moved when nothing could be used
    ck.close()


def test_no_checkpoint_at_all_is_a_fresh_start(tmp_path):
    ck = Checkpointer(str(tmp_path / "checkpoints"), keep=2, async_save=False)
    assert ck.restore_readable(_state(0), _check_meta) is None
    ck.close()


# ---------------------------------------------------------------------------------------------- murphy-train
_VOLATILE = ("time", "time/", "throughput/", "compile/")


def _cmd(workdir, policy, steps):
    kv = {
        "model.path": policy, "data.train": f"jsonl:{policy}/tasks.jsonl", "prompts.system": "",
        "sampling.temperature": 1.5, "sampling.max_new_tokens": 40, "data.tasks_per_step": 2,
        "rollout.group_size": 4, "rollout.children": 2, "rl.batch.buckets": "(512,)",
        "sampling.max_prompt_tokens": 470, "rl.batch.micro_batch_size": 4, "train.steps": steps,
        "optim.lr": 3e-3, "checkpoint.every": 1, "checkpoint.keep": 2, "train.export_hf": False,
    }
    return ([sys.executable, "-m", "murphy_jax.cli.train", "--config", os.path.join(REPO, "configs/tiny.py"),
             "--workdir", str(workdir)] + [f"--config.{k}={v}" for k, v in kv.items()])


def _env():
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)  # one CPU device, like a user's laptop
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _run(cmd, expect=0):
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=_env(), cwd=REPO)
    assert res.returncode == expect, res.stderr[-3000:]
    return res


def _stable(path):
    out = {}
    for r in read_jsonl(str(path)):
        out[r["step"]] = {k: v for k, v in r.items() if not k.startswith(_VOLATILE)}
    return out


def _params(workdir, step):
    import jax

    from murphy_jax.train.checkpoint import restore_params_numpy

    return [np.asarray(x) for x in jax.tree.leaves(restore_params_numpy(os.path.join(workdir, "checkpoints",
                                                                                     str(step))))]


@pytest.fixture(scope="module")
def three_step_run(tiny_sft_policy, tmp_path_factory):
    """An undamaged 3-step run keeping checkpoints 2 and 3 (the baseline of every resume below)."""
    wd = tmp_path_factory.mktemp("undamaged") / "run"
    _run(_cmd(wd, tiny_sft_policy, 3))
    assert sorted(os.listdir(wd / "checkpoints")) == ["2", "3"]
    return wd


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["array file truncated", "murphy meta without rl_step"])
def test_train_resumes_from_the_previous_step_exactly(three_step_run, tiny_sft_policy, tmp_path, damage):
    wd = tmp_path / "damaged"
    shutil.copytree(three_step_run, wd)
    DAMAGES[damage][0](str(wd / "checkpoints" / "3"))
    res = _run(_cmd(wd, tiny_sft_policy, 3))
    warn = [ln for ln in res.stderr.splitlines() if "checkpoint step 3" in ln and "is unreadable (" in ln]
    assert len(warn) == 1 and "falling back to step 2" in warn[0] and DAMAGES[damage][1] in warn[0], res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    assert "finished at step 3" in res.stdout
    # Step 3 redone from step 2 is the undamaged run's step 3, bit for bit. (The meta case goes through
    # Trainer._restore's own check: valid JSON that lacks what resuming needs counts as damage.)
    assert _stable(wd / "metrics.jsonl")[3] == _stable(three_step_run / "metrics.jsonl")[3]
    for a, b in zip(_params(three_step_run, 3), _params(wd, 3), strict=True):
        np.testing.assert_array_equal(a, b)
    assert os.listdir(wd / "checkpoints.unreadable")[0].startswith("3.")


@pytest.mark.slow
def test_train_with_no_readable_checkpoint_stops_with_one_line(three_step_run, tiny_sft_policy, tmp_path):
    wd = tmp_path / "all_damaged"
    shutil.copytree(three_step_run, wd)
    for s in ("2", "3"):
        _garble("state/_METADATA")(str(wd / "checkpoints" / s))
    res = _run(_cmd(wd, tiny_sft_policy, 4), expect=2)
    assert "Traceback" not in res.stderr
    err = [ln for ln in res.stderr.splitlines() if ln.startswith("murphy-train: error:")]
    assert len(err) == 1 and f"no readable checkpoint in {wd}/checkpoints" in err[0], res.stderr[-3000:]
    assert sorted(os.listdir(wd / "checkpoints")) == ["2", "3"]


@pytest.mark.slow
def test_eval_of_a_damaged_checkpoint_is_one_line(three_step_run, tiny_sft_policy, tmp_path):
    wd = tmp_path / "eval_damaged"
    shutil.copytree(three_step_run, wd)
    for f in glob.glob(str(wd / "checkpoints" / "3" / "state" / "ocdbt.process_0" / "d" / "*")):
        os.truncate(f, os.path.getsize(f) // 3)  # every array's data (the params among them); metadata intact
    cmd = [sys.executable, "-m", "murphy_jax.cli.eval", "--model", str(wd), "--benchmark",
           f"{tiny_sft_policy}/tasks.jsonl", "--iters", "1", "--max-new-tokens", "8", "--out",
           str(tmp_path / "eval_out"), "--no-progress", "--executor-workers", "1"]
    res = _run(cmd, expect=2)
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    assert "Traceback" not in res.stderr and "TensorStore(" not in res.stderr
    msg = [ln for ln in lines if str(wd / "checkpoints" / "3") in ln]
    assert len(msg) == 1 and "cannot read the checkpoint's parameters" in msg[0], res.stderr[-3000:]
    assert "params." in msg[0] and "OUT_OF_RANGE" in msg[0], msg[0]
