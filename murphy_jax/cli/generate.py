"""murphy-generate: sample completions from a model with the jitted KV-cache sampler.

    murphy-generate --model smollm2 --chat --prompt "Write is_even(n) in Python." --greedy

Exit status: 0, 2 bad input (one line; prompts and model files are checked before the weights load),
1 internal error; docs/cli.md.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile

from murphy_jax.cli._errors import OneLineParser, add_debug_flag, guarded
from murphy_jax.errors import MurphyUserError, debug_requested

PROG = "murphy-generate"


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface (every flag documented in --help)."""
    p = OneLineParser(prog=PROG, description="Sample completions with murphy_jax's sampler.")
    p.add_argument("--model", required=True,
                   help="HF directory, .gguf file, hub repo id, 'smollm2' (cached SmolLM2-135M-Instruct) "
                        "or 'qwen2.5-coder-1.5b' (cached Qwen2.5-Coder-1.5B-Instruct from the package index)")
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
    add_debug_flag(p)
    return p


def main(argv=None) -> int:
    """Parse, check the prompts and the model, generate, print; returns the exit status."""
    args = build_parser().parse_args(argv)
    return guarded(PROG, lambda: _main(args), debug=args.debug or debug_requested())


def _main(args) -> int:
    # An empty prompt is refused whether or not --chat would wrap it in a template.
    for i, text in enumerate(args.prompt):
        if not text:
            raise MurphyUserError(f"prompt {i} is empty")
    import jax.numpy as jnp

    from murphy_jax.cli._checks import check_model_files
    from murphy_jax.models import from_pretrained, load_tokenizer
    from murphy_jax.sampling import Sampler, SamplingParams
    from murphy_jax.train.policy import resolve_model_path

    sp = SamplingParams(n=args.n, max_new_tokens=args.max_new_tokens,
                        temperature=0.0 if args.greedy else args.temperature, top_p=args.top_p,
                        top_k=args.top_k, seed=args.seed, stop_strings=tuple(args.stop))
    sp.validate()  # --n 0 and friends fail before the weights load
    path = resolve_model_path(args.model, tempfile.gettempdir())
    check_model_files(path)  # an empty or corrupt directory is named here, not by a library's traceback
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
    res = Sampler.for_tokenizer(model.config, tok).generate(model.params(), prompts, sp)
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
