"""The RL knobs owned by murphy_jax.rl, with defaults and one-line meanings.

``configs/base.py`` copies these into the ``rl`` section of the run config
(``config.rl.credit.strategy`` etc.); docs/algorithm.md explains each one.
"""
from __future__ import annotations

from typing import Any

# key -> (default, meaning). Budgets use 0 for "no limit" so that every knob
# keeps one type and can be overridden from the command line.
KNOBS: dict[str, tuple[Any, str]] = {
    "rl.credit.strategy": ("mars", "propagation from children to parents: 'mars' (max), 'mers' (mean) or 'none'"),
    "rl.credit.gamma": (0.9, "discount per turn applied to a child's R when it flows to its parent, in [0, 1]"),
    "rl.advantage.normalize_std": (True, "divide by the group's population std (GRPO); False = centre only (Dr.GRPO)"),
    "rl.advantage.eps": (1e-6, "added to the group std before dividing"),
    "rl.prune.inter_keep": (0, "InterP: sibling groups trained per tree, highest R spread first (0 = all)"),
    "rl.prune.intra_keep": (0, "IntraP: members trained per kept group, extremes of R alternately (0 = all)"),
    "rl.prune.keep_root_group": (True, "InterP keeps the turn-1 group first (counts against inter_keep)"),
    "rl.prune.drop_zero_spread": (True, "InterP never keeps groups whose R are all equal (zero advantage), "
                                        "the turn-1 group included; MURPHY and GRPO alike"),
    "rl.loss.eps_low": (0.2, "lower clip: ratio below 1 - eps_low stops the gradient of a negative-advantage token"),
    "rl.loss.eps_high": (0.2, "upper clip: ratio above 1 + eps_high stops the gradient of a positive-advantage "
                              "token (DAPO's clip-higher: 0.28)"),
    "rl.loss.aggregation": ("token_mean", "'token_mean' | 'seq_mean_token_mean' | 'seq_mean_token_sum_norm'"),
    "rl.loss.beta": (0.0, "weight of the k3 KL to the frozen reference policy (0 = no reference model)"),
    "rl.loss.norm_len": (0, "constant divisor L of seq_mean_token_sum_norm (0 = the sampler's max new tokens)"),
    "rl.batch.buckets": ((256, 512, 1024, 2048), "sequence-length buckets (prompt + response tokens) for packing"),
    "rl.batch.micro_batch_size": (8, "rows per micro-batch: packed rows of pack_len tokens (layout packed), "
                                     "or one node each padded to its bucket (layout bucketed)"),
    "rl.batch.overflow": ("error", "a sequence longer than the largest bucket: 'error' or 'drop' (counted)"),
    "rl.baseline.match_by": ("generated_tokens", "compute-matched GRPO: match 'generated_tokens' or 'executor_calls'"),
}


def defaults() -> dict[str, Any]:
    """Flat {key: default} mapping of every knob."""
    return {k: v for k, (v, _) in KNOBS.items()}


def nested_defaults() -> dict[str, Any]:
    """The knobs as nested dicts under 'rl' (ready for ConfigDict(...))."""
    out: dict[str, Any] = {}
    for key, (value, _) in KNOBS.items():
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out
