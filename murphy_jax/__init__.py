"""murphy_jax: MURPHY (multi-turn GRPO with feedback-conditioned rollout trees) in JAX."""

__version__ = "0.1.0"


def _skip_tpu_probe_without_tpu() -> None:
    """Start JAX on the CPU where it would end there anyway, so that libtpu stays quiet.

    libtpu is installed for the TPU compile check (requirements/lock.txt, docs/scaling.md); with it JAX
    probes for TPU chips at start-up even on a CPU-only machine and prints warnings about
    TPU_ACCELERATOR_TYPE / TPU_WORKER_HOSTNAMES. Nothing changes where JAX_PLATFORMS is set, a TPU chip or
    device node is visible, or a GPU plugin is installed.
    """
    import glob
    import importlib.util
    import os

    if "JAX_PLATFORMS" in os.environ or importlib.util.find_spec("libtpu") is None:
        return
    if glob.glob("/dev/accel*") or glob.glob("/dev/vfio/[0-9]*"):
        return
    for vendor in glob.glob("/sys/bus/pci/devices/*/vendor"):
        try:
            with open(vendor, encoding="ascii") as f:
                if f.read().strip() == "0x1ae0":  # Google: a TPU chip
                    return
        except OSError:
            continue
    if any(importlib.util.find_spec(p) for p in ("jax_cuda12_plugin", "jax_cuda13_plugin", "jax_rocm7_plugin")):
        return
    os.environ["JAX_PLATFORMS"] = "cpu"


_skip_tpu_probe_without_tpu()
