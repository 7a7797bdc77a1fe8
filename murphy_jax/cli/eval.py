"""murphy-eval: multi-turn Iter-k pass@1 of one or more models/checkpoints on a benchmark.

    murphy-eval --model smollm2 --benchmark humaneval --iters 5
    murphy-eval --model runs/a --model runs/b --benchmark mbpp:data/mbpp.jsonl --n 10 --temperature 0.8

Writes report.json, table.md, pass_at_1.png and per-model partial results into --out;
rerunning the same command continues an interrupted evaluation. docs/evaluation.md
describes the rules, the estimator and the report schema. Exit status: 0, 2 bad input (one line,
checked before any model is loaded), 3 infrastructure failure, 75 preempted (finished batches kept;
rerun to continue), 1 internal error; docs/cli.md.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time

from murphy_jax.cli._checks import check_model_files, check_writable_dir
from murphy_jax.cli._errors import OneLineParser, add_debug_flag, guarded
from murphy_jax.errors import MurphyUserError, debug_requested

PROG = "murphy-eval"
# Benchmark names with a fixed spec (anything else is passed to load_tasks: "name:path", a file, ...).
BENCHMARKS = {"humaneval": "humaneval", "humanevalplus": "humanevalplus", "mbpp": "mbpp",
              "mbpp_sanitized": "mbpp_sanitized", "mbppplus": "mbppplus", "lcb": "livecodebench",
              "livecodebench": "livecodebench"}


class BadArgument(MurphyUserError, ValueError):
    """A command-line value that cannot work (reported in one line)."""


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface (every flag documented in --help)."""
    ap = OneLineParser(prog=PROG, description=__doc__.split("\n")[0],
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--model", action="append", required=True, metavar="PATH_OR_CKPT",
                    help="HF dir, .gguf, hub id, 'smollm2', a training workdir or a checkpoint dir; "
                         "repeat to compare models side by side")
    ap.add_argument("--label", action="append", default=[],
                    help="display name per --model, in the same order (default: derived from the path)")
    ap.add_argument("--arch", default=None,
                    help="architecture + tokenizer (HF dir/.gguf/hub id) for checkpoint models "
                         "(default: the training run's model path)")
    ap.add_argument("--benchmark", required=True,
                    help="humaneval | humanevalplus | mbpp | lcb (hub, or NAME:PATH for a local copy) | "
                         "bundled:heldout | a CodeTask .jsonl FILE")
    ap.add_argument("--task-option", action="append", default=[], metavar="KEY=VALUE",
                    help="loader option for the benchmark (e.g. split=test, window=v6, difficulty=hard); "
                         "VALUE is read as JSON when it parses")
    ap.add_argument("--on-bad-row", default="skip", choices=("skip", "error"),
                    help="a malformed row in the benchmark's task file: skip it (one warning with the count and "
                         "first line numbers) or stop with an error naming file:line")
    ap.add_argument("--limit", type=int, default=0, help="evaluate the first N tasks only (0 = all)")
    ap.add_argument("--iters", type=int, default=5, help="k: attempts per chain, reported as Iter-1..Iter-k")
    ap.add_argument("--n", type=int, default=1, help="chains per task; pass@1 (and pass@k, k<=n) are unbiased")
    ap.add_argument("--temperature", type=float, default=0.0, help="sampling temperature (0 = greedy)")
    ap.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass (1 = off)")
    ap.add_argument("--max-new-tokens", type=int, default=512, help="generated tokens per attempt")
    ap.add_argument("--stop", action="append", default=[], metavar="TEXT",
                    help="end an attempt when its text contains TEXT (e.g. '```\\n' after the code block); repeatable")
    ap.add_argument("--max-prompt-tokens", type=int, default=2048,
                    help="longer refinement prompts end their chain (counted as truncated)")
    ap.add_argument("--score", default="official", choices=("official", "all", "private"),
                    help="tests that decide success: official = the benchmark's own suite (HumanEval(+): the "
                         "hidden check; others: public + private), all, or private only")
    ap.add_argument("--history", default=None, choices=("last", "full"),
                    help="refinement prompts show the last attempt or the whole chain (default: the training "
                         "run's setting, else last)")
    ap.add_argument("--prompts", default=None, metavar="JSON",
                    help="prompt templates: a JSON file of template overrides, or a training config.json "
                         "(its 'prompts' section); default: the run's templates, else the built-in ones")
    ap.add_argument("--out", default=None, help="output directory (default: eval_out/<benchmark>)")
    ap.add_argument("--executor-workers", type=int, default=0, help="sandbox worker processes (0 = one per core)")
    ap.add_argument("--test-timeout", type=float, default=3.0, help="CPU seconds per test (a task's own limit wins)")
    ap.add_argument("--allow-degraded", action="store_true",
                    help="run even if a sandbox isolation layer is unavailable on this machine (with a warning)")
    ap.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"),
                    help="parameter and compute dtype for generation")
    ap.add_argument("--batch-tasks", type=int, default=32,
                    help="tasks per rollout batch (also the granularity of the partial results)")
    ap.add_argument("--max-rows", type=int, default=32, help="prompts x samples per generation program (memory)")
    ap.add_argument("--warm-up", action="store_true",
                    help="compile every generation shape before Iter-1 (fixed decode pool): later levels compile "
                         "nothing; pays off on long evaluations")
    ap.add_argument("--seed", type=int, default=0, help="sampling seed (temperature > 0)")
    ap.add_argument("--fresh", action="store_true", help="ignore earlier partial results and start over")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar or progress lines")
    add_debug_flag(ap)
    return ap


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@-]+", "_", text).strip("_")[:80] or "model"


