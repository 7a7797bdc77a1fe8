"""Per-device memory of a MURPHY run, phase by phase: pure arithmetic over a ModelConfig, a mesh and a Workload.

A step has phases that do not overlap in time, each with what is resident plus
what its program allocates:

* ``generate: prefill`` / ``generate: decode``: parameters, optimizer moments
  (they stay on the devices between train steps), the decode pool of the
  largest generation program (KV cache of rows x (G + P) slots, tokens and
  counters), and the temporaries of a refill (prefill of one prompt batch, then
  its insert into the pool) or of the decode loop;
* ``reference log-probs`` (only when ``rl.loss.beta > 0``): the frozen
  reference's forward pass over one micro-batch, with full [mb, T, V] logits;
* ``train: micro-batch`` (forward + backward of one micro-batch inside the
  accumulation scan): the gradient accumulator, that micro-batch's gradients,
  the activations saved for the backward pass and the working set of the
  layer (or logits) being differentiated;
* ``train: optimizer update``: the accumulated gradients and the new
  parameters/moments computed beside the old ones.

The peak is the largest phase total. Parameter-shaped terms use the real
sharding rules on the real parameter shapes, so they are exact; activation
terms count the buffers XLA keeps for this code (the multipliers below,
observed in XLA's buffer assignment of the train step and the sampler on
CPU, see docs/scaling.md "Memory planner"). Not counted: XLA's smaller
temporaries, TPU layout padding, allocator fragmentation, the runtime's own
reservations; ``headroom`` in the verdict is there for them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import jax.numpy as jnp
from flax import nnx

from murphy_jax.models.config import ModelConfig
from murphy_jax.models.decoder import abstract_decoder
from murphy_jax.models.layers import Q_BLOCK
from murphy_jax.models.sharding import DEFAULT_RULES, logical_to_spec
from murphy_jax.plan.workload import GenProgram, MeshSizes, Workload
from murphy_jax.train.step import logits_window

F32 = 4
# Attention materialises [rows, heads, T, S] float32 blocks. Without remat the backward
# pass keeps two per layer (the scores and the softmax probabilities); while one layer
# runs (forward or its backward) three are alive (scores, masked scores/probabilities,
# their gradient) plus the boolean visibility mask.
SAVED_SCORE_BLOCKS = 2
WORK_SCORE_BLOCKS = 3
# Under remat the rerun forward's scores live beside the backward's own blocks: one more.
REMAT_SCORE_BLOCKS = 1
# Token activations saved per layer without remat, in units of [rows, T] x width:
# six of the MLP width (gate, up, silu pieces, the product feeding down_proj),
# six of the hidden width (residual inputs, norms, attention and MLP outputs),
# q twice (as heads and regrouped per kv head), k and v once each.
SAVED_MLP, SAVED_HIDDEN, SAVED_Q, SAVED_KV = 6, 6, 2, 1
# [rows, T, vocab] float32 buffers alive while the log-softmax is differentiated:
# logits, exp(logits - max), and the gradient / its transpose for the embedding.
LOGITS_BLOCKS = 3
# Prefill attention (query blocks unrolled in Python, models.layers.attend): XLA keeps one more
# [rows, heads, Q_BLOCK, P] float32 block alive than a train layer's forward, and the mask
# (measured on the pooled sampler's prefill, tiny and SmolLM2 configs, CPU).
PREFILL_SCORE_BLOCKS = 4
# [rows, vocab] buffers of the sampling step: logits, random bits, Gumbel noise, ...
SAMPLING_BLOCKS = 5
# The optimizer update computes the new parameters and both moments beside the old
# ones (the non-finite guard selects between them afterwards); XLA fuses part of
# it. 1.5 x the gradient bytes on top of the gradients themselves, as measured.
UPDATE_FACTOR = 1.5
# The TPU compiler (libtpu, compile-only devices: murphy-compile, docs/scaling.md "TPU compile check")
# lays some programs out differently from the CPU one the factors above were measured with:
# * the decode loop keeps the KV cache in its own tiled layout (rows next to head_dim, head_dim
#   padded to the 128 lanes), copied in from the argument's row-major layout and back out into
#   the donated buffer: one more (padded) copy of the cache;
# * it hoists the bfloat16 casts of every layer's weights (local shards) out of the loop, also for
#   float32 compute (TPU runs float32 dots at the default precision in bfloat16), and keeps one
#   copy of the output head (gathered over fsdp) instead of two; the prefill's layer scan hoists
#   the same casts (SmolLM2 on v5e:2x2: 228 MiB of prefill temporaries, plan -11% without them);
# * the optimizer update compiles to in-place fusions: no temporaries beside the donated state.
# * under remat the layer backward holds two float32 attention blocks and one in the compute dtype
#   (scores, their gradient, the probabilities fed to the value matmul) and reruns the forward in
#   them: fitted on Qwen3-1.7B (remat=full, T=3072) on v5e-8, where the CPU count (4 float32
#   blocks) was 37% high.
TPU_DECODE_CACHE_COPIES = 1
TPU_LANES = 128
TPU_UPDATE_FACTOR = 0.0
TPU_REMAT_F32_BLOCKS, TPU_REMAT_DTYPE_BLOCKS = 2, 1
# Batch arrays of a train step: input_ids, targets, positions (int32), valid,
# loss_mask (bool), advantages, old_logprobs (float32) [+ ref_logprobs].
BATCH_BYTES_PER_TOKEN = 4 + 4 + 4 + 1 + 1 + 4 + 4


@dataclass(frozen=True)
class Item:
    """One component of a phase: its bytes per device and what it is."""

    name: str
    bytes: int
    note: str = ""


@dataclass(frozen=True)
class Phase:
    """A stretch of the step with everything alive in it."""

    name: str
    items: tuple[Item, ...]
    program: GenProgram | None = None  # the generation program a generate phase was sized for

    @property
    def total(self) -> int:
        """Bytes of the phase: the sum of its items."""
        return sum(i.bytes for i in self.items)


@dataclass(frozen=True)
class Plan:
    """Per-device memory of every phase, the peak and the verdict against the device memory."""

    model: str
    num_params: int
    mesh: MeshSizes
    device_memory: int  # bytes per device (0 = unknown: no verdict)
    headroom: float  # fraction of device memory kept free for what the plan does not count
    phases: tuple[Phase, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def peak_phase(self) -> Phase:
        """The phase with the largest total."""
        return max(self.phases, key=lambda p: p.total)

    @property
    def peak(self) -> int:
        """Bytes per device at the peak."""
        return self.peak_phase.total

    @property
    def usable(self) -> int:
        """Device memory minus headroom: what the peak must stay under."""
        return int(self.device_memory * (1.0 - self.headroom))

    @property
    def fits(self) -> bool:
        """Whether the peak stays under the usable memory (True when no device memory was given)."""
        return not self.device_memory or self.peak <= self.usable

    def phase(self, name: str) -> Phase:
        """The phase called ``name``."""
        return next(p for p in self.phases if p.name == name)


# ---------------------------------------------------------------------------------------------
# Parameters: exact, from the real shapes and the real sharding rules.


@dataclass(frozen=True)
class ParamLeaf:
    """One parameter array: its path, shape and logical axes."""

    path: str
    shape: tuple[int, ...]
    axes: tuple[str | None, ...]


def param_leaves(cfg: ModelConfig) -> list[ParamLeaf]:
    """Every parameter of the decoder with its logical axes (from an abstract model: no memory)."""
    state = nnx.state(abstract_decoder(cfg), nnx.Param)
    out = []
    for path, var in nnx.to_flat_state(state):
        out.append(ParamLeaf("/".join(map(str, path)), tuple(var.shape), tuple(var.get_metadata()["axes"])))
    return out


def shard_divisor(shape, axes, mesh: MeshSizes, rules=DEFAULT_RULES, skip: tuple[str, ...] = ()) -> int:
    """How many ways ``logical_to_spec`` splits an array of ``shape``/``axes`` on ``mesh`` (ignoring ``skip`` axes)."""
    spec = logical_to_spec(axes, shape, mesh, rules)  # MeshSizes duck-types Mesh.shape
    div = 1
    for entry in spec:
        for ax in ((entry,) if isinstance(entry, str) else (entry or ())):
            if ax not in skip:
                div *= mesh.shape[ax]
    return div


def local_elements(shape, axes, mesh: MeshSizes, rules=DEFAULT_RULES, skip: tuple[str, ...] = ()) -> int:
    """Elements of one device's shard (every split dimension divides exactly, by the rules' construction)."""
    return math.prod(shape) // shard_divisor(shape, axes, mesh, rules, skip)


def param_bytes(leaves: list[ParamLeaf], mesh: MeshSizes, dtype, rules=DEFAULT_RULES) -> int:
    """Bytes of one device's shards of all parameters stored in ``dtype``."""
    size = jnp.dtype(dtype).itemsize
    return sum(local_elements(p.shape, p.axes, mesh, rules) for p in leaves) * size


