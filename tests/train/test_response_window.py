"""Logits only over each row's response window: same loss, metrics and update as over every position."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from murphy_jax.models import ModelConfig
from murphy_jax.models.decoder import Decoder
from murphy_jax.rl.batching import pack
from murphy_jax.train.state import init_state
from murphy_jax.train.step import check_response_window, logits_window, make_train_step, split_micro_batches

HF = dict(model_type="llama", vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
          num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
T, MAX_RESPONSE = 32, 13


@pytest.fixture(scope="module")
def model():
    cfg = ModelConfig.from_hf(HF, dtype=jnp.float32, param_dtype=jnp.float32)
    return Decoder(cfg, rngs=nnx.Rngs(0))


def _micro(mb=4):
    """Rows of one 32-token bucket: short and long prompts, one response ending on the row's last token."""
    rng = np.random.RandomState(0)
    plens = [3, 11, 6, 25, 9, 17, 4]
    rlens = [13, 2, 9, 7, 13, 5, 11]  # 25 + 7 = 32: the window cannot start at that row's first trained token
    prompts = [rng.randint(1, 96, p) for p in plens]
    responses = [rng.randint(1, 96, r) for r in rlens]
    old = [-3.0 + 0.3 * rng.randn(r) for r in rlens]
    rows = pack(prompts, responses, old, rng.randn(len(plens)).astype(np.float32), buckets=[T],
                micro_batch_size=1).batches[0]
    return split_micro_batches(rows, mb)  # the last micro-batch carries one all-padding row


def _norms(micro):
    return {"num_tokens": np.float32(sum(m["loss_mask"].sum() for m in micro)),
            "num_seqs": np.float32(sum(m["loss_mask"].any(-1).sum() for m in micro))}


def _step(model, micro, window, **kw):
    tx = optax.sgd(0.5)
    step = make_train_step(model.config, tx, response_window=window, **kw)
    state, metrics = step(init_state(jax.tree.map(jnp.copy, model.params()), tx, 0), micro, _norms(micro))
    return [np.asarray(x) for x in jax.tree.leaves(state.params)], {k: float(v) for k, v in metrics.items()}


@pytest.mark.parametrize("aggregation,norm_len,chunk", [
    ("token_mean", None, 0), ("seq_mean_token_mean", None, 4),
    ("seq_mean_token_sum_norm", None, 4),  # the default divisor stays the row length, not the window's
    ("seq_mean_token_sum_norm", 20.0, 0)])
def test_window_gives_the_update_of_all_positions(model, aggregation, norm_len, chunk):
    micro = _micro()
    assert int(micro[0]["loss_mask"][3].nonzero()[0][0]) > T - MAX_RESPONSE  # the clamped-start case is present
    kw = dict(loss_kw=dict(eps_low=0.2, eps_high=0.28, aggregation=aggregation, beta=0.0, norm_len=norm_len),
              logits_chunk=chunk)
    full_params, full_m = _step(model, micro, 0, **kw)
    win_params, win_m = _step(model, micro, MAX_RESPONSE, **kw)
    assert full_m["grad_norm"] > 1e-3
    assert set(win_m) == set(full_m)
    for k in full_m:
        assert win_m[k] == pytest.approx(full_m[k], rel=1e-5, abs=1e-6), k
    for a, b in zip(win_params, full_params):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_window_shrinks_the_logits_the_program_computes(model):
    micro = _micro()
    tx = optax.sgd(0.5)
    params = jax.tree.map(jnp.copy, model.params())
    shapes = {}
    for window in (0, MAX_RESPONSE):
        step = make_train_step(model.config, tx, loss_kw=dict(aggregation="token_mean"), response_window=window)
        acc = step.init_acc(params, micro[0])
        shapes[window] = step.accumulate.lower(params, acc, micro[0], _norms(micro)).as_text()
    assert "tensor<4x32x96xf32>" in shapes[0] and "tensor<4x13x96xf32>" not in shapes[0]
    assert "tensor<4x13x96xf32>" in shapes[MAX_RESPONSE] and "tensor<4x32x96xf32>" not in shapes[MAX_RESPONSE]


def test_a_row_longer_than_the_window_is_refused(model):
    tx = optax.sgd(0.5)
    step = make_train_step(model.config, tx, loss_kw=dict(aggregation="token_mean"), response_window=8)
    micro = _micro()
    with pytest.raises(ValueError, match="trains 13 tokens but the train step computes logits for 8 positions"):
        step(init_state(jax.tree.map(jnp.copy, model.params()), tx, 0), micro, _norms(micro))


def test_check_response_window_measures_each_rows_span():
    mask = np.zeros((3, 10), bool)
    mask[0, 2:5] = True  # 3 tokens
    mask[1, 6:10] = True  # 4 tokens, to the row's end
    check_response_window(mask, 4)
    check_response_window(mask, 0)  # windowing off
    check_response_window(np.zeros((2, 10), bool), 1)  # padding only
    with pytest.raises(ValueError, match="trains 4 tokens"):
        check_response_window(mask, 3)


@pytest.mark.parametrize("seq_len,window,chunk,expected", [
    (32, 0, 0, 32),  # off
    (32, 13, 0, 13),
    (32, 13, 4, 16),  # rounded up to whole chunks
    (32, 13, 20, 13),  # one chunk holds the window
    (32, 40, 0, 32),  # responses may fill the row
    (32, 30, 8, 32),  # rounding would pass the row's end
])
def test_logits_window(seq_len, window, chunk, expected):
    assert logits_window(seq_len, window, chunk) == expected
