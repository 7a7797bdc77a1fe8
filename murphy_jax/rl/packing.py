"""Pack kept tree nodes into fixed-length packed sequences, sharing each group's prompt prefix.

The bucketed layout (``batching.pack``) gives every node a row of its own,
padded to a length bucket: one compiled program per bucket, padding up to
half of each row, and the G first attempts of a task (or the K refinements
of one attempt) each run the same long prompt through the model again.

Here every micro-batch is ``[micro_batch_size, pack_len]`` (one program per
run). A *unit* is a prompt's prefix ``prompt[:-1]`` once, followed by one
*branch* ``[prompt[-1]] + response`` per node with that exact prompt
(``share_prefix``; otherwise one node per unit). Units are placed first-fit
decreasing into packed sequences of ``pack_len`` tokens and at most
``max_rows`` branches. Per token:

* ``positions`` restart at 0 for each unit; a branch continues from its
  prefix (its first token sits at ``P - 1``), so RoPE and causality are
  those of the unpacked row;
* ``segment_ids`` number the prefix and the branches of a packed sequence;
  ``prefix_ids`` is the segment a token may see besides its own (a branch's
  prefix; a prefix token's own segment). A key is visible to a query iff
  ``0 <= k_pos <= q_pos`` and ``k_seg in (q_seg, q_prefix)``
  (``murphy_jax.models.layers.attend``): attention never crosses units or
  branches, and every branch sees exactly its own prompt and response.

Trained tokens are laid out per branch, ``[num_packed, max_rows, slot_len]``
(``slot_len`` >= the longest response, the train step's response window):
``logit_index[p, j, t]`` is the position in packed sequence p whose logit
predicts response token t of branch j (``targets``, ``loss_mask``,
``old_logprobs``, ``advantages`` alongside). The LM head runs only on these
``max_rows * slot_len`` positions, and each ``[slot_len]`` slot is one
original sequence, so every aggregation of ``rl/loss.py`` (per-token or
per-sequence) sees exactly the sequences of the bucketed layout.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from murphy_jax.rl import _common
from murphy_jax.rl.batching import OVERFLOW

TOKEN_KEYS = ("input_ids", "positions", "valid", "segment_ids", "prefix_ids")  # [num_packed, pack_len]
SLOT_KEYS = ("logit_index", "targets", "loss_mask", "advantages", "old_logprobs")  # [num_packed, rows, slot_len]
_DTYPES = dict(input_ids=np.int32, positions=np.int32, valid=bool, segment_ids=np.int32, prefix_ids=np.int32,
               logit_index=np.int32, targets=np.int32, loss_mask=bool, advantages=np.float32,
               old_logprobs=np.float32)


@dataclass
class PackedRows:
    """Packed sequences (a multiple of ``micro_batch_size``) and the step-wide loss denominators."""

    arrays: dict[str, np.ndarray]  # TOKEN_KEYS [N, pack_len], SLOT_KEYS [N, max_rows, slot_len], node_index [N, rows]
    num_tokens: int  # trained (loss) tokens
    num_seqs: int  # trained original sequences (nodes), not packed sequences
    micro_batch_size: int
    dropped: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # node indices not packed
    model_tokens: int = 0  # non-padding tokens the model runs (shared prefixes once)

    def micro_batches(self, num_micro: int | None = None) -> list[dict[str, np.ndarray]]:
        """[micro_batch_size, ...] micro-batches, padded with empty ones (train nothing) up to ``num_micro``."""
        n = self.arrays["input_ids"].shape[0]
        mb = self.micro_batch_size
        out = [{k: v[i:i + mb] for k, v in self.arrays.items()} for i in range(0, n, mb)]
        if num_micro is not None and num_micro > len(out):
            shape = self.arrays["input_ids"].shape[1], self.arrays["loss_mask"].shape[1:]
            out += [empty_micro_batch(mb, *shape)] * (num_micro - len(out))
        return out


def empty_micro_batch(micro_batch_size: int, pack_len: int, slot_shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """A micro-batch with nothing in it: no valid token, nothing trained (multi-host alignment)."""
    out = {k: np.zeros((micro_batch_size, pack_len), _DTYPES[k]) for k in TOKEN_KEYS}
    out.update({k: np.zeros((micro_batch_size, *slot_shape), _DTYPES[k]) for k in SLOT_KEYS})
    out["node_index"] = np.full((micro_batch_size, slot_shape[0]), -1, np.int64)
    return out


def pack_rows(prompt_ids: Sequence[Any], response_ids: Sequence[Any], old_logprobs: Sequence[Any], advantages: Any,
              *, pack_len: int, micro_batch_size: int, max_rows: int, slot_len: int, share_prefix: bool = True,
              node_index: Any = None, pad_id: int = 0, overflow: str = "error") -> PackedRows:
    """Pack nodes (prompt masked, response trained) into packed sequences; see the module docstring.

    A node whose prompt + response exceeds ``pack_len`` follows ``overflow``
    (error | drop); a response longer than ``slot_len`` is an error (the
    train step computes logits for ``slot_len`` positions per node).
    """
    _common.check_choice("rl.batch.overflow", overflow, OVERFLOW)
    pack_len, micro_batch_size, max_rows, slot_len = int(pack_len), int(micro_batch_size), int(max_rows), int(slot_len)
    for name, v, low in (("pack_len", pack_len, 2), ("micro_batch_size", micro_batch_size, 1),
                         ("pack_rows", max_rows, 1), ("slot_len", slot_len, 1)):
        if v < low:
            raise ValueError(f"rl.batch.{name}={v}: must be >= {low}")
    prompts, responses, logps, adv, node_index = _common.training_rows("pack_rows", prompt_ids, response_ids,
                                                                       old_logprobs, advantages, node_index)
    n = len(prompts)
    groups: dict[Any, list[int]] = {}
    dropped = []
    for i in range(n):
        P, R = len(prompts[i]), len(responses[i])
        if R > slot_len:
            raise ValueError(f"pack_rows: node {node_index[i]} has {R} response tokens but the train step computes "
                             f"logits for {slot_len} per node (sampling.max_new_tokens): responses must not be longer")
        if R == 0:
            dropped.append(i)  # nothing to train on
            continue
        if P + R > pack_len:
            if overflow == "error":
                raise ValueError(f"pack_rows: node {node_index[i]} has {P} + {R} tokens, more than "
                                 f"rl.batch.pack_len={pack_len} (raise it or set rl.batch.overflow='drop')")
            dropped.append(i)
            continue
        groups.setdefault(prompts[i].tobytes() if share_prefix else i, []).append(i)
    units = []  # (tokens, [node rows]) with one prefix copy each
    for rows in groups.values():
        prefix = len(prompts[rows[0]]) - 1
        cur, used = [], prefix
        for i in sorted(rows, key=lambda i: -len(responses[i])):
            cost = 1 + len(responses[i])
            if cur and (used + cost > pack_len or len(cur) >= max_rows):
                units.append((used, cur))
                cur, used = [], prefix
            cur.append(i)
            used += cost
        units.append((used, cur))
    bins: list[list] = []  # [tokens used, branches used, units]
    for tokens, rows in sorted(units, key=lambda u: -u[0]):
        for b in bins:
            if b[0] + tokens <= pack_len and b[1] + len(rows) <= max_rows:
                b[0] += tokens
                b[1] += len(rows)
                b[2].append(rows)
                break
        else:
            bins.append([tokens, len(rows), [rows]])
    total = -(-len(bins) // micro_batch_size) * micro_batch_size
    arrays = empty_micro_batch(total, pack_len, (max_rows, slot_len))
    arrays["input_ids"][:] = pad_id
    arrays["targets"][:] = pad_id
    for p, (_, _, unit_rows) in enumerate(bins):
        _fill(arrays, p, unit_rows, prompts, responses, logps, adv, node_index)
    packed_nodes = [i for b in bins for rows in b[2] for i in rows]
    return PackedRows(arrays, int(arrays["loss_mask"].sum()), len(packed_nodes), micro_batch_size,
                      node_index[np.asarray(dropped, np.int64)], int(arrays["valid"].sum()))


def _fill(a: dict, p: int, unit_rows: list[list[int]], prompts, responses, logps, adv, node_index) -> None:
    """Write packed sequence p: for each unit its prefix, then its branches; one slot per branch."""
    at, seg, slot = 0, 0, 0
    for rows in unit_rows:
        prompt = prompts[rows[0]]
        P = len(prompt)
        prefix_seg = seg
        seg += 1
        a["input_ids"][p, at:at + P - 1] = prompt[:-1]
        a["positions"][p, at:at + P - 1] = np.arange(P - 1)
        a["segment_ids"][p, at:at + P - 1] = prefix_seg
        a["prefix_ids"][p, at:at + P - 1] = prefix_seg
        a["valid"][p, at:at + P - 1] = True
        at += P - 1
        for i in rows:
            R = len(responses[i])
            end = at + 1 + R
            a["input_ids"][p, at] = prompt[-1]
            a["input_ids"][p, at + 1:end] = responses[i]
            a["positions"][p, at:end] = np.arange(P - 1, P + R)
            a["segment_ids"][p, at:end] = seg
            a["prefix_ids"][p, at:end] = prefix_seg
            a["valid"][p, at:end] = True
            # The logit at branch position t (the prompt's last token, then response tokens) predicts response t.
            a["logit_index"][p, slot, :R] = np.arange(at, at + R)
            a["targets"][p, slot, :R] = responses[i]
            a["loss_mask"][p, slot, :R] = True
            a["old_logprobs"][p, slot, :R] = logps[i]
            a["advantages"][p, slot, :R] = adv[i]
            a["node_index"][p, slot] = node_index[i]
            seg, slot, at = seg + 1, slot + 1, end


def pack_tree_rows(tree, **kw) -> PackedRows:
    """Pack the kept nodes of a scored RolloutTree (tree.kept, tree.advantage); keywords as ``pack_rows``."""
    nodes = np.flatnonzero(tree.kept)
    return pack_rows([tree.prompt_ids[i] for i in nodes], [tree.response_ids[i] for i in nodes],
                     [tree.logprobs[i] for i in nodes], tree.advantage[nodes], node_index=nodes, **kw)
