"""What packed rows and prompt-prefix sharing save in one optimizer update, against the bucketed layout.

    python benchmarks/bench_packing.py            # 2 tasks (24 nodes), SmolLM2-135M width, 2 of its 30 layers
    python benchmarks/bench_packing.py --small    # tiny model, same tree batch: checks losses agree, counts tokens
    python benchmarks/bench_packing.py --tasks 8 --layers 30 --repeats 3   # the full batch and model (very long on a CPU)

The default is sized for a 2-core CPU (one timed update per layout): it measures
the layouts' token counts exactly, but with 2 layers the LM head (hidden x 49152
vocab, ~8x one layer's FLOPs per position) weighs far more than in the 30-layer
model (and empty branch slots still get LM-head positions: ``max_rows x slot``
per packed row), so its seconds do not predict the 30-layer model's; read the
model-token and FLOPs columns for that, or raise ``--layers``. Measured
(2-core AMD EPYC shared with other jobs, load ~2-4): 4.0 min wall for the default;
bucketed 32.3 s, packed 42.9 s (0.75x), packed+shared 22.4 s (1.45x) per update.

Synthesises the kept nodes of a MURPHY tree batch: per task a prompt
(``--prompt-len`` tokens, ragged), ``--group`` first attempts (``--response-len``,
ragged), then ``--refine`` refinements of every attempt whose prompt is the task
prompt + that attempt + feedback (``--feedback-len``), responses as before. Every
node is trained (no pruning). The same nodes are then laid out three ways and one
full optimizer update (every micro-batch accumulated, then AdamW applied; the
real ``murphy_jax.train.step.TrainStep``) is timed for each:

(a) bucketed: ``rl.batch.buckets`` and ``micro_batch_size`` of ``--config``
    (configs/learning.py:mars: 256/512/1024, micro-batch 1), LM head on the
    response window (``train.response_logits_only``, ``sampling.max_new_tokens``);
(b) packed (``rl/packing.pack_rows``), one node per unit (no prefix sharing);
(c) packed with the prompt prefix shared by the nodes of a group.

Per layout it prints the tokens the model runs (padding included), the trained
tokens, LM-head positions, an analytic FLOPs estimate, the median seconds of
``--repeats`` updates (a warm-up update first compiles every program), and the
ratio of (a)'s seconds to its own. FLOPs = 6 x non-embedding params x model tokens
+ 6 x hidden x vocab x head positions + 3 x dense attention (4 x layers x q_size x
T^2 per row of length T: the masked scores are computed whole, as the kernel does).
The first (warm-up) update of every layout starts from the same parameters, so
their losses must agree (max relative difference printed). Ends with RESULT_JSON.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from flax import nnx  # noqa: E402

from murphy_jax.models import ModelConfig  # noqa: E402
from murphy_jax.models.decoder import Decoder  # noqa: E402
from murphy_jax.rl.batching import pack  # noqa: E402
from murphy_jax.rl.packing import pack_rows  # noqa: E402
from murphy_jax.train.state import init_state, make_optimizer  # noqa: E402
from murphy_jax.train.step import make_train_step, split_micro_batches  # noqa: E402
from murphy_jax.utils.benchmarking import block, machine  # noqa: E402

# SmolLM2-135M's shape (HF config.json), weights random.
SMOLLM2 = dict(model_type="llama", vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
               num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=8192, rms_norm_eps=1e-5,
               rope_theta=100000.0, tie_word_embeddings=True)
TINY = dict(SMOLLM2, vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2)


def _range(text: str) -> tuple[int, int]:
    lo, _, hi = text.partition("-")
    return int(lo), int(hi or lo)


def synth_tree(tasks: int, group: int, refine: int, prompt_len, response_len, feedback_len, vocab: int, seed: int):
    """Kept nodes of ``tasks`` MURPHY trees: (prompts, responses, old log-probs, advantages, group sizes)."""
    rng, ids = np.random.RandomState(seed), np.random.RandomState(seed + 1)  # lengths independent of the vocab
    tok = lambda n: ids.randint(1, vocab, n).astype(np.int32)  # noqa: E731
    length = lambda r: rng.randint(r[0], r[1] + 1)  # noqa: E731
    prompts, responses = [], []
    for _ in range(tasks):
        task = tok(length(prompt_len))
        attempts = [tok(length(response_len)) for _ in range(group)]
        for a in attempts:
            prompts.append(task)
            responses.append(a)
        for a in attempts:  # every attempt gets feedback and K refinements sharing that prompt
            turn2 = np.concatenate([task, a, tok(length(feedback_len))])
            for _ in range(refine):
                prompts.append(turn2)
                responses.append(tok(length(response_len)))
    old = [(-2.5 + 0.5 * rng.randn(len(r))).astype(np.float32) for r in responses]
    return prompts, responses, old, rng.randn(len(prompts)).astype(np.float32)


def layouts(seqs, cfg_batch, *, pack_len: int, max_rows: int, slot_len: int) -> dict[str, list[dict]]:
    """The same nodes as bucketed, packed and packed+shared micro-batches."""
    mb = int(cfg_batch.micro_batch_size)
    bucketed = []
    for rows in pack(*seqs, buckets=list(cfg_batch.buckets), micro_batch_size=mb).batches:
        bucketed += split_micro_batches(rows, mb)
    out = {"bucketed": bucketed}
    for name, share in (("packed", False), ("packed+shared", True)):
        p = pack_rows(*seqs, pack_len=pack_len, micro_batch_size=mb, max_rows=max_rows, slot_len=slot_len,
                      share_prefix=share)
        out[name] = [{k: v for k, v in m.items() if k != "node_index"} for m in p.micro_batches()]
    return out


def counts(micro: list[dict], window: int) -> dict:
    """Model tokens (rows x length, padding included), real tokens, trained tokens, LM-head positions, rows."""
    model = sum(m["input_ids"].size for m in micro)
    real = sum(int(m["valid"].sum()) for m in micro)
    trained = sum(int(m["loss_mask"].sum()) for m in micro)
    rows = sum(m["input_ids"].shape[0] for m in micro)
    head = 0
    for m in micro:
        if m["logit_index"].ndim == 3:
            head += m["logit_index"][0].size * m["logit_index"].shape[0]
        else:
            head += m["input_ids"].shape[0] * min(window or m["input_ids"].shape[1], m["input_ids"].shape[1])
    seqs = sum(int(m["loss_mask"].reshape(-1, m["loss_mask"].shape[-1]).any(-1).sum()) for m in micro)
    return dict(model_tokens=model, real_tokens=real, trained_tokens=trained, head_positions=head, rows=rows,
                micro_batches=len(micro), seqs=seqs)


def flops(cfg: ModelConfig, micro: list[dict], c: dict) -> float:
    """Forward+backward FLOPs of one update (see the module docstring)."""
    h, i, L = cfg.hidden_size, cfg.intermediate_size, cfg.num_layers
    per_layer = h * cfg.q_size + 2 * h * cfg.kv_size + cfg.q_size * h + 3 * h * i
    attn = sum(4 * L * cfg.q_size * m["input_ids"].shape[1] ** 2 * m["input_ids"].shape[0] for m in micro)
    return 6.0 * L * per_layer * c["model_tokens"] + 6.0 * h * cfg.vocab_size * c["head_positions"] + 3.0 * attn


def time_update(cfg, params, tx, loss_kw, micro, norms, *, temperature, window, repeats):
    """(first update's loss, median seconds of ``repeats`` updates after it)."""
    step = make_train_step(cfg, tx, loss_kw=loss_kw, temperature=temperature, response_window=window)
    state = init_state(jax.tree.map(jnp.copy, params), tx, 0)
    state, m = step(state, micro, norms)  # compiles every program of this layout
    loss = float(block(m["loss"]))
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        state, m = step(state, micro, norms)
        block(m["loss"])
        times.append(time.perf_counter() - t)
    return loss, statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="learning:mars", help="configs/<module>:<arg> giving buckets, micro-batch, "
                    "max_new_tokens (the slot and response window), loss and temperature")
    ap.add_argument("--tasks", type=int, default=2, help="trees (tasks) in the batch")
    ap.add_argument("--group", type=int, default=4, help="G: first attempts per task")
    ap.add_argument("--refine", type=int, default=2, help="K: refinements of every first attempt")
    ap.add_argument("--prompt-len", type=_range, default=(200, 400), help="task prompt tokens, LO-HI")
    ap.add_argument("--response-len", type=_range, default=(40, 160), help="response tokens, LO-HI")
    ap.add_argument("--feedback-len", type=_range, default=(60, 100), help="feedback tokens of a refinement, LO-HI")
    ap.add_argument("--layers", type=int, default=2, help="decoder layers of the SmolLM2-135M-shaped model (30 = full)")
    ap.add_argument("--small", action="store_true", help="a tiny random model (hidden 64, 2 layers, vocab 512)")
    ap.add_argument("--pack-len", type=int, default=1024, help="tokens per packed sequence")
    ap.add_argument("--max-rows", type=int, default=4, help="branches (trained sequences) per packed sequence")
    ap.add_argument("--repeats", type=int, default=1, help="timed updates per layout (median)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    module, _, arg = args.config.partition(":")
    config = importlib.import_module(f"configs.{module}").get_config(*([arg] if arg else []))
    slot = int(config.sampling.max_new_tokens)
    window = slot if config.train.response_logits_only else 0
    temperature = float(config.sampling.temperature) or 1.0
    loss_kw = dict(eps_low=float(config.rl.loss.eps_low), eps_high=float(config.rl.loss.eps_high),
                   aggregation=str(config.rl.loss.aggregation), beta=0.0,
                   norm_len=float(config.rl.loss.norm_len or slot))
    if args.response_len[1] > slot:
        ap.error(f"--response-len up to {args.response_len[1]} > sampling.max_new_tokens={slot}")

    hf = TINY if args.small else dict(SMOLLM2, num_hidden_layers=args.layers)
    cfg = ModelConfig.from_hf(hf, dtype=jnp.float32, param_dtype=jnp.float32)
    params = Decoder(cfg, rngs=nnx.Rngs(args.seed)).params()
    tx = make_optimizer(config.optim, 100)

    seqs = synth_tree(args.tasks, args.group, args.refine, args.prompt_len, args.response_len, args.feedback_len,
                      cfg.vocab_size, args.seed)
    lay = layouts(seqs, config.rl.batch, pack_len=args.pack_len, max_rows=args.max_rows, slot_len=slot)
    model_desc = ("tiny random llama (hidden 64, 2 layers, vocab 512)" if args.small else
                  f"random llama of SmolLM2-135M's shape with {cfg.num_layers} of 30 layers")
    print(f"machine: {machine()} (shared with other jobs: timings are noisy)")
    print(f"model: {model_desc}; {sum(x.size for x in jax.tree.leaves(params)) / 1e6:.1f}M params, float32")
    print(f"batch: {args.tasks} tasks x (G={args.group} attempts + {args.group}x{args.refine} refinements) = "
          f"{len(seqs[0])} trained nodes; prompt {args.prompt_len}, response {args.response_len}, "
          f"feedback {args.feedback_len} tokens")
    print(f"bucketed: --config {args.config}: buckets {tuple(config.rl.batch.buckets)}, micro-batch "
          f"{config.rl.batch.micro_batch_size}, response window {window}; packed: pack_len {args.pack_len}, "
          f"max_rows {args.max_rows}, slot {slot}; loss {loss_kw['aggregation']}, T={temperature}")

    results = {}
    norms = None
    for name, micro in lay.items():
        c = counts(micro, window)
        n = {"num_tokens": np.float32(c["trained_tokens"]), "num_seqs": np.float32(c["seqs"])}
        if norms is None:
            norms = n
        assert n == norms, f"{name}: trained tokens/sequences {n} differ from the bucketed layout's {norms}"
        loss, sec = time_update(cfg, params, tx, loss_kw, micro, norms, temperature=temperature, window=window,
                                repeats=args.repeats)
        results[name] = dict(c, flops=flops(cfg, micro, c), seconds=sec, loss=loss)
        print(f"  {name}: {sec:.2f} s ({c['micro_batches']} micro-batches)", flush=True)

    base = results["bucketed"]
    print("\n| layout | micro-batches | model tokens (padded) | real tokens | trained tokens | LM-head positions "
          "| TFLOPs (est.) | update s (median) | speed-up vs bucketed | FLOPs vs bucketed |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['micro_batches']} | {r['model_tokens']:,} | {r['real_tokens']:,} | "
              f"{r['trained_tokens']:,} | {r['head_positions']:,} | {r['flops'] / 1e12:.2f} | {r['seconds']:.2f} | "
              f"{base['seconds'] / r['seconds']:.2f}x | {r['flops'] / base['flops']:.2f} |")
        r["speedup"] = base["seconds"] / r["seconds"]
    rel = max(abs(r["loss"] - base["loss"]) / max(abs(base["loss"]), 1e-12) for r in results.values())
    print(f"\nfirst-update losses: " + ", ".join(f"{k} {r['loss']:.6g}" for k, r in results.items())
          + f"; max relative difference vs bucketed {rel:.2e}")
    print("RESULT_JSON " + json.dumps(dict(model=model_desc, tasks=args.tasks, nodes=len(seqs[0]),
                                           pack_len=args.pack_len, max_rows=args.max_rows, repeats=args.repeats,
                                           max_rel_loss_diff=rel, layouts=results)))


if __name__ == "__main__":
    main()
