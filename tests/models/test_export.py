"""Round trip: load -> export_hf -> transformers (and our loader) -> identical logits."""
import json
import os

import jax.numpy as jnp
import numpy as np
import pytest
import torch

from murphy_jax.models import export_hf, from_pretrained
from murphy_jax.testing.tiny_hf import VARIANTS, load_torch


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_export_loads_in_transformers_with_identical_logits(tiny_hf_dirs, variant, tmp_path):
    src = tiny_hf_dirs[variant]
    ours = from_pretrained(src, dtype=jnp.float32)
    out = export_hf(ours, str(tmp_path / "export"), base_config=json.loads(ours.hf_config_json))
    ids = np.random.RandomState(5).randint(0, 320, (2, 21))
    with torch.no_grad():
        exported = load_torch(out)(torch.tensor(ids)).logits.numpy()
        original = load_torch(src)(torch.tensor(ids)).logits.numpy()
    np.testing.assert_array_equal(exported, original)  # same fp32 weights -> bit-identical logits
    again = np.asarray(from_pretrained(out, dtype=jnp.float32)(jnp.asarray(ids, jnp.int32)))
    np.testing.assert_array_equal(again, np.asarray(ours(jnp.asarray(ids, jnp.int32))))


def test_sharded_export_writes_index_and_reloads(tiny_hf_dirs, tmp_path):
    src = tiny_hf_dirs["llama"]
    model = from_pretrained(src, dtype=jnp.float32)
    out = export_hf(model, str(tmp_path / "sharded"), max_shard_bytes=40_000)
    files = sorted(f for f in os.listdir(out) if f.endswith(".safetensors"))
    assert len(files) > 2 and os.path.exists(os.path.join(out, "model.safetensors.index.json"))
    ids = jnp.asarray(np.random.RandomState(6).randint(0, 320, (1, 9)), jnp.int32)
    np.testing.assert_array_equal(np.asarray(from_pretrained(out, dtype=jnp.float32)(ids)),
                                  np.asarray(model(ids)))
    with torch.no_grad():
        ref = load_torch(out)(torch.tensor(np.asarray(ids))).logits.numpy()
    np.testing.assert_allclose(np.asarray(model(ids)), ref, atol=1e-4, rtol=0)


def test_bf16_export_declares_dtype(tiny_hf_dirs, tmp_path):
    model = from_pretrained(tiny_hf_dirs["olmo2"])
    out = export_hf(model, str(tmp_path / "bf16"))
    cfg = json.load(open(os.path.join(out, "config.json")))
    assert cfg["torch_dtype"] == "bfloat16" and cfg["model_type"] == "olmo2"
    reloaded = from_pretrained(out)
    ids = jnp.asarray([[5, 6, 7, 8]], jnp.int32)
    np.testing.assert_array_equal(np.asarray(reloaded(ids)), np.asarray(model(ids)))
