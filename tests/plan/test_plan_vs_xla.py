"""murphy-plan against XLA: the compiled train step and sampler of the CPU configs (no weights, compile only).

Acceptance: the plan's peak is within 20% of the measured peak. Each phase
may err high (the planner counts the attention blocks a program can hold
alive, XLA sometimes reuses one) but never low by more than 20%.
"""
import jax
import pytest

from configs import smollm2_135m, tiny
from murphy_jax.models import make_mesh
from murphy_jax.plan.from_config import measure_for_config, plan_for_config
from murphy_jax.plan.measure import measure_train
from murphy_jax.plan.models import model_config
from murphy_jax.train.state import make_optimizer

PHASES = {"train": ("train: micro-batch", "train: optimizer update"), "prefill": ("generate: prefill",),
          "decode": ("generate: decode",)}


def _small_smollm2():
    """configs/smollm2_135m.py (SmolLM2-135M shapes, float32) with a batch that compiles in seconds."""
    c = smollm2_135m.get_config()
    c.rl.batch.micro_batch_size = 1
    c.rl.batch.buckets = (128,)
    c.sampling.max_prompt_tokens = 96
    c.sampling.max_new_tokens = 32
    c.sampling.max_rows = 8
    return c


@pytest.mark.slow
@pytest.mark.parametrize("make", [tiny.get_config, _small_smollm2], ids=["tiny", "smollm2_135m-small"])
def test_plan_within_20_percent_of_xla(make):
    c = make()
    p, wl = plan_for_config(c, 1)
    measured = measure_for_config(c, p, wl)
    planned = {k: max(p.phase(n).total for n in names) for k, names in PHASES.items()}
    for k in PHASES:
        ratio = planned[k] / measured[k]["peak"]
        assert 0.8 <= ratio <= 1.6, (k, planned[k], measured[k])
    peak = max(m["peak"] for m in measured.values())
    assert 0.8 <= p.peak / peak <= 1.2, (p.peak, peak)


def p_model(c):
    return model_config(c.model.path, dtype=c.model.dtype, param_dtype=c.model.param_dtype, remat=c.model.remat)[0]


@pytest.mark.slow
def test_fsdp_mesh_keeps_activations_batch_sharded():
    """The train step pins activations to the batch axes, so per-device memory on fsdp=8 matches the plan."""
    assert len(jax.devices()) == 8
    c = tiny.get_config()
    c.mesh.fsdp = 8
    c.rl.batch.buckets = (256,)
    c.sampling.max_prompt_tokens = 200
    p, wl = plan_for_config(c, 8)
    tx = make_optimizer(c.optim, 10)
    loss_kw = dict(eps_low=0.2, eps_high=0.2, aggregation="token_mean", beta=0.0, norm_len=24.0)
    train = measure_train(p_model(c), make_mesh(1, 8, 1), wl, tx, loss_kw=loss_kw)["peak"]
    assert max(p.phase("train: micro-batch").total, p.phase("train: optimizer update").total) / train >= 0.8
