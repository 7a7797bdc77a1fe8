"""The pass@k estimator against hand computations and brute force, and the Iter-k aggregation."""
import itertools
import math

import numpy as np
import pytest

from murphy_jax.eval.metrics import (chains_of_task, pass_at_k, solved_at, solved_counts, summarize,
                                     summarize_by_difficulty)
from murphy_jax.rollout import RolloutTree


@pytest.mark.parametrize("n, c, k, expected", [
    (1, 0, 1, 0.0), (1, 1, 1, 1.0),
    (5, 2, 1, 2 / 5),
    (5, 2, 2, 1 - 3 / 10),  # C(3,2)=3 failing pairs of C(5,2)=10
    (10, 3, 5, 1 - 21 / 252),  # C(7,5)=21, C(10,5)=252
    (4, 0, 4, 0.0),
    (4, 1, 4, 1.0),  # n - c < k: every k-subset holds the correct one
    (20, 7, 10, 1 - 286 / 184756),  # C(13,10)=286, C(20,10)=184756
])
def test_pass_at_k_hand_values(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-15)


def test_pass_at_k_equals_brute_force_and_chen_product_form():
    for n in range(1, 8):
        for c in range(n + 1):
            samples = [1] * c + [0] * (n - c)
            for k in range(1, n + 1):
                subsets = list(itertools.combinations(range(n), k))
                brute = sum(any(samples[i] for i in s) for s in subsets) / len(subsets)
                # The numerically stable form of Chen et al. (2021), Codex paper figure 3.
                chen = 1.0 if n - c < k else 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))
                assert pass_at_k(n, c, k) == pytest.approx(brute, abs=1e-12)
                assert pass_at_k(n, c, k) == pytest.approx(chen, abs=1e-12)


def test_pass_at_k_rejects_impossible_counts():
    for n, c, k in [(3, 4, 1), (3, -1, 1), (3, 1, 0), (3, 1, 4)]:
        with pytest.raises(ValueError):
            pass_at_k(n, c, k)


def test_solved_counts_are_cumulative_per_iteration():
    assert solved_counts([1, None, 3, 2], 3) == [1, 2, 3]
    assert solved_counts([None, None], 2) == [0, 0]


def test_summarize_by_hand():
    # Task A: chain 1 solved at Iter-1, chain 2 at Iter-3. Task B: chain 1 at Iter-2, chain 2 never.
    records = [{"task_id": "A", "difficulty": "easy", "solved_at": [1, 3]},
               {"task_id": "B", "difficulty": "hard", "solved_at": [2, None]},
               {"task_id": "C", "difficulty": "hard", "solved_at": [None, None]}]
    s = summarize(records, iters=3, n=2)
    assert s["tasks"] == 3 and s["chains"] == 6
    # c_j per task: A [1,1,2], B [0,1,1], C [0,0,0]; pass@1 = mean(c/2).
    assert s["pass_at_1"] == pytest.approx([(0.5 + 0 + 0) / 3, (0.5 + 0.5) / 3, (1 + 0.5) / 3])
    # pass@2 with n=2: a task counts 1 as soon as one chain is solved.
    assert s["pass_at_k"]["2"] == pytest.approx([1 / 3, 2 / 3, 2 / 3])
    assert s["solved_chains"] == [1, 2, 3] and s["solved_tasks"] == [1, 2, 2]
    by = summarize_by_difficulty(records, iters=3, n=2)
    assert list(by) == ["easy", "hard"]
    assert by["easy"]["pass_at_1"] == pytest.approx([0.5, 0.5, 1.0])
    assert by["hard"]["pass_at_1"] == pytest.approx([0.0, 0.25, 0.25])
    assert summarize_by_difficulty([{"solved_at": [1], "difficulty": ""}], 1, 1) == {
        "unrated": summarize([{"solved_at": [1]}], 1, 1)}


def _chain_tree():
    """Task 0: two chains (root 0 -> 2 -> 4 solved at turn 3; root 1 solved at turn 1). Task 1: one failed chain."""
    tree = RolloutTree()
    roots = tree.add_roots(task=[0, 0, 1])
    tree.set_outcomes(roots, reward=[0, 1, 0], succeeded=[False, True, False])
    kids = tree.add_children([0, 2])
    tree.set_outcomes(kids, reward=[0, 0], succeeded=[False, False])
    last = tree.add_children([kids[0]])
    tree.set_outcomes(last, reward=[1], succeeded=[True])
    return tree


def test_chains_follow_single_children_in_sampling_order():
    tree = _chain_tree()
    chains = chains_of_task(tree, 0)
    assert chains == [[0, 3, 5], [1]]
    assert [solved_at(tree, c) for c in chains] == [3, 1]
    assert chains_of_task(tree, 1) == [[2, 4]] and solved_at(tree, [2, 4]) is None


def test_a_node_with_two_children_is_not_an_iter_k_rollout():
    tree = RolloutTree()
    tree.set_outcomes(tree.add_roots(task=[0]), reward=[0], succeeded=[False])
    tree.add_children([0, 0])
    with pytest.raises(ValueError, match="more than one child"):
        chains_of_task(tree, 0)


def test_math_comb_path_is_exact_for_large_n():
    # 1 - C(150, 10) / C(200, 10) evaluated with exact integers before the final division.
    assert pass_at_k(200, 50, 10) == pytest.approx(1 - math.comb(150, 10) / math.comb(200, 10), rel=0, abs=0)