def _task_options(items: list[str]) -> dict:
    out = {}
    for item in items:
        if "=" not in item:
            raise BadArgument(f"--task-option {item!r}: expected KEY=VALUE")
        k, v = item.split("=", 1)
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def load_benchmark(spec: str, limit: int, options: dict):
    """(tasks, benchmark info for the report); every loader error is a one-line SourceError."""
    from murphy_jax.data.sources import load_tasks
    from murphy_jax.data.sources._common import SourceError

    name, _, path = spec.partition(":")
    resolved = BENCHMARKS.get(spec, spec)
    if name in BENCHMARKS and path:
        resolved = f"{BENCHMARKS[name]}:{path}"
    opts = dict(options, **({"limit": limit} if limit else {}))
    try:
        rep = load_tasks(resolved, **opts)
    except SourceError as e:
        msg = str(e)
        if "pass path=" in msg:  # the hub was unreachable: say how to point at a local copy from here
            msg = msg.replace("pass path=... to load a local copy",
                              f"offline? pass a local copy as --benchmark {name}:PATH")
            raise SourceError(msg) from None
        raise
    info = {"name": spec if not path else f"{name}:{os.path.basename(path.rstrip('/'))}", "spec": resolved,
            "options": opts, "tasks": len(rep.tasks), "load_summary": rep.summary()}
    return rep.tasks, info


def _templates(args, model):
    from murphy_jax.data.prompts import PromptTemplates

    if args.prompts:
        if not os.path.exists(args.prompts):
            raise BadArgument(f"--prompts {args.prompts}: no such file")
        with open(args.prompts, encoding="utf-8") as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as e:
                raise BadArgument(f"--prompts {args.prompts}: invalid JSON ({e})") from None
        try:
            return PromptTemplates.from_config(data.get("prompts", data) if isinstance(data, dict) else data)
        except (TypeError, ValueError) as e:
            raise BadArgument(f"--prompts {args.prompts}: {e}") from None
    return PromptTemplates.from_config(model.templates_config())


def _check_args(args) -> None:
    for name in ("iters", "n", "max_new_tokens", "max_prompt_tokens", "batch_tasks", "max_rows"):
        if getattr(args, name) < 1:
            raise BadArgument(f"--{name.replace('_', '-')} must be >= 1")
    if args.temperature < 0 or not 0 < args.top_p <= 1 or args.limit < 0 or args.executor_workers < 0:
        raise BadArgument("--temperature must be >= 0, --top-p in (0, 1], --limit and --executor-workers >= 0")
    if args.label and len(args.label) != len(args.model):
        raise BadArgument(f"--label given {len(args.label)} time(s) for {len(args.model)} --model(s)")


def main(argv=None) -> int:
    """Parse, validate every input, evaluate each model in turn, write the report; returns the exit status."""
    args = build_parser().parse_args(argv)
    return guarded(PROG, lambda: _main(args), debug=args.debug or debug_requested())


