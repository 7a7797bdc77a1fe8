"""The jitted, sharded train step: GRPO loss, micro-batch gradient accumulation, one optimizer update.

One update is two jitted programs with explicit shardings and donated
buffers: ``accumulate`` adds one micro-batch's gradient (and metric sums) into
an accumulator, ``apply`` clips, runs the optimizer and updates the state.
Splitting them lets every micro-batch keep its own length bucket (turn-1 and
turn-3 sequences of a tree differ several-fold in length): one program per
bucket length, none padded to the step's longest sequence. An all-padding
micro-batch (multi-host alignment) is skipped with ``lax.cond``.

Packed micro-batches (``murphy_jax.rl.packing``, ``rl.batch.layout="packed"``)
all share one shape [mb, pack_len], so one accumulate program serves the whole
run. They carry ``segment_ids``/``prefix_ids`` (attention stays inside each
packed row and its shared prompt prefix) and ``logit_index`` [mb, rows,
slot]: the LM head runs only on those positions, and each slot is one
original sequence, so the per-token arrays [mb, rows, slot] feed the loss
exactly as unpacked rows would. Bucketed micro-batches carry zero-width
placeholders for these keys (``split_micro_batches``), so one key set serves both.

Each micro-batch loss is normalised by the whole update's token/sequence
counts (``norms``), so the accumulated gradient equals the gradient of one big
batch (tested for every aggregation). A non-finite loss or gradient leaves the
state unchanged (the update is selected away) and is reported in the metrics;
the trainer then stops or skips as configured.
"""
from __future__ import annotations

import functools
from typing import Iterable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from murphy_jax.models.config import ModelConfig
from murphy_jax.models.layers import forward, hidden_states, logits_from_hidden
from murphy_jax.models.sharding import batch_sharding
from murphy_jax.rl.loss import grpo_loss, token_entropy, token_logprobs
from murphy_jax.train.state import TrainState

BATCH_KEYS = ("input_ids", "targets", "positions", "valid", "loss_mask", "advantages", "old_logprobs")
# Packed-layout arrays; [n, 0] placeholders in a bucketed micro-batch.
PACK_KEYS = ("segment_ids", "prefix_ids", "logit_index")
TRAIN_KEYS = BATCH_KEYS + PACK_KEYS  # every array a trainer micro-batch carries to the devices
# How per-micro-batch metrics combine over an update: token-weighted means, maxima, and (the rest) sums.
_TOKEN_MEANS = ("clip_frac", "clip_frac_low", "clip_frac_high", "approx_kl", "entropy", "kl_ref", "ratio_mean")
_MAXIMA = ("ratio_max",)


