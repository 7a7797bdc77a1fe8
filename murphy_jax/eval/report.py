"""The evaluation report: JSON (schema in docs/evaluation.md), a markdown table and a pass@1-vs-iteration plot."""
from __future__ import annotations

import datetime
import json
import os
from typing import Sequence

from murphy_jax.eval.runner import SCHEMA_VERSION, EvalReport

REPORT_JSON = "report.json"
REPORT_TABLE = "table.md"
REPORT_PLOT = "pass_at_1.png"


def markdown_table(reports: Sequence[EvalReport]) -> str:
    """Models side by side: pass@1 (%) at every iteration, the gain Iter-k - Iter-1, tasks, n."""
    iters = max(r.settings.iters for r in reports)
    head = ["model"] + [f"Iter-{j}" for j in range(1, iters + 1)] + ["gain", "tasks", "n", "T"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for r in reports:
        p = r.pass_at_1
        cells = [f"{100 * x:.1f}" for x in p] + [""] * (iters - len(p))
        temp = r.config.get("temperature")
        lines.append("| " + " | ".join([r.label] + cells + [f"{100 * (p[-1] - p[0]):+.1f}", str(len(r.records)),
                                                          str(r.settings.n), "" if temp is None else f"{temp:g}"])
                     + " |")
    return "\n".join(lines) + "\n"


def difficulty_table(report: EvalReport) -> str:
    """One model's pass@1 (%) per difficulty and iteration (markdown)."""
    d = report.to_dict()["by_difficulty"]
    iters = report.settings.iters
    lines = ["| difficulty | tasks | " + " | ".join(f"Iter-{j}" for j in range(1, iters + 1)) + " |",
             "|---|---:|" + "---:|" * iters]
    for name, s in d.items():
        lines.append(f"| {name} | {s['tasks']} | " + " | ".join(f"{100 * x:.1f}" for x in s["pass_at_1"]) + " |")
    return "\n".join(lines) + "\n"


def plot_pass_at_1(reports: Sequence[EvalReport], path: str, title: str = "") -> str:
    """PNG of pass@1 (%) against iteration, one line per model, each point labelled with its value."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and TPU VMs
    import matplotlib.pyplot as plt

    iters = max(r.settings.iters for r in reports)
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for r in reports:
        y = [100 * x for x in r.pass_at_1]
        x = list(range(1, len(y) + 1))
        (line,) = ax.plot(x, y, marker="o", linewidth=2, label=r.label)
        for xi, yi in zip(x, y):
            ax.annotate(f"{yi:.1f}", (xi, yi), textcoords="offset points", xytext=(0, 7), ha="center",
                        fontsize=8, color=line.get_color())
    ax.set_xticks(range(1, iters + 1), [f"Iter-{j}" for j in range(1, iters + 1)])
    ax.set_xlabel("iteration (attempt k sees the execution feedback of attempt k-1)")
    ax.set_ylabel("pass@1 (%)")
    top = max(max(100 * x for x in r.pass_at_1) for r in reports)
    ax.set_ylim(0, min(100, max(10.0, top * 1.25 + 2)))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def report_dict(reports: Sequence[EvalReport], benchmark: dict) -> dict:
    """The whole JSON report: schema version, benchmark, one entry per model, the comparison table."""
    return {
        "schema_version": SCHEMA_VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "benchmark": benchmark,
        "models": [r.to_dict() for r in reports],
        "table_markdown": markdown_table(reports),
    }


def write_report(out_dir: str, reports: Sequence[EvalReport], benchmark: dict) -> dict[str, str]:
    """Write report.json, table.md and pass_at_1.png into ``out_dir``; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {"json": os.path.join(out_dir, REPORT_JSON), "table": os.path.join(out_dir, REPORT_TABLE),
             "plot": os.path.join(out_dir, REPORT_PLOT)}
    data = report_dict(reports, benchmark)
    tmp = paths["json"] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, paths["json"])  # a reader never sees half a report
    with open(paths["table"], "w", encoding="utf-8") as f:
        f.write(data["table_markdown"])
        for r in reports:
            if len(r.to_dict()["by_difficulty"]) > 1:
                f.write(f"\n{r.label} by difficulty:\n\n{difficulty_table(r)}")
    n = {r.settings.n for r in reports}
    title = f"{benchmark.get('name', '')}: pass@1 vs iteration" + (f" (n={n.pop()})" if len(n) == 1 else "")
    plot_pass_at_1(reports, paths["plot"], title)
    return paths
