"""Score a RolloutTree: credit, then advantages, then pruning, stored back on the tree."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from murphy_jax.rl.advantages import group_advantages
from murphy_jax.rl.credit import propagate_rewards
from murphy_jax.rl.pruning import prune


@dataclass(frozen=True)
class Scores:
    """Per-node R, advantage and keep mask, plus the per-group keep mask."""

    R: np.ndarray
    advantage: np.ndarray
    kept: np.ndarray
    group_kept: np.ndarray


def score_arrays(parent, reward, group, task, *, num_groups: int, strategy: str = "mars", gamma: float = 0.9,
                 normalize_std: bool = True, eps: float = 1e-6, inter_keep: int = 0, intra_keep: int = 0,
                 keep_root_group: bool = True, drop_zero_spread: bool = False) -> Scores:
    """Credit -> group advantages on R -> InterP/IntraP keep masks, on flat tree arrays."""
    R = propagate_rewards(parent, reward, strategy=strategy, gamma=gamma)
    adv = group_advantages(R, group, num_groups=num_groups, normalize_std=normalize_std, eps=eps)
    kept, group_kept = prune(R, group, task, np.asarray(parent) < 0, num_groups=num_groups, inter_keep=inter_keep,
                             intra_keep=intra_keep, keep_root_group=keep_root_group,
                             drop_zero_spread=drop_zero_spread)
    return Scores(R, adv, kept, group_kept)


def score_tree(tree, **knobs) -> Scores:
    """Score a RolloutTree in place (tree.R, tree.advantage, tree.kept) and return the Scores."""
    if len(tree) == 0:
        empty = np.zeros(0, np.float32)
        return Scores(empty, empty, np.zeros(0, bool), np.zeros(0, bool))
    scores = score_arrays(tree.parent, tree.reward, tree.group, tree.task, num_groups=tree.num_groups, **knobs)
    tree.set_scores(scores.R, scores.advantage, scores.kept)
    return scores
