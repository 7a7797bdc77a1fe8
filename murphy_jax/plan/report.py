"""Human and JSON renderings of a Plan, byte-size parsing, and what to change when it does not fit."""
from __future__ import annotations

import re

from murphy_jax.plan.estimate import Plan
from murphy_jax.plan.workload import Workload

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9, "t": 10**12,
          "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}

# Which knob shrinks which component (the advice printed when a plan does not fit).
_ADVICE = {
    "saved activations": "model.remat=full (or dots), a smaller rl.batch.micro_batch_size or shorter rl.batch.buckets",
    "saved weight casts": "model.remat=full, or model.param_dtype=bfloat16",
    "layer backward working set": "a smaller rl.batch.micro_batch_size or shorter rl.batch.buckets (attention is T^2)",
    "logits working set": "train.logits_chunk=256 (or smaller)",
    "KV cache": "a smaller sampling.max_rows, sampling.max_new_tokens or sampling.max_prompt_tokens",
    "prompt cache": "a smaller sampling.max_prompt_tokens",
    "insert working set": "a smaller sampling.max_rows",
    "prefill layer working set": "a smaller sampling.max_rows or sampling.max_prompt_tokens (attention is P^2)",
    "forward working set": "a smaller rl.batch.micro_batch_size (the reference pass is not chunked)",
    "parameters": "more devices on mesh.fsdp (parameters, moments and gradients shard over it)",
    "optimizer state": "more devices on mesh.fsdp, or model.param_dtype=bfloat16",
    "gradient accumulator": "more devices on mesh.fsdp, or model.param_dtype=bfloat16",
    "update temporaries": "more devices on mesh.fsdp, or model.param_dtype=bfloat16",
    "reference parameters": "rl.loss.beta=0 (no reference model) or more devices on mesh.fsdp",
}


def parse_bytes(text: str) -> int:
    """'16GiB', '16G', '80GB', '512MiB', '1e9' -> bytes (K/M/G/T are powers of 10, KiB/MiB/GiB/TiB of 2)."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([a-zA-Z]*)\s*", str(text))
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"cannot read {text!r} as a size; examples: 16GiB, 95GiB, 80GB, 512MiB")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def fmt_bytes(n: float) -> str:
    """Bytes in binary units with three significant figures (e.g. '12.3 GiB')."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def verdict(p: Plan) -> str:
    """One line: the peak phase and whether it fits the usable device memory."""
    head = f"peak {fmt_bytes(p.peak)} per device in '{p.peak_phase.name}'"
    if not p.device_memory:
        return head + " (no device memory given: no verdict)"
    usable = (f"{fmt_bytes(p.usable)} usable ({fmt_bytes(p.device_memory)} minus "
              f"{p.headroom:.0%} headroom)")
    if p.fits:
        return f"fits: {head}, {p.peak / p.usable:.0%} of {usable}"
    return f"WARNING: does not fit: {head} exceeds {usable} by {fmt_bytes(p.peak - p.usable)}"


def advice(p: Plan) -> list[str]:
    """Knobs that shrink the largest components of the peak phase (largest first)."""
    out = []
    for item in sorted(p.peak_phase.items, key=lambda i: -i.bytes)[:3]:
        if item.name in _ADVICE:
            out.append(f"{item.name} ({fmt_bytes(item.bytes)}): {_ADVICE[item.name]}")
    return out


def format_plan(p: Plan, wl: Workload, measured: dict | None = None) -> str:
    """The plan as a table: one block per phase with its components, then notes and the verdict."""
    lines = [f"model {p.model}: {p.num_params:,} parameters",
             f"mesh {p.mesh} ({p.mesh.devices} device(s), {wl.processes} process(es)"
             + (f"; generation on each host's {wl.gen_mesh}" if wl.processes > 1 else "") + "); device memory "
             f"{fmt_bytes(p.device_memory) if p.device_memory else 'unknown'}",
             f"train: micro-batch [{wl.micro_batch}, {wl.seq_len}] x{wl.num_micro}; generation programs: "
             + ", ".join(f"turn {g.turn}: {g.rows} pool rows (n={g.n}, prefill x{g.prefill_rows}), "
                         f"{g.gen_slots}+{g.prompt_len} slots"
                         for g in wl.generation), ""]
    meas_key = {"generate: prefill": "prefill", "generate: decode": "decode", "train: micro-batch": "train"}
    width = max(len(i.name) for ph in p.phases for i in ph.items) + 4
    for ph in p.phases:
        mark = "  <- peak" if ph is p.peak_phase else ""
        extra = ""
        if measured and ph.name in meas_key:
            m = measured[meas_key[ph.name]]["peak"]
            total = ph.total if ph.name != "train: micro-batch" else max(ph.total, p.phase(
                "train: optimizer update").total)
            extra = f"   (XLA on this machine: {fmt_bytes(m)}, plan/measured {total / m:.2f})"
        lines.append(f"{ph.name:<{width}}{fmt_bytes(ph.total):>12}{mark}{extra}")
        for i in ph.items:
            lines.append(f"  {i.name:<{width - 2}}{fmt_bytes(i.bytes):>12}   {i.note}")
        lines.append("")
    lines += [f"note: {n}" for n in p.notes]
    lines.append(verdict(p))
    if not p.fits:
        lines += ["to shrink it:"] + [f"  - {a}" for a in advice(p)]
    return "\n".join(lines)


def plan_to_json(p: Plan, wl: Workload, measured: dict | None = None) -> dict:
    """The plan as JSON-ready data (bytes as integers)."""
    out = {
        "model": p.model, "num_params": p.num_params,
        "mesh": {"data": p.mesh.data, "fsdp": p.mesh.fsdp, "tensor": p.mesh.tensor, "devices": p.mesh.devices},
        "processes": wl.processes,
        "device_memory": p.device_memory, "headroom": p.headroom, "usable": p.usable,
        "peak": p.peak, "peak_phase": p.peak_phase.name, "fits": p.fits, "verdict": verdict(p),
        "workload": {"micro_batch": wl.micro_batch, "seq_len": wl.seq_len, "num_micro": wl.num_micro,
                     "logits_chunk": wl.logits_chunk, "reference": wl.reference,
                     "generation": [dict(turn=g.turn, rows=g.rows, n=g.n, prompt_len=g.prompt_len,
                                         gen_slots=g.gen_slots, prefill_rows=g.prefill_rows) for g in wl.generation]},
        "phases": [{"name": ph.name, "total": ph.total,
                    "items": [{"name": i.name, "bytes": i.bytes, "note": i.note} for i in ph.items]}
                   for ph in p.phases],
        "notes": list(p.notes), "advice": advice(p) if not p.fits else [],
    }
    if measured is not None:
        out["measured"] = measured
    return out
