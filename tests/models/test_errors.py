"""Bad checkpoints and configs fail with one clear line that names the problem."""
import json
import os
import shutil

import pytest

from murphy_jax.models import ConfigError, ModelConfig, ModelNotFoundError, WeightsError, from_pretrained


def _copy(src, tmp_path, name="m"):
    dst = tmp_path / name
    shutil.copytree(src, dst)
    return dst


def test_missing_directory(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        from_pretrained(str(tmp_path / "nope"))


def test_offline_repo_id_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match="could not be fetched from the HF hub"):
        from_pretrained("no-such-org/no-such-model-xyz")


def test_unsupported_architecture(tiny_hf_dirs, tmp_path):
    d = _copy(tiny_hf_dirs["llama"], tmp_path)
    cfg = json.load(open(d / "config.json"))
    cfg["model_type"] = "gpt2"
    json.dump(cfg, open(d / "config.json", "w"))
    with pytest.raises(ConfigError, match="model_type='gpt2' is not supported; supported: llama, qwen2, qwen3, olmo2"):
        from_pretrained(str(d))


def test_shape_mismatch_names_the_tensor(tiny_hf_dirs, tmp_path):
    d = _copy(tiny_hf_dirs["llama"], tmp_path)
    cfg = json.load(open(d / "config.json"))
    cfg["intermediate_size"] = 100
    json.dump(cfg, open(d / "config.json", "w"))
    with pytest.raises(WeightsError, match=r"tensor 'model.layers.0.mlp.gate_proj.weight' has shape \(96, 64\)"):
        from_pretrained(str(d))


def test_missing_tensor_is_named(tiny_hf_dirs, tmp_path):
    from safetensors.numpy import load_file, save_file

    d = _copy(tiny_hf_dirs["qwen2"], tmp_path)
    tensors = load_file(str(d / "model.safetensors"))
    del tensors["model.layers.1.self_attn.k_proj.bias"]
    save_file(tensors, str(d / "model.safetensors"))
    with pytest.raises(WeightsError, match="missing tensor 'model.layers.1.self_attn.k_proj.bias'"):
        from_pretrained(str(d))


def test_truncated_safetensors(tiny_hf_dirs, tmp_path):
    d = _copy(tiny_hf_dirs["llama"], tmp_path)
    f = d / "model.safetensors"
    data = f.read_bytes()
    f.write_bytes(data[: len(data) - 1000])
    with pytest.raises(WeightsError, match="truncated"):
        from_pretrained(str(d))


def test_corrupt_safetensors_header(tiny_hf_dirs, tmp_path):
    d = _copy(tiny_hf_dirs["llama"], tmp_path)
    f = d / "model.safetensors"
    data = bytearray(f.read_bytes())
    data[9:14] = b"\xff{{\x00]"  # inside the JSON header
    f.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="corrupt safetensors header"):
        from_pretrained(str(d))


def test_no_weights_in_directory(tiny_hf_dirs, tmp_path):
    d = _copy(tiny_hf_dirs["llama"], tmp_path)
    os.remove(d / "model.safetensors")
    (d / "pytorch_model.bin").write_bytes(b"x")
    with pytest.raises(WeightsError, match="only safetensors and GGUF are supported"):
        from_pretrained(str(d))


def test_not_a_model_directory(tmp_path):
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(ConfigError, match="not a model directory"):
        from_pretrained(str(tmp_path))


def test_not_a_gguf_file(tmp_path):
    f = tmp_path / "bad.gguf"
    f.write_bytes(b"not gguf at all")
    with pytest.raises(WeightsError, match="not a readable GGUF file"):
        from_pretrained(str(f))


@pytest.mark.parametrize("field,value,msg", [
    ("use_sliding_window", True, "use_sliding_window=true is not supported"),
    ("hidden_act", "gelu", "hidden_act='gelu' is not supported"),
    ("num_key_value_heads", 3, "must be a multiple of num_key_value_heads=3"),
    ("rope_scaling", {"rope_type": "longrope", "factor": 2.0}, "rope_type='longrope' is not supported"),
    ("rope_scaling", {"rope_type": "llama3", "factor": 2.0}, "needs rope parameter 'low_freq_factor'"),
])
def test_config_errors(field, value, msg):
    hf = dict(model_type="llama", vocab_size=10, hidden_size=8, intermediate_size=8, num_hidden_layers=1,
              num_attention_heads=4, num_key_value_heads=2)
    hf[field] = value
    with pytest.raises(ConfigError, match=msg.replace("(", r"\(").replace("[", r"\[")):
        ModelConfig.from_hf(hf)


def test_missing_required_config_field():
    with pytest.raises(ConfigError, match="missing required field 'hidden_size'"):
        ModelConfig.from_hf({"model_type": "qwen3", "vocab_size": 10})
