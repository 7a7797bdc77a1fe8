"""GRPO loss: REINFORCE equivalence, clipping gradients, masking, aggregation, KL, log-prob helpers."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from murphy_jax.rl.loss import aggregate, grpo_loss, token_entropy, token_logprobs

AGGS = ("token_mean", "seq_mean_token_mean", "seq_mean_token_sum_norm")


def np_log_softmax(x):
    x = np.asarray(x, np.float64)
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


# ------------------------------------------------------------------ helpers
def test_token_logprobs_matches_float64_reference():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 5, 11)).astype(np.float32) * 3
    targets = rng.integers(0, 11, (2, 5))
    got = jax.jit(token_logprobs)(logits, targets)
    want = np.take_along_axis(np_log_softmax(logits), targets[..., None], -1)[..., 0]
    assert got.dtype == jnp.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_token_logprobs_bf16_and_extreme_logits():
    rng = np.random.default_rng(1)
    logits = jnp.asarray(rng.normal(size=(1, 4, 7)) * 2, jnp.bfloat16)
    targets = jnp.asarray(rng.integers(0, 7, (1, 4)))
    got = token_logprobs(logits, targets)
    upcast = np.asarray(logits.astype(jnp.float32))
    want = np.take_along_axis(np_log_softmax(upcast), np.asarray(targets)[..., None], -1)[..., 0]
    assert got.dtype == jnp.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    # Huge offsets and masked vocabulary entries stay finite and exact.
    big = jnp.array([[[1e4, 1e4 - 1.0, -jnp.inf]]], jnp.float32)
    out = token_logprobs(big, jnp.array([[1]]))
    np.testing.assert_allclose(out, [[-1.0 - np.log1p(np.exp(-1.0))]], rtol=1e-6)


def test_token_entropy():
    logits = jnp.array([[[0.0, 0.0, 0.0, 0.0], [10.0, -jnp.inf, -jnp.inf, -jnp.inf]]])
    np.testing.assert_allclose(token_entropy(logits), [[np.log(4.0), 0.0]], atol=1e-6)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 9)).astype(np.float32)
    lp = np_log_softmax(x)
    np.testing.assert_allclose(token_entropy(x), -(np.exp(lp) * lp).sum(-1), rtol=1e-5)


# ---------------------------------------------------------- REINFORCE check
@pytest.mark.parametrize("aggregation", AGGS)
def test_ratio_one_gradient_equals_reinforce(aggregation):
    """At ratio 1 (no clipping) the surrogate's parameter gradient is the policy gradient."""
    rng = np.random.default_rng(3)
    B, T, D, V = 3, 6, 4, 9
    x = jnp.asarray(rng.normal(size=(B, T, D)), jnp.float32)
    W = jnp.asarray(rng.normal(size=(D, V)), jnp.float32)
    targets = jnp.asarray(rng.integers(0, V, (B, T)))
    adv = jnp.asarray([1.5, -0.7, 0.3], jnp.float32)
    mask = jnp.asarray(rng.random((B, T)) < 0.7).at[:, 0].set(True)

    def logp(w):
        return token_logprobs(x @ w, targets)

    def surrogate(w):
        lp = logp(w)
        return grpo_loss(lp, jax.lax.stop_gradient(lp), adv, mask, aggregation=aggregation, eps_low=0.2,
                         eps_high=0.3)[0]

    def reinforce(w):
        return aggregate(-adv[:, None] * logp(w), mask, aggregation)

    g1, g2 = jax.grad(surrogate)(W), jax.grad(reinforce)(W)
    assert float(jnp.abs(g2).max()) > 1e-3
    np.testing.assert_allclose(g1, g2, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ clipping
@pytest.mark.parametrize("eps_low, eps_high", [(0.2, 0.2), (0.2, 0.28)])
def test_clipping_zeroes_gradient_exactly_where_it_should(eps_low, eps_high):
    ratios = np.array([0.5, 0.79, 0.81, 1.0, 1.19, 1.25, 1.3, 2.0], np.float32)
    T = len(ratios)
    old = np.full((2, T), -1.0, np.float32)
    lp = jnp.asarray(old + np.log(ratios)[None])
    adv = jnp.asarray([1.0, -1.0])
    mask = jnp.ones((2, T), bool)
    grad = np.asarray(jax.grad(lambda l: grpo_loss(l, old, adv, mask, eps_low=eps_low, eps_high=eps_high)[0])(lp))
    clipped = np.stack([ratios > 1 + eps_high, ratios < 1 - eps_low])
    assert (grad[clipped] == 0.0).all()
    assert (grad[~clipped] != 0.0).all()
    # Unclipped tokens get d/dlogp (-ratio * A) / n_tokens.
    expect = -(ratios[None] * np.asarray(adv)[:, None]) / (2 * T)
    np.testing.assert_allclose(grad[~clipped], expect[~clipped], rtol=1e-5)
    _, m = grpo_loss(lp, old, adv, mask, eps_low=eps_low, eps_high=eps_high)
    np.testing.assert_allclose(m["clip_frac"], clipped.mean(), rtol=1e-6)
    np.testing.assert_allclose(m["clip_frac_high"], clipped[0].sum() / (2 * T), rtol=1e-6)
    np.testing.assert_allclose(m["clip_frac_low"], clipped[1].sum() / (2 * T), rtol=1e-6)


# ------------------------------------------------------------------- masking
@pytest.mark.parametrize("aggregation", AGGS)
def test_masked_tokens_contribute_nothing(aggregation):
    rng = np.random.default_rng(4)
    B, T = 3, 5
    lp = rng.normal(size=(B, T)).astype(np.float32) - 2
    old = lp + rng.normal(size=(B, T)).astype(np.float32) * 0.1
    ref = lp + rng.normal(size=(B, T)).astype(np.float32) * 0.1
    adv = rng.normal(size=(B, T)).astype(np.float32)
    mask = rng.random((B, T)) < 0.6
    mask[2] = False  # a padding row
    mask[0, 0] = True
    junk = ~mask
    lp2, old2, ref2, adv2 = lp.copy(), old.copy(), ref.copy(), adv.copy()
    lp2[junk], old2[junk], ref2[junk], adv2[junk] = -np.inf, 50.0, np.nan, 1e30

    def run(l, o, r, a):
        f = lambda x: grpo_loss(x, o, a, mask, aggregation=aggregation, beta=0.05, ref_logprobs=r)  # noqa: E731
        (loss, metrics), grad = jax.value_and_grad(f, has_aux=True)(jnp.asarray(l))
        return loss, metrics, np.asarray(grad)

    l1, m1, g1 = run(lp, old, ref, adv)
    l2, m2, g2 = run(lp2, old2, ref2, adv2)
    np.testing.assert_allclose(l1, l2, rtol=1e-6)
    assert np.isfinite(g2).all()
    np.testing.assert_allclose(g1, g2, rtol=1e-6)
    assert (g2[junk] == 0).all()
    for k in m1:
        np.testing.assert_allclose(m1[k], m2[k], rtol=1e-6, err_msg=k)


# --------------------------------------------------------------- aggregation
def test_aggregation_modes_by_hand():
    # ratio 1 everywhere, so the per-token loss is -A.
    mask = jnp.array([[1, 1, 0], [1, 0, 0], [0, 0, 0]], bool)  # row 2 is padding
    adv = jnp.array([1.0, -3.0, 7.0])
    lp = jnp.zeros((3, 3))

    def loss(agg, **kw):
        return float(grpo_loss(lp, lp, adv, mask, aggregation=agg, **kw)[0])

    # tokens: -1, -1 (row 0), +3 (row 1)
    assert loss("token_mean") == pytest.approx((-1 - 1 + 3) / 3)
    assert loss("seq_mean_token_mean") == pytest.approx(((-2 / 2) + (3 / 1)) / 2)
    assert loss("seq_mean_token_sum_norm") == pytest.approx((-2 + 3) / (2 * 3))
    assert loss("seq_mean_token_sum_norm", norm_len=4) == pytest.approx((-2 + 3) / (2 * 4))


@pytest.mark.parametrize("aggregation", AGGS)
def test_micro_batches_with_global_denominators_sum_to_full_batch(aggregation):
    rng = np.random.default_rng(5)
    B, T = 6, 7
    lp = jnp.asarray(rng.normal(size=(B, T)) - 2, jnp.float32)
    old = lp + jnp.asarray(rng.normal(size=(B, T)) * 0.2, jnp.float32)
    adv = jnp.asarray(rng.normal(size=B), jnp.float32)
    mask = jnp.asarray(rng.random((B, T)) < 0.7).at[:, 1].set(True).at[5].set(False)
    full = grpo_loss(lp, old, adv, mask, aggregation=aggregation, norm_len=10)[0]
    den = dict(num_tokens=int(mask.sum()), num_seqs=int(mask.any(-1).sum()), norm_len=10)
    parts = sum(grpo_loss(lp[s], old[s], adv[s], mask[s], aggregation=aggregation, **den)[0]
                for s in (slice(0, 2), slice(2, 4), slice(4, 6)))
    np.testing.assert_allclose(parts, full, rtol=1e-5)


# ----------------------------------------------------------------------- KL
def test_k3_kl_penalty_value_and_gradient():
    lp = jnp.array([[-1.0, -2.0, -0.5]])
    ref = jnp.array([[-1.2, -1.5, -0.5]])
    mask = jnp.ones((1, 3), bool)
    adv = jnp.zeros((1,))  # isolate the KL term
    beta = 0.1

    def f(x):
        return grpo_loss(x, x, adv, mask, beta=beta, ref_logprobs=ref)

    (loss, m), g = jax.value_and_grad(f, has_aux=True)(lp)
    d = np.asarray(ref - lp)
    k3 = np.exp(d) - d - 1
    np.testing.assert_allclose(loss, beta * k3.mean(), rtol=1e-6)
    np.testing.assert_allclose(m["kl_ref"], k3.mean(), rtol=1e-6)
    np.testing.assert_allclose(g, beta * (1 - np.exp(d)) / 3, rtol=1e-5, atol=1e-8)
    assert float(k3[0, 2]) == 0.0  # equal policies: no penalty


def test_approx_kl_and_entropy_metrics():
    lp = jnp.log(jnp.array([[0.5, 0.25]]))
    old = jnp.log(jnp.array([[0.25, 0.25]]))
    ent = jnp.array([[1.0, 3.0]])
    _, m = grpo_loss(lp, old, jnp.ones((1,)), jnp.ones((1, 2), bool), entropy=ent)
    # ratios 2 and 1: k3 = (2 - 1 - log 2) and 0
    np.testing.assert_allclose(m["approx_kl"], (1 - np.log(2)) / 2, rtol=1e-6)
    np.testing.assert_allclose(m["entropy"], 2.0)
    np.testing.assert_allclose(m["ratio_max"], 2.0, rtol=1e-6)
    assert float(m["num_tokens"]) == 2


def test_errors():
    z = jnp.zeros((1, 2))
    with pytest.raises(ValueError, match="rl.loss.aggregation='mean'"):
        grpo_loss(z, z, jnp.zeros(1), jnp.ones((1, 2), bool), aggregation="mean")
    with pytest.raises(ValueError, match="needs ref_logprobs"):
        grpo_loss(z, z, jnp.zeros(1), jnp.ones((1, 2), bool), beta=0.1)
    with pytest.raises(ValueError, match="eps_low"):
        grpo_loss(z, z, jnp.zeros(1), jnp.ones((1, 2), bool), eps_low=1.5)
