"""Attention at long contexts: the reference einsum form vs the form the model runs, same run, same inputs.

    python benchmarks/bench_attention.py [--prompt 1024] [--gen 256] [--rows 8]

SmolLM2-135M's attention shapes (3 KV heads, 3 queries per KV head, head_dim 64), float32,
one layer, in the case that dominates multi-turn evaluation on CPU, where refinement prompts
carry the previous attempt and its feedback (hundreds of tokens): a prefill of ``--rows``
prompts of ``--prompt`` tokens into a cache of prompt + ``--gen`` slots. Reference: one
[b, kv, group, t, s] score tensor over every slot; model: blocks of queries, each reading
only the slots up to its last query. (Decode steps, one query per row, use the reference
form in both.)

Prints seconds per call and the speed-up of the model's form; outputs are compared too.
"""
from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np

from murphy_jax.models.layers import attend, attention_scores
from murphy_jax.utils.benchmarking import machine, time_fn

KV, GROUP, HEAD_DIM = 3, 3, 64


def reference(q, k, v, q_pos, k_pos):
    """The one-tensor form murphy_jax used before blocking (and the form of most JAX ports)."""
    p = attention_scores(q, k, q_pos, k_pos, jnp.float32)
    return jnp.einsum("bkgts,bskd->btkgd", p, v, preferred_element_type=jnp.float32)


def case(name, rows, t, slots, prefix, repeats):
    r = np.random.default_rng(0)
    q = jnp.asarray(r.standard_normal((rows, t, KV, GROUP, HEAD_DIM)), jnp.float32)
    k = jnp.asarray(r.standard_normal((rows, slots, KV, HEAD_DIM)), jnp.float32)
    v = jnp.asarray(r.standard_normal((rows, slots, KV, HEAD_DIM)), jnp.float32)
    q_pos = np.tile(np.arange(t, dtype=np.int32), (rows, 1))  # prompt slots filled in order
    k_pos = np.concatenate([q_pos, np.full((rows, slots - t), -1, np.int32)], axis=1)  # generation slots empty
    q_pos, k_pos = jnp.asarray(q_pos), jnp.asarray(k_pos)
    ref_fn = jax.jit(reference)
    model = jax.jit(lambda *a: attend(*a, jnp.float32, prefix_causal_from=prefix))
    args = (q, k, v, q_pos, k_pos)
    ref_s, new_s = time_fn(ref_fn, *args, repeats=repeats), time_fn(model, *args, repeats=repeats)
    err = float(jnp.abs(model(*args) - ref_fn(*args)).max())
    print(f"| {name} | {rows} x {t} vs {slots} slots | {ref_s * 1e3:.1f} | {new_s * 1e3:.1f} | "
          f"{ref_s / new_s:.2f}x | {err:.1e} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompt", type=int, default=1024, help="prompt tokens (prefill length)")
    ap.add_argument("--gen", type=int, default=256, help="generation slots after the prompt")
    ap.add_argument("--rows", type=int, default=8, help="prompts in the prefill case")
    ap.add_argument("--repeats", type=int, default=3, help="timed calls per form (after one compiling call)")
    args = ap.parse_args()
    print(f"# {machine()}; one layer, float32")
    print("| case | shape | reference ms | murphy_jax ms | speed-up | max abs diff |")
    print("|---|---|---:|---:|---:|---:|")
    slots = args.prompt + args.gen
    case("prefill", args.rows, args.prompt, slots, 0, args.repeats)


if __name__ == "__main__":
    main()
