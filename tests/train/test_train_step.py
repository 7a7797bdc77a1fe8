"""The jitted train step: accumulation equals one big batch, sharded equals unsharded, bad updates are dropped."""
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest
from flax import nnx

from murphy_jax.models import ModelConfig, make_mesh, param_shardings
from murphy_jax.models.decoder import Decoder
from murphy_jax.rl.batching import pack
from murphy_jax.train.state import init_state, lr_schedule, make_optimizer, state_shardings
from murphy_jax.train.step import make_train_step, split_micro_batches

HF = dict(model_type="llama", vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
          num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
LOSS = dict(eps_low=0.2, eps_high=0.28, aggregation="token_mean", beta=0.0, norm_len=32.0)


def _optim(**kw):
    o = ml_collections.ConfigDict(dict(lr=1e-2, schedule="constant", warmup_steps=0, min_lr_ratio=0.1,
                                       weight_decay=0.0, b1=0.9, b2=0.999, eps=1e-8, clip_norm=0.0))
    o.update(kw)
    return o


@pytest.fixture(scope="module")
def model():
    cfg = ModelConfig.from_hf(HF, dtype=jnp.float32, param_dtype=jnp.float32)
    return Decoder(cfg, rngs=nnx.Rngs(0))


def _seqs(n=8, seed=0):
    """n sequences with random prompts/responses, rollout log-probs off by noise, and real advantages."""
    rng = np.random.RandomState(seed)
    prompts = [rng.randint(1, 96, rng.randint(3, 12)) for _ in range(n)]
    responses = [rng.randint(1, 96, rng.randint(2, 14)) for _ in range(n)]
    old = [-3.0 + 0.3 * rng.randn(len(r)) for r in responses]
    return prompts, responses, old, rng.randn(n).astype(np.float32)


def _rows(n=8, seed=0, buckets=(32,)):
    """The packed rows (one dict per length bucket)."""
    return pack(*_seqs(n, seed), buckets=list(buckets), micro_batch_size=1).batches


def _micro(n=8, seed=0, mb=8, buckets=(32,), extra_empty=0):
    out = []
    for rows in _rows(n, seed, buckets):
        out += split_micro_batches(rows, mb)
    if extra_empty:
        out += split_micro_batches({k: v[:0] for k, v in _rows(n, seed, buckets)[0].items()}, mb, extra_empty)
    return out


def _norms(micro):
    return {"num_tokens": np.float32(sum(m["loss_mask"].sum() for m in micro)),
            "num_seqs": np.float32(sum(m["loss_mask"].any(-1).sum() for m in micro))}


def _fresh(model):
    """A copy of the params (the train step donates its state)."""
    return jax.tree.map(jnp.copy, model.params())


def _leaves(tree):
    return [np.asarray(x) for x in jax.tree.leaves(tree)]


@pytest.mark.parametrize("aggregation", ["token_mean", "seq_mean_token_mean", "seq_mean_token_sum_norm"])
def test_micro_batch_accumulation_equals_one_big_batch(model, aggregation):
    cfg = model.config
    # Plain SGD: the parameter change is the gradient itself (Adam would amplify float noise in tiny gradients).
    tx = optax.sgd(0.5)
    loss_kw = dict(LOSS, aggregation=aggregation)
    step = make_train_step(cfg, tx, loss_kw=loss_kw)
    outs = []
    # one micro-batch of 8; 4 of 2; 8 of 1; 2 of 4 plus 3 empty ones (skipped); mixed length buckets 16 and 32.
    for micro in (_micro(mb=8), _micro(mb=2), _micro(mb=1), _micro(mb=4, extra_empty=3),
                  _micro(mb=2, buckets=(16, 32))):
        state, metrics = step(init_state(_fresh(model), tx, 0), micro, _norms(micro))
        outs.append((_leaves(state.params), float(metrics["loss"]), float(metrics["grad_norm"])))
    assert {m["input_ids"].shape[1] for m in _micro(mb=2, buckets=(16, 32))} == {16, 32}
    ref_params, ref_loss, ref_gn = outs[0]
    assert ref_gn > 1e-3
    for params, loss, gn in outs[1:]:
        assert abs(loss - ref_loss) < 1e-5 and abs(gn - ref_gn) < 1e-4 * ref_gn
        for a, b in zip(params, ref_params):
            np.testing.assert_allclose(a, b, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("mesh_shape", [dict(data=1, fsdp=4, tensor=2), dict(data=2, fsdp=2, tensor=2)])
def test_sharded_step_equals_single_device(model, mesh_shape):
    cfg = model.config
    tx = optax.chain(optax.clip_by_global_norm(0.5), optax.sgd(0.5, momentum=0.9))
    micro = _micro(8, seed=1, mb=4)
    ref_state = init_state(_fresh(model), tx, 0)
    step = make_train_step(cfg, tx, loss_kw=LOSS)
    for _ in range(2):
        ref_state, ref_m = step(ref_state, micro, _norms(micro))

    mesh = make_mesh(**mesh_shape)
    params = jax.tree.map(jax.device_put, _fresh(model), param_shardings(model, mesh))
    state = init_state(params, tx, 0)
    shardings = state_shardings(state)
    trace = state.opt_state[1][0].trace["layers"]["mlp"]["up_proj"]["kernel"]
    assert trace.sharding.spec == params["layers"]["mlp"]["up_proj"]["kernel"].sharding.spec  # moments follow params
    # Sharded with logits on the response window only (responses are at most 13 tokens) vs unsharded on all positions.
    sstep = make_train_step(cfg, tx, loss_kw=LOSS, state_shardings=shardings, mesh=mesh, response_window=13)
    for _ in range(2):
        state, m = sstep(state, micro, _norms(micro))
    assert abs(float(m["loss"]) - float(ref_m["loss"])) < 1e-5
    kernel = state.params["layers"]["mlp"]["up_proj"]["kernel"]
    assert kernel.sharding.spec == params["layers"]["mlp"]["up_proj"]["kernel"].sharding.spec
    for a, b in zip(_leaves(state.params), _leaves(ref_state.params)):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=1e-5)


def test_adamw_schedule_and_clipping_apply(model):
    """The trainer's optimizer: warm-up starts above 0, each update reports the lr it applied, AdamW moves params."""
    cfg, micro = model.config, _micro(4, seed=3, mb=4)
    optim = _optim(warmup_steps=2, clip_norm=0.1, weight_decay=0.1)
    tx = make_optimizer(optim, 10)
    step = make_train_step(cfg, tx, loss_kw=LOSS, schedule=lr_schedule(optim, 10))
    state = init_state(_fresh(model), tx, 0)
    reported = []
    for k in range(3):
        snapshot = jax.tree.map(jnp.copy, state)
        before = _leaves(snapshot.params)
        state, m = step(state, micro, _norms(micro))
        assert float(m["grad_norm"]) > 0.1  # reported before clipping
        reported.append(float(m["lr"]))
        # The same update with a constant schedule at the reported rate (same moments, same count) lands on
        # the same parameters: the metric is the rate the update applied, not the next update's.
        fixed = make_optimizer(_optim(lr=reported[-1], clip_norm=0.1, weight_decay=0.1), 10)
        again, _ = make_train_step(cfg, fixed, loss_kw=LOSS)(snapshot, micro, _norms(micro))
        for a, b in zip(_leaves(state.params), _leaves(again.params)):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
        if k == 0:
            # AdamW's first step moves each coordinate by lr * (sign(g) + wd * p): at most lr * (1 + wd * max|p|).
            moved = max(float(np.abs(a - b).max()) for a, b in zip(_leaves(state.params), before))
            bound = reported[0] * (1 + 0.1 * max(float(np.abs(b).max()) for b in before))
            assert 0.5 * reported[0] < moved <= bound + 1e-6
    assert int(state.step) == 3
    np.testing.assert_allclose(reported, [1e-2 / 3, 2e-2 / 3, 1e-2], rtol=1e-6)


def test_warmup_never_starts_at_zero():
    """Update k of an N-update warm-up runs at lr * (k + 1) / (N + 1); then the schedule holds lr."""
    for warm in (0, 1, 2, 5):
        sched = lr_schedule(_optim(lr=1e-5, warmup_steps=warm), 100)
        got = [float(sched(k)) for k in range(warm + 2)]
        want = [1e-5 * (k + 1) / (warm + 1) for k in range(warm)] + [1e-5, 1e-5]
        np.testing.assert_allclose(got, want, rtol=1e-6)
        assert got[0] > 0


def test_nonfinite_update_is_not_applied(model):
    cfg, micro = model.config, _micro(4, seed=2, mb=4)
    tx = make_optimizer(_optim(), 10)
    micro[0]["old_logprobs"] = np.where(micro[0]["loss_mask"], np.nan, micro[0]["old_logprobs"]).astype(np.float32)
    state0 = init_state(_fresh(model), tx, 0)
    before = _leaves(state0.params)
    state, metrics = make_train_step(cfg, tx, loss_kw=LOSS)(state0, micro, _norms(micro))
    assert float(metrics["finite"]) == 0.0 and int(state.step) == 0
    for a, b in zip(_leaves(state.params), before):
        np.testing.assert_array_equal(a, b)
