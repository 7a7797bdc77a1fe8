"""Train-step throughput (tokens/s) and achieved FLOP/s against a matmul peak measured in the same run.

    python benchmarks/bench_train.py [--model smollm2] [--micro 2] [--mb 2] [--seq 512] [--response 0]
                                     [--dtype float32]

Runs the real jitted train step (GRPO loss, micro-batch accumulation, AdamW
update) on random token batches shaped like a rollout batch (a prompt, then
``--response`` trained tokens ending the row; default half the row), twice in
the same run: with logits at every position (the baseline) and with logits
only on the response window (``train.response_logits_only``, window =
``--response``), and prints the speed-up. FLOPs are counted from the model
shape (see bench_model.forward_flops; the LM head only over the positions
given logits), x3 for forward+backward; the optimizer update is not counted.
The peak is a square jitted matmul of the same dtype.
"""
from __future__ import annotations

import argparse
import os
import sys

import jax
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


def batch(micro: int, mb: int, seq: int, response: int, vocab: int, seed: int = 0) -> list[dict]:
    """``micro`` micro-batches of [mb, seq]: the last ``response`` tokens of each row carry loss and advantages."""
    rng = np.random.RandomState(seed)
    ids = rng.randint(0, vocab, (micro, mb, seq)).astype(np.int32)
    mask = np.zeros_like(ids, bool)
    mask[..., seq - response - 1:seq - 1] = True
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
    ap.add_argument("--response", type=int, default=0, help="trained tokens per row (0 = half the row)")
    ap.add_argument("--dtype", default="float32", help="compute dtype (params and optimizer state stay float32)")
    ap.add_argument("--remat", default="none", choices=("none", "full", "dots"), help="layer rematerialisation")
    args = ap.parse_args()
    response = args.response or args.seq // 2
    if not 0 < response < args.seq:
        ap.error(f"--response must be in (0, --seq), got {response}")
    path = resolve_model_path(args.model, "/tmp")
    print(f"machine: {machine()}")
    peak = matmul_peak(jnp.dtype(args.dtype))
    model = from_pretrained(path, dtype=jnp.dtype(args.dtype), param_dtype=jnp.float32, remat=args.remat)
    cfg = model.config
    optim = ml_collections.ConfigDict(dict(lr=1e-6, schedule="constant", warmup_steps=0, min_lr_ratio=0.1,
                                           weight_decay=0.0, b1=0.9, b2=0.999, eps=1e-8, clip_norm=1.0))
    tx = make_optimizer(optim, 100)
    b = batch(args.micro, args.mb, args.seq, response, cfg.vocab_size)
    rows_total, tokens = args.micro * args.mb, args.micro * args.mb * args.seq
    norms = {"num_tokens": np.float32(sum(m["loss_mask"].sum() for m in b)), "num_seqs": np.float32(rows_total)}
    head = 2 * cfg.hidden_size * cfg.vocab_size  # forward FLOPs of the LM head per position
    results = []
    for label, window in (("logits at every position (baseline)", 0), (f"response window ({response})", response)):
        step = make_train_step(cfg, tx, loss_kw=dict(eps_low=0.2, eps_high=0.28, aggregation="token_mean", beta=0.0,
                                                     norm_len=float(response)), response_window=window)
        holder = {"state": init_state(jax.tree.map(jnp.copy, model.params()), tx, 0)}

        def run(_):
            holder["state"], m = step(holder["state"], b, norms)
            return m["loss"]

        sec = time_fn(run, None, repeats=3)
        skipped = (args.seq - window) * rows_total * head if window else 0
        flops = 3 * (forward_flops(cfg, rows_total, args.seq) - skipped)
        results.append((label, sec, flops))
    print(f"\nSmolLM2-135M train step ({args.micro} x {args.mb} x {args.seq} tokens, {response} trained per row, "
          f"{args.dtype} compute, float32 AdamW, remat={args.remat})")
    print("| logits | step (s) | tokens/s | achieved GFLOP/s | matmul peak GFLOP/s | fraction of peak |")
    print("|---|---|---|---|---|---|")
    for label, sec, flops in results:
        print(f"| {label} | {sec:.2f} | {tokens / sec:,.0f} | {flops / sec / 1e9:.1f} | {peak / 1e9:.1f} | "
              f"{flops / sec / peak:.2f} |")
    print(f"\nresponse window vs baseline: {results[0][1] / results[1][1]:.2f}x faster step")


if __name__ == "__main__":
    main()
