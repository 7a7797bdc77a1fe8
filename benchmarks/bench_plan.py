"""murphy-plan against measured memory: the CPU configs' train step and sampler, plan / measured per phase.

    python benchmarks/bench_plan.py                 # XLA memory_analysis of the compiled programs (no weights)
    python benchmarks/bench_plan.py --rss           # also run the small cases for real and watch process RSS
    python benchmarks/bench_plan.py --presets       # the planner's estimates for the experiment configs on pods

Two measurements:

* **XLA** (trusted): each program (train step; the sampler's prefill, insert
  and decode of its pooled engine) is compiled for
  the run's shapes and shardings exactly as the trainer compiles it, and
  ``compiled.memory_analysis()`` gives its arguments, outputs, aliasing and
  temporary allocation: the bytes the runtime allocates when it runs. A
  phase's peak adds what stays resident beside the program (the optimizer
  state during generation, and the decode pool beside a prefill); the
  prefill phase is the larger of the prefill and insert programs.
  Deterministic, per device, exact for this backend.
* **RSS** (cross-check): the same programs run on real arrays in a fresh
  process while a thread samples the resident set size; peak - baseline (after
  compilation, before the first array) is what the phase added. Noisier: the
  allocator keeps freed pages, sampling can miss a short peak, and the host
  side (numpy batch, runtime) adds a little; it confirms that XLA's figure is
  what the process really uses.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MiB = 2**20

_SMALL = {"rl.batch.micro_batch_size": 1, "rl.batch.buckets": (256,), "sampling.max_prompt_tokens": 192,
          "sampling.max_new_tokens": 64, "sampling.max_rows": 8}
# name -> (config file, overrides, phases measured). The two CPU configs as they are, a
# small-batch SmolLM2 that also runs for real within a laptop's RAM (--rss), and remat
# variants (remat changes only the train step).
CASES = {
    "tiny": ("configs/tiny.py", {}, ("train", "prefill", "decode")),
    "tiny remat=full": ("configs/tiny.py", {"model.remat": "full"}, ("train",)),
    "smollm2_135m": ("configs/smollm2_135m.py", {}, ("train", "prefill", "decode")),
    "smollm2 small": ("configs/smollm2_135m.py", _SMALL, ("train", "prefill", "decode")),
    "smollm2 small remat=dots": ("configs/smollm2_135m.py", dict(_SMALL, **{"model.remat": "dots"}), ("train",)),
    "smollm2 small remat=full": ("configs/smollm2_135m.py", dict(_SMALL, **{"model.remat": "full"}), ("train",)),
    # A KL term adds the frozen reference and its forward pass (full logits, not chunked).
    "tiny beta=0.05": ("configs/tiny.py", {"rl.loss.beta": 0.05}, ("reference", "train")),
    "smollm2 small beta=0.05": ("configs/smollm2_135m.py", dict(_SMALL, **{"rl.loss.beta": 0.05}),
                                ("reference", "train")),
}
RSS_CASES = ("tiny", "smollm2 small")
PRESET_CONFIGS = ("configs/qwen3_1p7b_murphy.py", "configs/qwen3_4b_murphy.py", "configs/olmo2_7b_murphy.py")
PRESET_HARDWARE = ("v4-8", "v5e-8", "v5p-8", "v5p-16", "v5p-32", "v6e-8", "8xA100-80GB", "8xH100-80GB")


def load_config(path: str, overrides: dict, arg: str = ""):
    """A run config from a configs/ file (``get_config(arg)`` when ``arg``) with dotted-key overrides."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("cfg", os.path.join(ROOT, path))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    c = mod.get_config(arg) if arg else mod.get_config()
    for key, value in overrides.items():
        node = c
        *parents, last = key.split(".")
        for p in parents:
            node = node[p]
        node[last] = value
    return c


def plan_case(name: str):
    """(Plan, Workload, run config) of a case on one device."""
    from murphy_jax.plan.from_config import plan_for_config

    c = load_config(*CASES[name][:2])
    p, wl = plan_for_config(c, 1)
    return p, wl, c


def planned(p) -> dict:
    """Per-phase plan totals keyed like the measurements (train = max of its two sub-phases)."""
    train = max(p.phase("train: micro-batch").total, p.phase("train: optimizer update").total)
    out = {"train": train, "prefill": p.phase("generate: prefill").total, "decode": p.phase("generate: decode").total}
    if any(ph.name == "reference log-probs" for ph in p.phases):
        out["reference"] = p.phase("reference log-probs").total
    return out


# ---------------------------------------------------------------------------------------------
# RSS: run the programs for real in a child process.


class RssPeak:
    """Samples this process's RSS every millisecond in a thread; ``peak`` is the largest seen."""

    def __init__(self):
        import psutil

        self.proc, self.peak, self._stop = psutil.Process(), 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.001)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()