def layer_weight_bytes(leaves: list[ParamLeaf], cfg: ModelConfig, mesh: MeshSizes, dtype, rules=DEFAULT_RULES) -> int:
    """One layer's weights as a layer step uses them: gathered over fsdp/data, still split by tensor."""
    size = jnp.dtype(dtype).itemsize
    stacked = [p for p in leaves if p.axes and p.axes[0] == "layers"]
    elems = sum(local_elements(p.shape, p.axes, mesh, rules, skip=("data", "fsdp")) for p in stacked)
    return elems // cfg.num_layers * size


def head_weight_bytes(cfg: ModelConfig, mesh: MeshSizes, dtype, rules=DEFAULT_RULES) -> int:
    """The [vocab, hidden] output matrix gathered over fsdp (vocab still split by tensor) in ``dtype``."""
    return local_elements((cfg.vocab_size, cfg.hidden_size), ("vocab", "embed"), mesh, rules,
                          skip=("data", "fsdp")) * jnp.dtype(dtype).itemsize


# ---------------------------------------------------------------------------------------------
# Activations.


@dataclass(frozen=True)
class _Local:
    """Per-device activation widths: heads, MLP width and vocab split by tensor where the rules split them."""

    heads: int
    kv: int  # kv heads x head_dim
    q: int  # q heads x head_dim
    mlp: int
    vocab: int
    hidden: int


