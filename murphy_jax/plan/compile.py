"""Compile every program of a run for a real TPU topology on any machine (libtpu, deviceless AOT), and ask XLA.

``jax.experimental.topologies.get_topology_desc`` gives compile-only devices
of a TPU slice that need not exist here; the run's own jitted programs
(``murphy_jax.plan.measure``: the train step's ``accumulate`` and ``apply``,
the reference log-prob pass, the sampler's pool programs ``new_pool``,
``prefill``, ``insert`` and ``decode``, the credit/advantage kernels) are
lowered on a mesh of those devices from ``jax.ShapeDtypeStruct`` inputs with the
run's shardings, so nothing is allocated, and compiled by the TPU compiler.
Each compiled program reports XLA's per-device HBM use (arguments, outputs,
temporaries, generated code), its FLOPs and the collectives in its HLO; the
figures sit beside murphy-plan's estimate of the same phase.

What this proves: the programs compile for that TPU and their memory as XLA
lays it out. What it does not: speed (that needs a slice), allocator
fragmentation, or the runtime's own reservations.
"""
from __future__ import annotations

import contextlib
import math
import os
import re
import time
from dataclasses import dataclass, field

from murphy_jax.errors import MurphyUserError

# The plan phase each program's memory is compared with.
# new_pool (the pool's allocation) has none: its peak is the pool alone, which the decode phase holds too.
PHASE_OF = {"accumulate": "train: micro-batch", "apply": "train: optimizer update", "reference": "reference log-probs",
            "prefill": "generate: prefill", "insert": "generate: prefill", "decode": "generate: decode"}
COLLECTIVES = ("all-gather", "all-reduce", "reduce-scatter", "all-to-all", "collective-permute")
_COLLECTIVE_RE = re.compile(r"=\s*(.+?)\s+(" + "|".join(COLLECTIVES) + r")(-start)?\(")
_SHAPE_RE = re.compile(r"\b(pred|s4|s8|s16|s32|s64|u4|u8|u16|u32|u64|f16|bf16|f32|f64|f8e4m3fn|f8e5m2|c64)\[([0-9,]*)\]")
_BITS = {"pred": 8, "s4": 4, "u4": 4, "s8": 8, "u8": 8, "f8e4m3fn": 8, "f8e5m2": 8, "s16": 16, "u16": 16, "f16": 16,
         "bf16": 16, "s32": 32, "u32": 32, "f32": 32, "s64": 64, "u64": 64, "f64": 64, "c64": 64}