def _main(args) -> int:
    _check_args(args)
    if args.out:  # before anything is loaded: an unwritable --out would otherwise fail after the first batch
        check_writable_dir(args.out, "--out")
    logging.getLogger("murphy_jax").setLevel(logging.INFO)
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.ERROR)  # orbax warns about metadata files older checkpoints lack
    from murphy_jax.eval.policy import resolve_model

    tasks, bench = load_benchmark(args.benchmark, args.limit,
                                  dict(_task_options(args.task_option), on_bad_row=args.on_bad_row))
    # Validate every model (paths, checkpoint shapes, templates) before spending time on the first one.
    models = [resolve_model(spec, arch=args.arch) for spec in args.model]
    for m in models:  # config and tokenizer too: a corrupt config.json must not surface mid-evaluation
        check_model_files(m.arch_path, m.tokenizer_path)
    labels = args.label or _unique([m.label for m in models])
    templates = [_templates(args, m) for m in models]
    out = args.out or os.path.join("eval_out", _slug(bench["name"]))
    if not args.out:
        check_writable_dir(out, "--out (default)")
    print(f"{PROG}: {bench['load_summary']}; {len(models)} model(s); Iter-1..{args.iters}, n={args.n}, "
          f"T={args.temperature:g}; output {out}", file=sys.stderr)

    from murphy_jax.eval.report import markdown_table, write_report
    from murphy_jax.execution import Executor, ExecutorConfig

    reports = []
    exec_cfg = ExecutorConfig(workers=args.executor_workers, test_timeout_s=args.test_timeout,
                              allow_degraded=args.allow_degraded)
    with Executor(exec_cfg) as executor:
        for model, label, tmpl in zip(models, labels, templates):
            reports.append(_evaluate_one(args, model, label, tmpl, tasks, bench, executor, out))
            paths = write_report(out, reports, bench)  # after every model, so finished models are never lost
    print(markdown_table(reports), end="")
    print(f"{PROG}: wrote {paths['json']}, {paths['table']}, {paths['plot']}", file=sys.stderr)
    return 0


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab}#{seen[lab]}")
    return out


def _evaluate_one(args, model, label, templates, tasks, bench, executor, out):
    from murphy_jax.eval.policy import load_model
    from murphy_jax.eval.runner import evaluate
    from murphy_jax.rollout import ModelGenerator
    from murphy_jax.sampling import Sampler

    t0 = time.perf_counter()
    cfg, params, tokenizer = load_model(model, args.dtype)
    load_s = time.perf_counter() - t0
    # Prompt + answer must fit the context; longer prompts end their chain instead of failing the sampler.
    max_prompt = min(args.max_prompt_tokens, cfg.max_position_embeddings - args.max_new_tokens)
    if max_prompt < 1:
        raise BadArgument(f"--max-new-tokens {args.max_new_tokens} leaves no room for a prompt in {label}'s "
                          f"context of {cfg.max_position_embeddings} tokens")
    sampler = Sampler.for_tokenizer(cfg, tokenizer, max_rows=args.max_rows, shrink_pool=not args.warm_up)
    stops = tuple(s.encode().decode("unicode_escape") for s in args.stop)  # let '```\n' be typed in a shell
    generator = ModelGenerator(sampler, tokenizer, params, max_new_tokens=args.max_new_tokens,
                               temperature=args.temperature, top_p=args.top_p, max_prompt_tokens=max_prompt,
                               templates=templates, stop_strings=stops)
    history = args.history or model.rollout_setting("history", "last")
    # The identity of the results (hashed): --limit is left out so a larger run reuses a smaller one's tasks.
    config = {"model": model.identity, "benchmark": bench["spec"],
              "benchmark_options": {k: v for k, v in bench["options"].items() if k != "limit"},
              "temperature": args.temperature, "top_p": args.top_p, "max_new_tokens": args.max_new_tokens,
              "max_prompt_tokens": max_prompt, "dtype": args.dtype, "test_timeout_s": args.test_timeout,
              **({"stop": list(stops)} if stops else {})}
    partial = os.path.join(out, "partial", f"{_slug(label)}.jsonl")
    if args.fresh and os.path.exists(partial):
        os.remove(partial)
    report = evaluate(tasks, generator, executor, iters=args.iters, n=args.n, templates=templates,
                      score=args.score, history=history,
                      attempt_format=model.rollout_setting("attempt_format", "response"),
                      feedback_chars=int(model.rollout_setting("feedback_chars", 2000)), seed=args.seed,
                      batch_tasks=args.batch_tasks, label=label, config=config, partial_path=partial,
                      progress=not args.no_progress, warm_up=args.warm_up)
    report.timings["load_s"] = load_s
    report.config["model_spec"] = model.spec  # shown in the report; the hash uses the resolved paths
    return report


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
