"""Greedy continuations and last-prompt-position logits of chat prompts, by transformers or by murphy_jax.

Each side runs in its own process and writes a JSON file, so a real model (float32 Qwen2.5-Coder-1.5B:
~7 GB per copy) is never held twice in one process:

    python -m murphy_jax.testing.greedy_reference --side transformers --model X.gguf --out ref.json
    python -m murphy_jax.testing.greedy_reference --side murphy --model HF_DIR --out ours.json
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

PROMPTS = [
    "Write a Python function is_prime(n) that returns True when n is a prime number.",
    "Fix this code so that it returns the sum of a list: def total(xs): return sum(x for x in xs) +",
    "Explain in one sentence what a Python list comprehension is.",
]


def _chat_ids(tok, text: str) -> list[int]:
    rendered = tok.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                       add_generation_prompt=True)
    return list(tok(rendered, add_special_tokens=False)["input_ids"])


def _stop_ids(tok) -> list[int]:
    vocab = tok.get_vocab()
    ids = {tok.eos_token_id} | {vocab[t] for t in ("<|im_end|>", "<|endoftext|>") if t in vocab}
    return sorted(i for i in ids if i is not None)


def run_transformers(model_path: str, prompts: list[str], max_new_tokens: int) -> dict:
    """One prompt at a time (no padding), float32, ``generate(do_sample=False)``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    t0 = time.perf_counter()
    kw = {}
    if model_path.endswith(".gguf"):
        model_path, kw["gguf_file"] = os.path.split(os.path.abspath(model_path))
    tok = AutoTokenizer.from_pretrained(model_path, **kw)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32, **kw).eval()
    load_s = time.perf_counter() - t0
    stops = _stop_ids(tok)
    out = []
    with torch.no_grad():
        for text in prompts:
            ids = _chat_ids(tok, text)
            x = torch.tensor([ids])
            last = model(x).logits[0, -1].numpy()
            gen = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False, max_new_tokens=max_new_tokens,
                                 eos_token_id=stops, pad_token_id=stops[0])[0, len(ids):].tolist()
            out.append({"prompt": text, "prompt_ids": ids, "greedy_ids": _cut(gen, stops),
                        "text": tok.decode(_cut(gen, stops), skip_special_tokens=True),
                        "last_logits": last.tolist()})
    return {"side": "transformers", "load_s": load_s, "results": out}


def run_murphy(model_path: str, prompts: list[str], max_new_tokens: int) -> dict:
    """All prompts in one batch through the jitted KV-cache sampler (as ``murphy-generate --greedy``)."""
    import jax.numpy as jnp

    from murphy_jax.models import from_pretrained, load_tokenizer
    from murphy_jax.sampling import Sampler, SamplingParams

    t0 = time.perf_counter()
    tok = load_tokenizer(model_path)
    model = from_pretrained(model_path, dtype=jnp.float32)
    load_s = time.perf_counter() - t0
    rows = [_chat_ids(tok, t) for t in prompts]
    sampler = Sampler.for_tokenizer(model.config, tok)
    res = sampler.generate(model.params(), rows, SamplingParams(max_new_tokens=max_new_tokens, temperature=0.0))
    stops = _stop_ids(tok)
    out = []
    by_prompt = {smp.prompt_index: smp for smp in res.samples}
    for i, (text, ids) in enumerate(zip(prompts, rows)):
        last = np.asarray(model(jnp.asarray([ids], jnp.int32))[0, -1])
        gen = _cut(by_prompt[i].tokens.tolist(), stops)
        out.append({"prompt": text, "prompt_ids": ids, "greedy_ids": gen,
                    "text": tok.decode(gen, skip_special_tokens=True), "last_logits": last.tolist()})
    return {"side": "murphy", "load_s": load_s, "results": out}


def _cut(ids: list[int], stops: list[int]) -> list[int]:
    """The continuation up to and without the first stop token (the two sides differ in whether they keep it)."""
    for i, t in enumerate(ids):
        if t in stops:
            return ids[:i]
    return ids


def main(argv=None) -> int:
    """Write one side's greedy outputs for PROMPTS (or --prompt ...) to --out as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", required=True, choices=("transformers", "murphy"), help="which implementation runs")
    ap.add_argument("--model", required=True, help=".gguf file or HF directory")
    ap.add_argument("--out", required=True, help="JSON file to write")
    ap.add_argument("--max-new-tokens", type=int, default=32, help="greedy tokens per prompt")
    ap.add_argument("--prompt", action="append", help="user message (repeatable); default: the 3 built-in PROMPTS")
    a = ap.parse_args(argv)
    run = run_transformers if a.side == "transformers" else run_murphy
    data = run(a.model, a.prompt or PROMPTS, a.max_new_tokens)
    with open(a.out, "w") as f:
        json.dump(data, f)
    for r in data["results"]:
        print(f"{a.side}: {len(r['greedy_ids'])} tokens: {r['text']!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
