"""The array shapes a run config makes the trainer compile: mesh, train micro-batch, generation programs.

These mirror the decisions the trainer, the batcher and the sampler make at
run time, taken at their worst case (longest bucket, fullest generation
program), so a plan is an upper bound on what a step can ask for:

* train: ``[M, mb, T]`` batches, ``T`` the bucket that holds
  ``max_prompt_tokens + max_new_tokens`` (murphy_jax/train/trainer.py picks the
  bucket of the longest kept sequence);
* generation: one decode pool per turn (murphy_jax/sampling/sampler.py ``pool_shape``):
  ``R`` pool rows (``sampling.max_rows``, or the power of two the turn's
  prompts x n rows need when fewer), each with a KV cache of ``G + P`` slots
  (``G = next_pow2(max_new_tokens)``, ``P`` the prompt bucket of
  ``max_prompt_tokens``), refilled by prefill batches of up to ``C`` prompts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from murphy_jax.sampling.sampler import DEFAULT_PROMPT_BUCKETS

PREFILL_TOKENS = 4096  # Sampler(prefill_tokens=): padded tokens of one prefill call


def next_pow2(x: int, minimum: int = 1) -> int:
    """The smallest power of two >= x, at least ``minimum`` (the sampler's and trainer's rounding)."""
    return max(minimum, 1 << max(0, math.ceil(math.log2(max(x, 1)))))


@dataclass(frozen=True)
class MeshSizes:
    """Sizes of the ("data", "fsdp", "tensor") mesh axes, without devices.

    ``shape`` duck-types ``jax.sharding.Mesh.shape`` so the real sharding rules
    (``murphy_jax.models.sharding.logical_to_spec``) can be applied to a mesh
    that does not exist on this machine.
    """

    data: int
    fsdp: int
    tensor: int

    @property
    def shape(self) -> dict[str, int]:
        """Axis name -> size, like ``Mesh.shape``."""
        return {"data": self.data, "fsdp": self.fsdp, "tensor": self.tensor}

    @property
    def devices(self) -> int:
        """Devices in the mesh."""
        return self.data * self.fsdp * self.tensor

    @property
    def batch_ways(self) -> int:
        """Devices a batch dimension is split over (the "batch" rule: data x fsdp)."""
        return self.data * self.fsdp

    def __str__(self) -> str:
        return f"data={self.data} fsdp={self.fsdp} tensor={self.tensor}"


def local_mesh(mesh: MeshSizes, processes: int) -> MeshSizes:
    """The host-local generation mesh of one of ``processes`` hosts (murphy_jax/train/distributed.py local_mesh)."""
    if processes <= 1:
        return mesh
    if mesh.devices % processes:
        raise ValueError(f"{mesh.devices} devices do not split evenly over {processes} processes")
    n = mesh.devices // processes
    tensor = math.gcd(mesh.tensor, n)  # local devices go to tensor first, then fsdp, then data
    fsdp = math.gcd(mesh.fsdp, n // tensor)
    return MeshSizes(n // (tensor * fsdp), fsdp, tensor)


def resolve_mesh(data: int, fsdp: int, tensor: int, devices: int) -> MeshSizes:
    """The mesh ``make_mesh`` would build on ``devices`` devices (one size may be -1)."""
    sizes = [int(data), int(fsdp), int(tensor)]
    if sizes.count(-1) > 1:
        raise ValueError("mesh: at most one of data/fsdp/tensor may be -1")
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:
        if devices % known:
            raise ValueError(f"mesh: {devices} devices are not divisible by the fixed axes' product {known}")
        sizes[sizes.index(-1)] = devices // known
    if math.prod(sizes) != devices:
        raise ValueError(f"mesh data={sizes[0]} fsdp={sizes[1]} tensor={sizes[2]} needs {math.prod(sizes)} "
                         f"devices, the plan has {devices} (--devices)")
    return MeshSizes(*sizes)


@dataclass(frozen=True)
class GenProgram:
    """One turn's generation programs: a pool of ``rows`` decode rows with ``G + P`` cache slots each, refilled by
    prefills of 1 or ``prefill_rows`` prompts whose ``n`` samples are inserted into free rows."""

    turn: int
    rows: int  # R: decode rows of the pool (the KV cache's batch)
    n: int  # samples per prompt (one prefill is inserted into n rows)
    prompt_len: int  # P: prompt bucket (prefills pad to it; the pool's prompt slots)
    gen_slots: int  # G: ring of generated-token slots
    prefill_rows: int = 1  # C: prompts of the largest prefill batch

    @property
    def slots(self) -> int:
        """Cache slots per pool row: generated slots + prompt bucket."""
        return self.prompt_len + self.gen_slots


@dataclass(frozen=True)
class Workload:
    """Shapes of one RL step: the train micro-batch and the generation programs."""

    micro_batch: int  # rows per micro-batch, global (rl.batch.micro_batch_size x processes)
    seq_len: int  # T: train bucket length
    num_micro: int  # M: micro-batches per optimizer update (a power of two)
    logits_chunk: int  # train.logits_chunk (0 = whole sequence)
    reference: str  # "none" | "device" | "host": where the frozen reference params live (beta > 0)
    generation: tuple[GenProgram, ...]  # one host's programs
    gen_mesh: MeshSizes | None = None  # the mesh generation runs on (host-local when processes > 1)
    processes: int = 1  # JAX processes (hosts); each owns tasks_per_step / processes whole trees
    logits_window: int = 0  # positions per row given logits (train.response_logits_only; 0 = all of seq_len)


def _round_up(x: int, multiple: int) -> int:
    return -(-x // multiple) * multiple


def _bucket(length: int, buckets) -> int:
    fits = [b for b in sorted(buckets) if b >= length]
    return fits[0] if fits else max(buckets)


def train_seq_len(c) -> int:
    """T of the longest possible kept sequence: the bucket holding max_prompt + max_new tokens."""
    return int(_bucket(int(c.sampling.max_prompt_tokens) + int(c.sampling.max_new_tokens), c.rl.batch.buckets))


def max_kept_rows(c, processes: int = 1) -> int:
    """Upper bound of one host's trained rows per optimizer update: every node of its trees, after the pruning caps."""
    r = c.rollout
    g, k = int(r.group_size), int(r.children or r.group_size)
    groups, per_turn = 1, g  # sibling groups and nodes at the current turn, per tree
    total_groups, nodes = 1, g
    for _ in range(2, int(r.turns) + 1):
        parents = per_turn if not r.expand_budget else min(per_turn, int(r.expand_budget))
        groups, per_turn = parents, parents * k
        total_groups += groups
        nodes += per_turn
    if c.rl.prune.inter_keep or c.rl.prune.intra_keep:
        keep_groups = min(total_groups, int(c.rl.prune.inter_keep) or total_groups)
        members = max(g, k) if not c.rl.prune.intra_keep else min(max(g, k), int(c.rl.prune.intra_keep))
        nodes = min(nodes, keep_groups * members)
    rows = math.ceil(int(c.data.tasks_per_step) / processes) * nodes
    return max(1, math.ceil(rows / int(c.train.minibatches)))


