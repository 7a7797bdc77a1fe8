"""Supervised warm start on reference solutions: teach a policy the answer format before RL.

Each task with a ``reference_solution`` becomes one chat example: the turn-1
prompt, and a response that is the solution in a fenced block. Loss is the
mean token negative log-likelihood of the response. Used to give tiny test
policies real (partial) rewards, and by users who want a format warm-up.
"""
from __future__ import annotations

import functools
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from murphy_jax.data.prompts import PromptTemplates, build_messages, encode_prompt, render_text
from murphy_jax.data.task import CodeTask
from murphy_jax.models.layers import forward
from murphy_jax.rl.batching import pack
from murphy_jax.rl.loss import token_logprobs


def sft_examples(tasks: Sequence[CodeTask], tokenizer, templates: PromptTemplates | None = None,
                 end_token: str | None = None) -> tuple[list[list[int]], list[list[int]]]:
    """(prompt ids, response ids) per task with a reference solution; responses end with ``end_token``."""
    templates = templates or PromptTemplates()
    end = end_token if end_token is not None else (tokenizer.eos_token or "")
    prompts, responses = [], []
    for t in tasks:
        if not t.reference_solution:
            continue
        text = render_text(tokenizer, build_messages(t, (), templates=templates), templates)
        prompts.append(encode_prompt(tokenizer, text))
        answer = f"```python\n{t.reference_solution.strip()}\n```{end}"
        responses.append(list(tokenizer(answer, add_special_tokens=False)["input_ids"]))
    return prompts, responses


def sft(cfg, params, prompts, responses, *, steps: int, lr: float = 3e-3, batch_size: int = 8, seed: int = 0,
        bucket: int = 1024, log_every: int = 0):
    """Train ``params`` on (prompt, response) pairs for ``steps`` Adam steps; returns (params, losses)."""
    tx = optax.adam(lr)
    opt = tx.init(params)
    zero_adv = np.zeros(len(prompts), np.float32)
    zero_lp = [np.zeros(len(r), np.float32) for r in responses]
    rows = pack(prompts, responses, zero_lp, zero_adv, buckets=[bucket], micro_batch_size=1,
                overflow="drop").batches[0]
    n = int((rows["node_index"] >= 0).sum())

    @functools.partial(jax.jit, donate_argnums=(0, 1))
    def update(p, o, b):
        def loss_fn(p):
            logits = forward(cfg, p, b["input_ids"], jnp.where(b["valid"], b["positions"], -1))
            lp = token_logprobs(logits, b["targets"])
            m = b["loss_mask"]
            return -jnp.sum(jnp.where(m, lp, 0.0)) / jnp.maximum(m.sum(), 1)

        loss, g = jax.value_and_grad(loss_fn)(p)
        u, o = tx.update(g, o, p)
        return optax.apply_updates(p, u), o, loss

    rng = np.random.default_rng(seed)
    losses = []
    for s in range(steps):
        idx = rng.choice(n, size=min(batch_size, n), replace=False)
        batch = {k: jnp.asarray(rows[k][idx]) for k in ("input_ids", "targets", "positions", "valid", "loss_mask")}
        params, opt, loss = update(params, opt, batch)
        losses.append(float(loss))
        if log_every and (s + 1) % log_every == 0:
            print(f"sft step {s + 1}/{steps} loss {np.mean(losses[-log_every:]):.3f}", flush=True)
    return params, losses
