"""Retrospective credit: propagate rewards from leaves to roots of rollout trees.

Definitions (docs/algorithm.md): with r the node reward, gamma the discount,

* ``mars``: R(n) = max(r(n), gamma * max_{c in children(n)} R(c))
* ``mers``: R(n) = max(r(n), gamma * mean_{c in children(n)} R(c))
* ``none``: R(n) = r(n)

and R(leaf) = r(leaf). A forest is one flat array: ``parent[i]`` is -1 for a
root, else an index < i (parents are stored before their children), so the
computation is a handful of segment reductions per depth level rather than a
recursion: depth comes from repeated parent gathers, then levels are folded
bottom-up, each level costing O(N).
"""
from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from murphy_jax.rl import _common

STRATEGIES = ("mars", "mers", "none")


def node_depth(parent: jax.Array) -> jax.Array:
    """Depth of every node (roots 0) by repeated parent gathers; traceable."""
    parent = jnp.asarray(parent, jnp.int32)
    safe = jnp.maximum(parent, 0)
    is_root = parent < 0

    def step(state):
        depth, _ = state
        new = jnp.where(is_root, 0, depth[safe] + 1)
        return new, jnp.any(new != depth)

    # Each pass fixes one more level, so this runs (max depth + 1) O(N) passes.
    depth, _ = jax.lax.while_loop(lambda s: s[1], step, (jnp.zeros_like(parent), jnp.asarray(True)))
    return depth


def _propagate_core(parent: jax.Array, reward: jax.Array, gamma: jax.Array, strategy: str) -> jax.Array:
    """Traceable credit propagation; inputs are assumed valid."""
    reward = jnp.asarray(reward, jnp.float32)
    if strategy == "none":
        return reward
    parent = jnp.asarray(parent, jnp.int32)
    gamma = jnp.asarray(gamma, jnp.float32)
    n = parent.shape[0]
    depth = node_depth(parent)
    # Nodes that are not at the level being folded send their value to a
    # dummy segment n, which is dropped; this keeps every pass O(N).
    dummy = jnp.int32(n)

    def fold_level(state):
        level, ret = state
        at_level = depth == level
        seg = jnp.where(at_level, parent, dummy)
        count = jax.ops.segment_sum(at_level.astype(jnp.float32), seg, num_segments=n + 1)[:n]
        if strategy == "mars":
            agg = jax.ops.segment_max(jnp.where(at_level, ret, -jnp.inf), seg, num_segments=n + 1)[:n]
        else:
            total = jax.ops.segment_sum(jnp.where(at_level, ret, 0.0), seg, num_segments=n + 1)[:n]
            agg = total / jnp.maximum(count, 1.0)
        ret = jnp.where(count > 0, jnp.maximum(reward, gamma * agg), ret)
        return level - 1, ret

    max_depth = jnp.max(depth, initial=0)
    _, ret = jax.lax.while_loop(lambda s: s[0] > 0, fold_level, (max_depth, reward))
    return ret


_propagate_jit = jax.jit(_propagate_core, static_argnames=("strategy",))


def validate_tree_inputs(parent: Any, reward: Any) -> tuple[np.ndarray, np.ndarray]:
    """Host checks for (parent, reward): shapes, parent order and range, finite rewards."""
    p = _common.check_parent(parent)
    r = _common.as_1d("reward", reward, np.float32)
    _common.check_same_length(parent=p, reward=r)
    _common.check_finite("reward", r)
    return p, r


def check_gamma(gamma: Any) -> float:
    """Return gamma as a float after checking 0 <= gamma <= 1."""
    g = float(gamma)
    if not (0.0 <= g <= 1.0):
        raise ValueError(f"rl.credit.gamma={gamma!r}: must lie in [0, 1] (a discount per turn)")
    return g


def propagate_rewards(parent: Any, reward: Any, *, strategy: str, gamma: float) -> Any:
    """Return R[N]: rewards propagated from leaves to roots (MaRS / MeRS / none)."""
    _common.check_choice("rl.credit.strategy", strategy, STRATEGIES)
    if _common.is_traced(parent, reward, gamma):
        return _propagate_core(parent, reward, gamma, strategy)
    p, r = validate_tree_inputs(parent, reward)
    g = check_gamma(gamma)
    n = len(p)
    size = _common.bucket_size(n)
    # Padding nodes are lone roots with reward 0: they touch nobody.
    out = _propagate_jit(_common.pad_to(p, size, -1), _common.pad_to(r, size, 0.0), np.float32(g), strategy=strategy)
    return np.asarray(out)[:n]
