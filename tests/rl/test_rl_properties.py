"""Property tests on random forests: credit bounds, reference equality, advantages, pruning budgets.

Random trees stay below one padded size (rl_reference.MAX_NODES), so the jitted
functions compile once for the whole module.
"""
import os
from collections import defaultdict

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from murphy_jax.rl.advantages import group_advantages, group_spread
from murphy_jax.rl.credit import propagate_rewards
from murphy_jax.rl.pruning import prune
from rl_reference import random_trees, ref_advantages, ref_credit, ref_prune

# Set MURPHY_PROPERTY_EXAMPLES=1000 for a longer local soak.
SETTINGS = settings(max_examples=int(os.environ.get("MURPHY_PROPERTY_EXAMPLES", "60")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
gammas = st.sampled_from([0.0, 0.5, 0.9, 1.0]) | st.integers(0, 100).map(lambda k: k / 100)


@SETTINGS
@given(tree=random_trees(), gamma=gammas)
def test_credit_bounds(tree, gamma):
    parent, reward, group, task = tree
    g32 = np.float32(gamma)
    mars = propagate_rewards(parent, reward, strategy="mars", gamma=gamma)
    mers = propagate_rewards(parent, reward, strategy="mers", gamma=gamma)
    none = propagate_rewards(parent, reward, strategy="none", gamma=gamma)
    np.testing.assert_array_equal(none, reward)
    assert (mars >= reward).all() and (mers >= reward).all()
    child = parent >= 0
    # MaRS: a parent is worth at least gamma times each child's R (exact in float32).
    assert (mars[parent[child]] >= g32 * mars[child]).all()
    # MeRS lies between the reward and MaRS.
    assert (mers <= mars + 1e-6).all()


@SETTINGS
@given(tree=random_trees(), gamma=gammas, strategy=st.sampled_from(["mars", "mers", "none"]))
def test_credit_equals_recursive_reference(tree, gamma, strategy):
    parent, reward, _, _ = tree
    got = propagate_rewards(parent, reward, strategy=strategy, gamma=gamma)
    np.testing.assert_allclose(got, ref_credit(parent, reward, strategy, np.float32(gamma)), rtol=1e-5, atol=1e-6)


@SETTINGS
@given(tree=random_trees(), shift=st.floats(-3.0, 3.0), normalize=st.booleans())
def test_advantages_reference_zero_mean_and_shift_invariance(tree, shift, normalize):
    parent, reward, group, _ = tree
    num_groups = int(group.max()) + 1
    A = group_advantages(reward, group, num_groups=num_groups, normalize_std=normalize)
    ref = ref_advantages(reward, group, normalize_std=normalize)
    np.testing.assert_allclose(A, ref, rtol=1e-4, atol=1e-4)
    sums = np.zeros(num_groups)
    np.add.at(sums, group, A)
    np.testing.assert_allclose(sums, 0.0, atol=1e-4)
    shifted = group_advantages(reward + np.float32(shift), group, num_groups=num_groups, normalize_std=normalize)
    # Shift errors are float32 input rounding (ulp(4) ~ 5e-7) amplified by 1/std.
    spread = group_spread(reward, group, num_groups=num_groups)[group]
    tol = 1e-5 + (4e-6 / np.maximum(spread, 1e-3) if normalize else 0)
    assert (np.abs(A - shifted) <= tol).all()


@SETTINGS
@given(tree=random_trees(), inter_keep=st.integers(0, 4), intra_keep=st.integers(0, 5),
       keep_root=st.booleans(), drop_zero=st.booleans())
def test_pruning_budgets_ranking_and_reference(tree, inter_keep, intra_keep, keep_root, drop_zero):
    parent, reward, group, task = tree
    is_root = parent < 0
    num_groups = int(group.max()) + 1
    R = propagate_rewards(parent, reward, strategy="mars", gamma=0.9)
    keep, gkeep = prune(R, group, task, is_root, num_groups=num_groups, inter_keep=inter_keep,
                        intra_keep=intra_keep, keep_root_group=keep_root, drop_zero_spread=drop_zero)
    spread = group_spread(R, group, num_groups=num_groups)
    size = np.bincount(group, minlength=num_groups)
    g_task = np.zeros(num_groups, int)
    g_task[group] = task
    g_root = np.zeros(num_groups, bool)
    g_root[group] = is_root

    # Nodes are kept only in kept groups, and a kept group keeps exactly min(intra_keep, size) members.
    assert not (keep & ~gkeep[group]).any()
    kept_per_group = np.bincount(group[keep], minlength=num_groups)
    want = np.where(gkeep, size if intra_keep == 0 else np.minimum(size, intra_keep), 0)
    np.testing.assert_array_equal(kept_per_group, want)

    by_task = defaultdict(list)
    for g in range(num_groups):
        by_task[g_task[g]].append(g)
    for t, gs in by_task.items():
        gs = np.asarray(gs)
        kept = gs[gkeep[gs]]
        # drop_zero_spread drops zero-spread groups, roots included; keep_root_group forces in the rest of the roots.
        eligible = gs[(spread[gs] > 0) | (not drop_zero)]
        forced = gs[g_root[gs] & keep_root & ((spread[gs] > 0) | (not drop_zero))]
        # Exact budget: min(inter_keep, eligible groups); forced root groups always in.
        assert len(kept) == (len(eligible) if inter_keep == 0 else min(inter_keep, len(eligible)))
        assert set(forced.tolist()) <= set(kept.tolist())
        # Every dropped eligible (unforced) group has no more spread than any kept unforced group.
        kept_free = np.setdiff1d(kept, forced)
        dropped = np.setdiff1d(eligible, kept)
        if len(kept_free) and len(dropped):
            assert spread[dropped].max() <= spread[kept_free].min()
        if drop_zero:
            assert (spread[np.setdiff1d(kept, forced)] > 0).all()

    ref_keep, ref_groups = ref_prune(R, group, task, is_root, spread, inter_keep=inter_keep, intra_keep=intra_keep,
                                     keep_root_group=keep_root, drop_zero_spread=drop_zero)
    assert set(np.flatnonzero(gkeep).tolist()) == ref_groups
    np.testing.assert_array_equal(keep, ref_keep)


@SETTINGS
@given(tree=random_trees(shuffle=False))
def test_bfs_and_shuffled_orders_agree(tree):
    """Credit depends on the tree, not on which topological order stores it."""
    parent, reward, _, _ = tree
    n = len(parent)
    # Reverse the order of nodes inside each depth level: still parents-before-children.
    depth = np.zeros(n, int)
    for i in range(n):
        depth[i] = 0 if parent[i] < 0 else depth[parent[i]] + 1
    perm = np.lexsort((-np.arange(n), depth))
    inv = np.empty(n, int)
    inv[perm] = np.arange(n)
    p2 = np.where(parent[perm] >= 0, inv[np.maximum(parent[perm], 0)], -1)
    for strategy in ("mars", "mers"):
        a = propagate_rewards(parent, reward, strategy=strategy, gamma=0.7)
        b = propagate_rewards(p2, reward[perm], strategy=strategy, gamma=0.7)
        np.testing.assert_allclose(a[perm], b, rtol=1e-6)
