"""Feasibility probe: can this policy learn from these tasks, and does execution feedback help it at all?

For every task the probe samples ``n`` first attempts at the training
temperature, expands every failed attempt into ``k`` feedback-conditioned
refinements (one turn, exactly as a MURPHY rollout does), and, as the control,
samples ``fresh`` new first attempts (no feedback) on each task that failed at
least once. Three rates follow:

* first-attempt pass rate per task (the training pool is the tasks the model
  sometimes solves: pass rate in [pool_low, pool_high], 1/8..7/8 by default);
* refinement success: of the failed attempts' refinements, the fraction that
  pass every test;
* fresh-attempt success on the same failed tasks, weighted like the
  refinements (each failed attempt counts its task's fresh pass rate), so that
  ``refinement - fresh`` is what the feedback adds over simply trying again.

The difference carries a bootstrap 95% interval over tasks. Everything is
plain host code around ``run_rollout``; results are written per batch so an
interrupted probe resumes.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import numpy as np

from murphy_jax.data.task import CodeTask
from murphy_jax.rollout import RolloutConfig, run_rollout


@dataclass
class TaskProbe:
    """What the probe measured on one task."""

    task_id: str
    difficulty: str
    attempts: int  # first attempts sampled (n)
    passed: int  # of them, how many passed every test
    refine_trials: int  # refinements sampled for the failed attempts (k per failed attempt that fit the context)
    refine_passed: int
    fresh_trials: int  # control: fresh first attempts on a task that failed at least once
    fresh_passed: int

    @property
    def failures(self) -> int:
        """Failed first attempts."""
        return self.attempts - self.passed


def probe_tasks(tasks: Sequence[CodeTask], generator, executor, *, n: int = 8, k: int = 4, fresh: int = 8,
                templates=None, history: str = "last", seed: int = 0, batch_tasks: int = 16,
                done: dict[str, TaskProbe] | None = None,
                on_batch: Callable[[list[TaskProbe]], None] | None = None) -> list[TaskProbe]:
    """Probe ``tasks`` in batches; tasks in ``done`` are reused, ``on_batch`` sees each new batch's results."""
    if min(n, k, fresh, batch_tasks) < 1:
        raise ValueError(f"probe: n={n}, k={k}, fresh={fresh}, batch_tasks={batch_tasks} must all be >= 1")
    done = dict(done or {})
    todo = [t for t in tasks if t.task_id not in done]
    for start in range(0, len(todo), batch_tasks):
        batch = todo[start:start + batch_tasks]
        results = _probe_batch(batch, generator, executor, n=n, k=k, fresh=fresh, templates=templates,
                               history=history, seed=seed)
        done.update((r.task_id, r) for r in results)
        if on_batch is not None:
            on_batch(results)
    return [done[t.task_id] for t in tasks]


def _probe_batch(batch, generator, executor, *, n, k, fresh, templates, history, seed) -> list[TaskProbe]:
    cfg = RolloutConfig(group_size=n, children=k, turns=2, history=history, seed=seed)
    tree, _ = run_rollout(batch, generator, executor, cfg, templates=templates, step=0)
    out = []
    for t, task in enumerate(batch):
        mine = tree.task == t
        roots, refinements = mine & (tree.turn == 1), mine & (tree.turn == 2)
        out.append(TaskProbe(task.task_id, task.difficulty or "", int(roots.sum()), int(tree.succeeded[roots].sum()),
                             int(refinements.sum()), int(tree.succeeded[refinements].sum()), 0, 0))
    failing = [i for i, r in enumerate(out) if r.failures]
    if failing:
        # step=1: other PRNG streams than the first attempts, so the control samples are fresh draws.
        control, _ = run_rollout([batch[i] for i in failing], generator, executor,
                                 RolloutConfig(group_size=fresh, turns=1, history=history, seed=seed),
                                 templates=templates, step=1)
        for j, i in enumerate(failing):
            mine = control.task == j
            out[i].fresh_trials, out[i].fresh_passed = int(mine.sum()), int(control.succeeded[mine].sum())
    return out


def _rates(rows: Sequence[TaskProbe]) -> dict:
    attempts = sum(r.attempts for r in rows)
    failures = sum(r.failures for r in rows)
    refine_trials = sum(r.refine_trials for r in rows)
    # Control weighted like the refinements: each failed attempt counts its task's fresh pass rate.
    weighted = [(r.failures, r.fresh_passed / r.fresh_trials) for r in rows if r.failures and r.fresh_trials]
    w = sum(f for f, _ in weighted)
    return {
        "tasks": len(rows), "attempts": attempts, "failed_attempts": failures,
        "first_attempt_pass_rate": sum(r.passed for r in rows) / attempts if attempts else float("nan"),
        "refinements": refine_trials,
        "refinement_success": (sum(r.refine_passed for r in rows) / refine_trials if refine_trials
                               else float("nan")),
        "fresh_attempts": sum(r.fresh_trials for r in rows),
        "fresh_success": sum(f * p for f, p in weighted) / w if w else float("nan"),
    }


