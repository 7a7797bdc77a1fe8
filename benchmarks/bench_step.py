"""Where an RL training step's time goes: N real steps of a config, one row per step, in a temporary workdir.

    python benchmarks/bench_step.py --config configs/tiny.py --steps 5
    python benchmarks/bench_step.py --config configs/learning.py:mars --steps 4 --set data.tasks_per_step=8
    python benchmarks/bench_step.py --config configs/learning.py:mars --quick

Runs ``Trainer.run`` exactly as ``murphy-train`` does (same config loading; overrides as
``--set KEY=VALUE`` or murphy-train's ``--config.KEY=VALUE``) and prints, per step, the
``time/*`` parts of the step (docs/training.md, "Where a step's time goes"; they sum to
the step), the XLA compilations (count, seconds: they happen inside the parts, so they
are not added again), generated and trained tokens and tokens/s, then the mean of the
steady-state steps (step 3 on) with each part's share, and the programs compiled after
step 2 (a steady-state step should compile none). Nothing is kept unless ``--workdir``.

``--quick``: 3 steps of 2 tasks (``--steps``/``--set`` still win): under a minute for
configs/tiny.py (37 s measured, 2-core CPU) and, estimated, 8-12 min for
configs/learning.py:mars on an idle 2-core CPU (docs/results/learning.md: 12.6 min for
3 MaRS steps of 4 tasks, step 1 compiling). ``--steps 4 --set data.tasks_per_step=8``:
about 30 min there.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile

from absl import flags
from ml_collections import config_flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from murphy_jax.cli.config_flags_util import (config_arg, loaded_config, make_flags_parser,  # noqa: E402
                                              run_config_command)

PROG = "bench_step.py"
_CONFIG = config_flags.DEFINE_config_file("config", None, "experiment config file: configs/NAME.py[:ARG]",
                                          lock_config=False)
flags.DEFINE_integer("steps", 0, "RL steps to run (0: the config's train.steps; --quick: 3)")
flags.DEFINE_bool("quick", False, "3 steps of 2 tasks (explicit --steps and --set still win)")
flags.DEFINE_multi_string("set", [], "KEY=VALUE config override (repeatable), same as --config.KEY=VALUE")
flags.DEFINE_string("workdir", "", "run directory to keep (default: a temporary one, removed afterwards)")
FLAGS = flags.FLAGS

STEADY_FROM = 3  # steps 1-2 compile (step 2 may meet its first turn-2 shapes); the mean is over the rest
COLUMNS = [("prefill", "time/prefill_s"), ("decode", "time/decode_s"), ("samp_host", "time/sample_host_s"),
           ("execute", "time/execute_s"), ("roll_host", "time/rollout_host_s"), ("credit", "time/credit_s"),
           ("batch_prep", "time/batch_prep_s"), ("reference", "time/reference_s"),
           ("fwd_bwd", "time/train_fwd_bwd_s"), ("optimizer", "time/optimizer_s"), ("ckpt", "time/checkpoint_s"),
           ("other", "time/other_s"), ("step", "time/step_s")]


def _set_args(argv: list[str]) -> list[str]:
    """``--set K=V`` / ``--set=K=V`` -> ``--config.K=V`` (absl applies config overrides only in that form)."""
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        if a == "--set" and i + 1 < len(argv):
            out.append("--config." + argv[i + 1])
            i += 2
            continue
        out.append("--config." + a[len("--set="):] if a.startswith("--set=") else a)
        i += 1
    return out


def row_values(m: dict) -> dict:
    """One step's table row from its metrics."""
    row = {name: float(m.get(key, 0.0)) for name, key in COLUMNS}
    row["compiles"] = float(m.get("compile/count", 0.0))
    row["compile_s"] = float(m.get("compile/seconds", 0.0))
    row["gen_tok"] = float(m.get("compute/generated_tokens", 0.0))
    row["train_tok"] = float(m.get("compute/trained_tokens", 0.0))
    row["gen_tok/s"] = row["gen_tok"] / max(row["prefill"] + row["decode"] + row["samp_host"], 1e-9)
    row["train_tok/s"] = row["train_tok"] / max(row["fwd_bwd"] + row["optimizer"] + row["reference"], 1e-9)
    row["tok/s"] = (row["gen_tok"] + row["train_tok"]) / max(row["step"], 1e-9)
    return row


