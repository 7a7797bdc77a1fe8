"""The docs/scaling.md "TPU compile check" table: every model config on every TPU preset, compiled by libtpu.

    python benchmarks/compile_table.py run [--out benchmarks/results/compile_table.jsonl] [--timeout 900]
    python benchmarks/compile_table.py render [--out ...]     # markdown table on stdout

``run`` calls ``murphy-compile --json`` once per (config, preset) in its own
process (a row that times out or crashes is recorded as such) and appends one
JSON line per row; rows already in the file are skipped, so an interrupted run
resumes. ``render`` recomputes murphy-plan's estimate of each program with the
current planner (arithmetic only, fast) and prints the table, so a planner fix
shows without recompiling.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")  # planning needs no backend; keeps libtpu from probing for chips
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CONFIGS = ("smollm2_135m.py", "qwen3_1p7b_murphy.py", "qwen3_1p7b_grpo_matched.py", "qwen3_4b_murphy.py",
           "olmo2_7b_murphy.py")
# The single-host presets first: they are what most users rent, and the slowest rows come last.
PRESETS = ("v5e-8", "v5p-8", "v6e-8", "v4-8", "v5p-16", "v5p-32")
DEFAULT_OUT = os.path.join(ROOT, "benchmarks", "results", "compile_table.jsonl")


def config_spec(config: str, hardware: str) -> str:
    """configs/NAME.py:ARG selecting the preset's mesh (the matched GRPO config takes G first)."""
    arg = f"16,{hardware}" if config == "qwen3_1p7b_grpo_matched.py" else hardware
    return f"configs/{config}:{arg}"


def overrides(config: str, hardware: str) -> list[str]:
    """Config overrides a row is compiled with: SmolLM2's CPU micro-batch of 1 row cannot be split over a
    data-parallel slice (the trainer refuses it), so its rows train one row per chip."""
    from configs.meshes import PRESETS

    if config != "smollm2_135m.py":
        return []
    data, fsdp, _ = PRESETS["small"][hardware]
    return [f"--config.rl.batch.micro_batch_size={data * fsdp}"]


def run_row(config: str, hardware: str, timeout: float) -> dict:
    """One murphy-compile --json call; its report plus wall time, or the failure."""
    extra = overrides(config, hardware)
    cmd = [sys.executable, "-m", "murphy_jax.cli.compile", f"--config={config_spec(config, hardware)}",
           f"--hardware={hardware}", "--json", *extra]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                           env=dict(os.environ, JAX_PLATFORMS="cpu"))
    except subprocess.TimeoutExpired:
        return dict(config=config, hardware=hardware, overrides=extra, status="timeout", wall_s=timeout)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        err = (p.stderr.strip().splitlines() or ["?"])[-1]
        return dict(config=config, hardware=hardware, overrides=extra, status=f"exit {p.returncode}", error=err,
                    wall_s=wall)
    return dict(config=config, hardware=hardware, overrides=extra, status="ok", wall_s=wall,
                report=json.loads(p.stdout))


def _done(out: str) -> set[tuple[str, str]]:
    if not os.path.exists(out):
        return set()
    with open(out, encoding="utf-8") as f:
        return {(r["config"], r["hardware"]) for r in map(json.loads, f) if r["status"] != "timeout"}


