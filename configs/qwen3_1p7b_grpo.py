"""Single-turn GRPO baseline on Qwen3-1.7B: the MURPHY config with S = 1 (same G, no feedback turns)."""
from configs import qwen3_1p7b_murphy


def get_config(hardware: str = ""):
    """The config; ``hardware`` (e.g. v5e-8) sets the mesh from configs/meshes.py."""
    c = qwen3_1p7b_murphy.get_config(hardware)
    c.rollout.turns = 1
    c.rollout.expand_budget = 0
    c.rl.credit.strategy = "none"  # single-turn trees: nothing to propagate
    c.rl.prune.inter_keep = 0
    return c
