"""murphy-train: run MURPHY (or a GRPO baseline) from a config file with command-line overrides.

    murphy-train --config configs/tiny.py --workdir /tmp/run [--config.rollout.turns=3 ...]

Rerunning the same command resumes from the newest checkpoint in --workdir.
Exit status: 0 finished, 2 bad input (nothing written), 3 infrastructure failure, 75 preempted
(the last completed step is checkpointed; rerun to resume), 1 internal error; docs/cli.md.
"""
from __future__ import annotations

import logging
import os
import sys

from absl import flags
from ml_collections import config_flags

from murphy_jax.cli._checks import check_writable_dir
from murphy_jax.cli._errors import DEBUG_HELP
from murphy_jax.cli.config_flags_util import loaded_config, make_flags_parser, run_config_command
from murphy_jax.errors import EXIT_PREEMPTED, MurphyUserError

PROG = "murphy-train"
_CONFIG = config_flags.DEFINE_config_file("config", None, "experiment config file: configs/NAME.py[:ARG]",
                                          lock_config=True)
flags.DEFINE_string("workdir", None, "run directory: checkpoints, metrics.jsonl, TensorBoard events, exports")
flags.DEFINE_bool("describe_config", False, "print every config key with its value and explanation, then exit")
flags.DEFINE_bool("export_only", False, "write the newest checkpoint of --workdir as an HF directory, then exit")
flags.DEFINE_string("export_dir", "", "output of --export_only (default: <workdir>/hf_export)")
flags.DEFINE_bool("debug", False, DEBUG_HELP)
FLAGS = flags.FLAGS


def quiet_libraries() -> None:
    """Library chatter (orbax, absl, jax) at WARNING; murphy_jax's own progress at INFO."""
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.WARNING)
    logging.getLogger("murphy_jax").setLevel(logging.INFO)


def has_checkpoint(workdir: str) -> bool:
    """Whether ``workdir/checkpoints`` holds a finished step directory (orbax names those by the bare step)."""
    ckpt = os.path.join(workdir, "checkpoints")
    return os.path.isdir(ckpt) and any(d.isdigit() and os.path.isdir(os.path.join(ckpt, d)) for d in os.listdir(ckpt))


def main(argv) -> None:
    if len(argv) > 1:
        raise MurphyUserError(f"unexpected arguments {argv[1:]}")
    cfg = loaded_config(_CONFIG)
    if FLAGS.describe_config:
        from murphy_jax.train.config import describe

        for key, (value, doc) in describe(cfg).items():
            print(f"{key} = {value!r}  # {doc}")
        return
    if not FLAGS.workdir:
        raise MurphyUserError("--workdir is required")
    # Input checks that need no device and write nothing come first: a failing run leaves no trace.
    if FLAGS.export_only and not has_checkpoint(FLAGS.workdir):
        raise MurphyUserError(f"--export_only: no checkpoint in {FLAGS.workdir}")
    check_writable_dir(FLAGS.workdir, "--workdir")
    if FLAGS.export_only and FLAGS.export_dir:
        check_writable_dir(FLAGS.export_dir, "--export_dir")
    quiet_libraries()
    from configs.base import get_config as base_config
    from murphy_jax.train import distributed
    from murphy_jax.train.config import validate
    from murphy_jax.train.trainer import Trainer

    validate(cfg, base_config())  # before distributed start-up, which may wait for other hosts
    distributed.initialize(cfg.distributed)  # before anything touches a device
    trainer = Trainer(cfg, FLAGS.workdir, reference_config=base_config())
    if FLAGS.export_only:
        if trainer.ckpt.latest_step() is None:
            raise MurphyUserError(f"--export_only: no readable checkpoint in {FLAGS.workdir}")
        out = trainer.export(FLAGS.export_dir or f"{trainer.workdir}/hf_export")
        print(f"exported step {trainer.step} to {out}")
        return
    last = trainer.run()
    if last.get("preempted"):
        print(f"{PROG}: preempted at step {trainer.step}; rerun the same command to resume from {trainer.workdir}")
        sys.exit(EXIT_PREEMPTED)
    print(f"{PROG}: finished at step {trainer.step}; workdir {trainer.workdir}")


parse_flags = make_flags_parser(PROG, FLAGS, module_name=__name__, doc=__doc__)


def run() -> None:
    """Console-script entry point."""
    run_config_command(PROG, main, parse_flags)


if __name__ == "__main__":
    run()