def run(out: str, timeout: float, configs=CONFIGS, presets=PRESETS) -> None:
    """Compile every missing row, appending to ``out``."""
    os.makedirs(os.path.dirname(out), exist_ok=True)
    done = _done(out)
    for hardware in presets:
        for config in configs:
            if (config, hardware) in done:
                continue
            row = run_row(config, hardware, timeout)
            with open(out, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
            print(f"{config} {hardware}: {row['status']} in {row['wall_s']:.0f}s", flush=True)


def _planned(config: str, hardware: str, extra: list[str]) -> dict[str, int]:
    """Program name -> the current planner's total for its phase (platform="tpu")."""
    from murphy_jax.plan.compile import PHASE_OF
    from murphy_jax.plan.from_config import HARDWARE, plan_for_config

    import importlib

    name, _, arg = config_spec(config, hardware).partition(":")
    mod = importlib.import_module("configs." + os.path.basename(name)[:-3])
    c = mod.get_config(arg)
    devices, memory, hosts = HARDWARE[hardware]
    for o in extra:  # "--config.a.b=N"
        key, value = o[len("--config."):].split("=")
        *path, leaf = key.split(".")
        node = c
        for k in path:
            node = node[k]
        node[leaf] = int(value)
    p, _ = plan_for_config(c, devices, processes=hosts, device_memory=memory, platform="tpu")
    names = {ph.name for ph in p.phases}
    return {prog: p.phase(ph).total for prog, ph in PHASE_OF.items() if ph in names}


def _required(error: str) -> int:
    """Bytes the TPU compiler said a refused program needs (its message gives GiB as 'G'), else 0."""
    import re

    m = re.search(r"required for HLO temporaries \(([\d.]+)G\)", error)
    return int(float(m.group(1)) * 2**30) if m else 0


def _why(error: str) -> str:
    """A compile failure in a few words: the TPU compiler's out-of-HBM figures, else the message's start."""
    import re

    m = re.search(r"required for HLO temporaries \(([\d.]+G)\) exceeds available HBM \(([\d.]+G)\)", error)
    if m:
        return f"out of HBM: needs {m.group(1)}iB > {m.group(2)}iB"
    return error[:90]


def render(out: str) -> str:
    """The markdown table of ``out``'s rows (latest row per config x preset)."""
    from murphy_jax.plan.report import fmt_bytes

    rows: dict[tuple[str, str], dict] = {}
    with open(out, encoding="utf-8") as f:
        for r in map(json.loads, f):
            rows[(r["config"], r["hardware"])] = r
    lines = ["| config | preset (topology) | compiles | XLA peak per chip (program) | plan / XLA: train step, "
             "decode, prefill | fits HBM | compile time |", "|---|---|---|---|---|---|---|"]
    for config in CONFIGS:
        for hardware in PRESETS:
            r = rows.get((config, hardware))
            if r is None:
                continue
            name = config[:-3]
            if r["status"] != "ok":
                why = "timed out here" if r["status"] == "timeout" else r.get("error", r["status"])
                lines.append(f"| {name} | {hardware} | not checked ({why}) | | | | {r['wall_s']:.0f} s |")
                continue
            rep = r["report"]
            acc = next((p for p in rep["programs"] if p["name"] == "accumulate" and p["compiled"]), None)
            for p in rep["programs"]:  # a program refused for lack of HBM: what the compiler said it needs
                if not p["compiled"] and _required(p["error"]):
                    resident = p.get("resident", 0)
                    if not resident and acc and "1 host)" in rep["mesh"]:
                        # Rows from before murphy-compile kept it: on one host generation has the same resident
                        # optimizer state as accumulate.
                        resident = acc["resident"]
                    p["peak"] = resident + _required(p["error"])
            progs = {p["name"]: p for p in rep["programs"]}
            extra = r.get("overrides", [])
            planned = _planned(config, hardware, extra)
            sized = [p for p in rep["programs"] if p["compiled"] or _required(p["error"])]
            failed = [p for p in rep["programs"] if not p["compiled"]]
            top = max(sized, key=lambda p: p["peak"]) if sized else None

            def ratio(*names):
                vals = [(planned.get(n, 0), progs[n]["peak"]) for n in names if n in progs and progs[n] in sized]
                if not vals:
                    return "-"
                plan_v, xla_v = max(v[0] for v in vals), max(v[1] for v in vals)
                return f"{plan_v / xla_v:.2f}" if xla_v else "-"

            comp = "yes" if not failed else "no: " + "; ".join(f"{p['name']} ({_why(p['error'])})" for p in failed)
            peak = f"{fmt_bytes(top['peak'])} ({top['name']})" if top else "-"
            fits = ("yes" if rep["fits"] else "**no**") + f" ({fmt_bytes(rep['hbm'])})"
            secs = sum(p["compile_s"] for p in rep["programs"])
            if extra:
                name += " (" + ", ".join(o[len("--config."):] for o in extra) + ")"
            lines.append(f"| {name} | {hardware} ({rep['topology']}) | {comp} | {peak} | "
                         f"{ratio('accumulate', 'apply')}, {ratio('decode')}, {ratio('prefill', 'insert')} | {fits} | "
                         f"{secs:.0f} s ({r['wall_s']:.0f} s wall) |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("run", "render"))
    ap.add_argument("--out", default=DEFAULT_OUT, help="JSON-lines results file")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per config x preset before giving up")
    ap.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated config files to run")
    ap.add_argument("--presets", default=",".join(PRESETS), help="comma-separated TPU presets to run")
    a = ap.parse_args()
    if a.mode == "run":
        run(a.out, a.timeout, tuple(a.configs.split(",")), tuple(a.presets.split(",")))
    else:
        print(render(a.out))


if __name__ == "__main__":
    main()
