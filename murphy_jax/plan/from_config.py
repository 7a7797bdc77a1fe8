"""Run config -> Plan (and -> measured memory of the compiled programs), plus device-memory presets."""
from __future__ import annotations

from murphy_jax.plan.estimate import Plan, plan
from murphy_jax.plan.models import model_config
from murphy_jax.plan.workload import MeshSizes, Workload, resolve_mesh, workload_from_config

GiB = 1 << 30

# name -> (JAX devices, memory per device in bytes, hosts). TPU figures are HBM per chip
# from Google's Cloud TPU docs (v4/v5p accelerator types count TensorCores, two per chip;
# JAX sees one device per chip; v4/v5p hosts have 4 chips, v5e/v6e-8 is one 8-chip host);
# GPU figures are the cards' nominal memory. Real usable memory is a little less (runtime
# reservations) and, on GPUs, JAX preallocates only 75% by default
# (XLA_PYTHON_CLIENT_MEM_FRACTION), so keep the headroom or raise it.
HARDWARE: dict[str, tuple[int, int, int]] = {
    "v4-8": (4, 32 * GiB, 1),
    "v5e-8": (8, 16 * GiB, 1),
    "v5p-8": (4, 95 * GiB, 1),
    "v5p-16": (8, 95 * GiB, 2),
    "v5p-32": (16, 95 * GiB, 4),
    "v6e-8": (8, 32 * GiB, 1),
    "8xA100-80GB": (8, 80 * GiB, 1),
    "8xH100-80GB": (8, 80 * GiB, 1),
}


def mesh_for_config(c, devices: int) -> MeshSizes:
    """The mesh of the ``mesh`` section on ``devices`` devices."""
    return resolve_mesh(int(c.mesh.data), int(c.mesh.fsdp), int(c.mesh.tensor), devices)


def plan_for_config(c, devices: int, *, processes: int = 1, device_memory: int = 0,
                    headroom: float = 0.1, platform: str = "") -> tuple[Plan, Workload]:
    """(Plan, Workload) of run config ``c`` on ``devices`` devices (``processes`` hosts) of ``device_memory`` bytes
    each; loads no weights. ``platform="tpu"`` adds the TPU compiler's layout terms (estimate.plan)."""
    cfg, source = model_config(str(c.model.path), dtype=str(c.model.dtype), param_dtype=str(c.model.param_dtype),
                               remat=str(c.model.remat))
    mesh = mesh_for_config(c, devices)
    wl = workload_from_config(c, mesh, processes)
    return plan(cfg, mesh, wl, device_memory=device_memory, headroom=headroom,
                model_name=f"{c.model.path} ({source})", platform=platform), wl


def measure_for_config(c, p: Plan, wl: Workload, phases=("train", "prefill", "decode")) -> dict:
    """Measured peaks (XLA memory_analysis) of the train step and of the generation programs ``p`` was sized for.

    ``prefill`` is the larger of the sampler's prefill and insert programs (``program`` names it).

    ``phases``: which of "train", "prefill", "decode", "reference" (beta > 0) to compile and measure.
    Runs on local devices, compiling only (no weights, nothing executed).

    Needs at least as many local devices as the mesh (CPU: set
    ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` before JAX starts).
    """
    import jax

    from murphy_jax.models import make_mesh
    from murphy_jax.plan.measure import measure_generation, measure_reference, measure_train
    from murphy_jax.train.state import make_optimizer

    cfg, _ = model_config(str(c.model.path), dtype=str(c.model.dtype), param_dtype=str(c.model.param_dtype),
                          remat=str(c.model.remat))
    mesh_sizes = p.mesh
    if wl.processes > 1:
        raise ValueError("--measure compiles single-process programs; plan multi-host runs without it")
    if mesh_sizes.devices > jax.device_count():
        raise ValueError(f"--measure needs {mesh_sizes.devices} devices for mesh {mesh_sizes}, this machine has "
                         f"{jax.device_count()} (on CPU: XLA_FLAGS=--xla_force_host_platform_device_count="
                         f"{mesh_sizes.devices})")
    mesh = make_mesh(mesh_sizes.data, mesh_sizes.fsdp, mesh_sizes.tensor, devices=jax.devices()[:mesh_sizes.devices])
    tx = make_optimizer(c.optim, int(c.train.steps * c.train.ppo_epochs * c.train.minibatches))
    # The trainer's loss keywords (murphy_jax/train/trainer.py).
    loss_kw = dict(eps_low=float(c.rl.loss.eps_low), eps_high=float(c.rl.loss.eps_high),
                   aggregation=str(c.rl.loss.aggregation), beta=float(c.rl.loss.beta),
                   norm_len=float(c.rl.loss.norm_len or c.sampling.max_new_tokens))
    out = {}
    if "train" in phases:
        out["train"] = measure_train(cfg, mesh, wl, tx, loss_kw=loss_kw,
                                     temperature=float(c.sampling.temperature) or 1.0)
    if "reference" in phases and wl.reference != "none":
        out["reference"] = measure_reference(cfg, mesh, wl, tx, temperature=float(c.sampling.temperature) or 1.0)
    pre, dec = p.phase("generate: prefill").program, p.phase("generate: decode").program
    if "prefill" in phases:
        # The prefill phase is a refill: the prefill program beside the pool, then the insert; the larger counts.
        got = measure_generation(cfg, mesh, pre, tx, programs=("prefill", "insert"))
        name = max(got, key=lambda k: got[k]["peak"])
        out["prefill"] = dict(got[name], program=name)
    if "decode" in phases:
        out["decode"] = measure_generation(cfg, mesh, dec, tx, programs=("decode",))["decode"]
    if wl.reference == "device":  # the frozen reference stays on the devices beside every other phase
        from murphy_jax.plan.measure import abstract_params, device_bytes

        ref = device_bytes(abstract_params(cfg, mesh))
        for k in ("train", "prefill", "decode"):
            if k in out:
                out[k]["resident_reference"] = ref
                out[k]["peak"] += ref
    return {k: v for k, v in out.items() if k in phases}
