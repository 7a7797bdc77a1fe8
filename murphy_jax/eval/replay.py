"""Reusing stored chains: fewer iterations from longer records, and more iterations by continuing them.

The first j attempts of a chain never depend on later ones, so a record of k iterations
holds the exact result for every j <= k (``truncate``), and a record whose chains all
succeeded is complete for any k. A record with fewer iterations and an unsolved chain is
continued: ``ReplayGenerator`` answers every request whose prompt a stored attempt already
answered with that stored response (the executor re-runs its program, which rebuilds the
same feedback), and asks the model only for the new iterations. A prompt that no longer
matches (say, feedback that differs on re-execution) is simply generated afresh, so the
continuation is always the model's answer to the prompt it actually got.
"""
from __future__ import annotations

import json
from typing import Sequence

from murphy_jax.data.prompts import Attempt, PromptTemplates, build_messages
from murphy_jax.data.task import CodeTask
from murphy_jax.rollout import Generation


def complete_for(rec: dict, iters: int) -> bool:
    """Whether ``rec`` answers an ``iters``-iteration evaluation without generating anything."""
    return rec.get("iters", 0) >= iters or (not rec.get("skipped") and all(s is not None for s in rec["solved_at"]))


def truncate(rec: dict, iters: int) -> dict:
    """The record as an ``iters``-iteration evaluation would have written it (for iters <= rec["iters"])."""
    out = dict(rec, iters=iters)
    out["chains"] = [chain[:iters] for chain in rec["chains"]]
    out["solved_at"] = [s if s is not None and s <= iters else None for s in rec["solved_at"]]
    return out


class ReplayGenerator:
    """Answers from stored chains where the prompt matches one they answered; the model answers the rest."""

    def __init__(self, inner, records: dict[str, dict], tasks: Sequence[CodeTask], *, templates: PromptTemplates,
                 history: str, attempt_format: str):
        self.inner = inner
        self.last_stats: dict = {}
        self.replayed = 0
        self._answers: dict[str, list[str]] = {}
        by_id = {t.task_id: t for t in tasks}
        for tid, rec in records.items():
            if tid not in by_id or rec.get("skipped"):
                continue
            for chain in rec["chains"]:
                for j, attempt in enumerate(chain):
                    hist = [Attempt(a["response"], a["feedback"], a["code"] or None) for a in chain[:j]]
                    msgs = build_messages(by_id[tid], hist, history, templates, attempt_format)
                    self._answers.setdefault(_key(tid, j + 1, msgs), []).append(attempt["response"])

    def generate(self, requests, n: int, *, seed: int, stream_ids=None) -> list[list[Generation] | None]:
        """Stored responses where all ``n`` are stored for the request's exact prompt; the inner generator otherwise."""
        out: list[list[Generation] | None] = [None] * len(requests)
        miss = []
        for i, r in enumerate(requests):
            stored = self._answers.get(_key(r.task.task_id, r.turn, r.messages), [])
            if len(stored) >= n:
                out[i] = [Generation(text) for text in stored[:n]]
                del stored[:n]  # identical prompts in several chains take their stored answers in order
                self.replayed += n
            else:
                miss.append(i)
        self.last_stats = {}
        if miss:
            kw = {} if stream_ids is None else {"stream_ids": [stream_ids[i] for i in miss]}
            for i, g in zip(miss, self.inner.generate([requests[i] for i in miss], n, seed=seed, **kw)):
                out[i] = g
            self.last_stats = getattr(self.inner, "last_stats", {}) or {}
        return out


def _key(task_id: str, turn: int, messages) -> str:
    return json.dumps([task_id, turn, [dict(m) for m in messages]], sort_keys=True)
