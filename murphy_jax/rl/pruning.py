"""Post-rollout pruning: which nodes of the scored trees are trained on.

InterP keeps, per tree (task), at most ``inter_keep`` sibling groups, ranked by
the spread (population std) of R inside the group. IntraP keeps, inside each
group, at most ``intra_keep`` members: the extremes of R, taken alternately
from the top and the bottom. Budgets are exact: a tree keeps
min(inter_keep, eligible groups) groups and a kept group keeps
min(intra_keep, size) members. A budget of 0 means "no limit".

Tie-breaks (deterministic, so runs are reproducible):

* InterP ranks groups by (forced root first, spread descending, group id
  ascending). RolloutTree numbers groups in creation order, so among equal
  spreads the earlier turn wins. Zero-spread groups rank last by construction
  (their std is exactly 0); with ``drop_zero_spread`` they are never kept,
  the root group included (their rows would train nothing but still count in
  token-mean denominators). With ``keep_root_group`` the root group (turn-1
  samples) is kept before any other group, whatever its spread unless
  ``drop_zero_spread`` drops it, and counts against ``inter_keep``.
* IntraP orders a group's members by (R, node index) ascending and takes, in
  turn, the last (highest R; among tied maxima the latest node), the first
  (lowest R; among tied minima the earliest node), the second-to-last, the
  second, ... until ``intra_keep`` are taken. With an odd budget the top end
  gets one more member.

Pruning only removes samples from the loss: credit and advantages are
computed on the full tree before pruning and are not recomputed.

Cost: O(N) per budget unit (one segment max per key per round), no sort.
"""
from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from murphy_jax.rl import _common
from murphy_jax.rl.advantages import group_stats


def _peel(candidates: jax.Array, keys: tuple[jax.Array, ...], segment: jax.Array, num_segments: int,
          rounds: jax.Array) -> jax.Array:
    """Mark, in each segment, the best ``rounds`` candidates in lexicographic order of keys (maximised).

    Each round picks one element per segment with a segment max per key; the
    last key must be unique within a segment. Work is O(N) per round and the
    number of rounds is the budget. No sort on purpose: XLA's CPU sort made
    an earlier version 5x slower and superlinear in N.
    """
    def one_round(_, picked):
        cand = candidates & ~picked
        for key in keys:
            low = -jnp.inf if jnp.issubdtype(key.dtype, jnp.floating) else jnp.iinfo(key.dtype).min
            best = jax.ops.segment_max(jnp.where(cand, key, low), segment, num_segments=num_segments)
            cand = cand & (key == best[segment])
        return picked | cand

    return jax.lax.fori_loop(0, rounds, one_round, jnp.zeros_like(candidates))


def _inter_core(values, group, task, is_root, inter_keep, keep_root_group, drop_zero_spread, num_groups: int):
    """Traceable InterP: bool[num_groups] keep mask; task ids must lie in [0, num_groups)."""
    group = jnp.asarray(group, jnp.int32)
    stats = group_stats(values, group, num_groups)
    valid = stats.count > 0
    g_task = jax.ops.segment_max(jnp.asarray(task, jnp.int32), group, num_segments=num_groups)
    g_task = jnp.where(valid, g_task, 0)
    g_root = jax.ops.segment_max(jnp.asarray(is_root, jnp.int32), group, num_segments=num_groups) > 0
    # A zero-spread group has advantage 0 everywhere: with drop_zero_spread it goes even when it is the root.
    signal = ~drop_zero_spread | (stats.std > 0)
    forced = valid & g_root & keep_root_group & signal
    eligible = valid & signal
    gid = jnp.arange(num_groups, dtype=jnp.int32)
    # Rank key: forced first, then larger spread, then smaller group id.
    ranked = _peel(eligible, (forced.astype(jnp.int32), stats.std, -gid), g_task, num_groups,
                   jnp.maximum(inter_keep, 0))
    return jnp.where(inter_keep <= 0, eligible, ranked)


