"""Measured memory of the real programs: compile the train step and the sampler on abstract inputs, ask XLA.

Nothing is materialised: parameters, optimizer state, batches and caches are
``jax.ShapeDtypeStruct`` with the shardings the trainer uses, so a 7B model
compiles on a laptop. XLA's ``memory_analysis()`` of each compiled program
gives per-device bytes of its arguments, outputs (and how many of them alias
donated arguments) and its temporary buffer, the exact size of the scratch
allocation the program runs with on this backend. A phase's measured peak is

* train step: arguments + temporaries + outputs - aliased (the state is donated);
* prefill / decode: the optimizer state (resident, not an argument) +
  arguments + temporaries + outputs - aliased.

These are the figures the planner is checked against (tests/plan, benchmarks/bench_plan.py).
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import optax
from flax import nnx
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from murphy_jax.models.config import ModelConfig
from murphy_jax.models.decoder import abstract_decoder
from murphy_jax.models.layers import KVCache
from murphy_jax.models.sharding import DEFAULT_RULES, logical_to_spec, param_shardings
from murphy_jax.plan.workload import GenProgram, Workload
from murphy_jax.sampling import engine
from murphy_jax.train.state import TrainState
from murphy_jax.train.step import BATCH_KEYS, make_train_step, micro_batch_shardings

_BATCH_DTYPES = dict(input_ids=jnp.int32, targets=jnp.int32, positions=jnp.int32, valid=jnp.bool_,
                     loss_mask=jnp.bool_, advantages=jnp.float32, old_logprobs=jnp.float32, ref_logprobs=jnp.float32)


def _sds(shape, dtype, sharding=None):
    return jax.ShapeDtypeStruct(tuple(shape), jnp.dtype(dtype), sharding=sharding)


def device_bytes(tree) -> int:
    """Bytes one device holds of a tree of sharded ShapeDtypeStructs."""
    total = 0
    for x in jax.tree.leaves(tree):
        shape = x.sharding.shard_shape(x.shape) if x.sharding is not None else x.shape
        total += math.prod(shape) * jnp.dtype(x.dtype).itemsize
    return total


def abstract_params(cfg: ModelConfig, mesh: Mesh) -> dict:
    """The parameter dict as sharded ShapeDtypeStructs (as ``load_policy`` would place it)."""
    model = abstract_decoder(cfg)
    shardings = param_shardings(model, mesh)
    params = nnx.to_pure_dict(nnx.state(model, nnx.Param))
    return jax.tree.map(lambda x, s: _sds(x.shape, x.dtype, s), params, shardings)


def abstract_state(params: dict, tx: optax.GradientTransformation, mesh: Mesh) -> TrainState:
    """TrainState placeholders with the shardings ``init_state`` gives (moments like their params)."""
    rep = NamedSharding(mesh, P())
    opt = jax.eval_shape(tx.init, params)
    shard = optax.tree_map_params(tx, lambda _, sh: sh, opt, jax.tree.map(lambda x: x.sharding, params),
                                  transform_non_params=lambda _: rep)
    opt = jax.tree.map(lambda x, s: _sds(x.shape, x.dtype, s), opt, shard)
    return TrainState(_sds((), jnp.int32, rep), params, opt, _sds((2,), jnp.uint32, rep))


def _compile(name: str, lower, keep: dict | None):
    """``lower().compile()``; with ``keep``, records (compiled program, seconds) under ``name`` (murphy-compile)."""
    import time

    t0 = time.perf_counter()
    compiled = lower().compile()
    if keep is not None:
        keep[name] = (compiled, time.perf_counter() - t0)
    return compiled


def _stats(compiled) -> dict:
    ma = compiled.memory_analysis()
    return dict(arguments=int(ma.argument_size_in_bytes), outputs=int(ma.output_size_in_bytes),
                aliased=int(ma.alias_size_in_bytes), temporaries=int(ma.temp_size_in_bytes))


def measure_train(cfg: ModelConfig, mesh: Mesh, wl: Workload, tx, *, loss_kw: dict, temperature: float = 1.0,
                  keep: dict | None = None) -> dict:
    """memory_analysis of the trainer's two update programs; ``peak`` is the larger of their peaks.

    ``accumulate`` (one [mb, T] micro-batch into the gradient sum) runs with the
    optimizer state resident beside its arguments; ``apply`` takes state and
    accumulator as arguments.
    """
    state = abstract_state(abstract_params(cfg, mesh), tx, mesh)
    with_ref = wl.reference != "none"
    step = make_train_step(cfg, tx, loss_kw=loss_kw, temperature=temperature, logits_chunk=wl.logits_chunk,
                           state_shardings=jax.tree.map(lambda x: x.sharding, state), mesh=mesh, with_ref=with_ref,
                           response_window=wl.logits_window)
    msh = micro_batch_shardings(mesh, with_ref)
    keys = BATCH_KEYS + (("ref_logprobs",) if with_ref else ())
    mb = {k: _sds((wl.micro_batch, wl.seq_len), _BATCH_DTYPES[k], msh[k]) for k in keys}
    norms = {"num_tokens": _sds((), jnp.float32), "num_seqs": _sds((), jnp.float32)}
    acc = jax.eval_shape(step.init_acc, state.params, mb)
    acc = jax.tree.map(lambda x, p: _sds(x.shape, x.dtype, p), acc,
                       type(acc)(jax.tree.map(lambda x: x.sharding, state.params),
                                 {k: NamedSharding(mesh, P()) for k in acc.sums}))
    a = _stats(_compile("accumulate", lambda: step.accumulate.lower(state.params, acc, mb, norms), keep))
    u = _stats(_compile("apply", lambda: step.apply.lower(state, acc), keep))
    a["resident_optimizer"] = device_bytes(state.opt_state)
    a["peak"] = a["arguments"] + a["temporaries"] + a["outputs"] - a["aliased"] + a["resident_optimizer"]
    u["peak"] = u["arguments"] + u["temporaries"] + u["outputs"] - u["aliased"]
    out = {f"accumulate_{k}": v for k, v in a.items()}
    out.update({f"apply_{k}": v for k, v in u.items()})
    out.update(arguments=a["arguments"], outputs=a["outputs"], aliased=a["aliased"], temporaries=a["temporaries"],
               peak=max(a["peak"], u["peak"]))
    return out


def measure_reference(cfg: ModelConfig, mesh: Mesh, wl: Workload, tx, *, temperature: float = 1.0,
                      keep: dict | None = None) -> dict:
    """memory_analysis of the reference log-prob pass (beta > 0); ``peak`` adds the policy's params and moments."""
    from murphy_jax.train.step import reference_logprobs

    params = abstract_params(cfg, mesh)  # the reference has the policy's shapes and shardings
    state = abstract_state(params, tx, mesh)
    sh = micro_batch_shardings(mesh)
    shape = (wl.micro_batch, wl.seq_len)
    batch = {k: _sds(shape, _BATCH_DTYPES[k], sh[k]) for k in ("input_ids", "positions", "valid", "targets")}
    s = _stats(_compile("reference", lambda: reference_logprobs.lower(params, batch, cfg=cfg, temperature=temperature),
                        keep))
    s["resident_policy"] = device_bytes(state.params) + device_bytes(state.opt_state)
    s["peak"] = s["resident_policy"] + s["arguments"] + s["temporaries"] + s["outputs"] - s["aliased"]
    return s


