"""murphy-plan: per-device memory of a run before launching it, phase by phase, with a fits / does-not-fit verdict.

    murphy-plan --config configs/NAME.py [--config.key=value ...] [--devices N] [--processes H]
                [--device-memory 16GiB] [--hardware v5e-8] [--headroom 0.1] [--json] [--strict] [--measure]

Loads no weights (model shapes come from config.json or a built-in preset of
the published configs); docs/scaling.md "Memory planner" explains what is
counted. Exit status: 0, or 1 with --strict when the plan does not fit, 2 on
bad input (one line), 3 infrastructure failure; docs/cli.md.
"""
from __future__ import annotations

import json
import sys

from absl import flags
from ml_collections import config_flags

from murphy_jax.cli._errors import DEBUG_HELP
from murphy_jax.cli.config_flags_util import dashed_device_memory, loaded_config, make_flags_parser, run_config_command
from murphy_jax.errors import MurphyUserError, one_line

PROG = "murphy-plan"

_CONFIG = config_flags.DEFINE_config_file("config", None, "experiment config file: configs/NAME.py[:ARG]",
                                          lock_config=True)
flags.DEFINE_integer("devices", 0, "devices in the mesh (0: the mesh section's product, or this machine's "
                                   "device count when a mesh size is -1)")
flags.DEFINE_integer("processes", 0, "JAX processes (hosts) driving the mesh; each generates its own trees on its "
                                     "local devices (0: from --hardware, else 1)")
flags.DEFINE_string("device_memory", "", "memory per device, e.g. 16GiB, 95GiB, 80GB (default: this machine's "
                                         "accelerator limit, or host RAM per CPU device)")
flags.DEFINE_string("hardware", "", "preset setting --devices and --device-memory: "
                                    "v4-8, v5e-8, v5p-8, v5p-16, v5p-32, v6e-8, 8xA100-80GB, 8xH100-80GB")
flags.DEFINE_float("headroom", 0.1, "fraction of device memory kept free for what the plan does not count "
                                    "(XLA temporaries, fragmentation, runtime)")
flags.DEFINE_bool("json", False, "print the plan as JSON instead of a table")
flags.DEFINE_bool("strict", False, "exit with status 1 when the plan does not fit")
flags.DEFINE_bool("measure", False, "also compile the real train step and sampler on this machine's devices "
                                    "(no weights, nothing run) and print XLA's memory figures beside the plan")
flags.DEFINE_bool("debug", False, DEBUG_HELP)
FLAGS = flags.FLAGS


def _local_devices() -> tuple[int, int, str]:
    """(device count, memory per device, where that figure comes from) of this machine."""
    import jax
    import psutil

    devs = jax.devices()
    stats = devs[0].memory_stats() if hasattr(devs[0], "memory_stats") else None
    if stats and stats.get("bytes_limit"):
        return len(devs), int(stats["bytes_limit"]), f"{devs[0].platform} memory limit"
    # CPU devices (real or forced with XLA_FLAGS) share the host's RAM.
    return len(devs), psutil.virtual_memory().total // len(devs), f"host RAM / {len(devs)} CPU device(s)"


def _devices_and_memory(cfg) -> tuple[int, int, int, str]:
    """(devices, processes, memory per device, where the memory figure comes from) from the flags."""
    from murphy_jax.plan.from_config import HARDWARE
    from murphy_jax.plan.report import parse_bytes

    devices, processes, memory, source = FLAGS.devices, FLAGS.processes, 0, ""
    if FLAGS.hardware:
        if FLAGS.hardware not in HARDWARE:
            raise MurphyUserError(f"--hardware={FLAGS.hardware!r}: must be one of {', '.join(HARDWARE)}")
        hw_devices, memory, hosts = HARDWARE[FLAGS.hardware]
        devices, processes, source = devices or hw_devices, processes or hosts, f"--hardware={FLAGS.hardware}"
    if FLAGS.device_memory:
        try:
            memory, source = parse_bytes(FLAGS.device_memory), "--device-memory"
        except ValueError as e:
            raise MurphyUserError(f"--device-memory: {one_line(e)}") from e
    sizes = [int(cfg.mesh.data), int(cfg.mesh.fsdp), int(cfg.mesh.tensor)]
    if not devices and -1 not in sizes:
        devices = sizes[0] * sizes[1] * sizes[2]
    if not devices or not memory:
        n, mem, where = _local_devices()
        devices = devices or n
        if not memory:
            memory, source = mem, where
    return devices, processes or 1, memory, source


def main(argv) -> None:
    if len(argv) > 1:
        raise MurphyUserError(f"unexpected arguments {argv[1:]}")
    cfg = loaded_config(_CONFIG)
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.WARNING)  # no backend-probing chatter around the table
    from configs.base import get_config as base_config
    from murphy_jax.plan.from_config import measure_for_config, plan_for_config
    from murphy_jax.plan.report import format_plan, plan_to_json
    from murphy_jax.train.config import validate

    validate(cfg, base_config())
    devices, processes, memory, source = _devices_and_memory(cfg)
    try:
        from configs.meshes import TPU_TOPOLOGIES

        # A TPU preset plans with the TPU compiler's layout terms (docs/scaling.md, "TPU compile check").
        platform = "tpu" if FLAGS.hardware in TPU_TOPOLOGIES else ""
        p, wl = plan_for_config(cfg, devices, processes=processes, device_memory=memory, headroom=FLAGS.headroom,
                                platform=platform)
        measured = measure_for_config(cfg, p, wl) if FLAGS.measure else None
    except MurphyUserError:
        raise
    except ValueError as e:  # the planner raises ValueError only for a run it cannot plan (mesh, model path)
        raise MurphyUserError(one_line(e)) from e
    if FLAGS.json:
        out = plan_to_json(p, wl, measured)
        out["device_memory_source"] = source
        print(json.dumps(out, indent=2))
    else:
        print(format_plan(p, wl, measured))
        print(f"(device memory from {source}; figures are estimates: docs/scaling.md, 'Memory planner')")
    if FLAGS.strict and not p.fits:
        sys.exit(1)


parse_flags = make_flags_parser(PROG, FLAGS, dashed_device_memory, module_name=__name__, doc=__doc__)


def run() -> None:
    """Console-script entry point."""
    run_config_command(PROG, main, parse_flags)


if __name__ == "__main__":
    run()
