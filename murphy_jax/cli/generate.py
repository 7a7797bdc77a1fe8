"""murphy-generate: sample completions from a model with the jitted KV-cache sampler.

    murphy-generate --model smollm2 --chat --prompt "Write is_even(n) in Python." --greedy
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="murphy-generate", description="Sample completions with murphy_jax's sampler.")
    p.add_argument("--model", required=True,
                   help="HF directory, .gguf file, hub repo id, or 'smollm2' (cached SmolLM2-135M-Instruct)")
    p.add_argument("--prompt", action="append", required=True,
                   help="prompt text; repeat the flag to batch several prompts together")
    p.add_argument("--chat", action="store_true", help="wrap each prompt as a user message in the chat template")
    p.add_argument("--system", default=None, help="system message for --chat")
    p.add_argument("--max-new-tokens", type=int, default=128, help="maximum generated tokens per sample")
    p.add_argument("--greedy", action="store_true", help="greedy decoding (same as --temperature 0)")
    p.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (0 = greedy)")
    p.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass in (0, 1]")
    p.add_argument("--top-k", type=int, default=0, help="sample among the k most likely tokens (0 = off)")
    p.add_argument("--n", type=int, default=1, help="samples per prompt (they share one prefill)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same samples)")
    p.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"),
                   help="compute and parameter dtype")
    p.add_argument("--stop", action="append", default=[], help="stop string (checked on the host); repeatable")
    p.add_argument("--json", action="store_true", help="print one JSON object per sample instead of text")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    import jax.numpy as jnp

    from murphy_jax.models import from_pretrained, load_tokenizer
    from murphy_jax.models.api import ModelNotFoundError
    from murphy_jax.sampling import Sampler, SamplingError, SamplingParams
    from murphy_jax.train.policy import resolve_model_path

    try:
        path = resolve_model_path(args.model, tempfile.gettempdir())
        tok = load_tokenizer(path)
        model = from_pretrained(path, dtype=jnp.dtype(args.dtype))
        prompts = []
        for text in args.prompt:
            if args.chat:
                msgs = ([{"role": "system", "content": args.system}] if args.system else [])
                msgs.append({"role": "user", "content": text})
                rendered = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
                prompts.append(tok(rendered, add_special_tokens=False)["input_ids"])
            else:
                prompts.append(tok(text)["input_ids"])
        sp = SamplingParams(n=args.n, max_new_tokens=args.max_new_tokens,
                            temperature=0.0 if args.greedy else args.temperature, top_p=args.top_p,
                            top_k=args.top_k, seed=args.seed, stop_strings=tuple(args.stop))
        res = Sampler.for_tokenizer(model.config, tok).generate(model.params(), prompts, sp)
    except (ModelNotFoundError, SamplingError, ValueError, OSError) as e:
        print(f"murphy-generate: error: {e}", file=sys.stderr)
        return 2
    for s in res.samples:
        if args.json:
            print(json.dumps({"prompt": s.prompt_index, "sample": s.sample_index, "text": s.text,
                              "tokens": s.tokens.tolist(), "logprobs": [round(float(x), 5) for x in s.logprobs],
                              "finish_reason": s.finish_reason}))
        else:
            print(f"=== prompt {s.prompt_index} sample {s.sample_index} ({s.finish_reason}, {len(s.tokens)} tokens)")
            print(s.text)
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