def _intra_core(values, group, intra_keep, num_groups: int):
    """Traceable IntraP: bool[N] keep mask for members by extremeness of R."""
    values = jnp.asarray(values, jnp.float32)
    group = jnp.asarray(group, jnp.int32)
    nid = jnp.arange(values.shape[0], dtype=jnp.int32)
    everyone = jnp.ones(values.shape, bool)
    k = jnp.maximum(intra_keep, 0)
    # Alternating ends == the top ceil(k/2) in (R, index) order plus the bottom floor(k/2).
    top = _peel(everyone, (values, nid), group, num_groups, (k + 1) // 2)
    bottom = _peel(everyone, (-values, -nid), group, num_groups, k // 2)
    return (intra_keep <= 0) | top | bottom


def _prune_core(values, group, task, is_root, inter_keep, intra_keep, keep_root_group, drop_zero_spread,
                num_groups: int):
    """Traceable InterP + IntraP; returns (node keep, group keep)."""
    keep_group = _inter_core(values, group, task, is_root, inter_keep, keep_root_group, drop_zero_spread, num_groups)
    keep_member = _intra_core(values, group, intra_keep, num_groups)
    return keep_group[jnp.asarray(group, jnp.int32)] & keep_member, keep_group


_prune_jit = jax.jit(_prune_core, static_argnames=("num_groups",))


def _check_budget(key: str, value: Any) -> int:
    if value is None:
        return 0
    if int(value) != value or int(value) < 0:
        raise ValueError(f"{key}={value!r}: must be an integer >= 0 (0 = no limit)")
    return int(value)


def prune(values: Any, group: Any, task: Any, is_root: Any, *, num_groups: int, inter_keep: int = 0,
          intra_keep: int = 0, keep_root_group: bool = True, drop_zero_spread: bool = False):
    """Return (node keep bool[N], group keep bool[num_groups]) after InterP then IntraP.

    Under an outer jit (traced inputs) there is no validation, and task ids
    must lie in [0, num_groups) (true for dense task indices, as every task
    has a root group); host calls renumber any task ids themselves.
    """
    inter_keep = _check_budget("rl.prune.inter_keep", inter_keep)
    intra_keep = _check_budget("rl.prune.intra_keep", intra_keep)
    if _common.is_traced(values, group, task, is_root):
        return _prune_core(values, group, task, is_root, inter_keep, intra_keep, bool(keep_root_group),
                           bool(drop_zero_spread), int(num_groups))
    v = _common.as_1d("values", values, np.float32)
    g = _common.check_group(group, num_groups)
    t = _common.as_1d("task", task, np.int32)
    r = _common.as_1d("is_root", is_root, bool)
    n = _common.check_same_length(values=v, group=g, task=t, is_root=r)
    _common.check_finite("values", v)
    if n and t.min() < 0:
        raise _common.TreeError(f"task[{int(np.argmin(t))}]={t.min()}: task indices must be >= 0")
    _common.check_constant_per_group("task", t, g, int(num_groups))
    _common.check_constant_per_group("is_root", r, g, int(num_groups))
    size = _common.bucket_size(n)
    groups_padded = _common.bucket_size(int(num_groups) + 1, minimum=64)
    # Tree ids index per-tree segment reductions of size groups_padded, and
    # one more id is needed for the padding tree: renumber sparse ids densely.
    if n and int(t.max()) + 1 >= groups_padded:
        t = np.unique(t, return_inverse=True)[1].reshape(-1).astype(np.int32)
    # Padding nodes form one extra group in an extra tree: they rank only among themselves.
    pad_task = int(t.max()) + 1 if n else 0
    keep, keep_group = _prune_jit(
        _common.pad_to(v, size, 0.0), _common.pad_to(g, size, groups_padded - 1), _common.pad_to(t, size, pad_task),
        _common.pad_to(r, size, False), np.int32(inter_keep), np.int32(intra_keep), np.bool_(keep_root_group),
        np.bool_(drop_zero_spread), num_groups=groups_padded)
    return np.asarray(keep)[:n], np.asarray(keep_group)[: int(num_groups)]


def inter_prune(values: Any, group: Any, task: Any, is_root: Any, *, num_groups: int, inter_keep: int,
                keep_root_group: bool = True, drop_zero_spread: bool = False) -> np.ndarray:
    """Return bool[num_groups]: the sibling groups InterP keeps."""
    return prune(values, group, task, is_root, num_groups=num_groups, inter_keep=inter_keep, intra_keep=0,
                 keep_root_group=keep_root_group, drop_zero_spread=drop_zero_spread)[1]


def intra_prune(values: Any, group: Any, *, num_groups: int, intra_keep: int) -> np.ndarray:
    """Return bool[N]: the members IntraP keeps in every group (all groups considered kept)."""
    n = len(values) if not _common.is_traced(values) else values.shape[0]
    zeros = np.zeros(n, np.int32) if not _common.is_traced(values) else jnp.zeros((n,), jnp.int32)
    # One pseudo-tree with no group limit: only the IntraP part acts.
    return prune(values, group, zeros, zeros.astype(bool), num_groups=num_groups, inter_keep=0,
                 intra_keep=intra_keep, keep_root_group=False)[0]