def _local_widths(cfg: ModelConfig, mesh: MeshSizes, rules=DEFAULT_RULES) -> _Local:
    one = lambda name, n: local_elements((n,), (name,), mesh, rules)  # noqa: E731
    heads = one("q_heads", cfg.num_heads)
    return _Local(heads=heads, kv=one("kv_heads", cfg.num_kv_heads) * cfg.head_dim, q=heads * cfg.head_dim,
                  mlp=one("mlp", cfg.intermediate_size), vocab=one("vocab", cfg.vocab_size), hidden=cfg.hidden_size)


def local_rows(rows: int, mesh: MeshSizes, rules=DEFAULT_RULES) -> int:
    """Rows of a batch dimension on one device (replicated when the batch axes don't divide it)."""
    return local_elements((rows,), ("batch",), mesh, rules)


def _saved_per_layer(w: _Local, rows: int, t: int, remat: str, dt: int) -> tuple[int, int]:
    """(bytes a layer keeps for the backward pass, bytes its backward rebuilds first) for [rows, t] tokens.

    Rebuilt attention blocks are not added: they are the working set's blocks.
    """
    tok = rows * t
    scores = SAVED_SCORE_BLOCKS * rows * w.heads * t * t * F32
    tokens = tok * (SAVED_MLP * w.mlp + SAVED_HIDDEN * w.hidden + SAVED_Q * w.q + 2 * SAVED_KV * w.kv) * dt
    if remat == "full":  # only the layer input (the scan carry) survives; the backward reruns the layer
        return tok * w.hidden * dt, tokens
    if remat == "dots":  # projection outputs (dots without batch dims): q, k, v, o, gate, up, down
        dots = tok * (w.q + 2 * w.kv + 2 * w.hidden + 2 * w.mlp) * dt
        return dots, max(0, tokens - dots)
    return scores + tokens, 0