def pool_shape(rows_needed: int, n: int, max_rows: int, batch_multiple: int, prompt_len: int, gen_slots: int,
               prefill_tokens: int = PREFILL_TOKENS, shrink_pool: bool = True) -> tuple[int, int]:
    """(pool rows R, prefill batch C) the sampler picks for a call of ``rows_needed`` rows (Sampler.pool_shape)."""
    full = _round_up(max(max_rows, n), batch_multiple)
    rows = full
    if shrink_pool and rows_needed < full:
        rows = min(full, _round_up(next_pow2(max(rows_needed, n)), batch_multiple))
    cap = max(1, min(prefill_tokens // prompt_len, rows // n))
    return rows, 1 << (cap.bit_length() - 1)


def generation_programs(c, batch_ways: int, processes: int = 1,
                        prompt_buckets=DEFAULT_PROMPT_BUCKETS) -> tuple[GenProgram, ...]:
    """One host's largest pool of each turn: its prompts x n rows at most ``sampling.max_rows`` (the trainer's
    Sampler: default ``prefill_tokens`` and ``shrink_pool``, ``min_new_bucket=16``), the longest prompt bucket."""
    r = c.rollout
    g, k = int(r.group_size), int(r.children or r.group_size)
    plen = _bucket(int(c.sampling.max_prompt_tokens), prompt_buckets)
    gen = next_pow2(int(c.sampling.max_new_tokens), 16)  # Sampler(min_new_bucket=16)
    out = []
    tasks = math.ceil(int(c.data.tasks_per_step) / processes)  # each host samples its own trees
    requests = tasks  # turn 1: one prompt per task
    failed = requests * g
    for turn in range(1, int(r.turns) + 1):
        n = g if turn == 1 else k
        if turn > 1:
            requests = failed if not r.expand_budget else min(failed, tasks * int(r.expand_budget))
            failed = requests * k
        if r.requests_per_chunk:
            requests = min(requests, int(r.requests_per_chunk))
        rows, cap = pool_shape(requests * n, n, int(c.sampling.max_rows), batch_ways, plen, gen)
        out.append(GenProgram(turn, rows, n, plen, gen, cap))
    return tuple(out)


def workload_from_config(c, mesh: MeshSizes, processes: int = 1) -> Workload:
    """The Workload of a run config (``configs/base.py`` keys) on ``mesh`` driven by ``processes`` hosts."""
    mb = int(c.rl.batch.micro_batch_size)  # rows per process (murphy_jax/train/config.py check_mesh)
    beta = float(c.rl.loss.beta)
    reference = "none" if beta <= 0 else ("host" if c.train.reference_on_host else "device")
    gen_mesh = local_mesh(mesh, processes)
    return Workload(micro_batch=mb * processes, seq_len=train_seq_len(c),
                    num_micro=next_pow2(math.ceil(max_kept_rows(c, processes) / mb)),
                    logits_chunk=int(c.train.logits_chunk), reference=reference,
                    generation=generation_programs(c, gen_mesh.batch_ways, processes), gen_mesh=gen_mesh,
                    processes=processes,
                    logits_window=int(c.sampling.max_new_tokens) if c.train.response_logits_only else 0)
