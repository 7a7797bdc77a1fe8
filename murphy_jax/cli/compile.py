"""murphy-compile: compile every program of a run for a TPU slice on this machine (no TPU needed) and check it fits.

    murphy-compile --config configs/NAME.py[:HARDWARE] --hardware v5e-8 [--json] [--strict]
    murphy-compile --config configs/tiny.py --topology v5e:2x2 --device-memory 16GiB

Builds the slice's devices from libtpu's topology description (configs/meshes.py
TPU_TOPOLOGIES), the run's parameters, optimizer state and batches as abstract
arrays with the run's shardings, and compiles the train step (accumulate,
apply), the reference pass (rl.loss.beta > 0), the sampler's programs (prefill
and its insert into the decode pool; the pool's allocation and decode) and the
credit/advantage kernels with the TPU compiler. Prints XLA's
per-chip memory of each beside murphy-plan's estimate, FLOPs and collectives.
It proves compilation and memory, not speed (docs/scaling.md "TPU compile check").
Exit status: 0; 1 with --strict when a program does not compile or does not fit;
2 on bad input.
"""
from __future__ import annotations

import json
import os
import sys

# The check needs libtpu's compiler, not a TPU runtime: without this JAX would probe for TPU chips
# at start-up (libtpu warns about TPU_ACCELERATOR_TYPE / TPU_WORKER_HOSTNAMES when there are none).
os.environ.setdefault("JAX_PLATFORMS", "cpu")

from absl import flags  # noqa: E402
from ml_collections import config_flags  # noqa: E402

from murphy_jax.cli._errors import DEBUG_HELP  # noqa: E402
from murphy_jax.cli.config_flags_util import (  # noqa: E402
    dashed_device_memory, loaded_config, make_flags_parser, run_config_command)
from murphy_jax.errors import MurphyUserError  # noqa: E402

PROG = "murphy-compile"
_CONFIG = config_flags.DEFINE_config_file("config", None, "experiment config file: configs/NAME.py[:ARG]",
                                          lock_config=True)
flags.DEFINE_string("hardware", "", "TPU preset giving the topology and HBM per chip: "
                                    "v4-8, v5e-8, v5p-8, v5p-16, v5p-32, v6e-8 (configs/meshes.py)")
flags.DEFINE_string("topology", "", "libtpu topology instead of a preset, e.g. v5e:2x2 or v5p:2x2x1 "
                                    "(needs --device-memory)")
flags.DEFINE_string("device_memory", "", "HBM per chip, e.g. 16GiB (default: the --hardware preset's)")
flags.DEFINE_float("headroom", 0.1, "murphy-plan's headroom, for its verdict printed beside XLA's figures")
flags.DEFINE_list("programs", ["train", "reference", "prefill", "decode", "credit"],
                  "which programs to compile: train, reference, prefill (with the pool insert), decode (with the pool allocation), credit")
flags.DEFINE_bool("json", False, "print the report as JSON instead of a table")
flags.DEFINE_bool("strict", False, "exit with status 1 when a program does not compile or does not fit")
flags.DEFINE_bool("debug", False, DEBUG_HELP)
FLAGS = flags.FLAGS
_PROGRAMS = ("train", "reference", "prefill", "decode", "credit")


def main(argv) -> int:
    if len(argv) > 1:
        raise MurphyUserError(f"unexpected arguments {argv[1:]}")
    cfg = loaded_config(_CONFIG)
    if not FLAGS.hardware and not FLAGS.topology:
        raise MurphyUserError("give --hardware (a TPU preset) or --topology with --device-memory")
    bad = [p for p in FLAGS.programs if p not in _PROGRAMS]
    if bad:
        raise MurphyUserError(f"--programs: unknown {', '.join(bad)}; choose from {', '.join(_PROGRAMS)}")
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.WARNING)
    from configs.base import get_config as base_config
    from murphy_jax.plan.compile import compile_run, format_report, report_to_json
    from murphy_jax.plan.report import parse_bytes
    from murphy_jax.train.config import validate

    try:
        validate(cfg, base_config())
        memory = parse_bytes(FLAGS.device_memory) if FLAGS.device_memory else 0
    except ValueError as e:
        raise MurphyUserError(str(e)) from None
    spec = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--config=")), "")
    report = compile_run(cfg, hardware=FLAGS.hardware, topology=FLAGS.topology, device_memory=memory,
                         headroom=FLAGS.headroom, config_name=spec or str(cfg.model.path),
                         programs=tuple(FLAGS.programs))
    print(json.dumps(report_to_json(report), indent=2) if FLAGS.json else format_report(report))
    if FLAGS.strict and not report.fits:
        return 1
    return 0


parse_flags = make_flags_parser(PROG, FLAGS, dashed_device_memory, module_name=__name__, doc=__doc__)


def run() -> None:
    """Console-script entry point."""
    run_config_command(PROG, main, parse_flags)


if __name__ == "__main__":
    run()
