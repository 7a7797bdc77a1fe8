"""One decode step of SmolLM2-135M, reference layout vs decode layouts, interleaved A/B in one run.

    python benchmarks/bench_decode_step.py [--batches 1,8] [--repeats 5] [--steps 32] [--int8]

Times a jitted ``fori_loop`` of ``--steps`` greedy decode steps (``layers.forward``
with a donated KV cache of 192 slots, 40 filled) for: ``ref`` (per-layer
unstacked parameters, the Sampler's current decode layout), ``model``
(``prepare_decode_params``: fused 2-D kernels) and, with ``--int8``, ``int8``.
Variants alternate within each repeat; medians are reported with the fraction
of the read-bandwidth ceiling (decode-read bytes / jitted-sum read bandwidth).
Also prints the max logit difference of one step against ``ref``.
"""
from __future__ import annotations

import argparse
import functools
import statistics
import time

import jax
import jax.numpy as jnp

from murphy_jax.models import from_pretrained
from murphy_jax.models.layers import KVCache, forward, unstack_layers
from murphy_jax.models.smollm2 import ensure_smollm2
from murphy_jax.sampling.decode_params import prepare_decode_params
from murphy_jax.utils.benchmarking import machine, read_bandwidth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=32)
    ap.add_argument("--int8", action="store_true")
    args = ap.parse_args()
    model = from_pretrained(ensure_smollm2(prefer_hub=False), dtype=jnp.float32)
    cfg, params = model.config, model.params()
    variants = {"ref": unstack_layers(params), "model": prepare_decode_params(params, cfg)}
    if args.int8:
        variants["int8"] = prepare_decode_params(params, cfg, weights="int8")

    @functools.partial(jax.jit, static_argnames=("steps",), donate_argnames=("cache",))
    def loop(p, cache, tok, pos0, *, steps):
        def body(i, carry):
            cache, tok = carry
            logits, cache = forward(cfg, p, tok[:, None], (pos0 + i)[:, None], cache, 40 + i)
            lp = jax.nn.log_softmax(logits[:, 0], -1)  # what the greedy sampler computes
            t = jnp.argmax(logits[:, 0], -1).astype(jnp.int32)
            return cache, t + 0 * jnp.take_along_axis(lp, t[:, None], -1)[:, 0].astype(jnp.int32)
        return jax.lax.fori_loop(0, steps, body, (cache, tok))

    def fresh(b):
        c = KVCache.zeros(cfg, b, 192)
        return c._replace(pos=c.pos.at[:, :40].set(jnp.arange(40)))

    print(f"machine: {machine()}")
    bw = read_bandwidth()
    print(f"read bandwidth {bw / 1e9:.1f} GB/s")
    nbytes = {n: sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(p) if x.ndim >= 1) for n, p in
              variants.items()}
    for b in (int(x) for x in args.batches.split(",")):
        tok, pos0 = jnp.ones((b,), jnp.int32), jnp.full((b,), 40, jnp.int32)
        step = jax.jit(lambda p, c: forward(cfg, p, tok[:, None] * 7, pos0[:, None], c, 40)[0])
        ref = step(variants["ref"], fresh(b))
        times = {n: [] for n in variants}
        for n, p in variants.items():
            print(f"batch {b} {n}: max |logit - ref| {float(jnp.max(jnp.abs(step(p, fresh(b)) - ref))):.2e}")
            jax.block_until_ready(loop(p, fresh(b), tok, pos0, steps=args.steps))
        for _ in range(args.repeats):
            for n, p in variants.items():
                t = time.perf_counter()
                jax.block_until_ready(loop(p, fresh(b), tok, pos0, steps=args.steps))
                times[n].append((time.perf_counter() - t) / args.steps)
        base = statistics.median(times["ref"])
        for n, ts in times.items():
            m = statistics.median(ts)
            print(f"batch {b} {n}: {m * 1e3:.1f} ms/step ({b / m:.1f} tok/s), {base / m:.2f}x ref, "
                  f"read-ceiling fraction {nbytes[n] / bw / m:.2f} (all {[round(x * 1e3, 1) for x in ts]})",
                  flush=True)


if __name__ == "__main__":
    main()
