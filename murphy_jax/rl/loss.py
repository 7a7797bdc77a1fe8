"""GRPO clipped surrogate over response tokens, with optional k3 KL to a reference.

Per token t of sequence i (only where ``loss_mask`` is set):

    ratio   = exp(logp - rollout_logp)
    pg      = -min(ratio * A, clip(ratio, 1 - eps_low, 1 + eps_high) * A)
    kl_k3   = exp(ref_logp - logp) - (ref_logp - logp) - 1        (beta > 0 only)
    l       = pg + beta * kl_k3

Aggregation over the batch (``m`` the loss mask, ``L`` a fixed length):

* ``token_mean``: sum_{i,t} m l / sum_{i,t} m (every trained token weighs the same; DAPO)
* ``seq_mean_token_mean``: mean_i [sum_t m l / sum_t m] (every sequence weighs the same; GRPO)
* ``seq_mean_token_sum_norm``: mean_i [sum_t m l] / L (no length normalisation; Dr.GRPO)

Rows with no trained token (batch padding) count in no denominator. Under
gradient accumulation pass the whole step's ``num_tokens`` / ``num_seqs``
(``murphy_jax.rl.batching.PackedBatches`` has them) so that the sum of the
micro-batch losses equals the loss of the whole batch.
"""
from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from murphy_jax.rl import _common

AGGREGATIONS = ("token_mean", "seq_mean_token_mean", "seq_mean_token_sum_norm")
# exp() of a log-ratio beyond this overflows float32; clamping here changes
# nothing trainable (such tokens are clipped or hopeless) but keeps NaN out.
_MAX_LOG_RATIO = 20.0


def _row_max(logits: jax.Array) -> jax.Array:
    """Row max as float32 [..., 1], a gradient constant; 0 for rows with no finite logit."""
    m = jax.lax.stop_gradient(jnp.max(logits, axis=-1, keepdims=True)).astype(jnp.float32)
    return jnp.where(jnp.isfinite(m), m, 0.0)


def token_logprobs(logits: jax.Array, targets: jax.Array) -> jax.Array:
    """Return float32[..., T]: log softmax(logits)[target], computed in float32."""
    logits = jnp.asarray(logits)
    targets = jnp.clip(jnp.asarray(targets, jnp.int32), 0, logits.shape[-1] - 1)
    # The max and the gather are exact in the input dtype; only the sum of
    # exponentials needs float32, and there the upcast fuses into the reduction,
    # so no float32 copy of the [B, T, V] logits is made. Subtracting the row
    # max keeps logits of 1e4 from losing precision to cancellation.
    m = _row_max(logits)
    lse = jnp.log(jnp.sum(jnp.exp(logits.astype(jnp.float32) - m), axis=-1))
    picked = jnp.take_along_axis(logits, targets[..., None], axis=-1).astype(jnp.float32) - m
    return picked[..., 0] - lse


def token_entropy(logits: jax.Array) -> jax.Array:
    """Return float32[..., T]: entropy of softmax(logits) per position, in float32."""
    logits = jnp.asarray(logits)
    shifted = logits.astype(jnp.float32) - _row_max(logits)
    e = jnp.exp(shifted)
    z = jnp.sum(e, axis=-1)
    # where(): 0 * -inf from masked vocabulary entries would give NaN.
    return jnp.log(z) - jnp.sum(jnp.where(e > 0, e * shifted, 0.0), axis=-1) / z


def aggregate(per_token: jax.Array, mask: jax.Array, aggregation: str, *, num_tokens: Any = None,
              num_seqs: Any = None, norm_len: Any = None) -> jax.Array:
    """Reduce a [B, T] per-token quantity to a scalar with one of AGGREGATIONS."""
    _common.check_choice("rl.loss.aggregation", aggregation, AGGREGATIONS)
    mask = jnp.asarray(mask, bool)
    masked = jnp.where(mask, per_token, 0.0)
    if aggregation == "token_mean":
        denom = jnp.sum(mask) if num_tokens is None else num_tokens
        return jnp.sum(masked) / jnp.maximum(jnp.asarray(denom, jnp.float32), 1.0)
    row_tokens = jnp.sum(mask, axis=-1).astype(jnp.float32)
    seqs = jnp.sum(row_tokens > 0) if num_seqs is None else num_seqs
    seqs = jnp.maximum(jnp.asarray(seqs, jnp.float32), 1.0)
    row_sum = jnp.sum(masked, axis=-1)
    if aggregation == "seq_mean_token_mean":
        return jnp.sum(row_sum / jnp.maximum(row_tokens, 1.0)) / seqs
    length = per_token.shape[-1] if norm_len is None else norm_len
    return jnp.sum(row_sum) / (seqs * jnp.asarray(length, jnp.float32))


