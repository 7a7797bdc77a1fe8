"""The jitted, sharded train step: micro-batch gradient accumulation, GRPO loss, one optimizer update.

A step's batch has shape [M, mb, T]: M micro-batches of mb rows. A ``lax.scan``
accumulates gradients over the micro-batches; an all-padding micro-batch is
skipped with ``lax.cond``, so padding M up to a bucket costs no compute. Each
micro-batch loss is normalised by the whole step's token/sequence counts, so
the accumulated gradient equals the gradient of one big batch.

A non-finite loss or gradient leaves the state unchanged (the update is
selected away) and is reported in the metrics; the trainer then stops or
skips as configured.
"""
from __future__ import annotations

import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from murphy_jax.models.config import ModelConfig
from murphy_jax.models.layers import forward, hidden_states, logits_from_hidden
from murphy_jax.models.sharding import batch_sharding
from murphy_jax.rl.loss import grpo_loss, token_entropy, token_logprobs
from murphy_jax.train.state import TrainState

BATCH_KEYS = ("input_ids", "targets", "positions", "valid", "loss_mask", "advantages", "old_logprobs")
# How per-micro-batch metrics combine over a step: token-weighted means, maxima, and (the rest) sums.
_TOKEN_MEANS = ("clip_frac", "clip_frac_low", "clip_frac_high", "approx_kl", "entropy", "kl_ref", "ratio_mean")
_MAXIMA = ("ratio_max",)


def _logprobs_and_entropy(cfg: ModelConfig, params, batch, temperature: float, chunk: int, act_sharding=None):
    positions = jnp.where(batch["valid"], batch["positions"], -1)
    h, _ = hidden_states(cfg, params, batch["input_ids"], positions, act_sharding=act_sharding)

    def piece(h_part, targets_part):
        logits = logits_from_hidden(cfg, params, h_part)
        if temperature != 1.0:
            logits = logits / temperature
        return token_logprobs(logits, targets_part), jax.lax.stop_gradient(token_entropy(logits))

    b, t, _ = h.shape
    if not chunk or t <= chunk:
        return piece(h, batch["targets"])
    # Only [b, chunk, vocab] logits are live at a time; the chunk is recomputed in the backward pass.
    n = t // chunk
    hs = jnp.moveaxis(h.reshape(b, n, chunk, -1), 1, 0)
    ts = jnp.moveaxis(batch["targets"].reshape(b, n, chunk), 1, 0)
    lp, ent = jax.lax.map(lambda xs: jax.checkpoint(piece)(*xs), (hs, ts))
    return jnp.moveaxis(lp, 0, 1).reshape(b, t), jnp.moveaxis(ent, 0, 1).reshape(b, t)


def micro_loss(params, batch: dict, norms: dict, *, cfg: ModelConfig, loss_kw: dict, temperature: float = 1.0,
               logits_chunk: int = 0, act_sharding=None):
    """GRPO loss of one micro-batch [mb, T] (normalised by the step-wide counts in ``norms``) and its metrics."""
    logp, ent = _logprobs_and_entropy(cfg, params, batch, temperature, logits_chunk, act_sharding)
    loss, metrics = grpo_loss(logp, batch["old_logprobs"], batch["advantages"], batch["loss_mask"],
                              ref_logprobs=batch.get("ref_logprobs"), entropy=ent,
                              num_tokens=norms["num_tokens"], num_seqs=norms["num_seqs"], **loss_kw)
    return loss, metrics


