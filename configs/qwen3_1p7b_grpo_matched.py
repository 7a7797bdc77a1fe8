"""Compute-matched GRPO on Qwen3-1.7B: S = 1 with G chosen to match MURPHY's generated tokens per step.

    murphy-train --config configs/qwen3_1p7b_grpo_matched.py:16 ...

The argument is G (``16,v5p-16`` also sets the mesh preset). 16 is the budget bound of qwen3_1p7b_murphy (8 first
attempts + expand_budget 2 x children 4 per tree); measure instead with
``python -m murphy_jax.rl.matched --metrics <murphy workdir>/metrics.jsonl`` and
pass the G it prints, so the comparison is fair on what MURPHY really spent.
"""
from configs import qwen3_1p7b_grpo


def get_config(arg: str = "16"):
    """``arg`` is G, optionally followed by a mesh preset: ``16`` or ``16,v5e-8``."""
    group_size, _, hardware = arg.partition(",")
    c = qwen3_1p7b_grpo.get_config(hardware)
    c.rollout.group_size = int(group_size)
    return c