def _shape_bytes(text: str) -> list[int]:
    """Bytes of each array shape written in an HLO type string such as ``(f32[8,128]{1,0}, bf16[4])``."""
    out = []
    for dtype, dims in _SHAPE_RE.findall(text):
        n = math.prod(int(d) for d in dims.split(",") if d) if dims else 1
        out.append(n * _BITS[dtype] // 8)
    return out


def collectives(hlo_text: str) -> dict[str, tuple[int, int]]:
    """kind -> (ops, bytes of their results) in a compiled HLO module's text, per device.

    Counts each op once where it is written: an op inside a loop body (the layer
    scan, the decode loop) runs once per iteration but is counted once. An async
    ``-start`` op's result tuple holds its operand and its result: the larger is counted.
    """
    out: dict[str, list[int]] = {}
    for line in hlo_text.splitlines():
        m = _COLLECTIVE_RE.search(line)
        if not m:
            continue
        sizes = _shape_bytes(m.group(1))
        nbytes = (max(sizes) if m.group(3) else sum(sizes)) if sizes else 0
        ops, total = out.get(m.group(2), [0, 0])
        out[m.group(2)] = [ops + 1, total + nbytes]
    return {k: (v[0], v[1]) for k, v in sorted(out.items())}


@contextlib.contextmanager
def _quiet_stderr():
    """Silence file descriptor 2 while libtpu starts: with no TPU attached it warns that TPU_ACCELERATOR_TYPE and
    TPU_WORKER_HOSTNAMES are unset, which is harmless for compile-only devices (errors still raise)."""
    import sys

    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def host_calls(hlo_text: str) -> int:
    """Host callbacks (jax.debug.print, pure_callback, io_callback) and host send/recv in compiled HLO text."""
    return len(re.findall(r"custom_call_target=\"[^\"]*callback[^\"]*\"|is_host_transfer=true", hlo_text))


def tpu_devices(topology: str, **options) -> list:
    """Compile-only devices of TPU topology ``topology`` (e.g. ``v5e:2x4``); needs libtpu, not a TPU."""
    try:
        import libtpu  # noqa: F401
    except ImportError:
        raise MurphyUserError("compiling for a TPU needs libtpu: pip install libtpu "
                              "(the version pinned in requirements/lock.txt)") from None
    from jax.experimental import topologies

    # Compile-only devices touch no chip, so several checks (and test workers) may load libtpu at once;
    # without this the second process fails on libtpu's /tmp/libtpu_lockfile.
    os.environ.setdefault("ALLOW_MULTIPLE_LIBTPU_LOAD", "1")
    try:
        with _quiet_stderr():
            return list(topologies.get_topology_desc(platform="tpu", topology_name=topology, **options).devices)
    except Exception as e:  # libtpu's own message names what it could not parse
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise MurphyUserError(f"TPU topology {topology!r}: {first}") from None


@dataclass
class ProgramResult:
    """One compiled program: XLA's per-device figures, the plan's estimate of its phase, the verdict."""

    name: str
    compiled: bool
    error: str = ""
    compile_s: float = 0.0
    arguments: int = 0
    outputs: int = 0
    aliased: int = 0
    temporaries: int = 0
    generated_code: int = 0
    resident: int = 0  # state that stays on the devices beside the program but is not one of its arguments
    flops: float = 0.0
    collectives: dict = field(default_factory=dict)
    hlo_error: str = ""  # why the compiled HLO text (collectives, host calls) could not be read, if it could not
    required: int = 0  # bytes the TPU compiler said a refused program needs (arguments + temporaries)
    host_calls: int = 0  # host callbacks / host transfers in the compiled HLO (each one stalls the chip)
    planned: int = 0  # murphy-plan's total for the matching phase (0: no phase models this program)

    @property
    def out_of_memory(self) -> bool:
        """Whether the TPU compiler refused the program because its buffers exceed the chip's HBM."""
        return not self.compiled and ("memory" in self.error.lower() and "hbm" in self.error.lower())

    @property
    def peak(self) -> int:
        """Per-device HBM while the program runs: resident state + arguments + temporaries + outputs - aliased
        (for a program refused for lack of HBM: resident state + what the compiler said it needs)."""
        if not self.compiled:
            return self.resident + self.required
        return self.resident + self.arguments + self.temporaries + self.outputs - self.aliased

    @property
    def plan_error(self) -> float | None:
        """(plan - XLA) / XLA; None when the plan has no phase for this program or it did not compile."""
        if not self.planned or not (self.compiled or self.required):
            return None
        return (self.planned - self.peak) / self.peak


@dataclass
class CompileReport:
    """Every program of a run compiled for one TPU topology."""

    config: str
    hardware: str
    topology: str
    device_kind: str
    mesh: str
    hbm: int  # bytes per chip
    programs: list[ProgramResult]
    plan_peak: int
    plan_fits: bool
    notes: list[str] = field(default_factory=list)

    @property
    def compiles(self) -> bool:
        """Whether every program compiled."""
        return all(p.compiled for p in self.programs)

    @property
    def peak_program(self) -> ProgramResult | None:
        """The compiled program with the largest per-device peak."""
        done = [p for p in self.programs if p.compiled]
        return max(done, key=lambda p: p.peak) if done else None

    @property
    def fits(self) -> bool:
        """Whether every program compiled and its peak stays within the chip's HBM."""
        return self.compiles and all(p.peak <= self.hbm for p in self.programs)


def _compile_error(e: Exception) -> str:
    """One line of a compiler error; the TPU compiler's out-of-memory message keeps its byte counts."""
    text = str(e)
    m = re.search(r"(Ran out of memory in memory space \w+[^\n]*)", text) or re.search(
        r"((?:RESOURCE_EXHAUSTED|Resource exhausted)[^\n]*)", text)
    if m:
        return m.group(1).strip()
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), type(e).__name__)
    return line[:300]


