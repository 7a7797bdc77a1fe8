"""Whole-model prefill: scanned layers (what the sampler prefills with) vs unrolled layers, same run.

    python benchmarks/bench_prefill.py [--model smollm2] [--shapes 16x192,8x512,8x1024]

On XLA's CPU backend the sampler decodes over unrolled per-layer weights (a scanned decode
step copies every layer's weights out of the stack), but prefills with a scan over the
stacked weights. This prints, per ``ROWSxPROMPT`` shape, the compile seconds and the median
run seconds of ``engine.prefill`` in both layouts (baseline: unrolled, the layout prefill
used before), their ratios, and whether both give the same greedy first tokens (argmax of the
last-token logits ``engine.prefill`` returns with the prompts' cache). Compilation
matters as much as running: a multi-turn evaluation or a short training run meets many
prompt buckets once each.
"""
from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from murphy_jax.models import from_pretrained
from murphy_jax.models.layers import unstack_layers
from murphy_jax.sampling import engine
from murphy_jax.utils.benchmarking import machine, time_fn


def _inputs(rows: int, prompt: int, vocab: int):
    r = np.random.default_rng(0)
    ids = jnp.asarray(r.integers(0, min(vocab, 30_000), (rows, prompt)), jnp.int32)
    lens = jnp.asarray(r.integers(prompt // 2, prompt + 1, (rows,)), jnp.int32)  # ragged, as after bucketing
    return ids, lens


def case(cfg, layouts: dict, rows: int, prompt: int, repeats: int) -> None:
    args = _inputs(rows, prompt, cfg.vocab_size)
    got = {}
    for name, params in layouts.items():
        t0 = time.perf_counter()
        fn = engine.prefill.lower(params, *args, cfg=cfg).compile()
        compile_s = time.perf_counter() - t0
        run_s = time_fn(fn, params, *args, repeats=repeats, warmup=1)
        got[name] = (compile_s, run_s, np.asarray(jnp.argmax(fn(params, *args)[1], axis=-1)))
    (cu, ru, tu), (cs, rs, ts) = got["unrolled"], got["scanned"]
    print(f"| {rows} x {prompt} | {cu:.1f} | {cs:.1f} | {cu / cs:.1f}x | {ru:.2f} | {rs:.2f} | {ru / rs:.2f}x | "
          f"{'yes' if np.array_equal(tu, ts) else 'NO'} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2", help="HF dir, .gguf, hub id or 'smollm2' (cached SmolLM2-135M)")
    ap.add_argument("--shapes", default="16x192,8x512,8x1024", help="comma-separated ROWSxPROMPT prefill shapes")
    ap.add_argument("--repeats", type=int, default=3, help="timed calls per layout (after one untimed call)")
    args = ap.parse_args()
    path = args.model
    if path == "smollm2":
        from murphy_jax.models.smollm2 import ensure_smollm2

        path = ensure_smollm2()
    model = from_pretrained(path, dtype=jnp.float32)
    stacked = model.params()
    layouts = {"unrolled": unstack_layers(stacked), "scanned": stacked}
    print(f"# {machine()}; {model.config.num_layers} layers, float32")
    print("| rows x prompt | compile s unrolled | compile s scanned | compile ratio | run s unrolled | "
          "run s scanned | run ratio | same first tokens |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for shape in args.shapes.split(","):
        rows, prompt = (int(x) for x in shape.lower().split("x"))
        case(model.config, layouts, rows, prompt, args.repeats)


if __name__ == "__main__":
    main()
