"""TrainState and the optimizer: AdamW with warmup + constant/cosine schedule and global-norm clipping."""
from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.sharding import NamedSharding, PartitionSpec as P


class TrainState(NamedTuple):
    """Everything a checkpoint holds on devices: update count, params, optimizer state, PRNG key."""

    step: jax.Array  # int32: optimizer updates applied so far
    params: Any
    opt_state: Any
    rng: jax.Array


def lr_schedule(optim, total_updates: int) -> optax.Schedule:
    """Linear warmup to ``optim.lr``, then constant or cosine decay to ``min_lr_ratio * lr``.

    Warm-up update k (0-based, k < warmup_steps) runs at ``lr * (k + 1) / (warmup_steps + 1)``:
    never at 0, which made the first update of every run (and all of a short run) a no-op.
    """
    warm = int(optim.warmup_steps)
    if optim.schedule == "constant":
        after = optax.constant_schedule(optim.lr)
    else:
        after = optax.cosine_decay_schedule(optim.lr, max(1, total_updates - warm), alpha=optim.min_lr_ratio)
    if not warm:
        return after
    return optax.join_schedules([optax.linear_schedule(optim.lr / (warm + 1), optim.lr, warm), after], [warm])


def make_optimizer(optim, total_updates: int) -> optax.GradientTransformation:
    """AdamW (optimizer state in the parameter dtype, float32 by default) with optional clipping."""
    tx = optax.adamw(lr_schedule(optim, total_updates), b1=optim.b1, b2=optim.b2, eps=optim.eps,
                     weight_decay=optim.weight_decay)
    if optim.clip_norm:
        tx = optax.chain(optax.clip_by_global_norm(optim.clip_norm), tx)
    return tx


def init_state(params, tx: optax.GradientTransformation, seed: int) -> TrainState:
    """A fresh TrainState; optimizer moments get the shardings of their parameters, counters are replicated."""
    shardings = jax.tree.leaves(jax.tree.map(lambda x: x.sharding, params))
    named = [s for s in shardings if isinstance(s, NamedSharding)]
    if not named:
        return TrainState(jnp.zeros((), jnp.int32), params, jax.jit(tx.init)(params), jax.random.PRNGKey(seed))
    replicated = NamedSharding(named[0].mesh, P())
    # zeros_like moments don't depend on param values, so XLA cannot infer their layout: spell it out.
    out = optax.tree_map_params(tx, lambda _, sh: sh, jax.eval_shape(tx.init, params),
                                jax.tree.map(lambda x: x.sharding, params),
                                transform_non_params=lambda _: replicated)
    opt_state = jax.jit(tx.init, out_shardings=out)(params)
    step = jax.device_put(jnp.zeros((), jnp.int32), replicated)
    return TrainState(step, params, opt_state, jax.device_put(jax.random.PRNGKey(seed), replicated))


def state_shardings(state: TrainState):
    """The sharding of every array of ``state`` (used as explicit jit in/out shardings)."""
    return jax.tree.map(lambda x: x.sharding, state)
