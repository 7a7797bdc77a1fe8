"""Packed rows (murphy_jax.rl.packing): every trained token exactly once, attention confined to its own node."""
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from murphy_jax.models import ModelConfig
from murphy_jax.models.decoder import Decoder
from murphy_jax.models.layers import logits_from_hidden
from murphy_jax.rl.loss import token_logprobs
from murphy_jax.rl.packing import SLOT_KEYS, TOKEN_KEYS, pack_rows
from murphy_jax.train.step import _packed_hidden

HF = dict(model_type="llama", vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
          num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128)
SLOT = 12


def _nodes(seed=0, groups=((7, 3), (15, 2), (4, 1), (1, 2), (20, 4))):
    """Sibling groups (prompt length, size) sharing a prompt; random responses, log-probs and advantages."""
    rng = np.random.RandomState(seed)
    prompts, responses = [], []
    for plen, size in groups:
        p = rng.randint(1, 64, plen)
        for _ in range(size):
            prompts.append(p.copy())
            responses.append(rng.randint(1, 64, rng.randint(1, SLOT + 1)))
    old = [rng.uniform(-5, 0, len(r)).astype(np.float32) for r in responses]
    return prompts, responses, old, rng.randn(len(prompts)).astype(np.float32)


def _pack(seqs, **kw):
    kw = {"pack_len": 48, "micro_batch_size": 2, "max_rows": 4, "slot_len": SLOT, "share_prefix": True, **kw}
    return pack_rows(*seqs, **kw)


def _slots(packed):
    """node -> (packed row, slot) of every filled slot."""
    idx = packed.arrays["node_index"]
    return {int(idx[p, j]): (p, j) for p, j in zip(*np.nonzero(idx >= 0))}


@pytest.mark.parametrize("share", [True, False])
def test_every_trained_token_once_with_its_logprob_advantage_and_context(share):
    seqs = prompts, responses, old, adv = _nodes()
    packed = _pack(seqs, share_prefix=share)
    a = packed.arrays
    slots = _slots(packed)
    assert sorted(slots) == list(range(len(prompts)))  # every node exactly once (dict keys are unique; count too)
    assert int((a["node_index"] >= 0).sum()) == len(prompts)
    for i, (p, j) in slots.items():
        R = len(responses[i])
        np.testing.assert_array_equal(a["loss_mask"][p, j], np.arange(SLOT) < R)
        np.testing.assert_array_equal(a["targets"][p, j, :R], responses[i])
        np.testing.assert_array_equal(a["old_logprobs"][p, j, :R], old[i])
        np.testing.assert_array_equal(a["advantages"][p, j, :R], adv[i])
        at = a["logit_index"][p, j, :R]
        # The logit predicting response token t sits on the token before it, at the unpacked row's position.
        np.testing.assert_array_equal(a["input_ids"][p, at], np.concatenate([prompts[i][-1:], responses[i][:-1]]))
        np.testing.assert_array_equal(a["positions"][p, at], len(prompts[i]) - 1 + np.arange(R))
        assert a["valid"][p, at].all()
        # Its context is exactly its prompt: the visible tokens of the last trained position, in position order.
        seg, pre = a["segment_ids"][p, at[-1]], a["prefix_ids"][p, at[-1]]
        seen = a["valid"][p] & np.isin(a["segment_ids"][p], [seg, pre]) & (np.arange(48) <= at[-1])
        ctx = a["input_ids"][p, seen][np.argsort(a["positions"][p, seen], kind="stable")]
        np.testing.assert_array_equal(ctx, np.concatenate([prompts[i], responses[i][:-1]]))
    assert packed.num_tokens == sum(len(r) for r in responses) == int(a["loss_mask"].sum())
    assert packed.num_seqs == len(prompts) == int(a["loss_mask"].any(-1).sum())
    assert len(packed.dropped) == 0
    assert a["input_ids"].shape[0] % 2 == 0 and all(a[k].shape[1] == 48 for k in TOKEN_KEYS)
    assert all(a[k].shape[1:] == (4, SLOT) for k in SLOT_KEYS)
    assert int(a["valid"].sum(-1).max()) <= 48 and int((a["node_index"] >= 0).sum(-1).max()) <= 4


