"""murphy-plan end to end (a subprocess: absl flags are process-global): table, JSON, --strict, bad input."""
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(*args):
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)  # one CPU device, like a plain laptop run
    return subprocess.run([sys.executable, "-m", "murphy_jax.cli.plan", "--config", "configs/tiny.py", *args],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=120)


def test_json_plan_of_the_tiny_config():
    res = _run("--json", "--device-memory", "4GiB", "--config.model.remat=full")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["device_memory"] == 4 * 2**30 and out["fits"] and out["mesh"]["devices"] == 1
    names = [ph["name"] for ph in out["phases"]]
    assert names == ["generate: prefill", "generate: decode", "train: micro-batch", "train: optimizer update"]
    assert out["peak"] == max(ph["total"] for ph in out["phases"])
    assert out["peak"] < 200 * 2**20  # remat=full: tens of MiB for the tiny model
    train = next(ph for ph in out["phases"] if ph["name"] == "train: micro-batch")
    assert "remat=full" in next(i["note"] for i in train["items"] if i["name"] == "saved activations")


def test_strict_fails_with_a_warning_and_advice_when_it_does_not_fit():
    res = _run("--device-memory=64MiB", "--strict")
    assert res.returncode == 1
    assert "WARNING: does not fit" in res.stdout and "model.remat=full" in res.stdout
    assert "train: micro-batch" in res.stdout and "KV cache" in res.stdout
    res = _run("--device-memory=64MiB")  # without --strict the warning is printed, the status is 0
    assert res.returncode == 0 and "WARNING: does not fit" in res.stdout


def test_bad_input_is_one_line_with_status_2():
    res = _run("--config.rl.batch.micro_bach_size=4")
    assert res.returncode == 2
    assert "micro_bach_size: unknown config key; did you mean 'rl.batch.micro_batch_size'?" in res.stderr
    res = _run("--hardware=v9-8")
    assert res.returncode == 2 and "--hardware='v9-8': must be one of" in res.stderr


def test_tpu_preset_plans_with_the_tpu_compilers_terms():
    """On a TPU preset the decode counts the TPU layout copy of the KV cache (what murphy-compile measured)."""
    args = ["--json", "--hardware=v5p-8", "--config.sampling.max_rows=8", "--config.sampling.max_new_tokens=64",
            "--config.sampling.max_prompt_tokens=64", "--config.rl.batch.buckets=(128,)"]
    tpu = json.loads(_run(*args).stdout)
    # The same devices and memory given by hand (no preset): the plain planner.
    plain = json.loads(_run("--json", "--devices=8", "--processes=1", "--device-memory=95GiB", *args[2:]).stdout)
    assert tpu["phases"][1]["name"] == plain["phases"][1]["name"] == "generate: decode"
    assert tpu["phases"][1]["total"] > plain["phases"][1]["total"]
