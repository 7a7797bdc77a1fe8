"""RolloutTree: building turns, sibling groups, slicing per task, JSONL round trip, errors."""
import json

import numpy as np
import pytest

from murphy_jax.rl.scoring import score_tree
from murphy_jax.rollout.tree import RolloutTree, RolloutTreeError


def two_turn_tree():
    """Tasks 0 and 1 with G=3 and 2 turn-1 samples, then K=2 children for every failure."""
    rng = np.random.default_rng(0)
    t = RolloutTree(task_names=["HumanEval/0", "MBPP/2"])
    roots = t.add_roots([0, 0, 0, 1, 1], prompt_ids=[rng.integers(0, 50, 4) for _ in range(5)],
                        response_ids=[rng.integers(0, 50, 3) for _ in range(5)],
                        logprobs=[-rng.random(3) for _ in range(5)], code=[f"def f(): return {i}" for i in range(5)],
                        prompt_text=["Write f."] * 5, response_text=["```python\n...```"] * 5)
    t.set_outcomes(roots, reward=[0.5, 1, 0, 0, 0.25], succeeded=[0, 1, 0, 0, 0],
                   feedback=["1/2 passed", "all passed", "NameError: x", "Timeout", "assert f(2) == 3 → got 4"])
    parents = t.expandable(max_turns=2)
    kids = t.add_children(np.repeat(parents, 2), prompt_ids=[rng.integers(0, 50, 9) for _ in range(8)],
                          response_ids=[rng.integers(0, 50, 5) for _ in range(8)],
                          logprobs=[-rng.random(5) for _ in range(8)], meta=[{"k": i} for i in range(8)])
    t.set_outcomes(kids, reward=[1, 0, 0, 0, 0.5, 0.5, 1, 0], succeeded=[1, 0, 0, 0, 0, 0, 1, 0])
    return t


