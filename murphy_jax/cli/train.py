"""murphy-train: run MURPHY (or a GRPO baseline) from a config file with command-line overrides.

    murphy-train --config configs/tiny.py --workdir /tmp/run [--config.rollout.turns=3 ...]

Rerunning the same command resumes from the newest checkpoint in --workdir.
"""
from __future__ import annotations

import logging
import sys

from absl import app, flags
from ml_collections import config_flags

from murphy_jax.cli.config_flags_util import make_flags_parser

_CONFIG = config_flags.DEFINE_config_file("config", None, "experiment config file: configs/NAME.py[:ARG]",
                                          lock_config=True)
flags.DEFINE_string("workdir", None, "run directory: checkpoints, metrics.jsonl, TensorBoard events, exports")
flags.DEFINE_bool("describe_config", False, "print every config key with its value and explanation, then exit")
flags.DEFINE_bool("export_only", False, "write the newest checkpoint of --workdir as an HF directory, then exit")
flags.DEFINE_string("export_dir", "", "output of --export_only (default: <workdir>/hf_export)")
FLAGS = flags.FLAGS

# Errors caused by the user's input: printed as one line, exit status 2.
_USER_ERRORS = ("ConfigValueError", "ConfigError", "ModelNotFoundError", "WeightsError", "SourceError",
                "NoValidRowsError", "TaskFormatError", "SamplingError", "CheckpointSpaceError")


def quiet_libraries() -> None:
    """Library chatter (orbax, absl, jax) at WARNING; murphy_jax's own progress at INFO."""
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.WARNING)
    logging.getLogger("murphy_jax").setLevel(logging.INFO)


def _fail(e: Exception) -> None:
    print(f"murphy-train: error: {e}", file=sys.stderr)
    sys.exit(2)


def main(argv) -> None:
    if len(argv) > 1:
        _fail(ValueError(f"unexpected arguments {argv[1:]}"))
    cfg = _CONFIG.value
    if FLAGS.describe_config:
        from murphy_jax.train.config import describe

        for key, (value, doc) in describe(cfg).items():
            print(f"{key} = {value!r}  # {doc}")
        return
    if not FLAGS.workdir:
        _fail(ValueError("--workdir is required"))
    quiet_libraries()
    from configs.base import get_config as base_config
    from murphy_jax.train import distributed
    from murphy_jax.train.trainer import Trainer

    try:
        distributed.initialize(cfg.distributed)  # before anything touches a device
        trainer = Trainer(cfg, FLAGS.workdir, reference_config=base_config())
        if FLAGS.export_only:
            if trainer.ckpt.latest_step() is None:
                _fail(ValueError(f"--export_only: no checkpoint in {FLAGS.workdir}"))
            out = trainer.export(FLAGS.export_dir or f"{trainer.workdir}/hf_export")
            print(f"exported step {trainer.step} to {out}")
            return
        last = trainer.run()
    except Exception as e:  # user errors get one line; anything else keeps its traceback
        if type(e).__name__ in _USER_ERRORS:
            _fail(e)
        raise
    status = "preempted" if last.get("preempted") else "finished"
    print(f"murphy-train: {status} at step {trainer.step}; workdir {trainer.workdir}")


parse_flags = make_flags_parser("murphy-train", FLAGS)


def run() -> None:
    """Console-script entry point."""
    flags.mark_flag_as_required("config")
    app.run(main, flags_parser=parse_flags)


if __name__ == "__main__":
    run()
