"""Every knob of a murphy_jax run, with its default. Experiment configs override this; the command line overrides those.

    murphy-train --config configs/tiny.py --workdir /tmp/run --config.rollout.turns=3

Sections built from a module's own dataclass carry their one-line docs there
(``rollout`` -> murphy_jax/rollout/expand.py RolloutConfig, ``executor`` ->
murphy_jax/execution/config.py ExecutorConfig, ``prompts`` ->
murphy_jax/data/prompts.py PromptTemplates, ``rl`` -> murphy_jax/rl/defaults.py).
``murphy-train --describe_config`` prints every key with its explanation.
"""
import dataclasses

import ml_collections

from murphy_jax.data.prompts import prompt_config_defaults
from murphy_jax.execution.config import ExecutorConfig
from murphy_jax.rl.defaults import nested_defaults
from murphy_jax.rollout.expand import RolloutConfig


def _executor_defaults() -> dict:
    d = dataclasses.asdict(ExecutorConfig())
    # Tuples become lists so command-line overrides (--config.executor.require_layers=...) parse.
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def get_config() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0  # run seed: task order, sampling streams, random-model init

    c.model = ml_collections.ConfigDict()
    c.model.path = "smollm2"  # HF dir, .gguf file, hub repo id, "smollm2" (cached SmolLM2-135M-Instruct) or "random:<variant>"
    c.model.tokenizer = ""  # tokenizer dir/.gguf/repo id; "" = same as model.path
    c.model.dtype = "bfloat16"  # compute dtype of activations and logits matmuls: bfloat16 | float32
    c.model.param_dtype = "float32"  # dtype of the trained (master) parameters and optimizer state
    c.model.remat = "none"  # rematerialise each layer in the backward pass: none | full | dots

    c.mesh = ml_collections.ConfigDict()
    c.mesh.data = 1  # data-parallel axis size (batch only)
    c.mesh.fsdp = -1  # fully-sharded axis size (batch and parameters); -1 = the remaining devices
    c.mesh.tensor = 1  # tensor-parallel axis size (heads, MLP width, vocab)

    c.data = ml_collections.ConfigDict()
    c.data.train = "bundled:train"  # task source spec for murphy_jax.data.sources.load_tasks (e.g. "kodcode:/path/rows.parquet")
    c.data.limit = 0  # use at most this many training tasks (0 = all)
    c.data.tasks_per_step = 8  # tasks (one tree each) per RL step, summed over all hosts
    c.data.shuffle = True  # reshuffle the tasks every epoch (seeded by seed and epoch)
    c.data.on_bad_row = "skip"  # a malformed task row: "skip" it (one warning: count and first line numbers) or "error" (stop naming file:line)

    c.prompts = ml_collections.ConfigDict(prompt_config_defaults())

    rollout = dataclasses.asdict(RolloutConfig())
    rollout.pop("seed")  # the run seed drives rollout sampling streams
    c.rollout = ml_collections.ConfigDict(rollout)
    c.sampling = ml_collections.ConfigDict()
    c.sampling.max_new_tokens = 512  # generated tokens per response
    c.sampling.temperature = 1.0  # rollout temperature; the loss applies the same temperature to its logits
    c.sampling.top_p = 1.0  # nucleus sampling mass (1 = off; <1 makes rollout log-probs differ from the policy's)
    c.sampling.top_k = 0  # top-k sampling (0 = off)
    c.sampling.max_prompt_tokens = 2048  # longer prompts (long feedback histories) are not expanded
    c.sampling.max_rows = 64  # decode rows of the sampler's pool (finished rows are refilled): bounds KV-cache memory
    c.sampling.chunk = 64  # decode steps between host checks (stop strings, refills, preemption)
    c.sampling.warm_up = False  # compile every generation shape before step 1 (Sampler.warm_up): no later step compiles
    c.sampling.stop_strings = ()  # stop a response when its text contains one (e.g. "```\n" after the code block)

    c.executor = ml_collections.ConfigDict(_executor_defaults())

    c.rl = ml_collections.ConfigDict(nested_defaults()["rl"])
    c.rl.batch.buckets = (512, 1024, 2048, 3072)  # layout=bucketed: the largest must hold max_prompt_tokens + max_new_tokens
    c.rl.batch.layout = "packed"  # "packed": nodes share [micro_batch_size, pack_len] rows (one program); "bucketed": a row each
    c.rl.batch.pack_len = 3072  # layout=packed: tokens per packed row; must hold max_prompt_tokens + max_new_tokens
    c.rl.batch.share_prefix = True  # layout=packed: nodes with the same prompt (siblings) run it once, as a shared prefix
    c.rl.batch.pack_rows = 8  # layout=packed: at most this many nodes per packed row (the LM head runs on pack_rows x max_new_tokens positions)

    c.optim = ml_collections.ConfigDict()
    c.optim.lr = 1e-6  # peak learning rate of AdamW
    c.optim.schedule = "constant"  # after warmup: constant | cosine (to min_lr_ratio * lr at train.steps)
    c.optim.warmup_steps = 0  # linear warmup over N optimizer updates: update k runs at lr*(k+1)/(N+1), never 0
    c.optim.min_lr_ratio = 0.1  # cosine floor as a fraction of lr
    c.optim.weight_decay = 0.0  # decoupled weight decay (AdamW)
    c.optim.b1 = 0.9  # Adam beta1
    c.optim.b2 = 0.999  # Adam beta2
    c.optim.eps = 1e-8  # Adam epsilon
    c.optim.clip_norm = 1.0  # global gradient-norm clip (0 = off)

    c.train = ml_collections.ConfigDict()
    c.train.steps = 100  # RL steps (rollout + updates) to run
    c.train.ppo_epochs = 1  # passes over each rollout batch; rollout log-probs stay the old policy
    c.train.minibatches = 1  # optimizer updates per pass (the kept samples are split evenly)
    c.train.response_logits_only = True  # LM head only on max_new_tokens positions from each response's start
    c.train.logits_chunk = 0  # compute token log-probs over this many positions at a time (0 = all; saves [B,T,V] memory)
    c.train.on_nonfinite = "stop"  # NaN/Inf loss or gradient: "stop" (keep the last good checkpoint) or "skip" the update
    c.train.export_hf = True  # write the final policy as an HF directory to <workdir>/hf_export
    c.train.reference_on_host = False  # beta > 0 only: keep the frozen reference params in host memory
    c.train.preempt_grace_s = 30.0  # SIGTERM/SIGINT: drop the step in flight, save the last finished one, exit 75 within N s

    c.checkpoint = ml_collections.ConfigDict()
    c.checkpoint.every = 10  # save every N steps (and always at the end and on SIGTERM)
    c.checkpoint.keep = 3  # keep the newest K checkpoints
    c.checkpoint.async_save = True  # write checkpoints in the background while training continues
    c.checkpoint.min_free_gb = 0.0  # refuse (one clear error) a save leaving less than this many GiB free on its disk

    c.log = ml_collections.ConfigDict()
    c.log.every = 1  # write metrics every N steps
    c.log.tensorboard = True  # TensorBoard event files in <workdir>/tb
    c.log.progress = True  # console progress bar with ETA (off when stdout is not a TTY or on hosts > 0)
    c.log.dump_trees = "last"  # rollout trees as JSONL in <workdir>/trees: none | last | all

    c.distributed = ml_collections.ConfigDict()
    c.distributed.enabled = "auto"  # jax.distributed.initialize: auto (TPU pods / env vars) | on | off
    c.distributed.coordinator = ""  # host:port of process 0 (CPU/GPU clusters)
    c.distributed.num_processes = 1  # processes in the job (CPU/GPU clusters)
    c.distributed.process_id = 0  # this process (CPU/GPU clusters)
    c.distributed.heartbeat_timeout_s = 100  # a process that stops answering this long fails the job
    return c
