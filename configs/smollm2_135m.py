"""SmolLM2-135M-Instruct on the bundled tasks: the CPU default (the demo and the learning experiment).

Sized for a 2-core laptop: short responses, pruning that keeps the trained
samples few (training is the costliest part on a CPU), float32 compute (XLA's
CPU backend runs bfloat16 slower than float32).
"""
from configs import base, meshes


def get_config(hardware: str = ""):
    """The config; ``hardware`` (e.g. v5e-8) sets the mesh from configs/meshes.py."""
    c = base.get_config()
    c.model.path = "smollm2"
    c.model.dtype = "float32"
    c.data.train = "bundled:train"
    c.data.tasks_per_step = 4
    c.rollout.group_size = 4
    c.rollout.children = 2
    c.rollout.turns = 2
    c.rollout.expand_budget = 2  # per tree and turn: the two closest misses get feedback
    c.rollout.history = "last"
    c.sampling.max_new_tokens = 160
    c.sampling.max_prompt_tokens = 864
    # At T = 1 SmolLM2-135M mostly writes broken code (every reward 0, no gradient); at 0.6-0.8 about 40-48%
    # of its first attempts on the first training tasks pass and 11 of 12 groups have reward variance.
    c.sampling.temperature = 0.7
    c.sampling.max_rows = 32
    # SmolLM2 explains and demonstrates after its code block: stop once the first block closes.
    c.sampling.stop_strings = ("```\n",)
    c.sampling.chunk = 16
    c.rl.credit.strategy = "mars"
    c.rl.credit.gamma = 0.9
    c.rl.prune.inter_keep = 2  # the root group and the most informative refinement group
    c.rl.prune.intra_keep = 2  # best and worst of each kept group
    c.rl.batch.buckets = (256, 512, 1024)
    c.rl.batch.micro_batch_size = 1  # 20 GiB at 4 x 1024 tokens without remat (murphy-plan); 1 keeps it ~7 GiB
    c.rl.batch.pack_len = 1024  # the longest row (864 + 160), as the largest bucket: same activation memory
    c.rl.batch.pack_rows = 6  # a kept sibling group (group_size 4, children 2) plus a little
    c.optim.lr = 2e-6
    c.optim.warmup_steps = 2
    c.train.steps = 20
    c.checkpoint.every = 2
    c.executor.workers = 1  # the other core runs JAX
    return meshes.apply(c, "small", hardware)
