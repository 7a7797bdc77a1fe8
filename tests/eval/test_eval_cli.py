"""murphy-eval on real models: the tiny SFT policy, a training workdir holding its checkpoint, and bad input."""
import json
import os
import subprocess
import sys

import jax.numpy as jnp
import optax
import pytest
from flax import nnx

from murphy_jax.cli.eval import main

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAST = ["--iters", "2", "--max-new-tokens", "48", "--executor-workers", "1", "--no-progress"]


def _random_twin(out_dir: str) -> str:
    """An HF dir with the tiny SFT policy's architecture and tokenizer but random weights."""
    from murphy_jax.models import ModelConfig, export_hf
    from murphy_jax.models.decoder import Decoder
    from murphy_jax.testing.tiny_policy import TINY_POLICY_HF
    from murphy_jax.testing.tiny_tokenizer import VOCAB_SIZE, make_tiny_tokenizer

    cfg = ModelConfig.from_hf(dict(TINY_POLICY_HF, vocab_size=VOCAB_SIZE), dtype=jnp.float32, param_dtype=jnp.float32)
    export_hf(Decoder(cfg, rngs=nnx.Rngs(123)), out_dir, dtype=jnp.float32)
    make_tiny_tokenizer(out_dir)
    return out_dir


def _workdir(root: str, params_from: str, model_path: str, step: int = 7) -> str:
    """A training workdir as murphy-train leaves it: config.json, and an orbax checkpoint holding ``params_from``."""
    from configs.base import get_config
    from murphy_jax.models import from_pretrained
    from murphy_jax.train.checkpoint import Checkpointer
    from murphy_jax.train.state import init_state

    os.makedirs(root, exist_ok=True)
    cfg = get_config()
    cfg.model.path = model_path
    cfg.prompts.system = ""  # the tiny SFT policy was warmed without a system prompt
    with open(os.path.join(root, "config.json"), "w") as f:
        json.dump(cfg.to_dict(), f, indent=2, sort_keys=True, default=str)
    state = init_state(from_pretrained(params_from, dtype=jnp.float32).params(), optax.adamw(1e-3), 0)
    ckpt = Checkpointer(os.path.join(root, "checkpoints"), keep=2, async_save=False)
    ckpt.save(step, state, {"rl_step": step, "model_path": model_path}, force=True)
    ckpt.close()
    return root


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    """The random-weight twin of the tiny SFT policy (cheap: no SFT)."""
    return _random_twin(str(tmp_path_factory.mktemp("eval_twin")))


@pytest.fixture(scope="module")
def models(tiny_sft_policy, twin, tmp_path_factory):
    root = tmp_path_factory.mktemp("eval_models")
    nosys = str(root / "nosys.json")
    with open(nosys, "w") as f:
        json.dump({"system": ""}, f)
    return {"sft": tiny_sft_policy, "twin": twin, "nosys": nosys, "tasks": os.path.join(tiny_sft_policy, "tasks.jsonl"),
            "workdir": _workdir(str(root / "run"), tiny_sft_policy, twin)}


def _report(out):
    with open(os.path.join(out, "report.json")) as f:
        return json.load(f)


def _codes(partial):
    with open(partial) as f:
        recs = [json.loads(line) for line in f]
    return {r["task_id"]: (r["solved_at"], [[a["code"] for a in c] for c in r["chains"]]) for r in recs}


def test_eval_tiny_policy_and_checkpoint_side_by_side(models, tmp_path, capsys):
    out = str(tmp_path / "out")
    rc = main(["--model", models["sft"], "--model", models["twin"], "--label", "sft", "--label", "random",
               "--benchmark", models["tasks"], "--prompts", models["nosys"], "--out", out] + FAST)
    assert rc == 0
    table = capsys.readouterr().out
    assert "| sft |" in table and "| random |" in table
    rep = _report(out)
    sft, rand = rep["models"]
    assert sft["tasks"] == rand["tasks"] == 4 and rep["benchmark"]["tasks"] == 4
    assert sft["pass_at_1"][0] > 0 and rand["pass_at_1"] == [0.0, 0.0]  # the warmed policy codes; its twin cannot
    assert os.path.getsize(os.path.join(out, "pass_at_1.png")) > 10_000

    # The workdir's checkpoint holds the SFT weights on top of the random twin's architecture and tokenizer,
    # and its config.json brings the run's prompts (no system prompt): same greedy answers as the SFT dir.
    out2 = str(tmp_path / "out2")
    assert main(["--model", models["workdir"], "--benchmark", models["tasks"], "--out", out2] + FAST) == 0
    ck = _report(out2)["models"][0]
    assert ck["label"] == "run@7" and ck["config"]["model"]["checkpoint"].endswith(os.path.join("checkpoints", "7"))
    assert ck["pass_at_1"] == sft["pass_at_1"]
    assert _codes(ck["partial_results"]) == _codes(sft["partial_results"])

    # Rerunning the same command reuses every finished task.
    assert main(["--model", models["workdir"], "--benchmark", models["tasks"], "--out", out2] + FAST) == 0
    again = _report(out2)["models"][0]
    assert again["timings"]["tasks_resumed"] == 4 and again["pass_at_1"] == ck["pass_at_1"]