def test_structure_of_appended_turns():
    t = two_turn_tree()
    t.validate()
    np.testing.assert_array_equal(t.expandable(max_turns=2, turn=1), [])  # all failures expanded
    np.testing.assert_array_equal(t.parent, [-1] * 5 + [0, 0, 2, 2, 3, 3, 4, 4])
    np.testing.assert_array_equal(t.turn, [1] * 5 + [2] * 8)
    np.testing.assert_array_equal(t.task, [0, 0, 0, 1, 1] + [0] * 4 + [1] * 4)
    # root groups per task, then one group per expanded parent, in creation order
    np.testing.assert_array_equal(t.group, [0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    np.testing.assert_array_equal(t.group_parent(), [-1, -1, 0, 2, 3, 4])
    np.testing.assert_array_equal(t.group_task(), [0, 1, 0, 0, 1, 1])
    np.testing.assert_array_equal(t.node_id, np.arange(13))
    assert t.num_groups == 6 and t.num_turns == 2 and len(t) == 13
    np.testing.assert_array_equal(t.children(2), [7, 8])
    assert t.ancestors(8) == [2, 8] and t.ancestors(1) == [1]
    np.testing.assert_array_equal(t.group_members(4), [9, 10])
    # at turn 2, the failed children are expandable when S = 3
    np.testing.assert_array_equal(t.expandable(max_turns=3), [6, 7, 8, 9, 10, 12])
    assert t.arrays()["reward"].dtype == np.float32


def test_children_of_interleaved_parents_form_one_group_each():
    t = RolloutTree()
    t.add_roots([3, 3, 5])
    t.add_children([2, 0, 2, 0])  # parents interleaved; groups follow first appearance
    np.testing.assert_array_equal(t.group[3:], [2, 3, 2, 3])
    np.testing.assert_array_equal(t.task[3:], [5, 3, 5, 3])


def test_unexecuted_nodes_are_not_expandable_and_fail_scoring():
    t = RolloutTree()
    t.add_roots([0, 0])
    assert t.expandable(max_turns=3).tolist() == []
    with pytest.raises(ValueError, match=r"reward\[0\]=nan.*never scored"):
        score_tree(t)


def test_for_task_slices_and_renumbers():
    t = two_turn_tree()
    sub = t.for_task(1)
    sub.validate()
    np.testing.assert_array_equal(sub.node_id, [3, 4, 9, 10, 11, 12])
    np.testing.assert_array_equal(sub.parent, [-1, -1, 0, 0, 1, 1])
    np.testing.assert_array_equal(sub.group, [0, 0, 1, 1, 2, 2])
    assert sub.feedback[1] == "assert f(2) == 3 → got 4"
    assert sub.meta[2] == {"k": 4}
    np.testing.assert_array_equal(sub.response_ids[3], t.response_ids[10])
    assert set(t.split_by_task()) == {0, 1}
    with pytest.raises(RolloutTreeError, match="kept but its parent is not"):
        t.subset([0, 7])


def test_scores_on_slices_equal_scores_on_the_whole():
    t = two_turn_tree()
    score_tree(t, strategy="mers", gamma=0.8, inter_keep=2, intra_keep=1)
    for k, sub in t.split_by_task().items():
        R, A, kept = sub.R.copy(), sub.advantage.copy(), sub.kept.copy()
        score_tree(sub, strategy="mers", gamma=0.8, inter_keep=2, intra_keep=1)
        np.testing.assert_allclose(sub.R, R, rtol=1e-6)
        np.testing.assert_allclose(sub.advantage, A, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(sub.kept, kept)


def assert_same_tree(a: RolloutTree, b: RolloutTree):
    for name, arr in a.arrays().items():
        np.testing.assert_array_equal(getattr(b, name), arr, err_msg=name)
        assert getattr(b, name).dtype == arr.dtype, name
    for name in ("prompt_ids", "response_ids", "logprobs"):
        for x, y in zip(getattr(a, name), getattr(b, name)):
            np.testing.assert_array_equal(x, y, err_msg=name)
            assert x.dtype == y.dtype
    for name in ("prompt_text", "response_text", "code", "feedback", "meta"):
        assert getattr(a, name) == getattr(b, name), name
    np.testing.assert_array_equal(a.has_children(), b.has_children())


def test_jsonl_round_trip(tmp_path):
    t = two_turn_tree()
    path = tmp_path / "tree.jsonl"
    t.dump_jsonl(path)  # unscored: R and advantage are null
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert first["R"] is None and first["task_id"] == "HumanEval/0"
    assert {"task", "turn", "parent", "code", "feedback", "reward", "R", "advantage", "kept"} <= set(first)
    assert_same_tree(t, RolloutTree.load_jsonl(path))
    score_tree(t, strategy="mars", gamma=0.9, inter_keep=1, intra_keep=1)
    t.dump_jsonl(path)
    back = RolloutTree.load_jsonl(path)
    assert_same_tree(t, back)
    assert back.task_names == t.task_names
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(t)
    # a sliced tree writes parents as node ids and reloads to the same slice
    sub = t.for_task(1)
    sub.dump_jsonl(path, include_tokens=False)
    rec = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["parent"] for r in rec] == [-1, -1, 3, 3, 4, 4] and "prompt_ids" not in rec[0]
    back = RolloutTree.load_jsonl(path)
    np.testing.assert_array_equal(back.parent, sub.parent)
    np.testing.assert_array_equal(back.R, sub.R)


def test_errors():
    t = RolloutTree()
    t.add_roots([0, 0])
    with pytest.raises(RolloutTreeError, match=r"task\(s\) \[0\] already have a root group"):
        t.add_roots([0, 1])
    with pytest.raises(RolloutTreeError, match="parent 7 is not a node index"):
        t.add_children([7])
    t.add_children([0, 0])
    with pytest.raises(RolloutTreeError, match="node 0 already has children"):
        t.add_children([0, 1])
    with pytest.raises(RolloutTreeError, match="2 log-probs for 3 response tokens"):
        t.add_children([1], response_ids=[[1, 2, 3]], logprobs=[[0.0, 0.0]])
    with pytest.raises(RolloutTreeError, match="unknown node field"):
        t.add_children([1], group=[4])
    with pytest.raises(RolloutTreeError, match="field 'code' has 2 values for 1 new nodes"):
        t.add_children([1], code=["a", "b"])
    with pytest.raises(RolloutTreeError, match="reward of node 1 is not finite"):
        t.set_outcomes([0, 1], reward=[0, np.nan], succeeded=[0, 0])
    with pytest.raises(RolloutTreeError, match="parent 9 is missing"):
        RolloutTree.from_records([{"node": 0, "task": 0, "turn": 2, "parent": 9, "group": 0}])
