"""Acceptance test of issue 16: once warmed up, a training step compiles nothing.

A fresh ``murphy-train`` process (cold jit caches, one CPU device like a laptop)
runs configs/tiny.py for 6 steps; its 16 tasks at 2 per step give every step new
prompts, so new prompt lengths and new numbers of kept rows keep arriving. From
step 3 on, every program a step runs must already be compiled: ``compile/count``
(``murphy_jax/utils/compiles.py``) must be 0, and the failure message lists the
programs that were compiled, from the trainer's log.
"""
import os
import re
import subprocess
import sys

from murphy_jax.train.metrics import read_jsonl

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STEPS = 6
WARM_STEPS = 2  # steps 1-2 may compile (step 1 everything; step 2 a second turn-2 shape at most)


def test_no_program_compiles_after_warm_up(tmp_path):
    wd = tmp_path / "run"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("XLA_FLAGS", None)
    cmd = [sys.executable, "-m", "murphy_jax.cli.train", "--config", os.path.join(REPO, "configs/tiny.py"),
           "--workdir", str(wd), f"--config.train.steps={STEPS}", "--config.train.export_hf=False",
           "--config.log.tensorboard=False", "--config.checkpoint.every=3",
           # The pooled sampler compiles every generation shape before step 1 (Sampler.warm_up).
           "--config.sampling.warm_up=True"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env, cwd=REPO)
    assert res.returncode == 0, res.stderr[-3000:]
    records = read_jsonl(str(wd / "metrics.jsonl"))
    assert [r["step"] for r in records] == list(range(1, STEPS + 1))
    assert records[0]["compile/count"] > 0, "the compile watch saw nothing: it cannot vouch for later steps"
    # The trainer logs, from step 3 on, "step N compiled K program(s): names".
    logged = dict(re.findall(r"step (\d+) compiled \d+ program\(s\): (.*)", res.stderr + res.stdout))
    late = {r["step"]: (int(r["compile/count"]), round(r["compile/seconds"], 2), logged.get(str(r["step"]), "?"))
            for r in records if r["step"] > WARM_STEPS and r["compile/count"] > 0}
    assert not late, "steady-state steps compiled (step: (count, seconds, programs)): " + "; ".join(
        f"step {s}: {c} in {sec}s: {names}" for s, (c, sec, names) in sorted(late.items()))