def rss_child(name: str, phase: str) -> dict:
    """In a fresh process: compile, then materialise and run one phase, returning its RSS growth."""
    import jax
    import jax.numpy as jnp
    import psutil

    from murphy_jax.models import make_mesh
    from murphy_jax.plan.measure import abstract_params, abstract_state
    from murphy_jax.plan.models import model_config
    from murphy_jax.sampling import engine
    from murphy_jax.train.state import make_optimizer
    from murphy_jax.train.step import make_train_step

    p, wl, c = plan_case(name)
    cfg, _ = model_config(c.model.path, dtype=c.model.dtype, param_dtype=c.model.param_dtype, remat=c.model.remat)
    mesh = make_mesh(1, 1, 1, devices=jax.devices()[:1])
    tx = make_optimizer(c.optim, 10)
    abstract = abstract_state(abstract_params(cfg, mesh), tx, mesh)
    ones = jax.jit(lambda: jax.tree.map(lambda x: jnp.full(x.shape, 0.01, x.dtype), abstract),
                   out_shardings=jax.tree.map(lambda x: x.sharding, abstract))
    ones = ones.lower().compile()
    if phase == "train":
        loss_kw = dict(eps_low=0.2, eps_high=0.2, aggregation="token_mean", beta=0.0, norm_len=64.0)
        step = make_train_step(cfg, tx, loss_kw=loss_kw, logits_chunk=wl.logits_chunk,
                               state_shardings=jax.tree.map(lambda x: x.sharding, abstract), mesh=mesh)
        m, mb, t = wl.num_micro, wl.micro_batch, wl.seq_len
        rng = np.random.default_rng(0)
        micro = [dict(input_ids=rng.integers(0, cfg.vocab_size, (mb, t), dtype=np.int32),
                      targets=rng.integers(0, cfg.vocab_size, (mb, t), dtype=np.int32),
                      positions=np.broadcast_to(np.arange(t, dtype=np.int32), (mb, t)).copy(),
                      valid=np.ones((mb, t), bool), loss_mask=np.ones((mb, t), bool),
                      advantages=rng.normal(size=(mb, t)).astype(np.float32),
                      old_logprobs=np.full((mb, t), -3.0, np.float32)) for _ in range(m)]
        norms = {"num_tokens": np.float32(m * mb * t), "num_seqs": np.float32(m * mb)}
        state = ones()
        step(state, micro[:1], norms)  # compile both programs before measuring
        state = ones()
        base = psutil.Process().memory_info().rss
        with RssPeak() as mon:
            out = step(state, micro, norms)
            jax.block_until_ready(out)
        return {"rss_growth": mon.peak - base}
    prog = p.phase(f"generate: {phase}").program
    mode = engine.Mode(greedy=False, top_k=0, use_top_p=False)
    controls = engine.Controls(jax.random.PRNGKey(0), jnp.float32(1.0), jnp.float32(1.0),
                               jnp.asarray([0, -1, -1, -1], jnp.int32), jnp.int32(prog.gen_slots))
    shape = dict(cfg=cfg, rows=prog.rows, prompt_slots=prog.prompt_len, gen_slots=prog.gen_slots)
    new_pool = engine.new_pool.lower(**shape).compile()
    if phase == "prefill":  # a refill: the largest prefill batch beside the pool, then its insert
        rb, m = prog.prefill_rows, prog.prefill_rows * prog.n
        ids, lens = np.ones((rb, prog.prompt_len), np.int32), np.full((rb,), prog.prompt_len, np.int32)
        dest, row_ids = np.arange(m, dtype=np.int32), np.arange(m, dtype=np.int32)
        prefill = engine.prefill.lower(abstract.params, ids, lens, cfg=cfg).compile()
        pcache, logits = jax.eval_shape(lambda pr: engine.prefill(pr, ids, lens, cfg=cfg), abstract.params)
        pool = jax.eval_shape(lambda: engine.new_pool(**shape))
        insert = engine.insert.lower(pool, pcache, logits, lens, dest, row_ids, controls, n=prog.n,
                                     mode=mode).compile()

        def run(st):
            pool = new_pool()
            pc, lg = prefill(st.params, ids, lens)
            return insert(pool, pc, lg, lens, dest, row_ids, controls)
    else:  # decode a full pool of live rows (as if every row had just been inserted), G - 1 steps
        def live():
            pool = engine.new_pool(**shape)
            return pool._replace(done=jnp.zeros_like(pool.done), lengths=jnp.ones_like(pool.lengths),
                                 prompt_lens=jnp.full_like(pool.prompt_lens, prog.prompt_len))

        make_pool = jax.jit(live).lower().compile()
        limit, refill_at = jnp.int32(prog.gen_slots - 1), jnp.int32(prog.rows + 1)
        compiled = engine.decode.lower(abstract.params, jax.eval_shape(live), limit, refill_at, controls, cfg=cfg,
                                       mode=mode).compile()
        run = lambda st: compiled(st.params, make_pool(), limit, refill_at, controls)  # noqa: E731
    base = psutil.Process().memory_info().rss
    with RssPeak() as mon:
        state = ones()  # parameters + optimizer state: what is resident while generating
        jax.block_until_ready(run(state))
    return {"rss_growth": mon.peak - base}


