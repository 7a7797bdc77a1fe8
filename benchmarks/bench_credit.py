"""Benchmark: credit + advantages + pruning on rollout forests from 10k to 1M nodes (CPU, jitted).

    python benchmarks/bench_credit.py [--sizes 10000,30000,100000,300000,1000000] [--repeats 5]

Forests look like MURPHY steps: G turn-1 samples per task, every failed node
expanded into K children, S turns, rewards = fraction of 4 tests passed.
Two timings per size (median of --repeats after one warm-up/compile call):

* ``core``: the jitted arrays-in, arrays-out computation on device arrays;
* ``host``: what the trainer calls (``murphy_jax.rl.scoring.score_arrays``):
  host validation + padding to a bucketed size + the jitted calls + copies back.

Prints a table, the time ratio between the largest and the smallest size next
to the size ratio, and the log-log slope (1.0 = linear).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

# Run from a checkout without `pip install -e .` too.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from murphy_jax.rl import advantages, credit, pruning  # noqa: E402
from murphy_jax.rl.scoring import score_arrays  # noqa: E402


def make_forest(num_nodes: int, G: int = 8, K: int = 4, S: int = 3, seed: int = 0):
    """A random forest of at most num_nodes nodes (whole tasks), BFS order: parent, reward, group, task."""
    rng = np.random.default_rng(seed)
    tasks = max(1, num_nodes // G)  # enough: every task has at least G nodes
    parent, task, group = np.full(tasks * G, -1), np.repeat(np.arange(tasks), G), np.repeat(np.arange(tasks), G)
    reward = rng.integers(0, 5, tasks * G) / 4  # fraction of 4 tests passed
    frontier, groups = np.arange(tasks * G), tasks
    for _ in range(S - 1):
        failed = frontier[reward[frontier] < 1.0]
        kids = np.repeat(failed, K)
        frontier = len(parent) + np.arange(len(kids))
        parent = np.concatenate([parent, kids])
        task = np.concatenate([task, task[kids]])
        group = np.concatenate([group, groups + np.repeat(np.arange(len(failed)), K)])
        reward = np.concatenate([reward, rng.integers(0, 5, len(kids)) / 4])
        groups += len(failed)
    # Keep the first tasks whose nodes fit, so every group stays complete.
    cut = int(np.searchsorted(np.cumsum(np.bincount(task, minlength=tasks)), num_nodes, side="right"))
    idx = np.flatnonzero(task < max(cut, 1))
    remap = np.full(len(parent), -1)
    remap[idx] = np.arange(len(idx))
    p = np.where(parent[idx] >= 0, remap[np.maximum(parent[idx], 0)], -1)
    g = np.unique(group[idx], return_inverse=True)[1]
    return p.astype(np.int32), reward[idx].astype(np.float32), g.astype(np.int32), task[idx].astype(np.int32)


KNOBS = dict(strategy="mars", gamma=0.9, normalize_std=True, eps=1e-6, inter_keep=3, intra_keep=4,
             keep_root_group=True, drop_zero_spread=False)


def core_fn(num_groups: int):
    """The jitted computation alone, with the same knobs as KNOBS."""
    @jax.jit
    def run(parent, reward, group, task):
        R = credit._propagate_core(parent, reward, jnp.float32(0.9), "mars")
        A = advantages._advantages_core(R, group, jnp.float32(1e-6), num_groups, True)
        keep, _ = pruning._prune_core(R, group, task, parent < 0, 3, 4, True, False, num_groups)
        return R, A, keep
    return run


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def timeit(fn, repeats: int) -> float:
    fn()  # compile / warm up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,30000,100000,300000,1000000")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"# {cpu_name()} | {os.cpu_count()} logical CPUs | "
          f"jax {jax.__version__} on {jax.devices()[0].platform} | numpy {np.__version__}")
    print(f"# knobs: {KNOBS}")
    print(f"{'nodes':>9} {'groups':>8} {'turns':>5} {'core ms':>9} {'core ns/node':>13} "
          f"{'host ms':>9} {'host ns/node':>13}")
    rows = []
    for n in sizes:
        parent, reward, group, task = make_forest(n)
        num_groups = int(group.max()) + 1
        dev = [jnp.asarray(x) for x in (parent, reward, group, task)]
        run = core_fn(num_groups)
        t_core = timeit(lambda: jax.block_until_ready(run(*dev)), args.repeats)
        t_host = timeit(lambda: score_arrays(parent, reward, group, task, num_groups=num_groups, **KNOBS),
                        args.repeats)
        depth = int(np.asarray(credit.node_depth(dev[0])).max()) + 1
        rows.append((len(parent), t_core, t_host))
        print(f"{len(parent):>9} {num_groups:>8} {depth:>5} {t_core * 1e3:>9.2f} {t_core / len(parent) * 1e9:>13.1f} "
              f"{t_host * 1e3:>9.2f} {t_host / len(parent) * 1e9:>13.1f}", flush=True)
    if len(rows) > 1:
        (n0, c0, h0), (n1, c1, h1) = rows[0], rows[-1]
        ns = np.log([r[0] for r in rows])
        slope_c = np.polyfit(ns, np.log([r[1] for r in rows]), 1)[0]
        slope_h = np.polyfit(ns, np.log([r[2] for r in rows]), 1)[0]
        print(f"size ratio {n1 / n0:.1f}x -> core time ratio {c1 / c0:.1f}x, host time ratio {h1 / h0:.1f}x")
        print(f"log-log slope (1.0 = linear): core {slope_c:.2f}, host {slope_h:.2f}")


if __name__ == "__main__":
    main()
