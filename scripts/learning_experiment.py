#!/usr/bin/env python3
"""MURPHY-MaRS vs MURPHY-MeRS vs compute-matched GRPO on SmolLM2-135M, bundled tasks, at equal generated tokens.

    python scripts/learning_experiment.py --out runs/learning --seeds 0,1 [--steps 6] [--eval-n 2] [--eval-limit 0]

For every seed: train MaRS, then MeRS (configs/learning.py), then GRPO with
S = 1 and G chosen from the MaRS run's measured generated tokens per task and
step (murphy_jax.rl.matched), all from the same SmolLM2-135M start on the same
task order. Then evaluate the start model and every final checkpoint on the
held-out split at Iter-1..3: greedy, and n samples at temperature 0.8.
Everything resumes: rerun the same command after an interruption. Results go
to <out>/results.json, <out>/table.md and <out>/pass_at_1.png; --docs copies the
table, plot and commands into docs/results/learning.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METHODS = ("mars", "mers", "grpo")


def sh(cmd: list[str], log: str) -> None:
    """Run a command, teeing its output to a log file; stop the experiment on failure."""
    print("+", " ".join(cmd), flush=True)
    with open(log, "a") as f:
        proc = subprocess.run(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT)
    if proc.returncode:
        sys.exit(f"command failed ({proc.returncode}); see {log}")


def train(out: str, method: str, seed: int, steps: int, group: int | None) -> str:
    workdir = os.path.join(out, f"{method}_s{seed}")
    arg = f"grpo-{group}" if method == "grpo" else method
    done = os.path.join(workdir, "checkpoints", str(steps))
    if not os.path.exists(done):
        sh([sys.executable, "-m", "murphy_jax.cli.train", "--config", f"configs/learning.py:{arg}",
            "--workdir", workdir, f"--config.seed={seed}", f"--config.train.steps={steps}",
            "--config.log.progress=False"], os.path.join(out, f"{method}_s{seed}.log"))
    return workdir


def matched_group(mars_workdir: str) -> dict:
    res = subprocess.run([sys.executable, "-m", "murphy_jax.rl.matched", "--metrics",
                          os.path.join(mars_workdir, "metrics.jsonl")], cwd=REPO, capture_output=True, text=True)
    if res.returncode:
        sys.exit(res.stderr)
    return json.loads(res.stdout)


def _evaluated_checkpoint(report: str) -> str | None:
    with open(report) as f:
        return json.load(f)["models"][0]["config"]["model"].get("checkpoint")


def evaluate(out: str, name: str, model: str, n: int, temperature: float, args, steps: int | None = None) -> dict:
    """The report of ``model`` on the held-out tasks (reused if one exists for the same checkpoint)."""
    eval_dir = os.path.join(out, "eval", f"{name}_n{n}")
    report = os.path.join(eval_dir, "report.json")
    if steps is not None and os.path.exists(report):
        ckpt = _evaluated_checkpoint(report)
        if ckpt and os.path.basename(ckpt.rstrip("/")) != str(steps):  # the run has grown since (more --steps)
            shutil.move(eval_dir, f"{eval_dir}.step{os.path.basename(ckpt.rstrip('/'))}")
    if not os.path.exists(report):
        sh([sys.executable, "-m", "murphy_jax.cli.eval", "--model", model, "--label", name,
            "--benchmark", "bundled:heldout", "--iters", "3", "--n", str(n), "--temperature", str(temperature),
            "--max-new-tokens", str(args.max_new_tokens), "--out", eval_dir, "--no-progress",
            "--seed", "0"] + (["--stop", "```\\n"] if args.stop else [])
           + (["--limit", str(args.eval_limit)] if args.eval_limit else []), os.path.join(out, f"eval_{name}.log"))
    with open(report) as f:
        return json.load(f)["models"][0]


def total_generated(workdir: str) -> int:
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        recs = {r["step"]: r for r in map(json.loads, f)}
    return int(sum(r["compute/generated_tokens"] for r in recs.values()))


def summarize(results: dict) -> dict:
    """mean and spread (min..max over seeds) of pass@1 per method, iteration and eval mode."""
    out = {}
    for mode in ("greedy", "sampled"):
        for method in ("start",) + METHODS:
            runs = [r[mode] for k, r in results.items() if k.split("_s")[0] == method and mode in r]
            if not runs:
                continue
            arr = np.asarray(runs, float) * 100
            out[f"{method}/{mode}"] = {"mean": arr.mean(0).round(2).tolist(), "min": arr.min(0).round(2).tolist(),
                                       "max": arr.max(0).round(2).tolist(), "seeds": len(runs)}
    return out


def table(summary: dict, budgets: dict) -> str:
    lines = ["| method | eval | Iter-1 | Iter-2 | Iter-3 | seeds | generated tokens (train) |", "|---|---|---|---|---|---|---|"]
    for key, v in summary.items():
        method, mode = key.split("/")
        cells = [f"{m:.1f} ({lo:.1f}-{hi:.1f})" for m, lo, hi in zip(v["mean"], v["min"], v["max"])]
        b = budgets.get(method)
        lines.append(f"| {method} | {mode} | " + " | ".join(cells) + f" | {v['seeds']} | "
                     + (f"{np.mean(b):,.0f}" if b else "-") + " |")
    return "\n".join(lines) + "\n"


def plot(summary: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = [m for m in ("greedy", "sampled") if any(k.endswith("/" + m) for k in summary)]
    fig, axes = plt.subplots(1, len(modes), figsize=(5 * len(modes), 3.8), sharey=True, squeeze=False)
    axes = axes[0]
    # Methods often tie exactly at this scale: distinct markers, dashes and a small x shift
    # keep every line visible instead of the last one drawn hiding the others.
    styles = {"start": ("o", "-"), "mars": ("s", "-"), "mers": ("^", "--"), "grpo": ("D", ":")}
    methods = list(dict.fromkeys(k.split("/")[0] for k in summary))
    for ax, mode in zip(axes, modes):
        for key, v in summary.items():
            method, m = key.split("/")
            if m != mode:
                continue
            x = np.arange(1, len(v["mean"]) + 1)
            shift = 0.03 * (methods.index(method) - (len(methods) - 1) / 2)
            marker, dash = styles.get(method, ("o", "-"))
            ax.plot(x + shift, v["mean"], marker=marker, linestyle=dash, label=method)
            ax.fill_between(x, v["min"], v["max"], alpha=0.15)
        ax.set_title(f"held-out pass@1, {mode}")
        ax.set_xlabel("iteration")
        ax.set_xticks(x)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("pass@1 (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="runs/learning", help="experiment directory (resumable)")
    ap.add_argument("--seeds", default="0,1", help="comma-separated training seeds")
    ap.add_argument("--steps", type=int, default=6, help="RL steps per run")
    ap.add_argument("--eval-n", type=int, default=2, help="samples per task for the sampled evaluation (0 = greedy only)")
    ap.add_argument("--sampled", choices=("all", "start"), default="all",
                    help="which models get the sampled evaluation: all, or only the start model (a cheaper run)")
    ap.add_argument("--eval-limit", type=int, default=0, help="first N held-out tasks only (0 = all 79)")
    ap.add_argument("--max-new-tokens", type=int, default=160, help="tokens per evaluation attempt")
    ap.add_argument("--no-stop", dest="stop", action="store_false",
                    help="let evaluation attempts run past their first code block (default: stop there, as training does)")
    ap.add_argument("--docs", action="store_true", help="write docs/results/learning.md and its plot")
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    # Every run compiles the same sampler buckets and train step: compile once, reuse across runs.
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(out, "jax_cache"))
    seeds = [int(s) for s in args.seeds.split(",")]
    t0 = time.time()
    results_path = os.path.join(out, "results.json")
    results = json.load(open(results_path)) if os.path.exists(results_path) else {}
    budgets: dict[str, list] = {}

    def save():
        with open(results_path, "w") as f:
            json.dump(results, f, indent=2)

    results["start_s0"] = {"greedy": evaluate(out, "start", "smollm2", 1, 0.0, args)["pass_at_1"]}
    if args.eval_n:
        results["start_s0"]["sampled"] = evaluate(out, "start", "smollm2", args.eval_n, 0.8, args)["pass_at_1"]
    save()
    matched = {}
    for seed in seeds:
        runs = {"mars": train(out, "mars", seed, args.steps, None)}
        runs["mers"] = train(out, "mers", seed, args.steps, None)
        matched[seed] = matched_group(runs["mars"])
        runs["grpo"] = train(out, "grpo", seed, args.steps, matched[seed]["group_size"])
        for method, wd in runs.items():
            name = f"{method}_s{seed}"
            results[name] = {"greedy": evaluate(out, name, wd, 1, 0.0, args, args.steps)["pass_at_1"],
                             "generated_tokens": total_generated(wd)}
            if args.eval_n and args.sampled == "all":
                results[name]["sampled"] = evaluate(out, name, wd, args.eval_n, 0.8, args, args.steps)["pass_at_1"]
            budgets.setdefault(method, []).append(results[name]["generated_tokens"])
            save()
    summary = summarize(results)
    wall = time.time() - t0
    meta = {"seeds": seeds, "steps": args.steps, "eval_n": args.eval_n, "eval_limit": args.eval_limit, "matched_group": matched,
            "wall_time_s_this_invocation": round(wall), "machine": f"{platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores"}
    results["_summary"], results["_meta"] = summary, meta
    save()
    md = table(summary, budgets)
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(md)
    plot(summary, os.path.join(out, "pass_at_1.png"))
    print(md)
    if args.docs:
        os.makedirs(os.path.join(REPO, "docs", "results"), exist_ok=True)
        shutil.copy(os.path.join(out, "pass_at_1.png"), os.path.join(REPO, "docs", "results", "learning.png"))
        with open(os.path.join(REPO, "docs", "results", "learning_table.md"), "w") as f:
            f.write(md + "\n" + json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