def _layer_working(w: _Local, rows: int, tq: int, s: int, mask: bool = True) -> int:
    """Attention blocks alive while one layer runs: scores, probabilities, their gradient (+ the boolean mask
    the backward pass of the masking keeps)."""
    return WORK_SCORE_BLOCKS * rows * w.heads * tq * s * F32 + (rows * w.heads * tq * s if mask else 0)


def _weight_casts(cfg: ModelConfig, leaves, mesh: MeshSizes, rules=DEFAULT_RULES) -> int:
    """Compute-dtype copies of every layer's weights that the backward pass keeps (0 when no cast happens).

    With bfloat16 compute over float32 master weights each layer casts its
    weights inside the layer scan; the casts are residuals of the matmuls'
    backward, so all layers' copies are saved (and the tied/untied head's).
    """
    if jnp.dtype(cfg.dtype) == jnp.dtype(cfg.param_dtype) or cfg.remat == "full":
        return 0
    size = jnp.dtype(cfg.dtype).itemsize
    stacked = sum(local_elements(p.shape, p.axes, mesh, rules) for p in leaves if p.axes and p.axes[0] == "layers")
    head = local_elements((cfg.vocab_size, cfg.hidden_size), ("vocab", "embed"), mesh, rules)
    return (stacked + head) * size


def train_items(cfg: ModelConfig, leaves: list[ParamLeaf], mesh: MeshSizes, wl: Workload,
                rules=DEFAULT_RULES, platform: str = "") -> list[Item]:
    """Activation items of one micro-batch's forward + backward (per device)."""
    w = _local_widths(cfg, mesh, rules)
    rows, t, dt = local_rows(wl.micro_batch, mesh, rules), wl.seq_len, jnp.dtype(cfg.dtype).itemsize
    saved, recompute = _saved_per_layer(w, rows, t, cfg.remat, dt)
    rerun = REMAT_SCORE_BLOCKS * rows * w.heads * t * t * F32 if cfg.remat != "none" else 0
    weights = 2 * layer_weight_bytes(leaves, cfg, mesh, cfg.dtype, rules)  # forward copy + its gradient
    attn = _layer_working(w, rows, t, t)
    tpu_remat = platform == "tpu" and cfg.remat != "none"
    if tpu_remat:  # TPU_REMAT_* above
        attn = rows * w.heads * t * t * (TPU_REMAT_F32_BLOCKS * F32 + TPU_REMAT_DTYPE_BLOCKS * dt + 1)
        rerun = 0
    layer_work = attn + rerun + recompute + weights
    head_t = logits_window(t, wl.logits_window, wl.logits_chunk)
    chunk = wl.logits_chunk if 0 < wl.logits_chunk < head_t else head_t
    head_work = LOGITS_BLOCKS * rows * chunk * w.vocab * F32 + head_weight_bytes(cfg, mesh, cfg.dtype, rules)
    how = {"none": "no remat", "full": "remat=full: layer inputs only", "dots": "remat=dots: projection outputs"}
    items = [Item("saved activations", cfg.num_layers * saved + rows * t * w.hidden * dt,
                  f"{cfg.num_layers} layers x [{rows}, {t}] tokens, {how[cfg.remat]}")]
    casts = _weight_casts(cfg, leaves, mesh, rules)
    if casts:
        items.append(Item("saved weight casts", casts, f"{jnp.dtype(cfg.dtype).name} copies of the weights"))
    if layer_work >= head_work:  # the two are alive at different times: only the larger counts
        blocks = WORK_SCORE_BLOCKS + (REMAT_SCORE_BLOCKS if rerun else 0)
        what = (f"{TPU_REMAT_F32_BLOCKS} f32 + {TPU_REMAT_DTYPE_BLOCKS} {jnp.dtype(cfg.dtype).name} (TPU)" if tpu_remat
                else f"{blocks} f32")
        items.append(Item("layer backward working set", layer_work,
                          f"{what} [{rows}, {w.heads}, {t}, {t}] attention blocks"
                          + (", the layer's recomputed activations" if recompute else "") + ", gathered weights"))
    else:
        items.append(Item("logits working set", head_work,
                          f"{LOGITS_BLOCKS} f32 [{rows}, {chunk}, {w.vocab}] logits blocks"
                          + (f" (train.logits_chunk={wl.logits_chunk})" if chunk < head_t else "")
                          + (f" (response window of {head_t} of {t} positions)" if head_t < t else "")))
    return items