def test_prefix_sharing_runs_each_group_prompt_once():
    seqs = _nodes()
    kw = dict(pack_len=128, max_rows=8)  # no group is split: one prefix copy each
    shared, alone = _pack(seqs, share_prefix=True, **kw), _pack(seqs, share_prefix=False, **kw)
    prompts = seqs[0]
    saved = sum(len(prompts[i]) - 1 for i in range(len(prompts)))
    saved -= sum(p - 1 for p in (7, 15, 4, 1, 20))  # one prefix copy per group stays
    assert alone.model_tokens - shared.model_tokens == saved > 0
    assert shared.num_tokens == alone.num_tokens and shared.num_seqs == alone.num_seqs


def test_groups_split_when_too_long_or_too_many():
    rng = np.random.RandomState(1)
    p = rng.randint(1, 64, 10)
    prompts = [p] * 5
    responses = [rng.randint(1, 64, 10) for _ in range(5)]
    old = [np.zeros(10, np.float32)] * 5
    # 9 prefix tokens + 5 branches of 11 = 64 tokens: not one row of 32 (two branches per row at most).
    packed = pack_rows(prompts, responses, old, np.ones(5), pack_len=32, micro_batch_size=1, max_rows=8,
                       slot_len=SLOT)
    per_row = (packed.arrays["node_index"] >= 0).sum(-1)
    assert per_row.tolist() == [2, 2, 1] and packed.num_seqs == 5
    assert packed.model_tokens == 3 * 9 + 5 * 11  # each part of the group carries its own prefix copy
    # Five branches fit the length but not pack_rows=2.
    by_rows = pack_rows(prompts, responses, old, np.ones(5), pack_len=128, micro_batch_size=1, max_rows=2,
                        slot_len=SLOT)
    assert (by_rows.arrays["node_index"] >= 0).sum(-1).tolist() == [2, 2, 1] and by_rows.num_tokens == 50


def test_overflow_errors_or_drops_and_long_responses_error():
    seqs = _nodes(groups=((48, 1), (5, 2)))
    with pytest.raises(ValueError, match="rl.batch.pack_len=48"):
        _pack(seqs)
    packed = _pack(seqs, overflow="drop")
    assert packed.dropped.tolist() == [0] and packed.num_seqs == 2 and sorted(_slots(packed)) == [1, 2]
    with pytest.raises(ValueError, match="3 response tokens .* 2 per node"):
        pack_rows([[1, 2]], [[3, 4, 5]], [[0.0, 0.0, 0.0]], [1.0], pack_len=48, micro_batch_size=1, max_rows=1,
                  slot_len=2, overflow="drop")


def test_padding_micro_batches_train_nothing():
    packed = _pack(_nodes())
    n = len(packed.micro_batches())
    micro = packed.micro_batches(n + 2)
    assert len(micro) == n + 2
    for m in micro[n:]:
        assert not m["loss_mask"].any() and not m["valid"].any() and (m["node_index"] < 0).all()
        assert {k: v.shape for k, v in m.items()} == {k: v.shape for k, v in micro[0].items()}


@pytest.fixture(scope="module")
def model():
    cfg = ModelConfig.from_hf(HF, dtype=jnp.float32, param_dtype=jnp.float32)
    return Decoder(cfg, rngs=nnx.Rngs(0))


def _packed_logprobs(model, packed):
    a = {k: jnp.asarray(v) for k, v in packed.arrays.items() if k != "node_index"}
    b, rows, slot = a["logit_index"].shape
    logits = logits_from_hidden(model.config, model.params(), _packed_hidden(model.config, model.params(), a))
    return np.asarray(token_logprobs(logits, a["targets"].reshape(b, rows * slot)).reshape(b, rows, slot))


def test_attention_never_crosses_nodes(model):
    """Changing one node's response tokens changes its own log-probs and no other node's."""
    seqs = prompts, responses, old, adv = _nodes(groups=((7, 3), (5, 2), (3, 1)))
    base = _pack(seqs, pack_len=64, max_rows=6)
    before = _packed_logprobs(model, base)
    slots = _slots(base)
    assert len({p for p, _ in slots.values()}) < len(slots)  # nodes really share packed rows
    for victim in range(len(prompts)):
        changed = [r.copy() for r in responses]
        changed[victim] = (changed[victim] + 7) % 63 + 1
        after = _packed_logprobs(model, _pack((prompts, changed, old, adv), pack_len=64, max_rows=6))
        for i, (p, j) in slots.items():
            R = len(responses[i])
            if i == victim:
                assert not np.allclose(after[p, j, :R], before[p, j, :R])
            else:
                np.testing.assert_allclose(after[p, j, :R], before[p, j, :R], rtol=0, atol=1e-6,
                                           err_msg=f"node {i} saw node {victim}")
