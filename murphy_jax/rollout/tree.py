"""RolloutTree: one training step's feedback-conditioned rollout trees as a struct of arrays.

All trees of a step (one per task) live in one flat, host-side structure.
Node i has a parent index ``parent[i]`` (-1 for a root) that is always < i,
so parents precede children and credit assignment is a pass over depth
levels (``murphy_jax.rl.credit``). Scalar fields are numpy arrays; token ids,
log-probs and texts are per-node lists (ragged).

``reward`` is NaN until ``set_outcomes``; ``R``, ``advantage`` (NaN) and
``kept`` (False) are filled by ``murphy_jax.rl.scoring.score_tree``.

Sibling groups: the turn-1 samples of one task form its root group; the
children of one parent (all added in one ``add_children`` call) form one
group. Group ids are dense (0..num_groups-1) and numbered in creation order,
so a lower id never belongs to a later turn (pruning tie-breaks rely on it).

Typical use by the expansion loop::

    tree = RolloutTree()
    ids = tree.add_roots(task=np.repeat(np.arange(B), G), prompt_ids=..., response_ids=..., logprobs=..., code=...)
    tree.set_outcomes(ids, reward=..., succeeded=..., feedback=...)
    for turn in range(2, S + 1):
        parents = tree.expandable(max_turns=S, turn=turn - 1)  # an expand_budget picks among these
        kids = tree.add_children(np.repeat(parents, K), prompt_ids=..., ...)
        tree.set_outcomes(kids, ...)
    murphy_jax.rl.scoring.score_tree(tree, ...)   # fills R, advantage, kept
    tree.dump_jsonl("step_000.jsonl")
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

# Per-node scalar fields: name -> (dtype, value for a new node).
_SCALARS = {
    "node_id": (np.int64, -1),
    "parent": (np.int32, -1),
    "task": (np.int32, -1),
    "turn": (np.int32, 0),
    "group": (np.int32, -1),
    "reward": (np.float32, np.nan),  # NaN until executed
    "succeeded": (np.bool_, False),
    "R": (np.float32, np.nan),  # NaN until scored
    "advantage": (np.float32, np.nan),
    "kept": (np.bool_, False),
}
# Per-node ragged fields: name -> factory for a missing value.
_TOKENS = ("prompt_ids", "response_ids", "logprobs")
_TEXTS = ("prompt_text", "response_text", "code", "feedback")
# Scalars a caller may give when adding nodes (structure comes from the tree).
_NODE_SCALARS = ("reward", "succeeded", "R", "advantage", "kept")


class RolloutTreeError(ValueError):
    """A RolloutTree operation got inconsistent input; the message names it."""


def _empty_tokens(name: str) -> np.ndarray:
    return np.zeros(0, np.float32 if name == "logprobs" else np.int32)


class RolloutTree:
    """Struct of arrays for the rollout trees of one step (see module docstring)."""

    def __init__(self, task_names: Sequence[str] | None = None):
        for name, (dtype, _) in _SCALARS.items():
            setattr(self, name, np.zeros(0, dtype))
        for name in _TOKENS + _TEXTS + ("meta",):
            setattr(self, name, [])
        # Optional display names (CodeTask ids) indexed by task index.
        self.task_names: list[str] = list(task_names or [])
        self._has_children = np.zeros(0, bool)

    # ------------------------------------------------------------------ sizes
    def __len__(self) -> int:
        return len(self.parent)

    @property
    def num_groups(self) -> int:
        """Number of sibling groups (ids are 0..num_groups-1)."""
        return int(self.group.max()) + 1 if len(self) else 0

    @property
    def num_turns(self) -> int:
        """Deepest turn present (0 for an empty tree)."""
        return int(self.turn.max()) if len(self) else 0

    @property
    def is_root(self) -> np.ndarray:
        """bool[N]: node is a turn-1 sample."""
        return self.parent < 0

    @property
    def prompt_lens(self) -> np.ndarray:
        """int[N]: prompt length in tokens per node."""
        return np.array([len(x) for x in self.prompt_ids], np.int64)

    @property
    def response_lens(self) -> np.ndarray:
        """int[N]: response (generated) length in tokens per node."""
        return np.array([len(x) for x in self.response_ids], np.int64)

    def tasks(self) -> np.ndarray:
        """Sorted distinct task indices present."""
        return np.unique(self.task)

    # --------------------------------------------------------------- building
    def add_roots(self, task: Iterable[int], **fields: Any) -> np.ndarray:
        """Append turn-1 nodes; the samples of each task form its root group. Returns their indices."""
        task = np.asarray(list(task) if not isinstance(task, np.ndarray) else task, np.int64).reshape(-1)
        if len(task) and task.min() < 0:
            raise RolloutTreeError(f"add_roots: task indices must be >= 0, got {task.min()}")
        have = set(self.task[self.parent < 0].tolist())
        again = sorted(set(task.tolist()) & have)
        if again:
            raise RolloutTreeError(f"add_roots: task(s) {again[:5]} already have a root group; "
                                   "add all turn-1 samples of a task in one call")
        # Groups numbered by first appearance of the task in this call.
        _, first, inverse = np.unique(task, return_index=True, return_inverse=True)
        rank = np.argsort(np.argsort(first))
        group = self.num_groups + rank[inverse]
        return self._append({"parent": np.full(len(task), -1), "task": task, "turn": np.ones(len(task)),
                             "group": group}, fields)

    def add_children(self, parent: Iterable[int], **fields: Any) -> np.ndarray:
        """Append one turn of children; each distinct parent's children form one group. Returns their indices."""
        parent = np.asarray(list(parent) if not isinstance(parent, np.ndarray) else parent, np.int64).reshape(-1)
        n = len(self)
        if len(parent) and (parent.min() < 0 or parent.max() >= n):
            bad = parent[(parent < 0) | (parent >= n)][0]
            raise RolloutTreeError(f"add_children: parent {bad} is not a node index (tree has {n} nodes)")
        uniq, first, inverse = np.unique(parent, return_index=True, return_inverse=True)
        if self._has_children[uniq].any():
            bad = uniq[self._has_children[uniq]][0]
            raise RolloutTreeError(f"add_children: node {bad} already has children; "
                                   "add all children of a parent in one call (they form one sibling group)")
        rank = np.argsort(np.argsort(first))
        group = self.num_groups + rank[inverse]
        ids = self._append({"parent": parent, "task": self.task[parent], "turn": self.turn[parent] + 1,
                            "group": group}, fields)
        self._has_children[uniq] = True
        return ids

    def _append(self, structure: dict[str, np.ndarray], fields: dict[str, Any]) -> np.ndarray:
        """Validate all new columns first, then commit, so a bad call leaves the tree unchanged."""
        k = len(structure["parent"])
        unknown = set(fields) - (set(_NODE_SCALARS) | set(_TOKENS) | set(_TEXTS) | {"meta"})
        if unknown:
            raise RolloutTreeError(f"unknown node field(s) {sorted(unknown)}; settable: "
                                   f"{sorted(_NODE_SCALARS + _TOKENS + _TEXTS + ('meta',))}")
        cols: dict[str, Any] = dict(structure, node_id=self._next_ids(k))
        for name, (dtype, default) in _SCALARS.items():
            value = cols.get(name, fields.get(name))
            col = np.full(k, default, dtype) if value is None else np.asarray(value, dtype).reshape(-1)
            if len(col) != k:
                raise RolloutTreeError(f"field {name!r} has {len(col)} values for {k} new nodes")
            cols[name] = col
        for name in _TOKENS + _TEXTS + ("meta",):
            value = fields.get(name)
            if value is None:
                col = [_empty_tokens(name) if name in _TOKENS else ({} if name == "meta" else "") for _ in range(k)]
            else:
                col = list(value)
                if len(col) != k:
                    raise RolloutTreeError(f"field {name!r} has {len(col)} values for {k} new nodes")
                if name in _TOKENS:
                    col = [np.asarray(x, np.float32 if name == "logprobs" else np.int32).reshape(-1) for x in col]
            cols[name] = col
        for j, (lp, resp) in enumerate(zip(cols["logprobs"], cols["response_ids"])):
            if len(lp) and len(lp) != len(resp):
                raise RolloutTreeError(f"new node {j}: {len(lp)} log-probs for {len(resp)} response tokens")
        start = len(self)
        for name in _SCALARS:
            setattr(self, name, np.concatenate([getattr(self, name), cols[name]]))
        for name in _TOKENS + _TEXTS + ("meta",):
            getattr(self, name).extend(cols[name])
        self._has_children = np.concatenate([self._has_children, np.zeros(k, bool)])
        return np.arange(start, start + k)

    def _next_ids(self, k: int) -> np.ndarray:
        base = int(self.node_id.max()) + 1 if len(self) else 0
        return np.arange(base, base + k)

    def _check_logprob_lengths(self, nodes: Iterable[int]) -> None:
        for i in nodes:
            lp, resp = self.logprobs[i], self.response_ids[i]
            if len(lp) and len(lp) != len(resp):
                raise RolloutTreeError(f"node {i}: {len(lp)} log-probs for {len(resp)} response tokens")

    def set_outcomes(self, nodes: Iterable[int], *, reward: Any, succeeded: Any, feedback: Sequence[str] | None = None,
                     code: Sequence[str] | None = None, meta: Sequence[dict] | None = None) -> None:
        """Record execution results (reward, success, feedback text) for the given nodes."""
        nodes = np.asarray(list(nodes) if not isinstance(nodes, np.ndarray) else nodes, np.int64).reshape(-1)
        reward = np.asarray(reward, np.float32).reshape(-1)
        succeeded = np.asarray(succeeded, bool).reshape(-1)
        if not (len(nodes) == len(reward) == len(succeeded)):
            raise RolloutTreeError(f"set_outcomes: {len(nodes)} nodes, {len(reward)} rewards, {len(succeeded)} flags")
        if not np.isfinite(reward).all():
            i = int(nodes[np.argmax(~np.isfinite(reward))])
            raise RolloutTreeError(f"set_outcomes: reward of node {i} is not finite")
        self.reward[nodes] = reward
        self.succeeded[nodes] = succeeded
        for name, values in (("feedback", feedback), ("code", code), ("meta", meta)):
            if values is not None:
                values = list(values)
                if len(values) != len(nodes):
                    raise RolloutTreeError(f"set_outcomes: {len(values)} {name} values for {len(nodes)} nodes")
                column = getattr(self, name)
                for i, v in zip(nodes.tolist(), values):
                    column[i] = v

    def set_scores(self, R: Any, advantage: Any, kept: Any) -> None:
        """Store credit R, advantages and the pruning keep mask (length N each)."""
        for name, value, dtype in (("R", R, np.float32), ("advantage", advantage, np.float32), ("kept", kept, bool)):
            arr = np.asarray(value, dtype).reshape(-1)
            if len(arr) != len(self):
                raise RolloutTreeError(f"set_scores: {name} has {len(arr)} values for {len(self)} nodes")
            setattr(self, name, arr.copy())

    # ---------------------------------------------------------------- queries
    def has_children(self) -> np.ndarray:
        """bool[N]: node has been expanded."""
        return self._has_children.copy()

    def expandable(self, max_turns: int, turn: int | None = None) -> np.ndarray:
        """Indices of executed, failed, unexpanded nodes with turn < max_turns (optionally of one turn)."""
        ok = (~self.succeeded) & np.isfinite(self.reward) & (~self._has_children) & (self.turn < max_turns)
        if turn is not None:
            ok &= self.turn == turn
        return np.flatnonzero(ok)

    def children(self, node: int) -> np.ndarray:
        """Indices of node's children."""
        return np.flatnonzero(self.parent == node)

    def ancestors(self, node: int) -> list[int]:
        """Path from the root to node, both included (for history="full" prompts)."""
        path = [int(node)]
        while self.parent[path[-1]] >= 0:
            path.append(int(self.parent[path[-1]]))
        return path[::-1]

    def group_members(self, group: int) -> np.ndarray:
        """Indices of the members of one sibling group."""
        return np.flatnonzero(self.group == group)

    def group_parent(self) -> np.ndarray:
        """int[num_groups]: the parent node of each group (-1 for root groups)."""
        out = np.full(self.num_groups, -1, np.int64)
        out[self.group] = self.parent
        return out

    def group_task(self) -> np.ndarray:
        """int[num_groups]: the task of each group."""
        out = np.full(self.num_groups, -1, np.int64)
        out[self.group] = self.task
        return out

    def subset(self, nodes: Iterable[int]) -> "RolloutTree":
        """A new tree of the given nodes (closed under parents), groups renumbered densely."""
        nodes = np.unique(np.asarray(list(nodes) if not isinstance(nodes, np.ndarray) else nodes, np.int64))
        local = np.full(len(self), -1, np.int64)
        local[nodes] = np.arange(len(nodes))
        par = self.parent[nodes]
        missing = (par >= 0) & (local[np.maximum(par, 0)] < 0)
        if missing.any():
            raise RolloutTreeError(f"subset: node {nodes[np.argmax(missing)]} is kept but its parent is not")
        out = RolloutTree(self.task_names)
        for name in _SCALARS:
            setattr(out, name, getattr(self, name)[nodes].copy())
        out.parent = np.where(par >= 0, local[np.maximum(par, 0)], -1).astype(np.int32)
        # np.unique sorts, so dense renumbering keeps creation order.
        out.group = np.unique(out.group, return_inverse=True)[1].astype(np.int32).reshape(-1)
        for name in _TOKENS + _TEXTS + ("meta",):
            col = getattr(self, name)
            setattr(out, name, [col[i] for i in nodes.tolist()])
        out._has_children = self._has_children[nodes].copy()
        return out

    def for_task(self, task: int) -> "RolloutTree":
        """The tree of one task (parent and group indices renumbered locally; node_id kept)."""
        return self.subset(np.flatnonzero(self.task == task))

    def split_by_task(self) -> dict[int, "RolloutTree"]:
        """One tree per task index."""
        return {int(t): self.for_task(int(t)) for t in self.tasks()}

    def arrays(self) -> dict[str, np.ndarray]:
        """The scalar per-node arrays (what the jitted RL functions take)."""
        return {name: getattr(self, name) for name in _SCALARS}

    def validate(self) -> None:
        """Raise RolloutTreeError when the structure is inconsistent."""
        n = len(self)
        idx = np.arange(n)
        if ((self.parent < -1) | (self.parent >= idx)).any():
            i = int(np.argmax((self.parent < -1) | (self.parent >= idx)))
            raise RolloutTreeError(f"node {i}: parent {self.parent[i]} is not an earlier node")
        child = self.parent >= 0
        p = np.maximum(self.parent, 0)
        if (child & (self.turn != self.turn[p] + 1)).any() or (~child & (self.turn != 1)).any():
            raise RolloutTreeError("turn must be 1 for roots and parent turn + 1 for children")
        if (child & (self.task != self.task[p])).any():
            raise RolloutTreeError("a child's task differs from its parent's")
        if n:
            gp, gt = self.group_parent(), self.group_task()
            if (gp[self.group] != self.parent).any() or (gt[self.group] != self.task).any():
                raise RolloutTreeError("a sibling group mixes parents or tasks")
            if len(np.unique(self.group)) != self.num_groups:
                raise RolloutTreeError("group ids are not dense 0..num_groups-1")
        for name in _TOKENS + _TEXTS + ("meta",):
            if len(getattr(self, name)) != n:
                raise RolloutTreeError(f"field {name!r} has {len(getattr(self, name))} entries for {n} nodes")
        self._check_logprob_lengths(range(n))

    # -------------------------------------------------------------- JSON lines
    def to_records(self, include_tokens: bool = True) -> list[dict]:
        """One JSON-ready dict per node (parent given as the parent's node_id)."""
        recs = []
        for i in range(len(self)):
            p = int(self.parent[i])
            t = int(self.task[i])
            rec = {
                "node": int(self.node_id[i]),
                "task": t,
                "task_id": self.task_names[t] if 0 <= t < len(self.task_names) else None,
                "turn": int(self.turn[i]),
                "parent": int(self.node_id[p]) if p >= 0 else -1,
                "group": int(self.group[i]),
                "code": self.code[i],
                "feedback": self.feedback[i],
                "reward": _num(self.reward[i]),
                "succeeded": bool(self.succeeded[i]),
                "R": _num(self.R[i]),
                "advantage": _num(self.advantage[i]),
                "kept": bool(self.kept[i]),
                "expanded": bool(self._has_children[i]),
                "prompt_text": self.prompt_text[i],
                "response_text": self.response_text[i],
                "meta": self.meta[i],
            }
            if include_tokens:
                rec["prompt_ids"] = self.prompt_ids[i].tolist()
                rec["response_ids"] = self.response_ids[i].tolist()
                rec["logprobs"] = [float(x) for x in self.logprobs[i]]
            recs.append(rec)
        return recs

    @classmethod
    def from_records(cls, records: Iterable[dict]) -> "RolloutTree":
        """Rebuild a tree from to_records() output (records in parent-before-child order)."""
        records = list(records)
        tree = cls()
        names: dict[int, str] = {}
        local: dict[int, int] = {}
        for i, rec in enumerate(records):
            local[int(rec["node"])] = i
            if rec.get("task_id") is not None:
                names[int(rec["task"])] = rec["task_id"]
        n = len(records)
        parents = []
        for rec in records:
            p = int(rec["parent"])
            if p >= 0 and (p not in local or local[p] >= local[int(rec["node"])]):
                raise RolloutTreeError(f"record of node {rec['node']}: parent {p} is missing or comes later")
            parents.append(local[p] if p >= 0 else -1)
        get = lambda key, default=None: [rec.get(key, default) for rec in records]  # noqa: E731
        tree.node_id = np.asarray(get("node"), np.int64).reshape(n)
        tree.parent = np.asarray(parents, np.int32).reshape(n)
        for name in ("task", "turn", "group"):
            setattr(tree, name, np.asarray(get(name), np.int32).reshape(n))
        for name in ("reward", "R", "advantage"):
            setattr(tree, name, np.asarray([np.nan if v is None else v for v in get(name)], np.float32).reshape(n))
        tree.succeeded = np.asarray(get("succeeded", False), bool).reshape(n)
        tree.kept = np.asarray(get("kept", False), bool).reshape(n)
        tree._has_children = np.zeros(n, bool)
        tree._has_children[tree.parent[tree.parent >= 0]] = True
        for name in _TEXTS:
            setattr(tree, name, [v or "" for v in get(name, "")])
        tree.meta = [v or {} for v in get("meta", {})]
        for name in _TOKENS:
            setattr(tree, name, [np.asarray(v or [], np.float32 if name == "logprobs" else np.int32)
                                 for v in get(name)])
        if names:
            tree.task_names = [names.get(t, "") for t in range(max(names) + 1)]
        tree.validate()
        return tree

    def dump_jsonl(self, path: str | Path, include_tokens: bool = True) -> None:
        """Write one JSON line per node (see to_records)."""
        with open(path, "w", encoding="utf-8") as f:
            for rec in self.to_records(include_tokens):
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")

    @classmethod
    def load_jsonl(cls, path: str | Path) -> "RolloutTree":
        """Read a tree written by dump_jsonl."""
        with open(path, encoding="utf-8") as f:
            return cls.from_records(json.loads(line) for line in f if line.strip())


def _num(x: Any) -> float | None:
    """JSON has no NaN: unscored values are written as null."""
    x = float(x)
    return None if math.isnan(x) else x
