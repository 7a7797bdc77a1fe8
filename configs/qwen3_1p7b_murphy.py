"""MURPHY on Qwen3-1.7B with KodCode (TPU pod / GPU): G=8 first attempts, 2 turns, MaRS credit.

Starting values, not the paper's (its exact hyperparameters were not
available): see docs/training.md. Mesh: set mesh.* for your slice, or pick a
preset from configs/meshes.py with the config argument (`qwen3_1p7b_murphy.py:v5e-8`).
"""
from configs import base, meshes


def get_config(hardware: str = ""):
    """The config; ``hardware`` (e.g. v5e-8) sets the mesh from configs/meshes.py."""
    c = base.get_config()
    c.model.path = "Qwen/Qwen3-1.7B"
    c.model.dtype = "bfloat16"
    c.model.param_dtype = "float32"
    c.model.remat = "full"
    c.data.train = "kodcode"  # KodCode/KodCode-Light-RL-10K from the hub (or kodcode:/path/to/rows.parquet)
    c.data.tasks_per_step = 64
    c.rollout.group_size = 8
    c.rollout.children = 4
    c.rollout.turns = 2
    c.rollout.expand_budget = 2
    c.sampling.max_new_tokens = 1024
    c.sampling.max_prompt_tokens = 2048
    c.sampling.temperature = 1.0
    c.sampling.max_rows = 256
    c.rl.credit.strategy = "mars"
    c.rl.credit.gamma = 0.9
    c.rl.prune.inter_keep = 3
    c.rl.prune.intra_keep = 0
    c.rl.loss.eps_high = 0.28
    # Bucketed rows until murphy-plan and murphy-compile size the packed train step (they plan this layout).
    c.rl.batch.layout = "bucketed"
    c.rl.batch.buckets = (1024, 2048, 3072)
    c.rl.batch.micro_batch_size = 16
    c.train.logits_chunk = 512
    c.optim.lr = 1e-6
    c.optim.warmup_steps = 10
    c.train.steps = 200
    c.checkpoint.every = 10
    return meshes.apply(c, "qwen3_1p7b", hardware)