def _result(name: str, compiled, seconds: float, resident: int) -> ProgramResult:
    ma = compiled.memory_analysis()
    cost = compiled.cost_analysis()
    try:
        text = compiled.as_text()
    except Exception as e:  # noqa: BLE001
        # libtpu 0.0.52's HLO can carry async collectives (multi-operand async-update) that jaxlib 0.10.2's
        # HLO parser refuses to read back; the program compiled, only its text is unavailable.
        text = ""
        hlo_error = _compile_error(e)
    else:
        hlo_error = ""
    if isinstance(cost, (list, tuple)):
        cost = cost[0] if cost else {}
    return ProgramResult(name, True, compile_s=seconds, arguments=int(ma.argument_size_in_bytes),
                         outputs=int(ma.output_size_in_bytes), aliased=int(ma.alias_size_in_bytes),
                         temporaries=int(ma.temp_size_in_bytes),
                         generated_code=int(ma.generated_code_size_in_bytes), resident=resident,
                         flops=float((cost or {}).get("flops", 0.0)), collectives=collectives(text),
                         host_calls=host_calls(text), hlo_error=hlo_error)


def _tree_nodes(c) -> tuple[int, int]:
    """(nodes, sibling groups) of one rollout tree before pruning: the credit/advantage kernels' input size."""
    r = c.rollout
    g, k = int(r.group_size), int(r.children or r.group_size)
    nodes, groups, per_turn = g, 1, g
    for _ in range(2, int(r.turns) + 1):
        parents = per_turn if not r.expand_budget else min(per_turn, int(r.expand_budget))
        groups, per_turn = groups + parents, parents * k
        nodes += per_turn
    return nodes, groups


def _credit_programs(c, device, keep: dict) -> None:
    """Compile the credit (reward propagation) and group-advantage kernels at one step's padded sizes."""
    import jax
    import jax.numpy as jnp
    from jax.sharding import SingleDeviceSharding

    from murphy_jax.rl import _common
    from murphy_jax.rl.advantages import _advantages_jit
    from murphy_jax.rl.credit import _propagate_jit

    nodes, groups = _tree_nodes(c)
    n = _common.bucket_size(nodes * int(c.data.tasks_per_step))
    groups_padded = _common.bucket_size(groups * int(c.data.tasks_per_step) + 1, minimum=64)
    one = SingleDeviceSharding(device)
    sds = lambda shape, dt: jax.ShapeDtypeStruct(shape, jnp.dtype(dt), sharding=one)  # noqa: E731
    t0 = time.perf_counter()
    keep["credit"] = (_propagate_jit.lower(sds((n,), jnp.int32), sds((n,), jnp.float32), sds((), jnp.float32),
                                           strategy=str(c.rl.credit.strategy)).compile(), time.perf_counter() - t0)
    t0 = time.perf_counter()
    keep["advantages"] = (_advantages_jit.lower(sds((n,), jnp.float32), sds((n,), jnp.int32), sds((), jnp.float32),
                                                num_groups=groups_padded,
                                                normalize_std=bool(c.rl.advantage.normalize_std)).compile(),
                          time.perf_counter() - t0)