def grpo_loss(logprobs: jax.Array, old_logprobs: jax.Array, advantages: jax.Array, loss_mask: jax.Array, *,
              eps_low: float = 0.2, eps_high: float = 0.2, aggregation: str = "token_mean", beta: float = 0.0,
              ref_logprobs: jax.Array | None = None, entropy: jax.Array | None = None, num_tokens: Any = None,
              num_seqs: Any = None, norm_len: Any = None) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Return (scalar loss, metrics) of the GRPO clipped surrogate over [B, T] tokens."""
    _common.check_choice("rl.loss.aggregation", aggregation, AGGREGATIONS)
    if beta and ref_logprobs is None:
        raise ValueError(f"rl.loss.beta={beta}: a KL penalty needs ref_logprobs")
    if not (0.0 <= eps_low < 1.0) or not eps_high >= 0.0:
        raise ValueError(f"rl.loss.eps_low={eps_low}, rl.loss.eps_high={eps_high}: "
                         "need 0 <= eps_low < 1 and eps_high >= 0")
    logprobs = jnp.asarray(logprobs, jnp.float32)
    mask = jnp.asarray(loss_mask, bool)
    adv = jnp.asarray(advantages, jnp.float32)
    if adv.ndim == logprobs.ndim - 1:
        adv = adv[..., None]  # one advantage per sequence
    adv = jnp.broadcast_to(adv, logprobs.shape)
    # Masked positions may hold garbage (padding, -inf): zero the log-ratio
    # there *before* exp so that neither value nor gradient sees it.
    log_ratio = jnp.where(mask, logprobs - jnp.asarray(old_logprobs, jnp.float32), 0.0)
    log_ratio = jnp.clip(log_ratio, -_MAX_LOG_RATIO, _MAX_LOG_RATIO)
    ratio = jnp.exp(log_ratio)
    clipped = jnp.clip(ratio, 1.0 - eps_low, 1.0 + eps_high)
    pg = -jnp.minimum(ratio * adv, clipped * adv)
    per_token = pg
    agg = dict(num_tokens=num_tokens, num_seqs=num_seqs, norm_len=norm_len)
    metrics: dict[str, jax.Array] = {}
    if ref_logprobs is not None:
        ref_diff = jnp.where(mask, jnp.asarray(ref_logprobs, jnp.float32) - logprobs, 0.0)
        ref_diff = jnp.clip(ref_diff, -_MAX_LOG_RATIO, _MAX_LOG_RATIO)
        kl = jnp.exp(ref_diff) - ref_diff - 1.0
        if beta:
            per_token = per_token + beta * kl
        metrics["kl_ref"] = _masked_mean(kl, mask)
    loss = aggregate(per_token, mask, aggregation, **agg)
    sg = jax.lax.stop_gradient
    low = (adv < 0) & (ratio < 1.0 - eps_low)
    high = (adv > 0) & (ratio > 1.0 + eps_high)
    metrics.update(
        pg_loss=sg(aggregate(pg, mask, aggregation, **agg)),
        clip_frac=sg(_masked_mean((low | high).astype(jnp.float32), mask)),
        clip_frac_low=sg(_masked_mean(low.astype(jnp.float32), mask)),
        clip_frac_high=sg(_masked_mean(high.astype(jnp.float32), mask)),
        # k3 estimate of KL(rollout policy || current policy) from rollout samples.
        approx_kl=sg(_masked_mean(ratio - 1.0 - log_ratio, mask)),
        ratio_mean=sg(_masked_mean(ratio, mask)),
        ratio_max=sg(jnp.max(jnp.where(mask, ratio, 0.0), initial=0.0)),
        num_tokens=jnp.sum(mask).astype(jnp.float32),
    )
    if "kl_ref" in metrics:
        metrics["kl_ref"] = sg(metrics["kl_ref"])
    if entropy is not None:
        metrics["entropy"] = sg(_masked_mean(jnp.asarray(entropy, jnp.float32), mask))
    return loss, metrics


def _masked_mean(x: jax.Array, mask: jax.Array) -> jax.Array:
    return jnp.sum(jnp.where(mask, x, 0.0)) / jnp.maximum(jnp.sum(mask), 1).astype(jnp.float32)
