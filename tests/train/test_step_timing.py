"""Where a step's time goes: the ``time/*`` parts of every step add up to ``time/step_s`` (docs/training.md)."""
import math

import pytest

from murphy_jax.train.metrics import STEP_TIME_PARTS, close_step_times, read_jsonl

# Always present; reference_s only with the KL term, checkpoint_s only on steps that save.
ALWAYS = [k for k in STEP_TIME_PARTS if k not in ("time/reference_s", "time/checkpoint_s")]


def test_other_is_the_step_minus_its_named_parts():
    m = close_step_times({"time/prefill_s": 1.0, "time/decode_s": 2.5, "time/generate_s": 9.0}, 5.0)
    # time/generate_s is a sum of parts, not a part: it must not be subtracted again.
    assert m["time/step_s"] == 5.0 and m["time/other_s"] == pytest.approx(1.5)
    assert close_step_times({"time/decode_s": 2.0}, 1.5)["time/other_s"] == 0.0  # clock skew never goes negative


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Three steps of configs/tiny.py with the KL term on, saving on steps 2 and 3 only."""
    from configs import base, tiny
    from murphy_jax.train.trainer import Trainer

    c = tiny.get_config()
    c.train.steps, c.checkpoint.every = 3, 2
    c.train.export_hf, c.log.tensorboard, c.log.progress = False, False, False
    c.rl.loss.beta = 0.01
    wd = str(tmp_path_factory.mktemp("timing") / "run")
    seen = {}
    Trainer(c, wd, reference_config=base.get_config()).run(on_step=lambda step, m: seen.setdefault(step, dict(m)))
    return seen, read_jsonl(f"{wd}/metrics.jsonl")


def test_parts_are_present_non_negative_and_sum_to_the_step(tiny_run):
    seen, records = tiny_run
    assert [r["step"] for r in records] == [1, 2, 3]
    for r in records:
        for k in ALWAYS + ["time/reference_s", "time/other_s", "time/step_s"]:
            assert k in r and math.isfinite(r[k]) and r[k] >= 0, (r["step"], k, r.get(k))
        parts = sum(r[k] for k in STEP_TIME_PARTS if k in r) + r["time/other_s"]
        assert parts == pytest.approx(r["time/step_s"], rel=1e-6, abs=1e-6), r["step"]
        # The named parts hold most of the step: "other" is host bookkeeping, not a hidden phase.
        assert r["time/other_s"] < 0.5 * r["time/step_s"], {k: v for k, v in r.items() if k.startswith("time/")}
        assert r["time/train_fwd_bwd_s"] > 0 and r["time/optimizer_s"] > 0 and r["time/reference_s"] > 0
        assert r["time/prefill_s"] > 0 and r["time/decode_s"] > 0
        assert r["time/generate_s"] == pytest.approx(r["time/prefill_s"] + r["time/decode_s"] + r["time/sample_host_s"])
    assert seen[3]["time/step_s"] == records[2]["time/step_s"]  # on_step sees what metrics.jsonl gets


def test_checkpoint_time_only_on_saving_steps(tiny_run):
    _, records = tiny_run
    assert [("time/checkpoint_s" in r) for r in records] == [False, True, True]
    assert all(r["time/checkpoint_s"] > 0 for r in records[1:])