def logits_window(seq_len: int, response_window: int, chunk: int = 0) -> int:
    """W: positions per row whose logits a [mb, seq_len] micro-batch computes (seq_len when windowing is off).

    ``response_window`` is the longest trained span of a row (the sampler's max
    new tokens); it is rounded up to a multiple of ``chunk`` so chunking still divides it.
    """
    if not response_window or response_window >= seq_len:
        return seq_len
    w = -(-response_window // chunk) * chunk if chunk and response_window > chunk else response_window
    return min(w, seq_len)


def check_response_window(loss_mask: np.ndarray, window: int) -> None:
    """Raise unless every row's trained span (first to last loss token) fits in ``window`` positions."""
    mask = np.asarray(loss_mask, bool)
    rows = mask.any(-1)
    if not window or not rows.any():
        return
    first = mask.argmax(-1)
    last = mask.shape[-1] - 1 - mask[:, ::-1].argmax(-1)
    span = int(np.max(np.where(rows, last - first + 1, 0)))
    if span > window:
        raise ValueError(f"a row trains {span} tokens but the train step computes logits for {window} positions "
                         "per row (the response window, sampling.max_new_tokens): responses must not be longer")


def _take_window(batch: dict, h, window: int):
    """Row b's ``window`` positions from its first trained one (kept inside the row): h and the per-token arrays."""
    t = h.shape[1]
    start = jnp.minimum(jnp.argmax(batch["loss_mask"], axis=1), t - window)
    idx = start[:, None] + jnp.arange(window)[None, :]
    h = jnp.take_along_axis(h, idx[..., None], axis=1)
    per_token = ("targets", "loss_mask", "advantages", "old_logprobs", "ref_logprobs")
    return {k: (jnp.take_along_axis(v, idx, axis=1) if k in per_token else v) for k, v in batch.items()}, h


def is_packed(batch: dict) -> bool:
    """Whether ``batch`` is in the packed layout (``logit_index`` [mb, rows, slot]); static under jit."""
    return "logit_index" in batch and batch["logit_index"].ndim == 3


def _packed_chunk(rows: int, slot: int, chunk: int) -> int:
    """A logit chunk that divides rows * slot: whole slots, as many as fit in ``chunk`` positions (0 = off)."""
    if not chunk or rows * slot <= chunk:
        return 0
    k = max(d for d in range(1, rows + 1) if rows % d == 0 and (d == 1 or d * slot <= chunk))
    return k * slot


def _packed_hidden(cfg: ModelConfig, params, batch: dict, act_sharding=None):
    """Hidden states [mb, rows * slot, hidden] at the packed batch's trained positions (``logit_index``)."""
    positions = jnp.where(batch["valid"], batch["positions"], -1)
    h, _ = hidden_states(cfg, params, batch["input_ids"], positions, act_sharding=act_sharding,
                         segment_ids=batch["segment_ids"], prefix_ids=batch["prefix_ids"])
    b, rows, slot = batch["logit_index"].shape
    idx = batch["logit_index"].reshape(b, rows * slot)
    return jnp.take_along_axis(h, idx[..., None], axis=1)


def _logprobs_and_entropy(cfg: ModelConfig, params, h, targets, temperature: float, chunk: int):
    def piece(h_part, targets_part):
        logits = logits_from_hidden(cfg, params, h_part)
        if temperature != 1.0:
            logits = logits / temperature
        return token_logprobs(logits, targets_part), jax.lax.stop_gradient(token_entropy(logits))

    b, t, _ = h.shape
    if not chunk or t <= chunk:
        return piece(h, targets)
    # Only [b, chunk, vocab] logits are live at a time; the chunk is recomputed in the backward pass.
    n = t // chunk
    hs = jnp.moveaxis(h.reshape(b, n, chunk, -1), 1, 0)
    ts = jnp.moveaxis(targets.reshape(b, n, chunk), 1, 0)
    lp, ent = jax.lax.map(lambda xs: jax.checkpoint(piece)(*xs), (hs, ts))
    return jnp.moveaxis(lp, 0, 1).reshape(b, t), jnp.moveaxis(ent, 0, 1).reshape(b, t)


def micro_loss(params, batch: dict, norms: dict, *, cfg: ModelConfig, loss_kw: dict, temperature: float = 1.0,
               logits_chunk: int = 0, act_sharding=None, response_window: int = 0):
    """GRPO loss of one micro-batch [mb, T] (normalised by the step-wide counts in ``norms``) and its metrics.

    With ``response_window`` W < T, the LM head and log-softmax run only on W
    positions per row, starting at its first trained token: a multi-turn
    prompt (task + earlier attempts + feedback) is most of a row but needs no
    logits, and the head is a fifth of a small model's FLOPs and its largest
    activation ([mb, T, vocab]). Same loss and gradient as without the window
    as long as no row trains more than W tokens (``check_response_window``).
    A packed micro-batch (``is_packed``) gathers its trained positions
    (``logit_index``) instead; ``response_window`` does not apply to it.
    """
    if is_packed(batch):
        return _packed_loss(params, batch, norms, cfg=cfg, loss_kw=loss_kw, temperature=temperature,
                            logits_chunk=logits_chunk, act_sharding=act_sharding)
    positions = jnp.where(batch["valid"], batch["positions"], -1)
    h, _ = hidden_states(cfg, params, batch["input_ids"], positions, act_sharding=act_sharding)
    t = h.shape[1]
    window = logits_window(t, response_window, logits_chunk)
    if window < t:
        batch, h = _take_window(batch, h, window)
        if loss_kw.get("aggregation") == "seq_mean_token_sum_norm" and loss_kw.get("norm_len") is None:
            loss_kw = {**loss_kw, "norm_len": t}  # its default divisor is the row length, not the window's
    logp, ent = _logprobs_and_entropy(cfg, params, h, batch["targets"], temperature, logits_chunk)
    loss, metrics = grpo_loss(logp, batch["old_logprobs"], batch["advantages"], batch["loss_mask"],
                              ref_logprobs=batch.get("ref_logprobs"), entropy=ent,
                              num_tokens=norms["num_tokens"], num_seqs=norms["num_seqs"], **loss_kw)
    return loss, metrics


def _packed_loss(params, batch: dict, norms: dict, *, cfg: ModelConfig, loss_kw: dict, temperature: float,
                 logits_chunk: int, act_sharding):
    """``micro_loss`` of a packed micro-batch: per-token arrays [mb, rows, slot], one slot per original sequence."""
    b, rows, slot = batch["logit_index"].shape
    h = _packed_hidden(cfg, params, batch, act_sharding)
    logp, ent = _logprobs_and_entropy(cfg, params, h, batch["targets"].reshape(b, rows * slot), temperature,
                                      _packed_chunk(rows, slot, logits_chunk))
    if loss_kw.get("aggregation") == "seq_mean_token_sum_norm" and loss_kw.get("norm_len") is None:
        loss_kw = {**loss_kw, "norm_len": batch["input_ids"].shape[1]}  # the row-length default: pack_len
    ref = batch.get("ref_logprobs")
    return grpo_loss(logp.reshape(b, rows, slot), batch["old_logprobs"], batch["advantages"], batch["loss_mask"],
                     ref_logprobs=ref, entropy=ent.reshape(b, rows, slot), num_tokens=norms["num_tokens"],
                     num_seqs=norms["num_seqs"], **loss_kw)


class Accum(NamedTuple):
    """Gradient sum (parameter dtype and shardings) and metric sums over the micro-batches so far."""

    grads: dict
    sums: dict


class TrainStep:
    """``step(state, micro_batches, norms) -> (state, metrics)`` built from two jitted programs.

    ``accumulate(params, acc, micro_batch, norms) -> acc`` (acc donated) and
    ``apply(state, acc) -> (state, metrics)`` (state donated), both
    with explicit in/out shardings when a mesh is given.
    """

    def __init__(self, cfg: ModelConfig, tx: optax.GradientTransformation, *, loss_kw: dict,
                 temperature: float = 1.0, logits_chunk: int = 0, state_shardings=None, mesh: Mesh | None = None,
                 with_ref: bool = False, response_window: int = 0, schedule=None):
        loss_kw = dict(loss_kw)
        self.response_window = int(response_window)
        # Activations follow the batch rows: [mb, T, hidden] split over the data*fsdp devices.
        act = NamedSharding(mesh, P(*batch_sharding(mesh, 3).spec)) if mesh is not None else None

        def one(params, mb, norms):
            return micro_loss(params, mb, norms, cfg=cfg, loss_kw=loss_kw, temperature=temperature,
                              logits_chunk=logits_chunk, act_sharding=act, response_window=response_window)

        self._one = one
        grad_fn = jax.value_and_grad(one, has_aux=True)

        def accumulate(params, acc: Accum, mb: dict, norms: dict) -> Accum:
            tokens = mb["loss_mask"].sum().astype(jnp.float32)

            def run(_):
                (loss, m), g = grad_fn(params, mb, norms)
                sums = {k: _combine(k, acc.sums[k], m[k], tokens) for k in acc.sums if k not in ("loss", "tokens")}
                sums.update(loss=acc.sums["loss"] + loss, tokens=acc.sums["tokens"] + tokens)
                return Accum(jax.tree.map(jnp.add, acc.grads, g), sums)

            return jax.lax.cond(tokens > 0, run, lambda _: acc, None)

        def apply(state: TrainState, acc: Accum):
            total = jnp.maximum(acc.sums["tokens"], 1.0)
            metrics = {k: (v / total if k in _TOKEN_MEANS else v) for k, v in acc.sums.items() if k != "tokens"}
            grad_norm = optax.tree.norm(acc.grads)
            finite = jnp.isfinite(metrics["loss"]) & jnp.isfinite(grad_norm)
            updates, opt_state = tx.update(acc.grads, state.opt_state, state.params)
            params = optax.apply_updates(state.params, updates)
            new = TrainState(state.step + 1, params, opt_state, state.rng)
            keep = lambda n, o: jnp.where(finite, n, o)  # noqa: E731  (a bad update is never applied)
            metrics.update(grad_norm=grad_norm, finite=finite.astype(jnp.float32), trained_tokens=acc.sums["tokens"])
            if schedule is not None:  # the rate this update used (read before the count advances), not the next one's
                metrics["lr"] = jnp.asarray(schedule(state.step), jnp.float32) * finite
            return jax.tree.map(keep, new, state), metrics

        self._with_ref = with_ref
        if mesh is None:
            self.accumulate = jax.jit(accumulate, donate_argnums=1)
            self.apply = jax.jit(apply, donate_argnums=0)
            self._acc_shardings = None
            return
        self._acc_shardings = True
        self._rep, self._mb_sh, self._param_sh = NamedSharding(mesh, P()), micro_batch_shardings(mesh, with_ref), \
            state_shardings.params
        self._accumulate_fn, self._apply_fn, self._state_sh = accumulate, apply, state_shardings
        self.accumulate = None  # built on first use: the accumulator's metric keys come from tracing the loss
        self.apply = None

    def init_acc(self, params, sample_mb: dict) -> Accum:
        """A zero accumulator: gradients shaped (and sharded) like ``params``, zero metric sums."""
        keys = sorted(set(_metric_keys(self._one, params, sample_mb)) | {"loss", "tokens"})
        if self._acc_shardings is None:
            return Accum(jax.tree.map(jnp.zeros_like, params), {k: jnp.zeros((), jnp.float32) for k in keys})
        if self.accumulate is None:
            acc_sh = Accum(self._param_sh, {k: self._rep for k in keys})
            mb_sh = {k: self._mb_sh[k] for k in sample_mb}  # bucketed or packed key set, fixed for the run
            self.accumulate = jax.jit(self._accumulate_fn, in_shardings=(self._param_sh, acc_sh, mb_sh, None),
                                      out_shardings=acc_sh, donate_argnums=1)
            self.apply = jax.jit(self._apply_fn, in_shardings=(self._state_sh, acc_sh),
                                 out_shardings=(self._state_sh, None), donate_argnums=0)
            # Zeros made on the devices, already sharded: no host copy of a large model's gradients.
            self._zeros = jax.jit(lambda p: Accum(jax.tree.map(jnp.zeros_like, p),
                                                  {k: jnp.zeros((), jnp.float32) for k in keys}),
                                  in_shardings=(self._param_sh,), out_shardings=acc_sh)
        return self._zeros(params)

    def __call__(self, state: TrainState, micro_batches: Iterable[dict], norms: dict):
        """One optimizer update over ``micro_batches`` (each [mb, T]; T may differ between them)."""
        micro_batches = list(micro_batches)
        if not micro_batches:
            raise ValueError("train step: no micro-batches")
        acc = self.init_acc(state.params, micro_batches[0])
        for mb in micro_batches:
            check_response_window(np.asarray(mb["loss_mask"]), self.response_window)
            acc = self.accumulate(state.params, acc, mb, norms)
        return self.apply(state, acc)


def make_train_step(cfg: ModelConfig, tx: optax.GradientTransformation, **kw) -> TrainStep:
    """The trainer's update (see TrainStep); keywords: loss_kw, temperature, logits_chunk, state_shardings, mesh,
    with_ref, response_window (see micro_loss), schedule (the optimizer's lr schedule: metrics then hold ``lr``,
    the rate each update applied, 0 for a skipped non-finite one)."""
    return TrainStep(cfg, tx, **kw)


def _combine(key, acc, value, tokens):
    if key in _TOKEN_MEANS:
        return acc + value * tokens
    if key in _MAXIMA:
        return jnp.maximum(acc, value)
    return acc + value


def _metric_keys(one, params, mb) -> list[str]:
    norms = {"num_tokens": jnp.float32(1), "num_seqs": jnp.float32(1)}
    _, m = jax.eval_shape(one, params, mb, norms)
    return list(m)


def micro_batch_shardings(mesh: Mesh, with_ref: bool = False) -> dict:
    """Micro-batch arrays (TRAIN_KEYS; [mb, T] or packed [mb, rows, slot]): rows over the batch mesh axes."""
    sh = batch_sharding(mesh, 2)  # the trailing axes are replicated whatever their number
    return {k: sh for k in TRAIN_KEYS + (("ref_logprobs",) if with_ref else ())}


def split_micro_batches(rows: dict[str, np.ndarray], micro_batch_size: int,
                        num_micro: int | None = None) -> list[dict[str, np.ndarray]]:
    """[N, T] rows -> list of [mb, T] micro-batches, the last (and any up to ``num_micro``) padded with empty rows.

    An empty row has one visible pad token and nothing trained, so it adds
    nothing to the loss or gradient. The packed-layout keys (PACK_KEYS) come
    out as [mb, 0] placeholders.
    """
    n, t = rows["input_ids"].shape
    count = max(-(-n // micro_batch_size), num_micro or 0)
    total = count * micro_batch_size
    keys = BATCH_KEYS + (("ref_logprobs",) if "ref_logprobs" in rows else ())
    padded = {}
    for k in keys:
        x = rows[k]
        pad = np.zeros((total - n, t), x.dtype)
        if k == "valid":
            pad[:, 0] = True
        padded[k] = np.concatenate([x, pad])
    for k in PACK_KEYS:
        padded[k] = np.zeros((total, 0), np.int32)
    return [{k: v[i * micro_batch_size:(i + 1) * micro_batch_size] for k, v in padded.items()} for i in range(count)]


@functools.partial(jax.jit, static_argnames=("cfg", "temperature"))
def reference_logprobs(params, mb: dict, *, cfg: ModelConfig, temperature: float = 1.0):
    """Token log-probs of the frozen reference policy for the KL term: [mb, T], or [mb, rows, slot] when packed."""
    if is_packed(mb):
        b, rows, slot = mb["logit_index"].shape
        logits = logits_from_hidden(cfg, params, _packed_hidden(cfg, params, mb))
        return token_logprobs(logits / temperature, mb["targets"].reshape(b, rows * slot)).reshape(b, rows, slot)
    positions = jnp.where(mb["valid"], mb["positions"], -1)
    logits = forward(cfg, params, mb["input_ids"], positions)
    return token_logprobs(logits / temperature, mb["targets"])
