"""Measured memory of the real programs: compile the train step and the sampler on abstract inputs, ask XLA.

Nothing is materialised: parameters, optimizer state, batches and caches are
``jax.ShapeDtypeStruct`` with the shardings the trainer uses, so a 7B model
compiles on a laptop. XLA's ``memory_analysis()`` of each compiled program
gives per-device bytes of its arguments, outputs (and how many of them alias
donated arguments) and its temporary buffer, the exact size of the scratch
allocation the program runs with on this backend. A phase's measured peak is

* train step: arguments + temporaries + outputs - aliased (the state is donated);
* the sampler's pool programs (new_pool, prefill, insert, decode): the optimizer
  state (resident, not an argument) + arguments + temporaries + outputs - aliased,
  plus the decode pool for prefill (the pool stays on the devices while a
  prefill runs; the other programs take it as an argument).

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


def _like(tree, shardings):
    """ShapeDtypeStructs of ``tree``'s shapes with the given shardings (a compiled program's outputs)."""
    return jax.tree.map(lambda x, sh: _sds(x.shape, x.dtype, sh), tree, shardings)


GEN_PROGRAMS = ("new_pool", "prefill", "insert", "decode")


def measure_generation(cfg: ModelConfig, mesh: Mesh, prog: GenProgram, tx, keep: dict | None = None,
                       programs=GEN_PROGRAMS) -> dict:
    """memory_analysis of the sampler's pool programs for ``prog`` (``engine.py``); peaks include the optimizer state.

    ``new_pool`` allocates the pool (R rows, G + P slots); ``prefill`` runs the largest
    batch (C prompts x P) while the pool stays resident beside it; ``insert`` puts their
    n samples into the (donated) pool; ``decode`` runs the pool's loop. Each later program
    takes its inputs with the shardings the earlier one's compiled outputs have, as at run time.
    """
    params = abstract_params(cfg, mesh)
    opt_bytes = device_bytes(abstract_state(params, tx, mesh).opt_state)
    mode = engine.Mode(greedy=False, top_k=0, use_top_p=False)
    rep = NamedSharding(mesh, P())
    controls = engine.Controls(_sds((2,), jnp.uint32, rep), _sds((), jnp.float32, rep), _sds((), jnp.float32, rep),
                               _sds((4,), jnp.int32, rep), _sds((), jnp.int32, rep))
    rows, rb = prog.rows, prog.prefill_rows
    rs = lambda n, nd=1: _rows_sharding(mesh, n, nd)  # noqa: E731  (Sampler._put)
    cache_sh = _cache_sharding(cfg, mesh, rows)
    compiled = {}
    # new_pool is compiled even when not asked for: its outputs' shardings are the pool's at run time.
    compiled["new_pool"] = _compile("new_pool", lambda: engine.new_pool.lower(
        cfg=cfg, rows=rows, prompt_slots=prog.prompt_len, gen_slots=prog.gen_slots, cache_sharding=cache_sh),
        keep if "new_pool" in programs else None)
    pool = _like(jax.eval_shape(lambda: engine.new_pool(cfg=cfg, rows=rows, prompt_slots=prog.prompt_len,
                                                        gen_slots=prog.gen_slots)),
                 compiled["new_pool"].output_shardings)
    lens = _sds((rb,), jnp.int32, rs(rb))
    if "prefill" in programs or "insert" in programs:
        ids = _sds((rb, prog.prompt_len), jnp.int32, rs(rb, 2))
        compiled["prefill"] = _compile("prefill", lambda: engine.prefill.lower(params, ids, lens, cfg=cfg),
                                       keep if "prefill" in programs else None)
    if "insert" in programs:
        out = jax.eval_shape(lambda p, i, ln: engine.prefill(p, i, ln, cfg=cfg), params, ids, lens)
        pcache, logits = _like(out, compiled["prefill"].output_shardings)
        m = rb * prog.n
        compiled["insert"] = _compile("insert", lambda: engine.insert.lower(
            pool, pcache, logits, lens, _sds((m,), jnp.int32, rs(m)), _sds((m,), jnp.int32, rs(m)), controls,
            n=prog.n, mode=mode, cache_sharding=cache_sh), keep)
    if "decode" in programs:
        compiled["decode"] = _compile("decode", lambda: engine.decode.lower(
            params, pool, _sds((), jnp.int32, rep), _sds((), jnp.int32, rep), controls, cfg=cfg, mode=mode), keep)
    out = {}
    for name in programs:
        s = _stats(compiled[name])
        # The pool is resident beside the prefill (it is an argument of every other pool program).
        s["resident_optimizer"] = opt_bytes
        s["resident_pool"] = device_bytes(pool) if name == "prefill" else 0
        s["peak"] = opt_bytes + s["resident_pool"] + s["arguments"] + s["temporaries"] + s["outputs"] - s["aliased"]
        out[name] = s
    return out
