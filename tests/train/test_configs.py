"""Every shipped config validates, every key is documented, and bad values fail naming the key."""
import importlib
import json
import os
import subprocess
import sys

import pytest

from configs import base
from murphy_jax.rl.matched import main as matched_main
from murphy_jax.train.config import ConfigValueError, describe, validate

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = sorted(f[:-3] for f in os.listdir(os.path.join(REPO, "configs"))
                 if f.endswith(".py") and f not in ("__init__.py", "meshes.py"))
# config -> how its argument names a mesh preset
PRESET_ARG = {"tiny": "{}", "smollm2_135m": "{}", "qwen3_1p7b_murphy": "{}", "qwen3_1p7b_grpo": "{}",
              "qwen3_1p7b_grpo_matched": "16,{}", "qwen3_4b_murphy": "{}", "olmo2_7b_murphy": "{}"}


@pytest.mark.parametrize("name", CONFIGS)
def test_config_validates(name):
    validate(importlib.import_module(f"configs.{name}").get_config(), base.get_config())


def test_required_experiment_configs_exist():
    for name in ("tiny", "smollm2_135m", "qwen3_1p7b_murphy", "qwen3_1p7b_grpo", "qwen3_1p7b_grpo_matched",
                 "qwen3_4b_murphy", "olmo2_7b_murphy"):
        assert name in CONFIGS


def test_every_key_has_a_one_line_explanation():
    docs = describe(base.get_config())
    assert len(docs) > 100
    missing = [k for k, (_, doc) in docs.items() if not doc.strip()]
    assert not missing, missing


@pytest.mark.parametrize("key,value,msg", [
    ("rl.credit.strategy", "maxx", r"rl.credit.strategy='maxx': must be one of \('mars', 'mers', 'none'\)"),
    ("sampling.top_p", 0.0, r"sampling.top_p=0.0: must be in \(0, 1\]"),
    ("rollout.history", "all", "rollout.history='all': must be 'last'|'full'"),
    ("train.steps", 0, "train.steps=0: must be > 0"),
    ("executor.require_layers", ("netns", "moon"), "executor.require_layers: unknown layer"),
    ("sampling.max_new_tokens", 4000, "rl.batch.pack_len=3072: must hold the longest row"),
])
def test_bad_values_name_the_key(key, value, msg):
    c = base.get_config()
    node = c
    parts = key.split(".")
    for p in parts[:-1]:
        node = node[p]
    node[parts[-1]] = value
    with pytest.raises(ConfigValueError, match=msg):
        validate(c, base.get_config())


def test_bucketed_layout_needs_a_bucket_for_the_longest_row():
    c = base.get_config()
    c.rl.batch.layout = "bucketed"
    c.sampling.max_new_tokens = 4000
    with pytest.raises(ConfigValueError, match="the largest bucket must hold sampling.max_prompt_tokens"):
        validate(c, base.get_config())


def _train(*args):
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    return subprocess.run([sys.executable, "-m", "murphy_jax.cli.train", "--config", "configs/tiny.py",
                           "--workdir", "/tmp/murphy_never_used", *args], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=300)


@pytest.mark.parametrize("args,msg", [
    (["--config.rollout.turnz=3"], "rollout.turnz: unknown config key; did you mean 'rollout.turns'?"),
    (["--config.rl.credit.strategy=maxx"], "rl.credit.strategy='maxx': must be one of"),
    (["--config.model.path=/no/such/model"], "model path '/no/such/model' does not exist"),
    (["--config.data.train=mbpp:/no/such.jsonl"], "/no/such.jsonl"),
])
def test_cli_errors_are_one_line_before_compiling(args, msg):
    res = _train(*args)
    assert res.returncode == 2
    err = [line for line in res.stderr.splitlines() if line.startswith("murphy-train: error:")]
    assert len(err) == 1 and msg in err[0], res.stderr[-2000:]
    assert "Traceback" not in res.stderr


def test_describe_config_lists_every_key():
    res = _train("--describe_config")
    assert res.returncode == 0
    lines = res.stdout.splitlines()
    assert any(line.startswith("rollout.turns = 2  # ") for line in lines)
    assert all("#" in line for line in lines)


def test_matched_group_size_from_logged_metrics(tmp_path, capsys):
    rec = {"step": 1, "compute/tasks": 2, "compute/nodes": 16, "compute/turn1_nodes": 8, "compute/turn2_nodes": 8,
           "compute/generated_tokens": 1600, "compute/turn1_generated_tokens": 800, "compute/executor_calls": 16}
    path = tmp_path / "metrics.jsonl"
    path.write_text(json.dumps(rec) + "\n")
    assert matched_main(["--metrics", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    # 800 tokens per task and step; a turn-1 sample costs 100 -> G = 8.
    assert out["group_size"] == 8 and out["per_sample"] == 100.0


@pytest.mark.parametrize("name", sorted(PRESET_ARG))
def test_mesh_presets_fill_the_slice_and_plan(name):
    from configs import meshes
    from murphy_jax.plan.from_config import HARDWARE, plan_for_config

    module = importlib.import_module(f"configs.{name}")
    assert meshes.hardware_names() == sorted(HARDWARE)
    meshes_seen = set()
    for hw in meshes.hardware_names():
        c = module.get_config(PRESET_ARG[name].format(hw))
        validate(c, base.get_config())
        devices, memory, hosts = HARDWARE[hw]
        split = (c.mesh.data, c.mesh.fsdp, c.mesh.tensor)
        assert split[0] * split[1] * split[2] == devices, (hw, split)
        assert devices // hosts % split[2] == 0, f"{hw}: tensor axis {split[2]} crosses hosts"
        p, _ = plan_for_config(c, devices, processes=hosts, device_memory=memory)
        assert p.peak > 0
        meshes_seen.add(split)
    assert len(meshes_seen) > 1  # the argument really changes the mesh
    with pytest.raises(ValueError, match="unknown hardware; one of .*v5e-8"):
        module.get_config(PRESET_ARG[name].format("v9-8"))


def test_preset_argument_through_murphy_plan():
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    res = subprocess.run([sys.executable, "-m", "murphy_jax.cli.plan", "--config", "configs/qwen3_4b_murphy.py:v5p-32",
                          "--hardware", "v5p-32", "--processes", "4", "--json"],
                         capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    mesh = json.loads(res.stdout)["mesh"]
    assert (mesh["data"], mesh["fsdp"], mesh["tensor"], mesh["devices"]) == (2, 8, 1, 16)