def feedback_gain_interval(rows: Sequence[TaskProbe], *, resamples: int = 2000, seed: int = 0) -> dict:
    """Refinement minus fresh-attempt success with a bootstrap 95% interval over tasks (tasks that failed)."""
    rows = [r for r in rows if r.failures and r.refine_trials and r.fresh_trials]
    if not rows:
        return {"tasks": 0, "gain": float("nan"), "ci95": [float("nan"), float("nan")]}
    fail = np.array([r.failures for r in rows], float)
    rp, rt = np.array([r.refine_passed for r in rows], float), np.array([r.refine_trials for r in rows], float)
    fresh = np.array([r.fresh_passed / r.fresh_trials for r in rows], float)

    def gain(idx):
        return rp[idx].sum() / rt[idx].sum() - (fail[idx] * fresh[idx]).sum() / fail[idx].sum()

    rng = np.random.default_rng(seed)
    draws = [gain(rng.integers(0, len(rows), len(rows))) for _ in range(resamples)]
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return {"tasks": len(rows), "gain": float(gain(np.arange(len(rows)))), "ci95": [float(lo), float(hi)]}


def in_pool(r: TaskProbe, low: float, high: float) -> bool:
    """Whether a task's first-attempt pass rate lies in [low, high] (the training pool)."""
    return low <= r.passed / r.attempts <= high if r.attempts else False


def summarize(rows: Sequence[TaskProbe], *, pool_low: float = 1 / 8, pool_high: float = 7 / 8) -> dict:
    """Overall and per-difficulty rates, the feedback gain with its interval, and the training pool."""
    by_diff: dict[str, list[TaskProbe]] = {}
    for r in rows:
        by_diff.setdefault(r.difficulty or "unknown", []).append(r)
    pool = [r.task_id for r in rows if in_pool(r, pool_low, pool_high)]
    return {"overall": _rates(rows), "by_difficulty": {d: _rates(v) for d, v in sorted(by_diff.items())},
            "feedback_gain": feedback_gain_interval(rows), "pool": {"low": pool_low, "high": pool_high,
                                                                      "task_ids": pool, "size": len(pool)}}


def markdown(summary: dict, header: str = "") -> str:
    """The summary as a Markdown table (per difficulty and overall) plus the gain and the pool."""
    def pct(x):
        return "-" if x != x else f"{100 * x:.1f}%"

    lines = [header] if header else []
    lines += ["| difficulty | tasks | first-attempt pass | failed attempts | refinement success (n) | "
              "fresh-attempt success (n) |", "|---|---|---|---|---|---|"]
    for name, r in list(summary["by_difficulty"].items()) + [("**all**", summary["overall"])]:
        lines.append(f"| {name} | {r['tasks']} | {pct(r['first_attempt_pass_rate'])} | {r['failed_attempts']} | "
                     f"{pct(r['refinement_success'])} ({r['refinements']}) | "
                     f"{pct(r['fresh_success'])} ({r['fresh_attempts']}) |")
    g, p = summary["feedback_gain"], summary["pool"]
    lines += ["", f"Feedback gain (refinement minus fresh-attempt success, {g['tasks']} tasks that failed): "
              f"{100 * g['gain']:+.1f} points, bootstrap 95% interval [{100 * g['ci95'][0]:+.1f}, "
              f"{100 * g['ci95'][1]:+.1f}].",
              f"Training pool (first-attempt pass rate in [{p['low']:.3g}, {p['high']:.3g}]): {p['size']} tasks."]
    return "\n".join(lines) + "\n"


def load_partial(path: str, identity: dict) -> dict[str, TaskProbe]:
    """Results of an earlier run with the same ``identity`` (model, tasks, sampling); {} when none match."""
    if not os.path.exists(path):
        return {}
    out = {}
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    if not lines or lines[0].get("identity") != identity:
        return {}
    for d in lines[1:]:
        out[d["task_id"]] = TaskProbe(**d)
    return out


def append_partial(path: str, identity: dict, rows: Sequence[TaskProbe]) -> None:
    """Append a batch's results (the first line of a new file records the identity)."""
    new = not os.path.exists(path)
    with open(path, "a", encoding="utf-8") as f:
        if new:
            f.write(json.dumps({"identity": identity}) + "\n")
        for r in rows:
            f.write(json.dumps(asdict(r)) + "\n")
        f.flush()
        os.fsync(f.fileno())