def compile_run(c, *, hardware: str = "", topology: str = "", topology_options: dict | None = None,
                device_memory: int = 0, headroom: float = 0.1, config_name: str = "",
                programs=("train", "reference", "prefill", "decode", "credit")) -> CompileReport:
    """Compile the programs of run config ``c`` for a TPU slice: ``hardware`` (a preset of
    ``configs.meshes.TPU_TOPOLOGIES``) or an explicit ``topology`` (then ``device_memory`` is needed)."""
    from configs import meshes
    from murphy_jax.models import make_mesh
    from murphy_jax.plan.from_config import HARDWARE, plan_for_config
    from murphy_jax.plan.measure import GEN_PROGRAMS, abstract_params, abstract_state, device_bytes
    from murphy_jax.plan.measure import measure_generation
    from murphy_jax.plan.measure import measure_reference, measure_train
    from murphy_jax.plan.models import model_config
    from murphy_jax.plan.workload import local_mesh
    from murphy_jax.train.state import make_optimizer

    options = dict(topology_options or {})
    if not topology:
        if hardware not in meshes.TPU_TOPOLOGIES:
            raise MurphyUserError(f"--hardware={hardware!r}: not a TPU preset; one of "
                                  f"{', '.join(meshes.TPU_TOPOLOGIES)} (or give --topology and --device-memory)")
        topology, preset_options = meshes.TPU_TOPOLOGIES[hardware]
        options = {**preset_options, **options}
    if not device_memory:
        if hardware not in HARDWARE:
            raise MurphyUserError(f"--topology={topology!r} without --hardware: give --device-memory (HBM per chip)")
        device_memory = HARDWARE[hardware][1]
    devices = tpu_devices(topology, **options)
    hosts = len({d.process_index for d in devices})
    try:
        p, wl = plan_for_config(c, len(devices), processes=hosts, device_memory=device_memory, headroom=headroom,
                                platform="tpu")
    except ValueError as e:
        raise MurphyUserError(str(e)) from None
    cfg, _ = model_config(str(c.model.path), dtype=str(c.model.dtype), param_dtype=str(c.model.param_dtype),
                          remat=str(c.model.remat))
    m = p.mesh
    mesh = make_mesh(m.data, m.fsdp, m.tensor, devices=devices)
    gm = local_mesh(m, hosts)  # each host generates on its own chips
    host0 = [d for d in devices if d.process_index == devices[0].process_index]
    gen_mesh = make_mesh(gm.data, gm.fsdp, gm.tensor, devices=host0[:gm.devices])
    tx = make_optimizer(c.optim, int(c.train.steps * c.train.ppo_epochs * c.train.minibatches))
    loss_kw = dict(eps_low=float(c.rl.loss.eps_low), eps_high=float(c.rl.loss.eps_high),
                   aggregation=str(c.rl.loss.aggregation), beta=float(c.rl.loss.beta),
                   norm_len=float(c.rl.loss.norm_len or c.sampling.max_new_tokens))
    temperature = float(c.sampling.temperature) or 1.0
    params = abstract_params(cfg, mesh)
    state = abstract_state(params, tx, mesh)
    opt_bytes, param_bytes = device_bytes(state.opt_state), device_bytes(state.params)
    ref_bytes = param_bytes if wl.reference == "device" else 0
    gen_opt = device_bytes(abstract_state(abstract_params(cfg, gen_mesh), tx, gen_mesh).opt_state)
    pre, dec = p.phase("generate: prefill").program, p.phase("generate: decode").program
    # What stays on the chips beside each program without being one of its arguments (measure.py's accounting).
    # The reference pass takes the reference params as its argument; the policy and its moments stay beside it.
    # The decode pool also stays beside a prefill: measure_generation reports it (resident_pool) once compiled.
    resident = {"accumulate": opt_bytes + ref_bytes, "apply": ref_bytes, "reference": param_bytes + opt_bytes,
                "new_pool": gen_opt + ref_bytes, "prefill": gen_opt + ref_bytes, "insert": gen_opt + ref_bytes,
                "decode": gen_opt + ref_bytes, "credit": 0, "advantages": 0}
    if hosts > 1:  # the policy's global shards stay beside the host-local copy used for generation
        for k in GEN_PROGRAMS:
            resident[k] += param_bytes + opt_bytes - gen_opt
    jobs = []
    if "train" in programs and wl.micro_batch % m.batch_ways:
        # The trainer refuses this mesh (train/config.py check_mesh); jit would fail on the batch sharding.
        refused = (f"the micro-batch of {wl.micro_batch} rows (rl.batch.micro_batch_size x hosts) is not a multiple "
                   f"of data*fsdp={m.batch_ways}: the trainer refuses this mesh")
        programs = tuple(x for x in programs if x != "train")
        results_refused = [ProgramResult(n, False, error=refused) for n in ("accumulate", "apply")]
    else:
        results_refused = []
    if "train" in programs:
        jobs.append((("accumulate", "apply"), lambda k: measure_train(cfg, mesh, wl, tx, loss_kw=loss_kw,
                                                                      temperature=temperature, keep=k)))
    if "reference" in programs and wl.reference != "none":
        jobs.append((("reference",), lambda k: measure_reference(cfg, mesh, wl, tx, temperature=temperature,
                                                                  keep=k)))
    pre, dec = p.phase("generate: prefill").program, p.phase("generate: decode").program
    # "prefill" is a refill (the prefill of one prompt batch, its insert into the pool); "decode" is the pool's
    # allocation and its decode loop, each at the shapes of the pool the plan sized that phase for.
    if "prefill" in programs:
        jobs.append((("prefill", "insert"), lambda k: measure_generation(cfg, gen_mesh, pre, tx, keep=k,
                                                                         programs=("prefill", "insert"))))
    if "decode" in programs:
        jobs.append((("new_pool", "decode"), lambda k: measure_generation(cfg, gen_mesh, dec, tx, keep=k,
                                                                          programs=("new_pool", "decode"))))
    if "credit" in programs:
        jobs.append((("credit", "advantages"), lambda k: _credit_programs(c, devices[0], k)))
    results = list(results_refused)
    for names, job in jobs:
        keep: dict = {}
        error = ""
        got = None
        try:
            got = job(keep)
        except Exception as e:  # a program the TPU compiler refuses is a finding, not a crash
            error = _compile_error(e)
        for name in names:
            if name in keep:
                extra = got[name].get("resident_pool", 0) if isinstance(got, dict) and name in got else 0
                r = _result(name, *keep[name], resident[name] + extra)
            else:
                r = ProgramResult(name, False, error=error or "not compiled (an earlier program of its group failed)",
                                  resident=resident[name])
                # "the total memory required for HLO temporaries (22.70G) exceeds available HBM (15.75G)": the
                # figure is the program's whole HBM buffer (arguments included), in GiB.
                need = re.search(r"required for HLO temporaries \(([\d.]+)G\)", r.error)
                r.required = int(float(need.group(1)) * 2**30) if need else 0
            if name in PHASE_OF and any(ph.name == PHASE_OF[name] for ph in p.phases):
                r.planned = p.phase(PHASE_OF[name]).total
            results.append(r)
    notes = list(p.notes)
    return CompileReport(config=config_name, hardware=hardware, topology=topology, device_kind=devices[0].device_kind,
                         mesh=f"{m} ({len(devices)} chips, {hosts} host{'s' if hosts > 1 else ''})",
                         hbm=int(device_memory), programs=results, plan_peak=p.peak, plan_fits=p.fits, notes=notes)


