"""GGUF import of Qwen2 and Llama files in K-quant and other storage types, against transformers and gguf-py.

The tiny files are written by murphy_jax.testing.tiny_gguf with gguf-py's GGUFWriter (one weight
type per matrix in turn: Q4_K, Q6_K, Q5_K, Q8_0, Q4_0, Q2_K, Q3_K, Q4_1, Q5_0, Q5_1, F16, BF16, F32).
"""
import glob
import json
import os

import jax.numpy as jnp
import numpy as np
import pytest
import torch

from murphy_jax.models import WeightsError, from_pretrained, load_tokenizer
from murphy_jax.models.gguf_io import GGUFSource, _unpermute, dequantize
from murphy_jax.testing.tiny_gguf import DEFAULT_TYPES, write_tiny_gguf
from murphy_jax.testing.tiny_hf import load_torch

TOL = 1e-4  # as tests/models/test_parity.py


@pytest.fixture(scope="module")
def tiny_ggufs(tmp_path_factory):
    """{arch: (path, {gguf tensor name: type})} for a tiny Qwen2 and a tiny Llama."""
    out = {}
    for i, arch in enumerate(("qwen2", "llama")):
        d = tmp_path_factory.mktemp(f"gguf_{arch}")
        path = str(d / f"tiny-{arch}.gguf")
        out[arch] = (path, write_tiny_gguf(path, arch, seed=i))
    return out


def _ids():
    return np.random.RandomState(3).randint(0, 260, (2, 23))


@pytest.mark.parametrize("arch", ["qwen2", "llama"])
def test_logits_match_transformers_gguf_loader(tiny_ggufs, arch):
    path, types = tiny_ggufs[arch]
    assert set(DEFAULT_TYPES) <= set(types.values())  # every storage type is exercised
    ids = _ids()
    with torch.no_grad():
        ref_model = load_torch(path)
        ref = ref_model(torch.tensor(ids)).logits.numpy()
    assert type(ref_model).__name__ == {"qwen2": "Qwen2ForCausalLM", "llama": "LlamaForCausalLM"}[arch]
    model = from_pretrained(path, dtype=jnp.float32)
    assert model.config.model_type == arch and model.config.qkv_bias == (arch == "qwen2")
    ours = np.asarray(model(jnp.asarray(ids, jnp.int32)))
    assert np.abs(ref).max() > 1.0  # the random weights give logits with real spread
    np.testing.assert_allclose(ours, ref, atol=TOL, rtol=0)


@pytest.mark.parametrize("arch", ["qwen2", "llama"])
def test_dequantisation_equals_gguf_py(tiny_ggufs, arch):
    """Every tensor equals gguf-py's dequantisation; q/k rows are un-permuted for llama only."""
    from gguf import GGUFReader, quants

    path, _ = tiny_ggufs[arch]
    src = GGUFSource(path)
    raw = {t.name: t for t in GGUFReader(path).tensors}
    cfg = src.hf_config
    for t in raw.values():
        name = src._hf_name(t.name)
        ref = quants.dequantize(t.data, t.tensor_type).astype(np.float32).reshape(src.shape(name))
        if arch == "llama" and ".attn_q." in t.name:
            ref = _unpermute(ref, cfg["num_attention_heads"])
        elif arch == "llama" and ".attn_k." in t.name:
            ref = _unpermute(ref, cfg["num_key_value_heads"])
        got = src.get(name)
        assert got.dtype == np.float32 and src.tensor_type(name) == t.tensor_type.name
        np.testing.assert_array_equal(got, ref, err_msg=t.name)


def test_q4_k_block_decodes_to_its_nibbles():
    """A hand-built Q4_K block (d=1, dmin=0, all sub-block scales 1) decodes to its 4-bit codes (llama.cpp layout)."""
    from gguf import GGMLQuantizationType

    rng = np.random.default_rng(0)
    qs = rng.integers(0, 256, 128, dtype=np.uint8)
    scales = np.array([1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1], np.uint8)
    block = np.concatenate([np.array([1.0, 0.0], np.float16).view(np.uint8), scales, qs])
    got = dequantize(block[None], GGMLQuantizationType.Q4_K)[0]
    want = np.concatenate([np.concatenate([qs[32 * c:32 * c + 32] & 15, qs[32 * c:32 * c + 32] >> 4])
                           for c in range(4)]).astype(np.float32)
    np.testing.assert_array_equal(got, want)


def test_q8_0_round_trip_is_close():
    from gguf import GGMLQuantizationType, quants

    x = np.random.default_rng(1).normal(size=(4, 64)).astype(np.float32)
    got = dequantize(quants.quantize(x, GGMLQuantizationType.Q8_0), GGMLQuantizationType.Q8_0).reshape(x.shape)
    assert np.abs(got - x).max() < np.abs(x).max() / 127


def test_undecodable_type_is_one_line_error():
    from gguf import GGMLQuantizationType

    with pytest.raises(WeightsError, match="Q8_1 cannot be dequantised"):
        dequantize(np.zeros((1, 36), np.uint8), GGMLQuantizationType.Q8_1, what="x.gguf: blk.0.attn_q.weight")


def test_unsupported_architecture_is_refused(tmp_path):
    from gguf import GGUFWriter

    path = str(tmp_path / "gpt2.gguf")
    w = GGUFWriter(path, "gpt2")
    w.add_tensor("token_embd.weight", np.zeros((4, 8), np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with pytest.raises(WeightsError, match="architecture 'gpt2' is not supported .*llama, qwen2"):
        GGUFSource(path)


def test_converted_hf_dir_equals_gguf(tiny_ggufs, tmp_path):
    """The streaming GGUF -> HF conversion (sharded) loads to the same logits here and in transformers."""
    from murphy_jax.models.gguf_convert import gguf_to_hf_dir

    path, _ = tiny_ggufs["qwen2"]
    out = str(tmp_path / "hf")
    lines = []
    gguf_to_hf_dir(path, out, max_shard_bytes=1 << 20, progress=lines.append)
    shards = sorted(glob.glob(os.path.join(out, "model-*.safetensors")))
    assert len(shards) > 1 and len(lines) == len(shards) + 1  # a line per shard and one for the tokenizer
    with open(os.path.join(out, "config.json")) as f:
        cfg = json.load(f)
    assert cfg["model_type"] == "qwen2" and cfg["architectures"] == ["Qwen2ForCausalLM"]
    assert cfg["torch_dtype"] == "float32" and cfg["tie_word_embeddings"] is False
    ids = jnp.asarray(_ids(), jnp.int32)
    a = np.asarray(from_pretrained(path, dtype=jnp.float32)(ids))
    b = np.asarray(from_pretrained(out, dtype=jnp.float32)(ids))
    np.testing.assert_array_equal(a, b)
    with torch.no_grad():
        ref = load_torch(out)(torch.tensor(np.asarray(ids))).logits.numpy()
    np.testing.assert_allclose(b, ref, atol=TOL, rtol=0)
    t_gguf, t_dir = load_tokenizer(path), load_tokenizer(out)
    msgs = [{"role": "user", "content": "the cat in there"}]
    assert t_dir.chat_template == t_gguf.chat_template and t_dir.eos_token == "<|im_end|>"
    assert (t_dir.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
            == t_gguf.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False))
    assert t_dir("the cat in there")["input_ids"] == t_gguf("the cat in there")["input_ids"]