def batch_bytes(wl: Workload, mesh: MeshSizes, rules=DEFAULT_RULES) -> int:
    """The [mb, T] arrays of one micro-batch on one device."""
    per_token = BATCH_BYTES_PER_TOKEN + (F32 if wl.reference != "none" else 0)
    # The trainer keeps an update's micro-batches on the host and moves one [mb, T] micro-batch at a time.
    return local_rows(wl.micro_batch, mesh, rules) * wl.seq_len * per_token


# ---------------------------------------------------------------------------------------------
# Generation.


def _cache_rows(rows: int, mesh: MeshSizes, rules=DEFAULT_RULES) -> int:
    # The sampler constrains the cache to ("layers", "batch", None, "kv_heads", "head_dim").
    return local_elements((rows,), ("batch",), mesh, rules)


def kv_cache_bytes(cfg: ModelConfig, mesh: MeshSizes, prog: GenProgram, rules=DEFAULT_RULES) -> int:
    """Keys + values [layers, rows, P + G, kv_heads, head_dim] in the compute dtype, plus slot positions."""
    kv = local_elements((cfg.num_kv_heads,), ("kv_heads",), mesh, rules) * cfg.head_dim
    rows = _cache_rows(prog.rows, mesh, rules)
    return 2 * cfg.num_layers * rows * prog.slots * kv * jnp.dtype(cfg.dtype).itemsize + rows * prog.slots * 4


def decode_state_bytes(mesh: MeshSizes, prog: GenProgram, rules=DEFAULT_RULES) -> int:
    """Generated tokens (int32) and their log-probs (float32) [rows, G], plus per-row counters."""
    rows = _cache_rows(prog.rows, mesh, rules)
    return rows * prog.gen_slots * 8 + rows * 16


def prefill_items(cfg: ModelConfig, leaves, mesh: MeshSizes, prog: GenProgram, rules=DEFAULT_RULES,
                  platform: str = "") -> list[Item]:
    """A refill beside the pool (per device): the prefill of ``C`` prompts, then their insert into ``C x n`` rows.

    The prefill's outputs (the prompts' [L, C, P] cache and [C, V] logits) are alive in both
    programs; the prefill's layer working set and the insert's temporaries (the prompt cache
    gathered into its ``C x n`` destination rows, the first tokens' sampling) are not alive
    together, so only the larger counts.
    """
    w = _local_widths(cfg, mesh, rules)
    dt = jnp.dtype(cfg.dtype).itemsize
    # Prefill and insert rows are batch-sharded only when the batch axes divide them (Sampler._put).
    local = lambda r: r // mesh.batch_ways if r % mesh.batch_ways == 0 else r  # noqa: E731
    bp, m = local(prog.prefill_rows), local(prog.prefill_rows * prog.n)
    p = prog.prompt_len
    prompt_cache = 2 * cfg.num_layers * bp * p * w.kv * dt + bp * p * 4 + bp * w.vocab * F32
    tok = bp * p
    # Attention runs over blocks of Q_BLOCK queries, the last reading the prompt's p slots
    # (models.layers.attend); the keys/values are re-laid out per kv head once per layer.
    qb = min(p, Q_BLOCK)
    attn = (PREFILL_SCORE_BLOCKS * bp * w.heads * qb * p * F32 + bp * w.heads * qb * p + 2 * bp * p * w.kv * dt
            + tok * (2 * w.mlp + 3 * w.hidden) * dt)
    weights = layer_weight_bytes(leaves, cfg, mesh, cfg.param_dtype, rules)
    if jnp.dtype(cfg.dtype) != jnp.dtype(cfg.param_dtype):
        weights += layer_weight_bytes(leaves, cfg, mesh, cfg.dtype, rules)
    what = "one layer's weights"
    if platform == "tpu" and jnp.dtype(cfg.param_dtype).itemsize > 2:  # hoisted casts, as in the decode loop
        stacked = sum(local_elements(q.shape, q.axes, mesh, rules) for q in leaves if q.axes and q.axes[0] == "layers")
        weights, what = 2 * stacked, "bfloat16 copies of every layer's weights hoisted out of the scan (TPU)"
    insert = 2 * cfg.num_layers * m * p * w.kv * dt + SAMPLING_BLOCKS * m * w.vocab * F32
    items = [Item("prompt cache", prompt_cache, f"prefill outputs: {prog.prefill_rows} prompts' k/v over {p} slots "
                                                "and their last logits")]
    if attn + weights >= insert:
        items.append(Item("prefill layer working set", attn + weights,
                          f"{PREFILL_SCORE_BLOCKS} f32 [{bp}, {w.heads}, {qb}, {p}] attention blocks, {what}"))
    else:
        items.append(Item("insert working set", insert, f"the prompt cache gathered into {prog.prefill_rows} x "
                          f"{prog.n} rows, {SAMPLING_BLOCKS} x [{m}, {w.vocab}] sampling"))
    return items


