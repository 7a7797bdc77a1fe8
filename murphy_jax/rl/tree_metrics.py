"""What the rollout trees of a step say about the policy: pass rates, rescues, reward spread."""
from __future__ import annotations

import numpy as np

from murphy_jax.rl.advantages import group_spread
from murphy_jax.rl.credit import propagate_rewards


def subtree_success(parent: np.ndarray, succeeded: np.ndarray) -> np.ndarray:
    """bool[N]: the node or one of its descendants succeeded."""
    if len(parent) == 0:
        return np.zeros(0, bool)
    # Max-propagation with gamma = 1 of a 0/1 flag is exactly "any in subtree".
    return propagate_rewards(parent, np.asarray(succeeded, np.float32), strategy="mars", gamma=1.0) > 0


def pass_rate_per_turn(tree) -> np.ndarray:
    """float[S]: fraction of nodes of each turn that succeeded (NaN for an empty turn)."""
    S = tree.num_turns
    nodes = np.bincount(tree.turn, minlength=S + 1)[1:]
    wins = np.bincount(tree.turn, weights=tree.succeeded.astype(np.float64), minlength=S + 1)[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(nodes > 0, wins / np.maximum(nodes, 1), np.nan)


def solved_by_turn(tree) -> np.ndarray:
    """float[S]: fraction of tasks with a success at some turn <= t (pass@any, cumulative)."""
    S, tasks = tree.num_turns, tree.tasks()
    out = np.zeros(S)
    for t in range(1, S + 1):
        hit = tree.succeeded & (tree.turn <= t)
        out[t - 1] = len(np.unique(tree.task[hit])) / max(len(tasks), 1)
    return out


def tree_metrics(tree, kept: np.ndarray | None = None, values: np.ndarray | None = None) -> dict[str, float]:
    """Scalar metrics of a step's trees, named for logging ('tree/...')."""
    n = len(tree)
    if n == 0:
        return {"tree/nodes": 0.0}
    kept = np.asarray(tree.kept if kept is None else kept, bool)
    values = np.asarray(tree.R if values is None else values, np.float32)
    if not np.isfinite(values).all():
        values = tree.reward  # unscored tree: spread of the raw rewards
    out: dict[str, float] = {"tree/nodes": float(n), "tree/groups": float(tree.num_groups)}
    for t, rate in enumerate(pass_rate_per_turn(tree), start=1):
        out[f"tree/pass_rate_turn{t}"] = float(rate)
    for t, rate in enumerate(solved_by_turn(tree), start=1):
        out[f"tree/solved_by_turn{t}"] = float(rate)
    first_fail = (tree.turn == 1) & ~tree.succeeded
    rescued = first_fail & subtree_success(tree.parent, tree.succeeded)
    expanded = first_fail & tree.has_children()
    out["tree/turn1_failed"] = float(first_fail.sum())
    # Rescued over all failed turn-1 nodes, and over those that were expanded
    # (they differ when S = 1 or an expansion budget left some unexpanded).
    out["tree/rescued_frac"] = float(rescued.sum() / max(first_fail.sum(), 1))
    out["tree/rescued_frac_expanded"] = float(rescued.sum() / max(expanded.sum(), 1))
    spread = group_spread(values, tree.group, num_groups=tree.num_groups)
    size = np.bincount(tree.group, minlength=tree.num_groups)
    multi = size > 1
    out["tree/group_spread_mean"] = float(spread[multi].mean()) if multi.any() else 0.0
    out["tree/zero_spread_groups"] = float((multi & (spread == 0)).sum())
    out["tree/zero_spread_frac"] = float((multi & (spread == 0)).sum() / max(multi.sum(), 1))
    out["tree/prune_ratio"] = float(1.0 - kept.sum() / n)
    kept_groups = np.zeros(tree.num_groups, bool)
    kept_groups[tree.group[kept]] = True
    out["tree/kept_groups"] = float(kept_groups.sum())
    return out


def group_spreads(tree, values: np.ndarray | None = None) -> np.ndarray:
    """float[num_groups]: population std of R (or given values) inside each sibling group."""
    values = tree.R if values is None else values
    return group_spread(values, tree.group, num_groups=tree.num_groups)
