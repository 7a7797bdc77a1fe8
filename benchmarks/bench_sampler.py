"""Generation throughput of murphy_jax's sampler vs transformers.generate, same run, same model and lengths.

    python benchmarks/bench_sampler.py [--batches 1,8,32] [--dtypes float32,bfloat16] [--new 128]

SmolLM2-135M-Instruct, greedy, exactly ``--new`` new tokens per row (EOS
disabled in both), chat prompts of different lengths batched with padding.
Compilation is excluded for murphy_jax (a warm-up call first) and transformers
gets a warm-up call too. At batch 1 the script also reports the fraction of
the memory-bandwidth roofline: each decode step must read every weight once,
so the fastest possible step takes weight_bytes / read_bandwidth, with the
read bandwidth (a jitted sum over 1 GiB) measured in the same run. A second table shows prefix sharing:
prefill time of n samples of one long prompt with and without sharing.
"""
from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from murphy_jax.models import from_pretrained, load_tokenizer
from murphy_jax.models.smollm2 import ensure_smollm2
from murphy_jax.sampling import Sampler, SamplingParams
from murphy_jax.utils.benchmarking import copy_bandwidth, machine, read_bandwidth

TEXTS = [
    "Write a Python function that returns the sum of a list of integers.",
    "Explain what a hash map is.",
    "def fib(n):",
    "Write a function is_prime(n) and test it on a few numbers. Use a loop and return a boolean.",
    "Reverse a string in Python.",
    "What does the zip builtin do? Give an example with two lists of different lengths.",
    "Sort a list of tuples by their second element, descending, and explain the key argument.",
    "hi",
]


def chat_ids(tok, text):
    ids = tok.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True, tokenize=True)
    return list(ids["input_ids"] if not isinstance(ids, list) else ids)


def ours_tps(model, tok, prompts, new: int) -> float:
    sampler = Sampler(model.config, eos_token_ids=[-5], max_rows=max(64, len(prompts)), chunk=new)
    sp = SamplingParams(temperature=0.0, max_new_tokens=new)
    sampler.generate(model.params(), prompts, sp)  # compile
    t = time.perf_counter()
    res = sampler.generate(model.params(), prompts, sp)
    dt = time.perf_counter() - t
    assert all(len(s.tokens) == new for s in res.samples)
    return len(prompts) * new / dt


def hf_tps(path, dtype, tok, prompts, new: int) -> float:
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype)).eval()
    width = max(map(len, prompts))
    ids = torch.full((len(prompts), width), tok.pad_token_id or 0, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, p in enumerate(prompts):  # left padding, as transformers expects for batched generation
        ids[i, width - len(p):] = torch.tensor(p)
        mask[i, width - len(p):] = 1
    kw = dict(attention_mask=mask, do_sample=False, max_new_tokens=new, min_new_tokens=new,
              pad_token_id=tok.pad_token_id or 0)
    with torch.no_grad():
        model.generate(ids[:1], attention_mask=mask[:1], do_sample=False, max_new_tokens=4,
                       pad_token_id=tok.pad_token_id or 0)
        t = time.perf_counter()
        out = model.generate(ids, **kw)
        dt = time.perf_counter() - t
    assert out.shape[1] - width == new
    return len(prompts) * new / dt


def roofline_fraction(model, tok, prompt, new: int, bw: float) -> tuple[float, float]:
    weight_bytes = sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(model.params()))
    tps = ours_tps(model, tok, [prompt], new)
    return (weight_bytes / bw) * tps, weight_bytes


def prefix_sharing(model, tok, new: int = 4, n: int = 8) -> tuple[float, float]:
    long_prompt = chat_ids(tok, " ".join(TEXTS) * 3)
    sampler = Sampler(model.config, eos_token_ids=[-5], max_rows=64)
    sp = SamplingParams(n=n, temperature=1.0, max_new_tokens=new)
    out = []
    for share in (True, False):
        sampler.generate(model.params(), [long_prompt], sp, share_prefix=share)
        res = sampler.generate(model.params(), [long_prompt], sp, share_prefix=share)
        out.append(res.prefill_seconds)
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--new", type=int, default=128)
    args = ap.parse_args()
    path = ensure_smollm2(prefer_hub=False)
    tok = load_tokenizer(path)
    base = [chat_ids(tok, t) for t in TEXTS]
    print(f"machine: {machine()}")
    bw = read_bandwidth()
    print(f"read bandwidth: {bw / 1e9:.2f} GB/s (jitted sum over 1 GiB; the roofline below divides by this)")
    print(f"aside, not a roofline: elementwise op into a fresh buffer {copy_bandwidth() / 1e9:.2f} GB/s")
    rows, roof = [], []
    for dt in args.dtypes.split(","):
        model = from_pretrained(path, dtype=jnp.dtype(dt))
        for b in (int(x) for x in args.batches.split(",")):
            prompts = [base[i % len(base)] for i in range(b)]
            ours = ours_tps(model, tok, prompts, args.new)
            hf = hf_tps(path, dt, tok, prompts, args.new)
            rows.append((dt, b, ours, hf))
            print(f"{dt} batch {b}: murphy_jax {ours:.1f} tok/s, transformers {hf:.1f} tok/s", flush=True)
        frac, wb = roofline_fraction(model, tok, base[0], args.new, bw)
        roof.append((dt, wb, frac))
    print(f"\n| dtype | batch | murphy_jax new tok/s | transformers new tok/s | speed-up |")
    print("|---|---|---|---|---|")
    for dt, b, ours, hf in rows:
        print(f"| {dt} | {b} | {ours:.1f} | {hf:.1f} | {ours / hf:.2f}x |")
    print(f"\n| dtype | weight bytes per step | roofline step (ms) | fraction of read-bandwidth roofline at batch 1 |")
    print("|---|---|---|---|")
    for dt, wb, frac in roof:
        print(f"| {dt} | {wb / 1e6:.0f} MB | {wb / bw * 1e3:.1f} | {frac:.2f} |")
    model = from_pretrained(path, dtype=jnp.float32)
    shared, copies = prefix_sharing(model, tok)
    print(f"\nprefix sharing (8 samples of one {len(chat_ids(tok, ' '.join(TEXTS) * 3))}-token prompt, float32): "
          f"prefill {shared * 1e3:.0f} ms shared vs {copies * 1e3:.0f} ms for 8 copies ({copies / shared:.1f}x)")


if __name__ == "__main__":
    main()
