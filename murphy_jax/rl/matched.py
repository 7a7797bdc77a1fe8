"""Compute-matched GRPO from a finished MURPHY run: ``python -m murphy_jax.rl.matched --metrics RUN/metrics.jsonl``.

Reads the per-step compute counts the trainer logged (``compute/*``), and
prints the group size G of an S = 1 GRPO run that spends the same generated
tokens (or executor calls) per task and step.
"""
from __future__ import annotations

import argparse
import json
import sys

from murphy_jax.rl.accounting import MATCH_BY, StepCounts, compute_matched_group_size


def counts_from_metrics(records: list[dict]) -> list[StepCounts]:
    """StepCounts of each logged step (the trainer logs them with the ``compute/`` prefix)."""
    out = []
    for r in records:
        if "compute/tasks" not in r:
            continue
        turns = sorted((int(k[len("compute/turn"):-len("_nodes")]), v) for k, v in r.items()
                       if k.startswith("compute/turn") and k.endswith("_nodes"))
        g = lambda k: r.get(f"compute/{k}", 0)  # noqa: E731
        out.append(StepCounts(
            tasks=int(g("tasks")), nodes=int(g("nodes")), nodes_per_turn=tuple(int(v) for _, v in turns),
            generated_tokens=int(g("generated_tokens")), turn1_generated_tokens=int(g("turn1_generated_tokens")),
            prompt_tokens=int(g("prompt_tokens")), prompt_tokens_per_sample=int(g("prompt_tokens_per_sample")),
            executor_calls=int(g("executor_calls")), trained_nodes=int(g("trained_nodes")),
            trained_tokens=int(g("trained_tokens")), prune_ratio=float(g("prune_ratio"))))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--metrics", required=True, help="metrics.jsonl of a MURPHY run")
    ap.add_argument("--by", default="generated_tokens", choices=MATCH_BY, help="quantity to match per task and step")
    ap.add_argument("--rounding", default="nearest", choices=("nearest", "floor", "ceil"), help="how to round G")
    args = ap.parse_args(argv)
    try:
        with open(args.metrics, encoding="utf-8") as f:
            records = [json.loads(line) for line in f if line.strip()]
        m = compute_matched_group_size(counts_from_metrics(records), by=args.by, rounding=args.rounding)
    except (OSError, ValueError) as e:
        print(f"matched: error: {e}", file=sys.stderr)
        return 2
    print(json.dumps({"group_size": m.group_size, "by": m.by, "target_per_task": round(m.target_per_task, 2),
                      "per_sample": round(m.per_sample, 2), "exact": round(m.exact, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
