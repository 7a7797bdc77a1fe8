"""Packing kept nodes into bucketed token batches: alignment, padding, buckets, overflow."""
import jax.numpy as jnp
import numpy as np
import pytest

from murphy_jax.rl.batching import default_buckets, pack, pack_tree
from murphy_jax.rl.loss import token_logprobs
from murphy_jax.rollout.tree import RolloutTree


def sample(P, R, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(1, 100, P), rng.integers(1, 100, R), -rng.random(R).astype(np.float32)


def test_alignment_position_t_predicts_token_t_plus_1():
    prompt, resp, lps = [11, 12, 13], [21, 22], np.array([-0.5, -1.5], np.float32)
    out = pack([prompt], [resp], [lps], [0.7], buckets=[8], micro_batch_size=1)
    b = out.batches[0]
    np.testing.assert_array_equal(b["input_ids"][0], [11, 12, 13, 21, 22, 0, 0, 0])
    np.testing.assert_array_equal(b["targets"][0], [12, 13, 21, 22, 0, 0, 0, 0])
    np.testing.assert_array_equal(b["loss_mask"][0], [0, 0, 1, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(b["old_logprobs"][0], [0, 0, -0.5, -1.5, 0, 0, 0, 0])
    np.testing.assert_allclose(b["advantages"][0], [0, 0, 0.7, 0.7, 0, 0, 0, 0])
    np.testing.assert_array_equal(b["valid"][0], [1, 1, 1, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(b["positions"][0], np.arange(8))
    assert (b["prompt_len"][0], b["response_len"][0], b["node_index"][0]) == (3, 2, 0)
    # A "model" that puts all mass on the next token gives log-prob 0 exactly on trained positions.
    onehot = np.full((1, 8, 100), -1e9, np.float32)
    onehot[0, np.arange(8), b["targets"][0]] = 0.0
    lp = np.asarray(token_logprobs(jnp.asarray(onehot), b["targets"]))
    assert (lp[b["loss_mask"]] == 0).all()


def test_buckets_micro_batch_padding_and_denominators():
    lens = [(3, 2), (10, 5), (4, 4), (20, 10), (2, 1)]
    data = [sample(P, R, i) for i, (P, R) in enumerate(lens)]
    out = pack([d[0] for d in data], [d[1] for d in data], [d[2] for d in data], np.arange(5.0),
               buckets=[32, 8, 16], micro_batch_size=2, node_index=[10, 11, 12, 13, 14])
    shapes = {b["input_ids"].shape[1]: b["input_ids"].shape for b in out.batches}
    # smallest bucket that holds P + R: 5 -> 8, 15 -> 16, 8 -> 8, 30 -> 32, 3 -> 8
    assert shapes == {8: (4, 8), 16: (2, 16), 32: (2, 32)}
    assert out.num_seqs == 5
    assert out.num_tokens == sum(R for _, R in lens)
    b8 = next(b for b in out.batches if b["input_ids"].shape[1] == 8)
    np.testing.assert_array_equal(b8["node_index"], [10, 12, 14, -1])
    pad = b8["node_index"] == -1
    assert not b8["loss_mask"][pad].any()
    # padding rows expose one valid token so attention has something to attend to
    np.testing.assert_array_equal(b8["valid"][pad], [[1, 0, 0, 0, 0, 0, 0, 0]])
    for _, mb in out.micro_batches():
        assert mb["input_ids"].shape[0] == 2
    assert sum(1 for _ in out.micro_batches()) == 4
    # every response token appears once, in order, under the loss mask
    for b in out.batches:
        for row in range(b["input_ids"].shape[0]):
            i = b["node_index"][row]
            if i >= 0:
                np.testing.assert_array_equal(b["targets"][row][b["loss_mask"][row]], data[i - 10][1])
                np.testing.assert_array_equal(b["old_logprobs"][row][b["loss_mask"][row]], data[i - 10][2])


def test_overflow_empty_response_and_errors():
    p, r, l = sample(6, 6, 0)
    with pytest.raises(ValueError, match="more than the largest bucket 8"):
        pack([p], [r], [l], [1.0], buckets=[8], micro_batch_size=1)
    out = pack([p, p[:2]], [r, []], [l, []], [1.0, 2.0], buckets=[8], micro_batch_size=1, overflow="drop")
    assert out.batches == [] and out.num_seqs == 0 and out.dropped.tolist() == [0, 1]
    with pytest.raises(ValueError, match="2 log-probs for 6 response tokens"):
        pack([p], [r], [l[:2]], [1.0], buckets=[16], micro_batch_size=1)
    with pytest.raises(ValueError, match="empty prompt"):
        pack([[]], [r], [l], [1.0], buckets=[16], micro_batch_size=1)
    with pytest.raises(ValueError, match="rl.batch.overflow='clip'"):
        pack([p], [r], [l], [1.0], buckets=[16], micro_batch_size=1, overflow="clip")
    with pytest.raises(ValueError, match=r"advantages\[0\]=nan"):
        pack([p], [r], [l], [np.nan], buckets=[16], micro_batch_size=1)


def test_pack_tree_uses_kept_nodes_and_their_advantages():
    tree = RolloutTree()
    data = [sample(3, 2, i) for i in range(4)]
    tree.add_roots([0, 0, 0, 0], prompt_ids=[d[0] for d in data], response_ids=[d[1] for d in data],
                   logprobs=[d[2] for d in data])
    tree.set_scores(R=np.zeros(4), advantage=[0.1, 0.2, 0.3, 0.4], kept=[True, False, True, False])
    out = pack_tree(tree, buckets=[8], micro_batch_size=4)
    b = out.batches[0]
    np.testing.assert_array_equal(b["node_index"], [0, 2, -1, -1])
    np.testing.assert_allclose(b["advantages"][:2].max(-1), [0.1, 0.3])


def test_default_buckets():
    assert default_buckets(1000, 128) == (128, 256, 512, 1024)
    assert default_buckets(64, 128) == (128,)
