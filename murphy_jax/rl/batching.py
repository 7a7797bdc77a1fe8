"""Pack kept tree nodes into padded, length-bucketed token batches for the train step.

Each kept node is one row: its prompt tokens followed by its response tokens,
right-padded to the smallest bucket length that holds them. Rows of a bucket
are padded to a multiple of ``micro_batch_size`` with padding rows, so the
train step only ever sees shapes [micro_batch_size, bucket_len] (one
compilation per bucket).

Alignment convention ("position t predicts token t+1"): with
``logits = model(input_ids, positions, valid)`` of shape [B, L, V], the
logits at position t score ``targets[:, t] == input_ids[:, t + 1]``. Every
per-token training array is indexed by that *prediction* position:

* ``loss_mask[b, t]`` is True iff ``targets[b, t]`` is a response token,
  i.e. t in [P - 1, P + R - 2] for a prompt of P and a response of R tokens;
* ``old_logprobs[b, t]`` is the rollout log-prob of ``targets[b, t]``;
* ``advantages[b, t]`` is the node's advantage (0 off the mask).

So ``token_logprobs(logits, batch["targets"])`` lines up with
``old_logprobs`` and ``loss_mask`` directly. ``valid`` marks real tokens (the
attention padding mask); a padding row holds one valid pad token at position
0 so no attention row is fully masked (which would make softmax NaN), and its
``loss_mask`` is all False. ``node_index`` is -1 on padding rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from murphy_jax.rl import _common

OVERFLOW = ("error", "drop")


@dataclass
class PackedBatches:
    """Bucketed batches plus the step-wide denominators for exact loss aggregation."""

    batches: list[dict[str, np.ndarray]]  # one per non-empty bucket, rows a multiple of the micro-batch
    num_tokens: int  # trained (loss) tokens over all batches
    num_seqs: int  # trained sequences over all batches
    micro_batch_size: int
    dropped: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # node indices not packed

    def micro_batches(self):
        """Yield (bucket_len, micro-batch dict) pairs of shape [micro_batch_size, bucket_len]."""
        mb = self.micro_batch_size
        for batch in self.batches:
            for start in range(0, batch["input_ids"].shape[0], mb):
                yield batch["input_ids"].shape[1], {k: v[start:start + mb] for k, v in batch.items()}


def default_buckets(max_len: int, min_len: int = 128) -> tuple[int, ...]:
    """Powers of two from min_len up to the first one >= max_len."""
    out = [int(min_len)]
    while out[-1] < max_len:
        out.append(out[-1] * 2)
    return tuple(out)


def pack(prompt_ids: Sequence[Any], response_ids: Sequence[Any], old_logprobs: Sequence[Any], advantages: Any, *,
         buckets: Sequence[int], micro_batch_size: int, node_index: Any = None, pad_id: int = 0,
         overflow: str = "error") -> PackedBatches:
    """Pack sequences (prompt masked, response trained) into bucketed, padded numpy batches."""
    _common.check_choice("rl.batch.overflow", overflow, OVERFLOW)
    buckets = sorted(int(b) for b in buckets)
    if not buckets or buckets[0] < 2:
        raise ValueError(f"rl.batch.buckets={buckets}: need at least one length >= 2")
    if int(micro_batch_size) < 1:
        raise ValueError(f"rl.batch.micro_batch_size={micro_batch_size}: must be >= 1")
    prompts, responses, logps, adv, node_index = _common.training_rows("pack", prompt_ids, response_ids,
                                                                       old_logprobs, advantages, node_index)
    n = len(prompts)
    rows_of: dict[int, list[int]] = {b: [] for b in buckets}
    dropped = []
    for i in range(n):
        P, R = len(prompts[i]), len(responses[i])
        if R == 0:
            dropped.append(i)  # nothing to train on
            continue
        fit = next((b for b in buckets if b >= P + R), None)
        if fit is None:
            if overflow == "error":
                raise ValueError(f"pack: node {node_index[i]} has {P} + {R} tokens, more than the largest bucket "
                                 f"{buckets[-1]} (raise rl.batch.buckets or set rl.batch.overflow='drop')")
            dropped.append(i)
            continue
        rows_of[fit].append(i)
    batches, num_tokens, num_seqs = [], 0, 0
    for length, rows in rows_of.items():
        if not rows:
            continue
        batch = _fill_bucket(length, rows, prompts, responses, logps, adv, node_index, int(micro_batch_size), pad_id)
        num_tokens += int(batch["loss_mask"].sum())
        num_seqs += len(rows)
        batches.append(batch)
    dropped_nodes = node_index[np.asarray(dropped, np.int64)]
    return PackedBatches(batches, num_tokens, num_seqs, int(micro_batch_size), dropped_nodes)


def _fill_bucket(length, rows, prompts, responses, logps, adv, node_index, micro, pad_id) -> dict[str, np.ndarray]:
    total = -(-len(rows) // micro) * micro
    input_ids = np.full((total, length), pad_id, np.int32)
    valid = np.zeros((total, length), bool)
    loss_mask = np.zeros((total, length), bool)
    old = np.zeros((total, length), np.float32)
    advs = np.zeros((total, length), np.float32)
    idx = np.full(total, -1, np.int64)
    plen = np.zeros(total, np.int32)
    rlen = np.zeros(total, np.int32)
    for b, i in enumerate(rows):
        P, R = len(prompts[i]), len(responses[i])
        input_ids[b, :P] = prompts[i]
        input_ids[b, P:P + R] = responses[i]
        valid[b, :P + R] = True
        # Position t predicts token t + 1: response token j sits at P + j and
        # is predicted from position P + j - 1.
        loss_mask[b, P - 1:P + R - 1] = True
        old[b, P - 1:P + R - 1] = logps[i]
        advs[b, P - 1:P + R - 1] = adv[i]
        idx[b], plen[b], rlen[b] = node_index[i], P, R
    valid[len(rows):, 0] = True  # padding rows: one visible pad token, nothing trained
    targets = np.full_like(input_ids, pad_id)
    targets[:, :-1] = input_ids[:, 1:]
    positions = np.broadcast_to(np.arange(length, dtype=np.int32), (total, length)).copy()
    return {"input_ids": input_ids, "targets": targets, "positions": positions, "valid": valid,
            "loss_mask": loss_mask, "advantages": advs, "old_logprobs": old, "node_index": idx,
            "prompt_len": plen, "response_len": rlen}


def pack_tree(tree, *, buckets: Sequence[int], micro_batch_size: int, pad_id: int = 0,
              overflow: str = "error") -> PackedBatches:
    """Pack the kept nodes of a scored RolloutTree (tree.kept, tree.advantage)."""
    nodes = np.flatnonzero(tree.kept)
    return pack([tree.prompt_ids[i] for i in nodes], [tree.response_ids[i] for i in nodes],
                [tree.logprobs[i] for i in nodes], tree.advantage[nodes], buckets=buckets,
                micro_batch_size=micro_batch_size, node_index=nodes, pad_id=pad_id, overflow=overflow)
