"""Refilled decode rows vs the grouped schedule (refill=False), same prompts, same run, same samples.

    python benchmarks/bench_refill.py [--prompts 32] [--n 4] [--max-new 160] [--rows 32] [--hidden 256]

A random-weight Llama (``--hidden``, ``--layers``) samples ``n`` continuations of
ragged prompts at temperature 0.7; a stop id chosen so that one step in about
``--mean-len`` emits it ends rows at varied lengths (what stop strings and EOS
do to real rollouts). Both samplers are warmed up first (``Sampler.warm_up``),
so the timed calls compile nothing. Prints wall seconds, generated tokens/s,
decode steps, occupancy (fraction of row-steps that sampled a kept token) and
the refill / grouped speed ratio, and checks that both gave the same tokens.
"""
from __future__ import annotations

import argparse
import tempfile
import time

import jax.numpy as jnp
import numpy as np

from murphy_jax.models import from_pretrained
from murphy_jax.sampling import Sampler, SamplingParams
from murphy_jax.testing.tiny_hf import make_tiny_hf
from murphy_jax.utils.benchmarking import machine


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--max-new", type=int, default=160)
    ap.add_argument("--rows", type=int, default=32, help="pool rows (Sampler max_rows)")
    ap.add_argument("--chunk", type=int, default=16, help="decode steps per host check")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--mean-len", type=float, default=60.0, help="target mean response length (stop-id rate)")
    a = ap.parse_args()

    d = make_tiny_hf("llama", tempfile.mkdtemp(), vocab_size=512, hidden_size=a.hidden, num_hidden_layers=a.layers,
                     intermediate_size=4 * a.hidden, num_attention_heads=a.hidden // 64, num_key_value_heads=2,
                     head_dim=64, max_position_embeddings=1024)
    model = from_pretrained(d, dtype=jnp.float32)
    cfg, params = model.config, model.params()
    rng = np.random.default_rng(0)
    prompts = [list(rng.integers(3, 500, size=int(rng.integers(20, 200)))) for _ in range(a.prompts)]
    base = dict(n=a.n, temperature=0.7, max_new_tokens=a.max_new, seed=1)
    # The stop id: the token whose per-step frequency in free-running samples is closest to 1 / mean_len.
    free = Sampler(cfg, eos_token_ids=[-1], max_rows=a.rows).generate(params, prompts[:8], SamplingParams(**base))
    toks = np.concatenate([s.tokens for s in free.samples])
    freq = np.bincount(toks, minlength=cfg.vocab_size) / len(toks)
    stop = int(np.argmin(np.abs(freq - 1.0 / a.mean_len)))
    sp = SamplingParams(**base, stop_token_ids=(stop,))

    runs = {}
    for name, refill in (("grouped", False), ("refill", True)):
        s = Sampler(cfg, eos_token_ids=[-1], max_rows=a.rows, chunk=a.chunk, refill=refill, shrink_pool=False)
        s.warm_up(params, sp, max_prompt_tokens=max(map(len, prompts)))
        t0 = time.perf_counter()
        res = s.generate(params, prompts, sp)
        runs[name] = (time.perf_counter() - t0, res)
    same = all(x.tokens.tolist() == y.tokens.tolist() for x, y in zip(runs["grouped"][1].samples,
                                                                       runs["refill"][1].samples))
    print(f"machine: {machine()}")
    print(f"model: random llama hidden={a.hidden} layers={a.layers}; {a.prompts} prompts (20-199 tokens) x n={a.n}, "
          f"max_new_tokens={a.max_new}, T=0.7, stop id {stop} (p={freq[stop]:.4f}/step), pool {a.rows} rows, "
          f"chunk {a.chunk}")
    print("| schedule | wall s | generated tok | tok/s | decode steps | occupancy | prefill calls | refills |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, (sec, res) in runs.items():
        st = res.stats
        print(f"| {name} | {sec:.2f} | {res.generated_tokens} | {res.generated_tokens / sec:.1f} | "
              f"{st['decode_steps']} | {st['occupancy']:.3f} | {st['prefill_calls']} | {st['refills']} |")
    print(f"speed-up refill / grouped: {runs['grouped'][0] / runs['refill'][0]:.2f}x; same tokens: {same}")


if __name__ == "__main__":
    main()
