"""murphy-probe: first-attempt pass rates, refinement success and the fresh-attempt control, per task.

    murphy-probe --model smollm2 --benchmark bundled:train --n 8 --k 4 --temperature 0.7 --out probe_out

Tells, before a long run, whether a policy can learn on a task set and whether execution feedback helps it
at all (murphy_jax/eval/probe.py defines each rate). Writes probe.json (every figure, per task), probe.md
(the table) and pool.jsonl (the tasks solved sometimes: a training set for ``data.train=jsonl:PATH``).
Rerunning the same command resumes from the batches already done.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time

from murphy_jax.cli._errors import OneLineParser, add_debug_flag, guarded
from murphy_jax.errors import MurphyUserError, debug_requested

PROG = "murphy-probe"


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface (every flag documented in --help)."""
    ap = OneLineParser(prog=PROG, description=__doc__.split("\n")[0],
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--model", required=True, help="HF dir, .gguf, hub id, 'smollm2', a training workdir or checkpoint")
    ap.add_argument("--arch", default=None, help="architecture + tokenizer for checkpoint models (see murphy-eval)")
    ap.add_argument("--benchmark", default="bundled:train",
                    help="task set: bundled:train | bundled:heldout | a CodeTask .jsonl FILE | any murphy-eval name")
    ap.add_argument("--limit", type=int, default=0, help="probe the first N tasks only (0 = all)")
    ap.add_argument("--n", type=int, default=8, help="first attempts per task (the pass-rate estimate)")
    ap.add_argument("--k", type=int, default=4, help="feedback-conditioned refinements per failed attempt")
    ap.add_argument("--fresh-n", type=int, default=8,
                    help="control: fresh first attempts (no feedback) per task that failed at least once")
    ap.add_argument("--temperature", type=float, default=0.7, help="sampling temperature (use the training one)")
    ap.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass (1 = off)")
    ap.add_argument("--max-new-tokens", type=int, default=160, help="generated tokens per attempt")
    ap.add_argument("--max-prompt-tokens", type=int, default=2048, help="longer refinement prompts are not sampled")
    ap.add_argument("--stop", action="append", default=[], metavar="TEXT",
                    help="end an attempt when its text contains TEXT (e.g. '```\\n'); repeatable")
    ap.add_argument("--history", default="last", choices=("last", "full"),
                    help="refinement prompts show the last attempt or the whole chain")
    ap.add_argument("--pool-low", type=float, default=1 / 8, help="lowest first-attempt pass rate in the pool")
    ap.add_argument("--pool-high", type=float, default=7 / 8, help="highest first-attempt pass rate in the pool")
    ap.add_argument("--out", default="probe_out", help="output directory")
    ap.add_argument("--batch-tasks", type=int, default=16, help="tasks per rollout batch (the unit of resumption)")
    ap.add_argument("--max-rows", type=int, default=64, help="prompts x samples per generation program (memory)")
    ap.add_argument("--executor-workers", type=int, default=0, help="sandbox worker processes (0 = one per core)")
    ap.add_argument("--test-timeout", type=float, default=3.0, help="CPU seconds per test (a task's own limit wins)")
    ap.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"), help="generation dtype")
    ap.add_argument("--seed", type=int, default=0, help="sampling seed")
    ap.add_argument("--restart", action="store_true", help="ignore the batches an earlier run stored in --out")
    add_debug_flag(ap)
    return ap


def _check_args(a) -> None:
    for name in ("n", "k", "fresh_n", "max_new_tokens", "max_prompt_tokens", "batch_tasks", "max_rows"):
        if getattr(a, name) < 1:
            raise MurphyUserError(f"--{name.replace('_', '-')} must be >= 1")
    if a.temperature <= 0:
        raise MurphyUserError("--temperature must be > 0: a greedy policy samples the same attempt n times")
    if not 0 < a.top_p <= 1 or a.limit < 0 or a.executor_workers < 0:
        raise MurphyUserError("--top-p must be in (0, 1], --limit and --executor-workers >= 0")
    if not 0 <= a.pool_low <= a.pool_high <= 1:
        raise MurphyUserError("--pool-low and --pool-high must satisfy 0 <= low <= high <= 1")


def main(argv=None) -> int:
    """Parse, validate, probe batch by batch (resumable), write the report; returns the exit status."""
    args = build_parser().parse_args(argv)
    return guarded(PROG, lambda: _main(args), debug=args.debug or debug_requested())


def _main(args) -> int:
    _check_args(args)
    logging.getLogger("murphy_jax").setLevel(logging.INFO)
    from murphy_jax.cli._checks import check_writable_dir
    from murphy_jax.cli.eval import load_benchmark
    from murphy_jax.data.prompts import PromptTemplates
    from murphy_jax.eval import probe
    from murphy_jax.eval.policy import load_model, resolve_model

    check_writable_dir(args.out, "--out")
    tasks, bench = load_benchmark(args.benchmark, args.limit, {})
    model = resolve_model(args.model, arch=args.arch)
    os.makedirs(args.out, exist_ok=True)
    stops = tuple(s.encode().decode("unicode_escape") for s in args.stop)
    identity = {"model": model.identity, "benchmark": bench["spec"], "n": args.n, "k": args.k,
                "fresh_n": args.fresh_n, "temperature": args.temperature, "top_p": args.top_p,
                "max_new_tokens": args.max_new_tokens, "max_prompt_tokens": args.max_prompt_tokens,
                "history": args.history, "seed": args.seed, "dtype": args.dtype, "stop": list(stops)}
    partial = os.path.join(args.out, "partial.jsonl")
    if args.restart and os.path.exists(partial):
        os.remove(partial)
    done = probe.load_partial(partial, identity)
    if os.path.exists(partial) and not done:
        os.remove(partial)  # another model or setting wrote it: start a new file
    print(f"{PROG}: {bench['load_summary']}; n={args.n}, k={args.k}, fresh={args.fresh_n}, T={args.temperature:g}; "
          f"{len(done)} task(s) already probed; output {args.out}", file=sys.stderr)

    from murphy_jax.execution import Executor, ExecutorConfig
    from murphy_jax.rollout import ModelGenerator
    from murphy_jax.sampling import Sampler

    t0 = time.perf_counter()
    cfg, params, tokenizer = load_model(model, args.dtype)
    max_prompt = min(args.max_prompt_tokens, cfg.max_position_embeddings - args.max_new_tokens)
    templates = PromptTemplates.from_config(model.templates_config())
    generator = ModelGenerator(Sampler.for_tokenizer(cfg, tokenizer, max_rows=args.max_rows), tokenizer, params,
                               max_new_tokens=args.max_new_tokens, temperature=args.temperature, top_p=args.top_p,
                               max_prompt_tokens=max_prompt, templates=templates, stop_strings=stops)
    total, seen = len(tasks), [len([t for t in tasks if t.task_id in done])]

    def on_batch(rows):
        probe.append_partial(partial, identity, rows)
        seen[0] += len(rows)
        el = time.perf_counter() - t0
        print(f"{PROG}: {seen[0]}/{total} tasks probed ({el / 60:.1f} min)", file=sys.stderr, flush=True)

    exec_cfg = ExecutorConfig(workers=args.executor_workers, test_timeout_s=args.test_timeout)
    with Executor(exec_cfg) as executor:
        rows = probe.probe_tasks(tasks, generator, executor, n=args.n, k=args.k, fresh=args.fresh_n,
                                 templates=templates, history=args.history, seed=args.seed,
                                 batch_tasks=args.batch_tasks, done=done, on_batch=on_batch)
    summary = probe.summarize(rows, pool_low=args.pool_low, pool_high=args.pool_high)
    _write(args.out, identity, rows, summary, tasks, time.perf_counter() - t0)
    print(probe.markdown(summary), end="")
    print(f"{PROG}: wrote {args.out}/probe.json, probe.md, pool.jsonl", file=sys.stderr)
    return 0


def _write(out: str, identity: dict, rows, summary: dict, tasks, seconds: float) -> None:
    from dataclasses import asdict

    from murphy_jax.eval.probe import markdown

    pool = set(summary["pool"]["task_ids"])
    files = {
        "probe.json": json.dumps({"identity": identity, "summary": summary, "seconds": seconds,
                                  "per_task": [asdict(r) for r in rows]}, indent=1),
        "probe.md": markdown(summary, f"Probe of {identity['model']} on {identity['benchmark']} "
                                      f"(n={identity['n']}, k={identity['k']}, T={identity['temperature']:g})\n"),
        "pool.jsonl": "".join(t.to_json() + "\n" for t in tasks if t.task_id in pool),
    }
    for name, text in files.items():  # each file appears whole or not at all
        tmp = os.path.join(out, f".{name}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, os.path.join(out, name))


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