def make_train_step(cfg: ModelConfig, tx: optax.GradientTransformation, *, loss_kw: dict, temperature: float = 1.0,
                    logits_chunk: int = 0, state_shardings=None, mesh: Mesh | None = None,
                    with_ref: bool = False) -> Callable:
    """``train_step(state, batch, norms) -> (state, metrics)``: jitted, donated state, explicit shardings."""
    loss_kw = dict(loss_kw)
    # Activations follow the batch rows: [mb, T, hidden] split over the data*fsdp devices.
    act = NamedSharding(mesh, P(*batch_sharding(mesh, 3).spec)) if mesh is not None else None

    def one(params, mb, norms):
        return micro_loss(params, mb, norms, cfg=cfg, loss_kw=loss_kw, temperature=temperature,
                          logits_chunk=logits_chunk, act_sharding=act)

    grad_fn = jax.value_and_grad(one, has_aux=True)

    def step(state: TrainState, batch: dict, norms: dict):
        zeros = jax.tree.map(jnp.zeros_like, state.params)
        metric_keys = _metric_keys(one, state.params, batch, norms)

        def body(carry, mb):
            grads, sums = carry
            tokens = mb["loss_mask"].sum().astype(jnp.float32)

            def run(_):
                (loss, m), g = grad_fn(state.params, mb, norms)
                new_sums = {k: _combine(k, sums[k], m[k], tokens) for k in sums if k != "loss"}
                new_sums["loss"] = sums["loss"] + loss
                return jax.tree.map(jnp.add, grads, g), new_sums

            return jax.lax.cond(tokens > 0, run, lambda _: (grads, sums), None), None

        sums0 = {k: jnp.zeros((), jnp.float32) for k in metric_keys}
        (grads, sums), _ = jax.lax.scan(body, (zeros, sums0), batch)
        total = jnp.maximum(batch["loss_mask"].sum().astype(jnp.float32), 1.0)
        metrics = {k: (v / total if k in _TOKEN_MEANS else v) for k, v in sums.items()}
        grad_norm = optax.tree.norm(grads)
        finite = jnp.isfinite(metrics["loss"]) & jnp.isfinite(grad_norm)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        new = TrainState(state.step + 1, params, opt_state, state.rng)
        keep = lambda n, o: jnp.where(finite, n, o)  # noqa: E731  (a bad update is never applied)
        out = jax.tree.map(keep, new, state)
        metrics.update(grad_norm=grad_norm, finite=finite.astype(jnp.float32),
                       trained_tokens=batch["loss_mask"].sum().astype(jnp.float32))
        return out, metrics

    if mesh is None:
        return jax.jit(step, donate_argnums=0)
    bsh = step_batch_shardings(mesh, with_ref)
    return jax.jit(step, in_shardings=(state_shardings, bsh, None), out_shardings=(state_shardings, None),
                   donate_argnums=0)


def _combine(key, acc, value, tokens):
    if key in _TOKEN_MEANS:
        return acc + value * tokens
    if key in _MAXIMA:
        return jnp.maximum(acc, value)
    return acc + value


def _metric_keys(one, params, batch, norms) -> list[str]:
    mb = jax.tree.map(lambda x: x[0], batch)
    _, m = jax.eval_shape(one, params, mb, norms)
    return sorted(set(m) | {"loss"})


def step_batch_shardings(mesh: Mesh, with_ref: bool = False) -> dict:
    """[M, mb, T] batch arrays: rows over the batch mesh axes, micro-batch and time replicated."""
    spec = batch_sharding(mesh, 2).spec
    sh = NamedSharding(mesh, P(None, *spec))
    return {k: sh for k in BATCH_KEYS + (("ref_logprobs",) if with_ref else ())}


@functools.partial(jax.jit, static_argnames=("cfg", "temperature"))
def reference_logprobs(params, batch: dict, *, cfg: ModelConfig, temperature: float = 1.0):
    """Token log-probs [M, mb, T] of the frozen reference policy for the KL term."""

    def one(mb):
        positions = jnp.where(mb["valid"], mb["positions"], -1)
        logits = forward(cfg, params, mb["input_ids"], positions)
        return token_logprobs(logits / temperature, mb["targets"])

    return jax.lax.map(one, {k: batch[k] for k in ("input_ids", "positions", "valid", "targets")})


def stack_micro_batches(rows: dict[str, np.ndarray], micro_batch_size: int, num_micro: int) -> dict[str, np.ndarray]:
    """[N, T] rows -> [num_micro, mb, T], padding with empty rows (one visible pad token, nothing trained)."""
    n, t = rows["input_ids"].shape
    total = num_micro * micro_batch_size
    if n > total:
        raise ValueError(f"{n} rows do not fit {num_micro} micro-batches of {micro_batch_size}")
    out = {}
    for k in BATCH_KEYS + (("ref_logprobs",) if "ref_logprobs" in rows else ()):
        x = rows[k]
        pad = np.zeros((total - n, t), x.dtype)
        if k == "valid":
            pad[:, 0] = True
        out[k] = np.concatenate([x, pad]).reshape(num_micro, micro_batch_size, t)
    return out

