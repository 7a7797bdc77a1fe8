"""A tiny policy that earns real, varied rewards: a small Llama warm-started on a few bundled tasks.

A random tiny model never writes code, so every reward is 0 and every
advantage is 0: training steps would not move the parameters and tests of
resumption or learning could not fail. This fixture memorises the reference
solutions of a handful of short bundled tasks; sampled at temperature 1.5 it
writes a mix of passing, partly passing and broken programs in every group
(measured: 4 of 4 root groups with reward spread, seeds 0 and 1).

Deterministic for a given seed; about 10-20 s on a laptop CPU.
"""
from __future__ import annotations

import os

import jax.numpy as jnp
from flax import nnx

from murphy_jax.data.task import CodeTask, write_jsonl

TINY_POLICY_HF = dict(model_type="llama", hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                      rope_theta=10000.0, tie_word_embeddings=False)


def short_bundled_tasks(k: int = 4) -> list[CodeTask]:
    """The k bundled training tasks with the shortest prompt + reference solution."""
    from murphy_jax.data.bundled import load_bundled

    return sorted(load_bundled("train"), key=lambda t: (len(t.prompt) + len(t.reference_solution), t.task_id))[:k]


def make_tiny_policy(out_dir: str, *, num_tasks: int = 4, sft_steps: int = 120, seed: int = 0) -> str:
    """Write an HF dir (weights, tiny tokenizer) plus ``tasks.jsonl`` of the tasks it was warmed on."""
    from murphy_jax.data.prompts import PromptTemplates
    from murphy_jax.models import ModelConfig, build_model, export_hf, load_tokenizer
    from murphy_jax.models.decoder import Decoder
    from murphy_jax.testing.tiny_tokenizer import VOCAB_SIZE, make_tiny_tokenizer
    from murphy_jax.train.sft import sft, sft_examples

    if os.path.exists(os.path.join(out_dir, ".complete")):
        return out_dir
    os.makedirs(out_dir, exist_ok=True)
    make_tiny_tokenizer(out_dir)
    tok = load_tokenizer(out_dir)
    cfg = ModelConfig.from_hf(dict(TINY_POLICY_HF, vocab_size=VOCAB_SIZE), dtype=jnp.float32,
                              param_dtype=jnp.float32)
    tasks = short_bundled_tasks(num_tasks)
    # No system prompt keeps sequences short; configs using this policy set prompts.system = "".
    prompts, responses = sft_examples(tasks, tok, PromptTemplates(system=""))
    params, _ = sft(cfg, Decoder(cfg, rngs=nnx.Rngs(seed)).params(), prompts, responses, steps=sft_steps,
                    lr=1e-2, batch_size=len(tasks), seed=seed, bucket=256)
    export_hf(build_model(cfg, params), out_dir, dtype=jnp.float32, tokenizer=tok)
    write_jsonl(tasks, os.path.join(out_dir, "tasks.jsonl"))
    open(os.path.join(out_dir, ".complete"), "w").close()
    return out_dir
