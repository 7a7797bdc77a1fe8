"""Train-step throughput (tokens/s) and achieved FLOP/s against a matmul peak measured in the same run.

    python benchmarks/bench_train.py [--model smollm2] [--micro 2] [--mb 2] [--seq 512] [--dtype float32]

Runs the real jitted train step (GRPO loss, micro-batch accumulation, AdamW
update) on random token batches shaped like a rollout batch (first half
prompt, second half response). FLOPs are counted from the model shape (see
bench_model.forward_flops), x3 for forward+backward; the optimizer update is
not counted. The peak is a square jitted matmul of the same dtype.
"""
from __future__ import annotations

import argparse
import os
import sys

import jax.numpy as jnp
import ml_collections
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_model import forward_flops  # noqa: E402

from murphy_jax.models import from_pretrained  # noqa: E402
from murphy_jax.train.policy import resolve_model_path  # noqa: E402
from murphy_jax.train.state import init_state, make_optimizer  # noqa: E402
from murphy_jax.train.step import make_train_step  # noqa: E402
from murphy_jax.utils.benchmarking import machine, matmul_peak, time_fn  # noqa: E402


def batch(micro: int, mb: int, seq: int, vocab: int, seed: int = 0) -> list[dict]:
    """``micro`` micro-batches of [mb, seq]: response tokens (the second half) carry loss and advantages."""
    rng = np.random.RandomState(seed)
    ids = rng.randint(0, vocab, (micro, mb, seq)).astype(np.int32)
    mask = np.zeros_like(ids, bool)
    mask[..., seq // 2 - 1:seq - 1] = True
    full = {"input_ids": ids, "targets": np.roll(ids, -1, axis=-1), "valid": np.ones_like(mask),
            "positions": np.broadcast_to(np.arange(seq, dtype=np.int32), ids.shape).copy(), "loss_mask": mask,
            "advantages": np.where(mask, rng.randn(micro, mb, 1), 0).astype(np.float32),
            "old_logprobs": np.where(mask, -3.0, 0).astype(np.float32)}
    return [{k: v[i] for k, v in full.items()} for i in range(micro)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2", help="HF dir, .gguf, hub id or 'smollm2'")
    ap.add_argument("--micro", type=int, default=2, help="micro-batches per step")
    ap.add_argument("--mb", type=int, default=2, help="rows per micro-batch")
    ap.add_argument("--seq", type=int, default=512, help="tokens per row")
    ap.add_argument("--dtype", default="float32", help="compute dtype (params and optimizer state stay float32)")
    ap.add_argument("--remat", default="none", choices=("none", "full", "dots"), help="layer rematerialisation")
    args = ap.parse_args()
    path = resolve_model_path(args.model, "/tmp")
    print(f"machine: {machine()}")
    peak = matmul_peak(jnp.dtype(args.dtype))
    model = from_pretrained(path, dtype=jnp.dtype(args.dtype), param_dtype=jnp.float32, remat=args.remat)
    cfg = model.config
    optim = ml_collections.ConfigDict(dict(lr=1e-6, schedule="constant", warmup_steps=0, min_lr_ratio=0.1,
                                           weight_decay=0.0, b1=0.9, b2=0.999, eps=1e-8, clip_norm=1.0))
    tx = make_optimizer(optim, 100)
    step = make_train_step(cfg, tx, loss_kw=dict(eps_low=0.2, eps_high=0.28, aggregation="token_mean", beta=0.0,
                                                 norm_len=float(args.seq)))
    b = batch(args.micro, args.mb, args.seq, cfg.vocab_size)
    norms = {"num_tokens": np.float32(sum(m["loss_mask"].sum() for m in b)), "num_seqs": np.float32(args.micro * args.mb)}
    holder = {"state": init_state(model.params(), tx, 0)}

    def run(_):
        holder["state"], m = step(holder["state"], b, norms)
        return m["loss"]

    sec = time_fn(run, None, repeats=3)
    tokens = args.micro * args.mb * args.seq
    flops = 3 * forward_flops(cfg, args.micro * args.mb, args.seq)
    print(f"\nSmolLM2-135M train step ({args.micro} x {args.mb} x {args.seq} tokens, {args.dtype} compute, "
          f"float32 AdamW, remat={args.remat})")
    print("| tokens/s | achieved GFLOP/s | matmul peak GFLOP/s | fraction of peak |")
    print("|---|---|---|---|")
    print(f"| {tokens / sec:,.0f} | {flops / sec / 1e9:.1f} | {peak / 1e9:.1f} | {flops / sec / peak:.2f} |")


if __name__ == "__main__":
    main()
