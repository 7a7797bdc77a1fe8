"""Forward and forward+backward throughput of SmolLM2-135M, against a matmul peak measured in the same run.

    python benchmarks/bench_model.py [--batch 4] [--seq 256] [--dtypes float32,bfloat16]

FLOPs are counted from the model shape (matmuls of every projection, the LM
head and attention scores/values over the full padded sequence), 3x forward
for forward+backward; the peak is a square jitted matmul of the same dtype.
"""
from __future__ import annotations

import argparse
import functools

import jax
import jax.numpy as jnp
import numpy as np

from murphy_jax.models import forward, from_pretrained
from murphy_jax.models.smollm2 import ensure_smollm2
from murphy_jax.utils.benchmarking import machine, matmul_peak, time_fn


def forward_flops(cfg, batch: int, seq: int) -> float:
    """Matmul FLOPs of one forward pass over batch x seq tokens."""
    h, i, L = cfg.hidden_size, cfg.intermediate_size, cfg.num_layers
    proj = h * cfg.q_size + 2 * h * cfg.kv_size + cfg.q_size * h + 3 * h * i
    attn = 2 * seq * cfg.q_size  # scores + weighted values, per token per layer
    per_token = 2 * (L * (proj + attn) + h * cfg.vocab_size)
    return per_token * batch * seq


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--model", default=None, help="HF dir or GGUF (default: SmolLM2-135M-Instruct)")
    args = ap.parse_args()
    path = args.model or ensure_smollm2(prefer_hub=False)
    print(f"machine: {machine()}")
    print(f"model: {path}  batch={args.batch} seq={args.seq}")
    ids = jnp.asarray(np.random.RandomState(0).randint(0, 49152, (args.batch, args.seq)), jnp.int32)
    rows = []
    for name in args.dtypes.split(","):
        dt = jnp.dtype(name)
        peak = matmul_peak(dt)
        model = from_pretrained(path, dtype=dt)
        cfg, params = model.config, model.params()
        fwd = jax.jit(functools.partial(forward, cfg))

        def loss(p, x):
            logits = forward(cfg, p, x)
            return jax.nn.logsumexp(logits, -1).mean()

        fwd_bwd = jax.jit(jax.value_and_grad(loss))
        flops = forward_flops(cfg, args.batch, args.seq)
        tokens = args.batch * args.seq
        for label, fn, mult in (("forward", fwd, 1), ("forward+backward", fwd_bwd, 3)):
            sec = time_fn(fn, params, ids, repeats=3)
            rows.append((name, label, tokens / sec, mult * flops / sec, mult * flops / sec / peak, peak))
    print(f"\n| dtype | pass | tokens/s | achieved GFLOP/s | matmul peak GFLOP/s | fraction of peak |")
    print("|---|---|---|---|---|---|")
    for name, label, tps, fl, frac, peak in rows:
        print(f"| {name} | {label} | {tps:,.0f} | {fl / 1e9:.1f} | {peak / 1e9:.1f} | {frac:.2f} |")


if __name__ == "__main__":
    main()
