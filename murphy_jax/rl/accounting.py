"""Per-step compute accounting, and the group size of a compute-matched GRPO baseline.

Every run logs what a step cost (generated tokens, executor calls, ...) so
that MURPHY and GRPO runs can be compared at equal budget. A compute-matched
GRPO baseline is S = 1 with G chosen so that one of these per-step counts
matches a MURPHY configuration's measured average.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

import numpy as np

from murphy_jax.rl import _common

MATCH_BY = ("generated_tokens", "executor_calls")
ROUNDING = ("nearest", "floor", "ceil")


@dataclass(frozen=True)
class StepCounts:
    """What one training step's rollouts and update cost."""

    tasks: int
    nodes: int
    nodes_per_turn: tuple[int, ...]  # index 0 is turn 1
    generated_tokens: int  # response tokens sampled
    turn1_generated_tokens: int  # of which in turn 1
    prompt_tokens: int  # prompt tokens prefilled, once per sibling group (children share one prefill)
    prompt_tokens_per_sample: int  # prompt tokens summed over nodes (no prefix sharing)
    executor_calls: int  # programs executed (one per executed node)
    trained_nodes: int
    trained_tokens: int  # response tokens in the loss
    prune_ratio: float  # fraction of nodes not trained on

    def as_dict(self, prefix: str = "compute/") -> dict[str, float]:
        """Flat scalar metrics (nodes_per_turn becomes turn<k>_nodes)."""
        out = {}
        for k, v in asdict(self).items():
            if k == "nodes_per_turn":
                out.update({f"{prefix}turn{t + 1}_nodes": float(c) for t, c in enumerate(v)})
            else:
                out[prefix + k] = float(v)
        return out


def step_counts(tree, kept: np.ndarray | None = None) -> StepCounts:
    """Count a step's compute from its RolloutTree (kept defaults to tree.kept)."""
    kept = np.asarray(tree.kept if kept is None else kept, bool)
    n = len(tree)
    if len(kept) != n:
        raise ValueError(f"kept has {len(kept)} entries for {n} nodes")
    resp = tree.response_lens if n else np.zeros(0, np.int64)
    prompt = tree.prompt_lens if n else np.zeros(0, np.int64)
    turns = np.bincount(tree.turn, minlength=tree.num_turns + 1)[1:] if n else np.zeros(0, np.int64)
    # Children of one parent share one prompt and one prefill: count it once.
    first_of_group = np.unique(tree.group, return_index=True)[1] if n else np.zeros(0, np.int64)
    executed = np.isfinite(tree.reward)
    return StepCounts(
        tasks=int(len(tree.tasks())),
        nodes=n,
        nodes_per_turn=tuple(int(x) for x in turns),
        generated_tokens=int(resp.sum()),
        turn1_generated_tokens=int(resp[tree.turn == 1].sum()) if n else 0,
        prompt_tokens=int(prompt[first_of_group].sum()),
        prompt_tokens_per_sample=int(prompt.sum()),
        executor_calls=int(executed.sum()),
        trained_nodes=int(kept.sum()),
        trained_tokens=int(resp[kept].sum()) if n else 0,
        prune_ratio=float(1.0 - kept.sum() / n) if n else 0.0,
    )


@dataclass(frozen=True)
class MatchedGroupSize:
    """The chosen G and what it was matched on."""

    group_size: int
    by: str
    target_per_task: float  # MURPHY's measured count per task and step
    per_sample: float  # cost of one GRPO sample in the same unit
    exact: float  # target_per_task / per_sample before rounding


def compute_matched_group_size(counts: Sequence[StepCounts] | StepCounts, *, by: str = "generated_tokens",
                               rounding: str = "nearest", min_group_size: int = 2) -> MatchedGroupSize:
    """Pick G for an S=1 GRPO run whose per-step generated tokens (or executor calls) match MURPHY's."""
    _common.check_choice("rl.baseline.match_by", by, MATCH_BY)
    _common.check_choice("rounding", rounding, ROUNDING)
    steps = [counts] if isinstance(counts, StepCounts) else list(counts)
    if not steps or sum(s.tasks for s in steps) == 0:
        raise ValueError("compute_matched_group_size: need at least one step with tasks")
    tasks = sum(s.tasks for s in steps)
    if by == "executor_calls":
        target = sum(s.executor_calls for s in steps) / tasks
        per_sample = 1.0
    else:
        target = sum(s.generated_tokens for s in steps) / tasks
        turn1 = sum(s.nodes_per_turn[0] if s.nodes_per_turn else 0 for s in steps)
        if turn1 == 0:
            raise ValueError("compute_matched_group_size: no turn-1 samples to estimate a response length from")
        # A GRPO sample is a turn-1 sample: same policy, same prompt.
        per_sample = sum(s.turn1_generated_tokens for s in steps) / turn1
        if per_sample <= 0:
            raise ValueError("compute_matched_group_size: turn-1 responses are empty")
    exact = target / per_sample
    g = {"nearest": math.floor(exact + 0.5), "floor": math.floor(exact), "ceil": math.ceil(exact)}[rounding]
    return MatchedGroupSize(max(int(min_group_size), int(g)), by, target, per_sample, exact)


def mean_counts(counts: Iterable[StepCounts]) -> dict[str, float]:
    """Average of StepCounts.as_dict() over steps (for reports)."""
    rows = [c.as_dict(prefix="") for c in counts]
    keys = sorted({k for r in rows for k in r})
    return {k: float(np.mean([r.get(k, 0.0) for r in rows])) for k in keys}
