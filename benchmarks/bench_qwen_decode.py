"""Load time, peak RSS and greedy decode throughput of Qwen2.5-Coder-1.5B-Instruct (``qwen2.5-coder-1.5b``).

    python benchmarks/bench_qwen_decode.py [--batches 1,8] [--new 32] [--dtype float32]

Loads the cached HF directory (converted once by murphy_jax.models.qwen_coder; run
``murphy-generate --model qwen2.5-coder-1.5b ...`` first or let this script convert it), then for
each batch size generates exactly ``--new`` tokens per row (EOS disabled) after a warm-up call that
compiles; decode tok/s = batch x (new - 1) / decode seconds as the sampler counts them (the first
token comes from the prefill), and the end-to-end rate includes the prefill.
"""
from __future__ import annotations

import argparse
import resource
import time

import jax.numpy as jnp

from murphy_jax.models import from_pretrained, load_tokenizer
from murphy_jax.models.qwen_coder import ensure_qwen_coder
from murphy_jax.sampling import Sampler, SamplingParams
from murphy_jax.utils.benchmarking import machine

TEXTS = [
    "Write a Python function is_prime(n).",
    "Reverse a string in Python.",
    "Explain what a hash map is.",
    "def fib(n):",
    "Sort a list of tuples by their second element.",
    "What does zip do?",
    "Write a function that merges two sorted lists.",
    "hi",
]


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", default="1,8", help="comma-separated batch sizes")
    ap.add_argument("--new", type=int, default=32, help="new tokens per row")
    ap.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"), help="compute/param dtype")
    a = ap.parse_args()
    path = ensure_qwen_coder()
    t0 = time.perf_counter()
    tok = load_tokenizer(path)
    model = from_pretrained(path, dtype=jnp.dtype(a.dtype))
    print(f"machine: {machine()}")
    print(f"load ({a.dtype}, tokenizer + weights): {time.perf_counter() - t0:.1f}s, peak RSS {_peak_rss_gb():.2f} GB")
    batches = [int(x) for x in a.batches.split(",")]
    # One params dict and one sampler for every call: the sampler caches its per-layer decode copy
    # (~5 GB in float32) by params identity, and a fresh dict per call would build a second copy.
    params = model.params()
    sampler = Sampler(model.config, eos_token_ids=[-5], max_rows=max(8, *batches), chunk=a.new)
    print("| batch | new tokens/row | decode tok/s | end-to-end tok/s (incl. prefill) | peak RSS GB |")
    print("|---|---|---|---|---|")
    for b in batches:
        prompts = []
        for i in range(b):
            msgs = [{"role": "user", "content": TEXTS[i % len(TEXTS)]}]
            text = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
            prompts.append(tok(text, add_special_tokens=False)["input_ids"])
        sp = SamplingParams(temperature=0.0, max_new_tokens=a.new)
        sampler.generate(params, prompts, sp)  # compile
        t = time.perf_counter()
        res = sampler.generate(params, prompts, sp)
        wall = time.perf_counter() - t
        assert all(len(s.tokens) == a.new for s in res.samples)
        decode = b * (a.new - 1) / res.decode_seconds
        print(f"| {b} | {a.new} | {decode:.2f} | {b * a.new / wall:.2f} | {_peak_rss_gb():.2f} |", flush=True)


if __name__ == "__main__":
    main()