def measure_rss(name: str, phase: str) -> int:
    """RSS growth of one phase, measured in a fresh interpreter (one process per measurement)."""
    env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=ROOT)
    env.pop("XLA_FLAGS", None)
    res = subprocess.run([sys.executable, __file__, "--_rss_child", name, phase], capture_output=True, text=True,
                         env=env, cwd=ROOT)
    if res.returncode:
        raise RuntimeError(f"RSS child {name}/{phase} failed:\n{res.stderr[-2000:]}")
    return int(json.loads(res.stdout.strip().splitlines()[-1])["rss_growth"])


# ---------------------------------------------------------------------------------------------


def compare(names, rss: bool) -> list[dict]:
    """One row per case and phase: plan, XLA-measured peak, ratio (and RSS when asked)."""
    from murphy_jax.plan.from_config import measure_for_config

    rows = []
    for name in names:
        p, wl, c = plan_case(name)
        t0 = time.perf_counter()
        phases = CASES[name][2]
        meas = measure_for_config(c, p, wl, phases)
        plan_by = planned(p)
        for phase in phases:
            row = {"case": name, "phase": phase, "plan": plan_by[phase], "xla": meas[phase]["peak"],
                   "peak_phase": phase == _peak_key(p)}
            if rss and name in RSS_CASES:
                row["rss"] = measure_rss(name, phase)
            rows.append(row)
        print(f"  measured {name} in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    return rows


def _peak_key(p) -> str:
    return {"generate: prefill": "prefill", "generate: decode": "decode",
            "reference log-probs": "reference"}.get(p.peak_phase.name, "train")


def markdown(rows: list[dict]) -> str:
    """The comparison as a markdown table (MiB, ratio = plan / measured)."""
    has_rss = any("rss" in r for r in rows)
    head = "| case | phase | plan | XLA measured | plan / XLA |" + (" RSS measured | plan / RSS |" if has_rss else "")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        phase = r["phase"] + (" (peak)" if r["peak_phase"] else "")
        line = (f"| {r['case']} | {phase} | {r['plan'] / MiB:,.1f} MiB | {r['xla'] / MiB:,.1f} MiB | "
                f"{r['plan'] / r['xla']:.2f} |")
        if has_rss:
            rss = r.get("rss")
            line += f" {rss / MiB:,.1f} MiB | {r['plan'] / rss:.2f} |" if rss else " | |"
        lines.append(line)
    return "\n".join(lines)


def presets_table(overrides: dict | None = None) -> str:
    """Planner estimates (not measurements) of the experiment configs on common pods, as markdown.

    Each config is loaded with the hardware as its argument, so the mesh is its preset (configs/meshes.py).
    """
    from murphy_jax.plan.from_config import HARDWARE, plan_for_config
    from murphy_jax.plan.report import fmt_bytes

    lines = ["| config | hardware | mesh | params + Adam + grads | generate peak | train peak | usable | verdict |",
             "|---|---|---|---|---|---|---|---|"]
    for path in PRESET_CONFIGS:
        for hw in PRESET_HARDWARE:
            c = load_config(path, overrides or {}, hw)
            devices, memory, hosts = HARDWARE[hw]
            p, _ = plan_for_config(c, devices, processes=hosts, device_memory=memory)
            state = sum(i.bytes for i in p.phase("train: optimizer update").items
                        if i.name in ("parameters", "optimizer state", "gradient accumulator"))
            gen = max(p.phase("generate: prefill").total, p.phase("generate: decode").total)
            train = max(p.phase("train: micro-batch").total, p.phase("train: optimizer update").total)
            lines.append(f"| {os.path.basename(path)} | {hw} | {p.mesh} | {fmt_bytes(state)} | {fmt_bytes(gen)} | "
                         f"{fmt_bytes(train)} | {fmt_bytes(p.usable)} | {'fits' if p.fits else '**does not fit**'} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated case names (default: all)")
    ap.add_argument("--rss", action="store_true", help=f"also measure process RSS for {', '.join(RSS_CASES)}")
    ap.add_argument("--presets", action="store_true", help="print the estimates table for the pod configs and exit")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="with --presets: override a config key in every preset config (e.g. sampling.max_rows=64)")
    ap.add_argument("--json", action="store_true", help="print rows as JSON instead of markdown")
    ap.add_argument("--_rss_child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._rss_child:
        print(json.dumps(rss_child(*args._rss_child)))
        return
    if args.presets:
        overrides = dict(kv.split("=", 1) for kv in args.set)
        print(presets_table({k: int(v) if v.isdigit() else v for k, v in overrides.items()}))
        return
    import jax

    from murphy_jax.utils.benchmarking import machine

    print(f"machine: {machine()}; jax {jax.__version__}; backend {jax.default_backend()}", file=sys.stderr)
    rows = compare([n.strip() for n in args.cases.split(",") if n.strip()], args.rss)
    print(json.dumps(rows, indent=2) if args.json else markdown(rows))


if __name__ == "__main__":
    main()