def _cache_sharding(cfg: ModelConfig, mesh: Mesh, rows: int) -> KVCache:
    # Same constraint as murphy_jax.sampling.sampler.Sampler._cache_sharding.
    shape = (cfg.num_layers, rows, 1, cfg.num_kv_heads, cfg.head_dim)
    kv = NamedSharding(mesh, logical_to_spec(("layers", "batch", None, "kv_heads", "head_dim"), shape, mesh,
                                             DEFAULT_RULES))
    pos = NamedSharding(mesh, logical_to_spec(("batch", None), (rows, 1), mesh, DEFAULT_RULES))
    return KVCache(kv, kv, pos)


def _rows_sharding(mesh: Mesh, rows: int, ndim: int) -> NamedSharding:
    # Sampler._put: batch-shard the leading dim when the batch axes divide it, else replicate.
    ways = mesh.shape["data"] * mesh.shape["fsdp"]
    lead = tuple(a for a in ("data", "fsdp") if mesh.shape[a] > 1)
    if rows % ways or not lead:
        return NamedSharding(mesh, P())
    return NamedSharding(mesh, P(lead[0] if len(lead) == 1 else lead, *([None] * (ndim - 1))))


def measure_generation(cfg: ModelConfig, mesh: Mesh, prog: GenProgram, tx, keep: dict | None = None,
                       programs=("prefill", "decode")) -> dict:
    """memory_analysis of the sampler's prefill and decode programs for ``prog``; peaks include the optimizer state."""
    params = abstract_params(cfg, mesh)
    opt_bytes = device_bytes(abstract_state(params, tx, mesh).opt_state)
    mode = engine.Mode(greedy=False, top_k=0, use_top_p=False)
    rep = NamedSharding(mesh, P())
    controls = engine.Controls(_sds((2,), jnp.uint32, rep), _sds((), jnp.float32, rep), _sds((), jnp.float32, rep),
                               _sds((4,), jnp.int32, rep))
    bp, rows = prog.prompts, prog.rows
    rs = lambda n, nd=1: _rows_sharding(mesh, n, nd)  # noqa: E731
    cache_sh = _cache_sharding(cfg, mesh, rows)
    prompts = (_sds((bp, prog.prompt_len), jnp.int32, rs(bp, 2)), _sds((bp,), jnp.int32, rs(bp)),
               _sds((bp,), jnp.bool_, rs(bp)), _sds((rows,), jnp.int32, rs(rows)))
    out = {}
    if "prefill" in programs:
        out["prefill"] = _compile("prefill", lambda: engine.prefill.lower(
            params, *prompts, controls, cfg=cfg, n=prog.n, gen_slots=prog.gen_slots, mode=mode,
            cache_sharding=cache_sh), keep)
    shape = (cfg.num_layers, rows, prog.slots, cfg.num_kv_heads, cfg.head_dim)
    r1, r2 = rs(rows), rs(rows, 2)
    state = engine.DecodeState(
        KVCache(_sds(shape, cfg.dtype, cache_sh.k), _sds(shape, cfg.dtype, cache_sh.v),
                _sds((rows, prog.slots), jnp.int32, cache_sh.pos)),
        _sds((rows, prog.gen_slots), jnp.int32, r2), _sds((rows, prog.gen_slots), jnp.float32, r2),
        _sds((rows,), jnp.int32, r1), _sds((rows,), jnp.bool_, r1), _sds((rows,), jnp.int32, r1),
        _sds((rows,), jnp.int32, r1), _sds((), jnp.int32, rep))
    if "decode" in programs:
        out["decode"] = _compile("decode", lambda: engine.decode.lower(
            params, state, _sds((), jnp.int32, rep), controls, cfg=cfg, prompt_slots=prog.prompt_len, mode=mode), keep)
    for name, comp in out.items():
        s = _stats(comp)
        s["resident_optimizer"] = opt_bytes
        s["peak"] = opt_bytes + s["arguments"] + s["temporaries"] + s["outputs"] - s["aliased"]
        out[name] = s
    return out
