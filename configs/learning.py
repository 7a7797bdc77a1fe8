"""The learning experiment: MURPHY-MaRS vs MURPHY-MeRS vs compute-matched GRPO on SmolLM2-135M (CPU).

    murphy-train --config configs/learning.py:mars ...
    murphy-train --config configs/learning.py:mers ...
    murphy-train --config configs/learning.py:grpo-12 ...   # S = 1, G = 12 (match it with murphy_jax.rl.matched)

scripts/learning_experiment.py runs the whole comparison (seeds, matching,
evaluation, table and plot). All three start from the same model and see the
same tasks in the same order for a given seed; only the rollout differs.
"""
from configs import smollm2_135m


def get_config(method: str = "mars"):
    c = smollm2_135m.get_config()
    c.train.steps = 6
    c.checkpoint.every = 1
    c.train.export_hf = False
    c.log.dump_trees = "all"
    if method in ("mars", "mers"):
        c.rl.credit.strategy = method
        return c
    if method.startswith("grpo"):
        _, _, g = method.partition("-")
        c.rollout.turns = 1
        c.rollout.expand_budget = 0
        c.rollout.group_size = int(g or c.rollout.group_size)
        c.rl.credit.strategy = "none"
        # Standard GRPO trains on every sample of its group: no pruning (not tuned down to MURPHY's cost).
        c.rl.prune.inter_keep = 0
        c.rl.prune.intra_keep = 0
        # A whole group of G short first attempts may share its prompt in one packed row.
        c.rl.batch.pack_rows = max(int(c.rl.batch.pack_rows), c.rollout.group_size + 2)
        return c
    raise ValueError(f"configs/learning.py:{method}: method must be mars, mers or grpo[-G]")