def report_to_json(r: CompileReport) -> dict:
    """A CompileReport as plain JSON types."""
    progs = []
    for p in r.programs:
        keys = ("name", "compiled", "error", "compile_s", "arguments", "outputs", "aliased", "temporaries",
                "generated_code", "resident", "flops", "host_calls", "hlo_error", "planned")
        d = {k: getattr(p, k) for k in keys}
        d.update(peak=p.peak, plan_error=p.plan_error, required=p.required,
                 collectives={k: {"ops": n, "bytes": b} for k, (n, b) in p.collectives.items()})
        progs.append(d)
    return dict(config=r.config, hardware=r.hardware, topology=r.topology, device_kind=r.device_kind, mesh=r.mesh,
                hbm=r.hbm, compiles=r.compiles, fits=r.fits, plan_peak=r.plan_peak, plan_fits=r.plan_fits,
                notes=r.notes, programs=progs)


def _mib(n: float) -> str:
    from murphy_jax.plan.report import fmt_bytes

    return fmt_bytes(n)


def format_report(r: CompileReport) -> str:
    """The per-program table and the verdict, for a terminal."""
    lines = [f"{r.config or 'config'} on {r.topology} ({r.device_kind}), mesh {r.mesh}, HBM {_mib(r.hbm)} per chip",
             f"{'program':<11} {'compile':>8} {'args':>10} {'outputs':>10} {'temps':>10} {'code':>9} "
             f"{'peak':>10} {'plan':>10} {'plan err':>8} {'%HBM':>5} {'GFLOP':>9}  collectives"]
    for p in r.programs:
        if not p.compiled:
            lines.append(f"{p.name:<11} {'OUT OF HBM' if p.out_of_memory else 'FAILED'}: {p.error}")
            if p.required:
                err = f"{p.plan_error:+.0%}" if p.plan_error is not None else "-"
                lines.append(f"{'':<11} needs {_mib(p.peak)} per chip with the resident state; plan "
                             f"{_mib(p.planned) if p.planned else '-'} ({err})")
            continue
        err = f"{p.plan_error:+.0%}" if p.plan_error is not None else "-"
        coll = ", ".join(f"{k} x{n} ({_mib(b)})" for k, (n, b) in p.collectives.items()) or "none"
        if p.host_calls:
            coll += f"; {p.host_calls} HOST CALLBACK(S)"
        if p.hlo_error:
            coll = "HLO text unreadable by this jaxlib (async collectives); collectives not counted"
        lines.append(f"{p.name:<11} {p.compile_s:>7.1f}s {_mib(p.arguments):>10} {_mib(p.outputs):>10} "
                     f"{_mib(p.temporaries):>10} {_mib(p.generated_code):>9} {_mib(p.peak):>10} "
                     f"{_mib(p.planned) if p.planned else '-':>10} {err:>8} {p.peak / r.hbm:>5.0%} "
                     f"{p.flops / 1e9:>9.1f}  {coll}")
    lines.append("peak = resident state + arguments + temporaries + outputs - aliased (XLA memory_analysis, per chip); "
                 "plan err = (plan - XLA) / XLA; collectives: ops as written in the HLO (loop bodies once), "
                 "result bytes")
    for note in r.notes:
        lines.append(f"note: {note}")
    lines.append(f"murphy-plan (with the TPU terms) for comparison: peak {_mib(r.plan_peak)} per chip, "
                 + ("fits" if r.plan_fits else "does not fit") + " with its headroom")
    lines.append(verdict(r))
    return "\n".join(lines)


