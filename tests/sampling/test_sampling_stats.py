"""Sampled tokens follow softmax(logits / T) restricted by top-k / top-p; returned log-probs are exact."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from murphy_jax.sampling import sample, sampling_logprobs
from murphy_jax.sampling.processing import row_keys

V = 64
N = 40_000


def _expected(logits, T, top_k=0, top_p=1.0):
    """Reference distribution computed independently in numpy (HF warper semantics)."""
    x = logits.astype(np.float64) / T
    if top_k:
        kth = np.sort(x)[::-1][top_k - 1]
        x = np.where(x < kth, -np.inf, x)
    if top_p < 1.0:
        order = np.argsort(-x, kind="stable")
        p = np.exp(x[order] - x[order][0])
        p /= p.sum()
        before = np.cumsum(p) - p
        keep = np.zeros_like(x, bool)
        keep[order[(before < top_p) | (np.arange(len(x)) == 0)]] = True
        x = np.where(keep, x, -np.inf)
    p = np.exp(x - x.max())
    return p / p.sum()


def _chi2(counts, probs):
    support = probs > 0
    exp = probs[support] * counts.sum()
    return float(((counts[support] - exp) ** 2 / exp).sum()), int(support.sum()) - 1


def _draw(logits, T, top_k=0, top_p=1.0, seed=0):
    keys = row_keys(jax.random.PRNGKey(seed), jnp.arange(N), 0)
    batch = jnp.broadcast_to(jnp.asarray(logits), (N, V))
    tok, lp = jax.jit(lambda b, k: sample(b, k, greedy=False, temperature=T, top_k=top_k,
                                          use_top_p=top_p < 1.0, top_p=top_p))(batch, keys)
    return np.asarray(tok), np.asarray(lp)


@pytest.fixture(scope="module")
def logits():
    return np.random.RandomState(0).randn(V).astype(np.float32) * 2.0


@pytest.mark.parametrize("T,top_k,top_p", [(1.0, 0, 1.0), (0.7, 0, 1.0), (1.3, 10, 1.0), (0.8, 0, 0.8),
                                           (1.0, 20, 0.6)])
def test_empirical_frequencies_match(logits, T, top_k, top_p):
    probs = _expected(logits, T, top_k, top_p)
    tok, lp = _draw(logits, T, top_k, top_p)
    counts = np.bincount(tok, minlength=V).astype(np.float64)
    assert counts[probs == 0].sum() == 0, "a token outside the top-k/top-p set was sampled"
    stat, df = _chi2(counts, probs)
    # Mean of chi2 is df, sd sqrt(2 df): df + 6 sd is a p-value far below 1e-6.
    assert stat < df + 6 * np.sqrt(2 * df), (stat, df)
    # Returned log-probs are the log of the expected probabilities of the sampled tokens.
    np.testing.assert_allclose(lp, np.log(probs[tok]), atol=2e-5)
    np.testing.assert_allclose(np.asarray(sampling_logprobs(jnp.asarray(logits)[None], T, top_k=top_k,
                                                            use_top_p=top_p < 1, top_p=top_p))[0],
                               np.log(probs), atol=2e-5)


def test_statistic_rejects_a_wrong_distribution(logits):
    """Power check: samples at T=0.7 are rejected when tested against T=1 with the same threshold."""
    tok, _ = _draw(logits, 0.7)
    counts = np.bincount(tok, minlength=V).astype(np.float64)
    stat, df = _chi2(counts, _expected(logits, 1.0))
    assert stat > df + 6 * np.sqrt(2 * df)


def test_seed_determinism_and_row_independence(logits):
    a, _ = _draw(logits, 1.0, seed=3)
    b, _ = _draw(logits, 1.0, seed=3)
    c, _ = _draw(logits, 1.0, seed=4)
    assert (a == b).all() and (a != c).any()


def test_greedy_returns_raw_logprob(logits):
    tok, lp = sample(jnp.asarray(logits)[None], None, greedy=True, temperature=1.0)
    assert int(tok[0]) == int(np.argmax(logits))
    ref = logits.astype(np.float64) - np.log(np.exp(logits.astype(np.float64)).sum())
    np.testing.assert_allclose(float(lp[0]), ref[np.argmax(logits)], atol=1e-5)
