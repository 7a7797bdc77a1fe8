"""Group-relative advantages inside sibling groups (GRPO / Dr.GRPO).

A(n) = (v(n) - mean_g v) / (std_g v + eps) with the population std (ddof=0),
or A(n) = v(n) - mean_g v when ``normalize_std=False`` (Dr.GRPO). A group of
one member, and any group whose values are all equal, gets exactly 0: the
float mean of equal values can differ from them in the last bit, and divided
by eps that rounding error would become a spurious advantage.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from murphy_jax.rl import _common


class GroupStats(NamedTuple):
    """Per-group statistics of a value array (length num_groups each)."""

    count: jax.Array  # members per group (0 for unused ids)
    mean: jax.Array
    std: jax.Array  # population std, exactly 0 when all members are equal
    vmin: jax.Array
    vmax: jax.Array


def _moments(values: jax.Array, group: jax.Array, num_groups: int):
    """Group stats plus each node's deviation from its group mean."""
    values = jnp.asarray(values, jnp.float32)
    group = jnp.asarray(group, jnp.int32)
    count = jax.ops.segment_sum(jnp.ones_like(values), group, num_segments=num_groups)
    vmin = jax.ops.segment_min(values, group, num_segments=num_groups)
    vmax = jax.ops.segment_max(values, group, num_segments=num_groups)
    safe_count = jnp.maximum(count, 1.0)
    # Work relative to the group minimum: a constant added to every value then
    # cancels before any rounding happens, and the sums stay small.
    base = jnp.where(count > 0, vmin, 0.0)
    shifted = values - base[group]
    mean_shift = jax.ops.segment_sum(shifted, group, num_segments=num_groups) / safe_count
    dev = shifted - mean_shift[group]
    var = jax.ops.segment_sum(dev * dev, group, num_segments=num_groups) / safe_count
    has_spread = (count > 1) & (vmax > vmin)
    std = jnp.where(has_spread, jnp.sqrt(var), 0.0)
    return GroupStats(count, base + mean_shift, std, vmin, vmax), dev, has_spread


def group_stats(values: jax.Array, group: jax.Array, num_groups: int) -> GroupStats:
    """Per-group count, mean, population std, min and max; traceable, O(N)."""
    return _moments(values, group, num_groups)[0]


def _advantages_core(values, group, eps, num_groups: int, normalize_std: bool) -> jax.Array:
    """Traceable group advantages; inputs are assumed valid."""
    group = jnp.asarray(group, jnp.int32)
    stats, dev, has_spread = _moments(values, group, num_groups)
    if normalize_std:
        dev = dev / (stats.std[group] + eps)
    return jnp.where(has_spread[group], dev, 0.0)


_advantages_jit = jax.jit(_advantages_core, static_argnames=("num_groups", "normalize_std"))


def group_advantages(values: Any, group: Any, *, num_groups: int, normalize_std: bool = True,
                     eps: float = 1e-6) -> Any:
    """Return float32[N] advantages, standardised (or centred) within each group."""
    if _common.is_traced(values, group, eps):
        return _advantages_core(values, group, eps, int(num_groups), bool(normalize_std))
    v = _common.as_1d("values", values, np.float32)
    g = _common.check_group(group, num_groups)
    _common.check_same_length(values=v, group=g)
    _common.check_finite("values", v)
    if not float(eps) >= 0.0:
        raise ValueError(f"rl.advantage.eps={eps!r}: must be >= 0")
    n = len(v)
    size = _common.bucket_size(n)
    # One extra group id collects the padding nodes (they get advantage 0).
    groups_padded = _common.bucket_size(int(num_groups) + 1, minimum=64)
    out = _advantages_jit(_common.pad_to(v, size, 0.0), _common.pad_to(g, size, groups_padded - 1),
                          np.float32(eps), num_groups=groups_padded, normalize_std=bool(normalize_std))
    return np.asarray(out)[:n]


def group_spread(values: Any, group: Any, *, num_groups: int) -> np.ndarray:
    """Return float32[num_groups]: population std of values per group (0 for empty groups)."""
    if _common.is_traced(values, group):
        return group_stats(values, group, int(num_groups)).std
    v = _common.as_1d("values", values, np.float32)
    g = _common.check_group(group, num_groups)
    _common.check_same_length(values=v, group=g)
    _common.check_finite("values", v)
    size = _common.bucket_size(len(v))
    groups_padded = _common.bucket_size(int(num_groups) + 1, minimum=64)
    std = _spread_jit(_common.pad_to(v, size, 0.0), _common.pad_to(g, size, groups_padded - 1),
                      num_groups=groups_padded)
    return np.asarray(std)[: int(num_groups)]


_spread_jit = jax.jit(lambda v, g, num_groups: group_stats(v, g, num_groups).std, static_argnames=("num_groups",))