def _tpu_decode_items(cfg: ModelConfig, leaves, mesh: MeshSizes, prog: GenProgram, rows: int, vocab: int,
                      rules=DEFAULT_RULES) -> list[Item]:
    """Temporaries of the decode loop as the TPU compiler lays it out (TPU_DECODE_CACHE_COPIES)."""
    stacked = sum(local_elements(p.shape, p.axes, mesh, rules) for p in leaves if p.axes and p.axes[0] == "layers")
    casts = stacked * 2 if jnp.dtype(cfg.param_dtype).itemsize > 2 else 0
    gathered = mesh.fsdp * mesh.data > 1
    head = head_weight_bytes(cfg, mesh, cfg.dtype, rules) if gathered or jnp.dtype(cfg.dtype).itemsize > 2 else 0
    lanes = -(-cfg.head_dim // TPU_LANES) * TPU_LANES
    copy = TPU_DECODE_CACHE_COPIES * kv_cache_bytes(cfg, mesh, prog, rules) * lanes // cfg.head_dim
    return [Item("KV cache layout copy", copy, "the decode loop's tiled layout"
                 + (f", head_dim {cfg.head_dim} padded to {lanes} lanes" if lanes != cfg.head_dim else "") + " (TPU)"),
            Item("decode weight casts", casts + head, "bfloat16 copies of every layer's weights hoisted out of "
                 "the loop" + (", the output head gathered/cast" if head else "") + " (TPU)"),
            Item("sampling", SAMPLING_BLOCKS * rows * vocab * F32, f"{SAMPLING_BLOCKS} x [{rows}, {vocab}]")]


def decode_items(cfg: ModelConfig, leaves, mesh: MeshSizes, prog: GenProgram, rules=DEFAULT_RULES,
                 platform: str = "") -> list[Item]:
    """Temporaries of one decode step (per device); ``platform="tpu"``: of the TPU compiler's decode loop."""
    w = _local_widths(cfg, mesh, rules)
    rows = _cache_rows(prog.rows, mesh, rules)
    dt = jnp.dtype(cfg.dtype).itemsize
    if platform == "tpu":
        return _tpu_decode_items(cfg, leaves, mesh, prog, rows, w.vocab, rules)
    layer_kv = 2 * rows * prog.slots * w.kv * dt  # one layer's keys/values re-laid out for the attention dot
    weights = layer_weight_bytes(leaves, cfg, mesh, cfg.param_dtype, rules)
    note = "one layer's k/v and weights"
    if mesh.fsdp * mesh.data > 1 or jnp.dtype(cfg.dtype) != jnp.dtype(cfg.param_dtype):
        # The decode loop gathers (or casts) the whole output head once and re-lays it out: two copies.
        weights += 2 * head_weight_bytes(cfg, mesh, cfg.dtype, rules)
        note += ", the output head gathered/cast (2 copies)"
    return [Item("decode layer working set", layer_kv + weights, note),
            Item("sampling", SAMPLING_BLOCKS * rows * w.vocab * F32, f"{SAMPLING_BLOCKS} x [{rows}, {w.vocab}]")]


# ---------------------------------------------------------------------------------------------
# The plan.


def plan(cfg: ModelConfig, mesh: MeshSizes, wl: Workload, *, device_memory: int = 0, headroom: float = 0.1,
         model_name: str = "", rules=DEFAULT_RULES, platform: str = "") -> Plan:
    """Every phase's per-device bytes for ``cfg`` trained with workload ``wl`` on ``mesh``.

    ``platform``: "tpu" for the TPU compiler's layouts (see the TPU_* terms above), "" for the
    figures measured with XLA's CPU compiler (the default everywhere else).
    """
    leaves = param_leaves(cfg)
    params = param_bytes(leaves, mesh, cfg.param_dtype, rules)
    resident = [Item("parameters", params, f"{jnp.dtype(cfg.param_dtype).name} master weights"),
                Item("optimizer state", 2 * params, "AdamW first and second moments (parameter dtype)")]
    if wl.reference == "device":
        resident.append(Item("reference parameters", params, "frozen copy for the KL term (rl.loss.beta > 0)"))
    phases = []
    gmesh = wl.gen_mesh or mesh
    local = []
    if wl.processes > 1:  # each host generates with its own copy of the policy on its local devices
        local = [Item("host-local parameter copy", param_bytes(leaves, gmesh, cfg.param_dtype, rules),
                      f"the policy re-sharded on this host's mesh ({gmesh}) for generation")]
    builders = (("prefill", lambda *a: prefill_items(*a, platform=platform)),
                ("decode", lambda *a: decode_items(*a, platform=platform)))
    for tag, build in builders:
        progs = [(p, build(cfg, leaves, gmesh, p, rules)) for p in wl.generation]
        best = max(progs, key=lambda x: kv_cache_bytes(cfg, gmesh, x[0], rules) + sum(i.bytes for i in x[1]))
        prog, temps = best
        state = [Item("KV cache", kv_cache_bytes(cfg, gmesh, prog, rules),
                      f"turn {prog.turn}: pool of {prog.rows} rows x ({prog.gen_slots}+{prog.prompt_len}) "
                      "slots"),
                 Item("decode state", decode_state_bytes(gmesh, prog, rules), "tokens and log-probs")]
        phases.append(Phase(f"generate: {tag}", tuple(resident + local + state + temps), prog))
    batch = Item("train micro-batch", batch_bytes(wl, mesh, rules),
                 f"[{wl.micro_batch}, {wl.seq_len}] arrays (one of {wl.num_micro} per update)")
    if wl.reference != "none":
        w = _local_widths(cfg, mesh, rules)
        rows = local_rows(wl.micro_batch, mesh, rules)
        t = wl.seq_len
        ref_resident = resident if wl.reference == "device" else resident + [
            Item("reference parameters", params, "moved from host for this call (train.reference_on_host)")]
        fwd = _layer_working(w, rows, t, t, mask=False) + layer_weight_bytes(leaves, cfg, mesh, cfg.dtype, rules)
        logits = LOGITS_BLOCKS * rows * t * w.vocab * F32
        phases.append(Phase("reference log-probs", tuple(ref_resident + [
            batch, Item("forward working set", max(fwd, logits),
                        f"full [{rows}, {t}, {w.vocab}] f32 logits (not chunked)" if logits > fwd else "attention")])))
    grads = Item("gradient accumulator", params, "summed over micro-batches (parameter dtype)")
    phases.append(Phase("train: micro-batch", tuple(
        resident + [batch, grads, Item("micro-batch gradients", params, "this micro-batch's gradients")]
        + train_items(cfg, leaves, mesh, wl, rules, platform))))
    phases.append(Phase("train: optimizer update", tuple(resident + [batch, grads, Item(
        "update temporaries", int((TPU_UPDATE_FACTOR if platform == "tpu" else UPDATE_FACTOR) * params),
        "new parameters and moments beside the old ones")])))
    notes = []
    if wl.micro_batch % mesh.batch_ways:
        notes.append(f"the global micro-batch of {wl.micro_batch} rows is not a multiple of data*fsdp="
                     f"{mesh.batch_ways}: training will refuse this mesh")
    return Plan(model=model_name, num_params=cfg.num_params(), mesh=mesh, device_memory=int(device_memory),
                headroom=float(headroom), phases=tuple(phases), notes=tuple(notes))