def format_table(rows: dict[int, dict]) -> str:
    """Rows per step, then the steady-state mean and each part's share of the mean step."""
    names = list(next(iter(rows.values())))
    width = {n: max(len(n), 8) for n in names}
    lines = ["| step | " + " | ".join(n.rjust(width[n]) for n in names) + " |",
             "|---:|" + "|".join("-" * (width[n] + 1) + ":" for n in names) + "|"]

    def fmt(label, r):
        return f"| {label} | " + " | ".join(f"{r[n]:{width[n]}.3f}" if n not in ("compiles", "gen_tok", "train_tok")
                                            else f"{r[n]:{width[n]}.0f}" for n in names) + " |"

    lines += [fmt(str(s), r) for s, r in sorted(rows.items())]
    steady = [r for s, r in rows.items() if s >= STEADY_FROM]
    if steady:
        mean = {n: sum(r[n] for r in steady) / len(steady) for n in names}
        lines.append(fmt(f"mean {STEADY_FROM}+", mean))
        share = {n: (100.0 * mean[n] / mean["step"] if n in dict(COLUMNS) and mean["step"] else float("nan"))
                 for n in names}
        lines.append("| % of step | " + " | ".join(
            (f"{share[n]:{width[n]}.1f}" if n in dict(COLUMNS) else " " * width[n]) for n in names) + " |")
    return "\n".join(lines)


def main(argv) -> None:
    from configs.base import get_config as base_config
    from murphy_jax.train.trainer import Trainer
    from murphy_jax.utils.benchmarking import machine

    import logging

    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.WARNING)  # orbax's per-save INFO lines would bury the table
    logging.getLogger("murphy_jax").setLevel(logging.INFO)
    cfg = loaded_config(_CONFIG)
    overridden = {a.split("=", 1)[0][len("--config."):] for a in sys.argv if a.startswith("--config.")}
    if FLAGS.quick and "data.tasks_per_step" not in overridden:
        cfg.data.tasks_per_step = 2
    cfg.train.steps = FLAGS.steps or (3 if FLAGS.quick else int(cfg.train.steps))
    cfg.train.export_hf = False
    cfg.log.tensorboard = False
    cfg.log.progress = False
    workdir = FLAGS.workdir or tempfile.mkdtemp(prefix="bench_step_")
    print(f"{PROG}: {machine()}")
    print(f"{PROG}: {config_arg(sys.argv[1:])}: {cfg.train.steps} steps of {cfg.data.tasks_per_step} tasks, "
          f"model {cfg.model.path}, workdir {workdir}", flush=True)
    rows, late = {}, {}
    try:
        trainer = Trainer(cfg, os.path.join(workdir, "run"), reference_config=base_config())

        def on_step(step, m):
            rows[step] = row_values(m)
            if step >= STEADY_FROM and getattr(trainer, "compiled_programs", None):
                late[step] = sorted(set(trainer.compiled_programs))
            print(f"{PROG}: step {step}: {m.get('time/step_s', 0.0):.2f}s, {int(m.get('compile/count', 0))} "
                  f"compiled", flush=True)

        trainer.run(on_step=on_step)
    finally:
        if not FLAGS.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print("\nseconds per step part (time/*_s; compile_s is inside the parts, not added):")
    print(format_table(rows))
    print("\nprograms compiled at step >= %d: %s" % (
        STEADY_FROM, "; ".join(f"step {s}: {', '.join(p)}" for s, p in sorted(late.items())) or "none"))


parse_flags = make_flags_parser(PROG, FLAGS, module_name=__name__, doc=__doc__)

if __name__ == "__main__":
    sys.argv = _set_args(sys.argv)
    run_config_command(PROG, main, parse_flags)
