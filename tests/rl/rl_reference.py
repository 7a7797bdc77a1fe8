"""Plain-Python references and random-tree generators for the RL array-function tests."""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from hypothesis import strategies as st

# Random trees stay under these sizes so every example hits the same padded
# shapes (one jit compilation per function for the whole property suite).
MAX_NODES = 200
MAX_GROUPS = 60
REWARD_LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)


def ref_credit(parent, reward, strategy: str, gamma: float) -> list[float]:
    """Recursive definition of MaRS / MeRS / none, in float64."""
    kids = defaultdict(list)
    for i, p in enumerate(parent):
        if p >= 0:
            kids[int(p)].append(i)
    memo: dict[int, float] = {}

    def R(n: int) -> float:
        if n in memo:
            return memo[n]
        r = float(reward[n])
        if strategy != "none" and kids[n]:
            vals = [R(c) for c in kids[n]]
            agg = max(vals) if strategy == "mars" else sum(vals) / len(vals)
            r = max(r, gamma * agg)
        memo[n] = r
        return r

    return [R(i) for i in range(len(parent))]


def ref_advantages(values, group, normalize_std=True, eps=1e-6) -> list[float]:
    """Per-group (v - mean) / (population std + eps) in float64; 0 for flat or singleton groups."""
    members = defaultdict(list)
    for i, g in enumerate(group):
        members[int(g)].append(i)
    out = [0.0] * len(values)
    for idx in members.values():
        vals = [float(values[i]) for i in idx]
        if len(vals) < 2 or max(vals) == min(vals):
            continue
        mean = sum(vals) / len(vals)
        std = math.sqrt(sum((v - mean) ** 2 for v in vals) / len(vals))
        for i, v in zip(idx, vals):
            out[i] = (v - mean) / (std + eps) if normalize_std else v - mean
    return out


def ref_prune(values, group, task, is_root, spread, *, inter_keep, intra_keep, keep_root_group,
              drop_zero_spread) -> tuple[list[bool], set[int]]:
    """Sort-based reference of InterP + IntraP given per-group spreads (the documented tie-breaks)."""
    members = defaultdict(list)
    for i, g in enumerate(group):
        members[int(g)].append(i)
    by_task = defaultdict(list)
    for g, idx in members.items():
        by_task[int(task[idx[0]])].append(g)
    kept_groups: set[int] = set()
    for groups in by_task.values():
        def forced(g):
            return keep_root_group and bool(is_root[members[g][0]])
        ranked = sorted(groups, key=lambda g: (not forced(g), -spread[g], g))
        eligible = [g for g in ranked if not drop_zero_spread or spread[g] > 0]
        kept_groups.update(eligible if inter_keep == 0 else eligible[:inter_keep])
    keep = [False] * len(values)
    for g in kept_groups:
        order = sorted(members[g], key=lambda i: (float(values[i]), i))
        picked, lo, hi = [], 0, len(order) - 1
        take_top = True
        while lo <= hi and (intra_keep == 0 or len(picked) < intra_keep):
            if take_top:
                picked.append(order[hi])
                hi -= 1
            else:
                picked.append(order[lo])
                lo += 1
            take_top = not take_top
        for i in picked:
            keep[i] = True
    return keep, kept_groups


@st.composite
def random_trees(draw, shuffle: bool = True, levels=REWARD_LEVELS):
    """A random forest: (parent, reward, group, task), parents before children, ragged fan-out.

    With ``shuffle`` the node order is a random topological order (not BFS),
    which the array functions must handle as well.
    """
    num_tasks = draw(st.integers(1, 4))
    use_levels = draw(st.booleans())
    # Rewards are pass fractions; a fine grid avoids float32 subnormals, which
    # XLA flushes to zero (numpy does not), without losing generality.
    reward_st = st.sampled_from(levels) if use_levels else st.integers(0, 10_000).map(lambda k: k / 10_000)
    parent, reward, group, task, turn = [], [], [], [], []
    n_groups = 0

    def add_group(par: int, t: int, size: int, trn: int):
        nonlocal n_groups
        for _ in range(size):
            parent.append(par)
            task.append(t)
            turn.append(trn)
            group.append(n_groups)
            reward.append(draw(reward_st))
        n_groups += 1

    for t in range(num_tasks):
        add_group(-1, t, draw(st.integers(1, 4)), 1)
    frontier = list(range(len(parent)))
    for trn in (2, 3, 4):
        nxt = []
        for node in frontier:
            if reward[node] >= 1.0 or not draw(st.booleans()):
                continue
            k = draw(st.integers(1, 4))
            if len(parent) + k > MAX_NODES or n_groups + 1 > MAX_GROUPS:
                break
            start = len(parent)
            add_group(node, task[node], k, trn)
            nxt.extend(range(start, start + k))
        frontier = nxt
    parent, reward, group, task = map(np.asarray, (parent, reward, group, task))
    if shuffle:
        perm = _random_topological_order(parent, draw(st.randoms(use_true_random=False)))
        inv = np.empty_like(perm)
        inv[perm] = np.arange(len(perm))
        parent = np.where(parent[perm] >= 0, inv[np.maximum(parent[perm], 0)], -1)
        reward, group, task = reward[perm], group[perm], task[perm]
    return (parent.astype(np.int32), reward.astype(np.float32), group.astype(np.int32), task.astype(np.int32))


def _random_topological_order(parent: np.ndarray, rnd) -> np.ndarray:
    """A uniformly-chosen-step topological order: any node whose parent is placed may come next."""
    kids = defaultdict(list)
    for i, p in enumerate(parent):
        if p >= 0:
            kids[int(p)].append(i)
    ready = [i for i, p in enumerate(parent) if p < 0]
    order = []
    while ready:
        j = ready.pop(rnd.randrange(len(ready)))
        order.append(j)
        ready.extend(kids[j])
    return np.asarray(order, np.int64)