def test_checkpoint_reuses_the_programs_of_its_starting_model(models):
    # Evaluating a trained checkpoint after its starting model (the demo's stage 4) must hit the
    # sampler programs already compiled, here and in the on-disk compilation cache.
    from murphy_jax.eval.policy import load_model, resolve_model
    from murphy_jax.sampling import Sampler, SamplingParams, compilations

    cfg, hf_params, tok = load_model(resolve_model(models["twin"]))
    _, ck_params, _ = load_model(resolve_model(models["workdir"]))
    sampler = Sampler.for_tokenizer(cfg, tok, chunk=8)
    prompts, sp = [tok("def add(a, b):")["input_ids"]], SamplingParams(temperature=0, max_new_tokens=16)
    sampler.generate(hf_params, prompts, sp)
    before = compilations()
    sampler.generate(ck_params, prompts, sp)
    assert compilations() == before


def test_checkpoint_of_another_architecture_is_a_clear_error(twin, tiny_policy_dir, tmp_path, capsys):
    # tiny_policy_dir is a Llama with another MLP width: the twin's checkpoint cannot be loaded into it.
    wd = _workdir(str(tmp_path / "mismatch"), twin, tiny_policy_dir, step=3)
    rc = main(["--model", wd, "--benchmark", "bundled:heldout", "--out", str(tmp_path / "o")] + FAST)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert "does not match the architecture" in err[0] and "shape" in err[0] and "checkpoints/3" in err[0]
    # --arch overrides the run's model path: the right architecture makes the same checkpoint usable.
    from murphy_jax.eval.policy import resolve_model

    assert resolve_model(wd, arch=twin).arch_path == twin


@pytest.mark.parametrize("args, message", [
    (["--benchmark", "humaneval-x"], "unknown task source 'humaneval-x'"),
    (["--benchmark", "/no/such/tasks.jsonl"], "no such file"),
    (["--benchmark", "mbpp"], "offline? pass a local copy as --benchmark mbpp:PATH"),
    (["--benchmark", "lcb"], "offline? pass a local copy as --benchmark lcb:PATH"),
    (["--benchmark", "bundled:heldout", "--model", "/no/such/model"], "does not exist"),
    (["--benchmark", "bundled:heldout", "--iters", "0"], "--iters must be >= 1"),
    (["--benchmark", "bundled:heldout", "--prompts", "/no/prompts.json"], "no such file"),
])
def test_bad_input_is_one_line(tiny_policy_dir, args, message, tmp_path, capsys):
    argv = args if "--model" in args else ["--model", tiny_policy_dir] + args
    assert main(argv + ["--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("murphy-eval: error: ") and message in err[0], err


def test_console_script_reports_errors_and_documents_every_flag():
    env = dict(os.environ, JAX_PLATFORMS="cpu", HF_HUB_OFFLINE="1")
    script = os.path.join(os.path.dirname(sys.executable), "murphy-eval")
    p = subprocess.run([script, "--model", "smollm2", "--benchmark", "nope"], capture_output=True, text=True,
                       env=env, cwd=REPO, timeout=120)
    assert p.returncode == 2 and p.stderr.strip() == (
        "murphy-eval: error: unknown task source 'nope'; known: bundled, he+, humaneval, humaneval+, humanevalplus, "
        "jsonl, kodcode, lcb, livecodebench, mbpp, mbpp+, mbpp-sanitized, mbpp_sanitized, mbppplus, sanitized-mbpp or "
        "a CodeTask .jsonl path")
    from murphy_jax.cli.eval import build_parser

    for action in build_parser()._actions:
        assert action.help, action.dest
