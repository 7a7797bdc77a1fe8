"""A tiny random model on a few bundled tasks: the whole loop in about a minute on a laptop CPU (CI)."""
from configs import base, meshes


def get_config(hardware: str = ""):
    """The config; ``hardware`` (e.g. v5e-8) sets the mesh from configs/meshes.py."""
    c = base.get_config()
    c.model.path = "random:llama"  # tiny random Llama + tiny ChatML tokenizer, built in the workdir
    c.model.dtype = "float32"
    c.data.limit = 16
    c.data.tasks_per_step = 2
    c.rollout.group_size = 2
    c.rollout.children = 2
    c.rollout.turns = 2
    c.sampling.max_new_tokens = 24
    c.sampling.max_prompt_tokens = 480
    c.sampling.max_rows = 16
    c.sampling.chunk = 32
    c.rl.batch.buckets = (512,)
    c.rl.batch.micro_batch_size = 8
    c.rl.batch.pack_len = 512  # holds the longest row (480 + 24); a step's few nodes fill one or two packed rows
    c.rl.batch.pack_rows = 6  # a sibling group (group_size or children) and a few singletons per packed row
    c.optim.lr = 1e-3
    # A random model's groups all tie at reward 0: keep them, so that the smoke run exercises the train step.
    c.rl.prune.drop_zero_spread = False
    c.train.steps = 3
    c.checkpoint.every = 1
    c.checkpoint.keep = 2
    c.executor.workers = 1
    return meshes.apply(c, "small", hardware)
