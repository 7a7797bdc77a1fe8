"""InterP / IntraP on hand-built groups: budgets, ranking, documented tie-breaks, errors."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from murphy_jax.rl.pruning import inter_prune, intra_prune, prune

# Task 0: root group 0 (spread 0.5 pop-std), group 1 zero spread, group 2 spread 0.5, group 3 spread 0.25.
# Task 1: root group 4 zero spread, group 5 spread 0.5.
VALUES = np.array([0.0, 1.0,  0.5, 0.5,  0.0, 1.0,  0.25, 0.75,  1.0, 1.0,  0.0, 1.0], np.float32)
GROUP = np.array([0, 0,  1, 1,  2, 2,  3, 3,  4, 4,  5, 5])
TASK = np.array([0] * 8 + [1] * 4)
ROOT = np.array([1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0], bool)


def groups_kept(**kw):
    return np.flatnonzero(inter_prune(VALUES, GROUP, TASK, ROOT, num_groups=6, **kw)).tolist()


def test_inter_ranks_by_spread_with_group_id_tiebreak():
    # Task 0 spreads: g0 .5, g2 .5, g3 .25, g1 0 -> top-2 are g0, g2 (tie: lower id first).
    assert groups_kept(inter_keep=2, keep_root_group=False) == [0, 2, 4, 5]
    assert groups_kept(inter_keep=1, keep_root_group=False) == [0, 5]
    assert groups_kept(inter_keep=3, keep_root_group=False) == [0, 2, 3, 4, 5]


def test_inter_keep_root_group_counts_against_budget():
    # Task 1's root group has zero spread; forced in, it takes the only slot.
    assert groups_kept(inter_keep=1, keep_root_group=True) == [0, 4]
    assert groups_kept(inter_keep=2, keep_root_group=True) == [0, 2, 4, 5]


def test_zero_spread_groups_go_first_and_can_be_dropped():
    assert groups_kept(inter_keep=4, keep_root_group=False) == [0, 1, 2, 3, 4, 5]
    assert groups_kept(inter_keep=4, keep_root_group=False, drop_zero_spread=True) == [0, 2, 3, 5]
    # drop_zero_spread drops a zero-spread root group too (task 1's group 4): it would train nothing.
    assert groups_kept(inter_keep=0, keep_root_group=True, drop_zero_spread=True) == [0, 2, 3, 5]
    # ... and the slot it leaves goes to the next group by spread.
    assert groups_kept(inter_keep=1, keep_root_group=True, drop_zero_spread=True) == [0, 5]
    assert groups_kept(inter_keep=0, keep_root_group=True, drop_zero_spread=False) == [0, 1, 2, 3, 4, 5]


def test_zero_budget_means_no_limit():
    keep, gk = prune(VALUES, GROUP, TASK, ROOT, num_groups=6)
    assert keep.all() and gk.all()


def test_intra_alternates_extremes_with_documented_ties():
    # One group, values with ties; order by (value, index): 1(0.), 4(0.), 0(.5), 3(.5), 2(1.), 5(1.)
    v = np.array([0.5, 0.0, 1.0, 0.5, 0.0, 1.0], np.float32)
    g = np.zeros(6, int)
    picks = [set(np.flatnonzero(intra_prune(v, g, num_groups=1, intra_keep=k)).tolist()) for k in range(1, 7)]
    # top end first (the latest of the tied maxima), then the earliest of the tied minima, ...
    assert picks == [{5}, {5, 1}, {5, 1, 2}, {5, 1, 2, 4}, {5, 1, 2, 4, 3}, set(range(6))]


def test_intra_budget_exact_per_group():
    v = np.arange(12, dtype=np.float32) % 5
    g = np.array([0] * 5 + [1] * 4 + [2] * 2 + [3])
    keep = intra_prune(v, g, num_groups=4, intra_keep=3)
    np.testing.assert_array_equal(np.bincount(g[keep], minlength=4), [3, 3, 2, 1])


def test_prune_combines_inter_and_intra():
    keep, gk = prune(VALUES, GROUP, TASK, ROOT, num_groups=6, inter_keep=1, intra_keep=1, keep_root_group=False)
    assert np.flatnonzero(gk).tolist() == [0, 5]
    # one member per kept group: the top of R (node 1 in group 0, node 11 in group 5)
    assert np.flatnonzero(keep).tolist() == [1, 11]


def test_traced_path_matches_host_path():
    f = jax.jit(lambda v, g, t, r: prune(v, g, t, r, num_groups=6, inter_keep=2, intra_keep=1))
    k1, g1 = f(jnp.asarray(VALUES), jnp.asarray(GROUP), jnp.asarray(TASK), jnp.asarray(ROOT))
    k2, g2 = prune(VALUES, GROUP, TASK, ROOT, num_groups=6, inter_keep=2, intra_keep=1)
    np.testing.assert_array_equal(np.asarray(k1), k2)
    np.testing.assert_array_equal(np.asarray(g1), g2)


def test_errors():
    with pytest.raises(ValueError, match="rl.prune.inter_keep=-1"):
        prune(VALUES, GROUP, TASK, ROOT, num_groups=6, inter_keep=-1)
    with pytest.raises(ValueError, match="rl.prune.intra_keep=1.5"):
        prune(VALUES, GROUP, TASK, ROOT, num_groups=6, intra_keep=1.5)
    bad_task = TASK.copy()
    bad_task[1] = 1
    with pytest.raises(ValueError, match="group 0: its members disagree on task"):
        prune(VALUES, GROUP, bad_task, ROOT, num_groups=6, inter_keep=1)
    with pytest.raises(ValueError, match=r"values\[0\]=nan"):
        prune(np.where(np.arange(12) == 0, np.nan, VALUES), GROUP, TASK, ROOT, num_groups=6)


def test_sparse_task_ids_are_renumbered_on_the_host():
    task = np.where(TASK == 0, 7, 10**6)
    a = prune(VALUES, GROUP, task, ROOT, num_groups=6, inter_keep=1, intra_keep=1, keep_root_group=False)
    b = prune(VALUES, GROUP, TASK, ROOT, num_groups=6, inter_keep=1, intra_keep=1, keep_root_group=False)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