def verdict(r: CompileReport) -> str:
    """One line: compiles and fits, or which program does not and by how many bytes."""
    oom = [p for p in r.programs if p.out_of_memory]
    if oom:
        return (f"DOES NOT FIT: program {oom[0].name} exceeds the {_mib(r.hbm)} HBM of a {r.device_kind}; "
                f"the TPU compiler says: {oom[0].error}")
    failed = [p for p in r.programs if not p.compiled]
    if failed:
        return f"DOES NOT COMPILE: {failed[0].name}: {failed[0].error}"
    over = [p for p in r.programs if p.peak > r.hbm]
    if over:
        worst = max(over, key=lambda p: p.peak)
        return (f"DOES NOT FIT: program {worst.name} needs {_mib(worst.peak)} ({worst.peak} bytes) per chip, "
                f"{_mib(worst.peak - r.hbm)} more than the {_mib(r.hbm)} HBM of a {r.device_kind}")
    top = r.peak_program
    return (f"compiles and fits: peak {_mib(top.peak)} per chip in {top.name}, {top.peak / r.hbm:.0%} of "
            f"{_mib(r.hbm)} HBM" if top else "nothing compiled")


__all__ = ["CompileReport", "ProgramResult", "collectives", "compile_run", "format_report", "host_calls",
           "report_to_json",
           "tpu_devices", "verdict"]
