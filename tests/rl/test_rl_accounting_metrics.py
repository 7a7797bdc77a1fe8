"""Compute accounting, compute-matched G, tree metrics and score_tree on one hand-built step."""
import numpy as np
import pytest

from murphy_jax.rl.accounting import StepCounts, compute_matched_group_size, mean_counts, step_counts
from murphy_jax.rl.scoring import score_tree
from murphy_jax.rl.tree_metrics import pass_rate_per_turn, solved_by_turn, subtree_success, tree_metrics
from murphy_jax.rollout.tree import RolloutTree


def build():
    """Two tasks, up to three turns.

    task 0: 0 (r .5) -> 5 (success), 6 (0)      task 1: 3 (0), 4 (0), never expanded
            1 (success)
            2 (0)    -> 7 (0) -> 9 (success)
                     -> 8 (.25)
    Prompts: 4 tokens at turn 1, 10 at turn 2, 20 at turn 3; responses 3, 5, 7 tokens.
    """
    t = RolloutTree(task_names=["t0", "t1"])
    roots = t.add_roots([0, 0, 0, 1, 1], prompt_ids=[np.ones(4)] * 5, response_ids=[np.ones(3)] * 5,
                        logprobs=[np.zeros(3)] * 5)
    t.set_outcomes(roots, reward=[0.5, 1, 0, 0, 0], succeeded=[0, 1, 0, 0, 0])
    kids = t.add_children([0, 0, 2, 2], prompt_ids=[np.ones(10)] * 4, response_ids=[np.ones(5)] * 4,
                          logprobs=[np.zeros(5)] * 4)
    t.set_outcomes(kids, reward=[1, 0, 0, 0.25], succeeded=[1, 0, 0, 0])
    last = t.add_children([7], prompt_ids=[np.ones(20)], response_ids=[np.ones(7)], logprobs=[np.zeros(7)])
    t.set_outcomes(last, reward=[1], succeeded=[1])
    return t


def test_step_counts():
    t = build()
    kept = np.zeros(10, bool)
    kept[[0, 1, 5, 9]] = True
    c = step_counts(t, kept)
    assert c.tasks == 2 and c.nodes == 10 and c.nodes_per_turn == (5, 4, 1)
    assert c.generated_tokens == 5 * 3 + 4 * 5 + 7 and c.turn1_generated_tokens == 15
    # one prefill per sibling group: 2 root groups x 4, 2 turn-2 groups x 10, 1 turn-3 group x 20
    assert c.prompt_tokens == 4 + 4 + 10 + 10 + 20
    assert c.prompt_tokens_per_sample == 5 * 4 + 4 * 10 + 20
    assert c.executor_calls == 10
    assert c.trained_nodes == 4 and c.trained_tokens == 3 + 3 + 5 + 7
    assert c.prune_ratio == pytest.approx(0.6)
    d = c.as_dict()
    assert d["compute/turn2_nodes"] == 4 and d["compute/executor_calls"] == 10


def test_compute_matched_group_size():
    c = step_counts(build())
    # 42 generated tokens over 2 tasks = 21 per task; a turn-1 sample costs 3 tokens -> G = 7
    m = compute_matched_group_size(c, by="generated_tokens")
    assert (m.group_size, m.target_per_task, m.per_sample) == (7, 21.0, 3.0)
    assert compute_matched_group_size(c, by="executor_calls").group_size == 5
    # averaging over steps weights by tasks
    other = StepCounts(tasks=2, nodes=4, nodes_per_turn=(4,), generated_tokens=12, turn1_generated_tokens=12,
                       prompt_tokens=8, prompt_tokens_per_sample=16, executor_calls=4, trained_nodes=4,
                       trained_tokens=12, prune_ratio=0.0)
    m = compute_matched_group_size([c, other])
    assert m.exact == pytest.approx((42 + 12) / 4 / ((15 + 12) / 9))
    assert compute_matched_group_size([c, other], rounding="ceil").group_size == 5
    assert compute_matched_group_size([c, other], rounding="floor").group_size == 4
    assert compute_matched_group_size(other, by="executor_calls", min_group_size=4).group_size == 4
    assert mean_counts([c, other])["nodes"] == 7.0
    with pytest.raises(ValueError, match="rl.baseline.match_by='tokens'"):
        compute_matched_group_size(c, by="tokens")


def test_tree_metrics():
    t = build()
    np.testing.assert_allclose(pass_rate_per_turn(t), [1 / 5, 1 / 4, 1.0])
    np.testing.assert_allclose(solved_by_turn(t), [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(np.flatnonzero(subtree_success(t.parent, t.succeeded)), [0, 1, 2, 5, 7, 9])
    score_tree(t, strategy="mars", gamma=0.5, inter_keep=1, intra_keep=0, keep_root_group=False)
    m = tree_metrics(t)
    assert m["tree/turn1_failed"] == 4
    assert m["tree/rescued_frac"] == 0.5  # nodes 0 and 2 of {0, 2, 3, 4}
    assert m["tree/rescued_frac_expanded"] == 1.0
    # R: group {3, 4} is all zero; the singleton {9} is not counted as a group with spread
    assert m["tree/zero_spread_groups"] == 1
    assert m["tree/prune_ratio"] == pytest.approx(1 - t.kept.mean())
    assert m["tree/pass_rate_turn3"] == 1.0


def test_score_tree_end_to_end():
    t = build()
    s = score_tree(t, strategy="mars", gamma=0.5, normalize_std=False, inter_keep=1, intra_keep=2,
                   keep_root_group=False)
    # R: 9 = 1 ; 7 = .5 ; 8 = .25 ; 2 = max(0, .5 * .5) = .25 ; 0 = max(.5, .5 * 1) = .5 ; 1 = 1
    np.testing.assert_array_equal(t.R, [0.5, 1, 0.25, 0, 0, 1, 0, 0.5, 0.25, 1])
    # root group of task 0: R = [.5, 1, .25], mean 7/12
    np.testing.assert_allclose(t.advantage[:3], np.array([-1, 5, -4]) / 12, rtol=1e-6)
    # groups: 0 root t0 (std .31), 1 root t1 (0), 2 {5, 6} (.5), 3 {7, 8} (.125), 4 {9}
    # task 0 keeps only group 2 (largest spread); task 1 keeps its only group
    np.testing.assert_array_equal(s.group_kept, [False, True, True, False, False])
    np.testing.assert_array_equal(np.flatnonzero(t.kept), [3, 4, 5, 6])
