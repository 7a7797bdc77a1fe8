"""fp32 logits of every family match transformers (torch) on random and padded batches."""
import numpy as np
import jax.numpy as jnp
import pytest
import torch

from murphy_jax.models import from_pretrained
from murphy_jax.testing.tiny_hf import VARIANTS, load_torch

TOL = 1e-4


def _torch_logits(path, ids, mask=None):
    model = load_torch(path)
    with torch.no_grad():
        kw = {}
        if mask is not None:
            kw["attention_mask"] = torch.tensor(mask)
            kw["position_ids"] = torch.tensor(np.maximum(np.cumsum(mask, -1) - 1, 0))
        return model(torch.tensor(ids), **kw).logits.numpy()


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_random_batch_logits_match(tiny_hf_dirs, variant):
    path = tiny_hf_dirs[variant]
    ids = np.random.RandomState(1).randint(0, 320, (3, 37))
    ref = _torch_logits(path, ids)
    ours = np.asarray(from_pretrained(path, dtype=jnp.float32)(jnp.asarray(ids, jnp.int32)))
    assert np.abs(ref).max() > 1.0  # the random weights give logits with real spread
    np.testing.assert_allclose(ours, ref, atol=TOL, rtol=0)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("side", ["left", "right"])
def test_padded_batch_logits_match(tiny_hf_dirs, variant, side):
    path = tiny_hf_dirs[variant]
    rng = np.random.RandomState(2)
    lengths = [29, 7, 18, 1]
    T = max(lengths)
    ids = rng.randint(3, 320, (len(lengths), T))
    mask = np.zeros_like(ids)
    for b, n in enumerate(lengths):
        if side == "right":
            mask[b, :n] = 1
        else:
            mask[b, T - n:] = 1
    ids = np.where(mask > 0, ids, 0)
    ref = _torch_logits(path, ids, mask)
    positions = np.where(mask > 0, np.cumsum(mask, -1) - 1, -1)
    model = from_pretrained(path, dtype=jnp.float32)
    ours = np.asarray(model(jnp.asarray(ids, jnp.int32), jnp.asarray(positions, jnp.int32)))
    real = mask > 0
    np.testing.assert_allclose(ours[real], ref[real], atol=TOL, rtol=0)
    # Each row alone gives the same logits as inside the padded batch.
    b = 1
    alone = np.asarray(model(jnp.asarray(ids[b:b + 1][:, real[b]], jnp.int32)))
    np.testing.assert_allclose(alone[0], ours[b][real[b]], atol=TOL, rtol=0)


@pytest.mark.parametrize("variant", ["llama_tied_bias_llama3", "qwen2", "qwen3"])
def test_rope_scaling_is_applied(tiny_hf_dirs, variant):
    """Dropping the configured RoPE scaling changes the logits: the parity above really exercises it."""
    path = tiny_hf_dirs[variant]
    ids = jnp.asarray(np.random.RandomState(3).randint(0, 320, (1, 60)), jnp.int32)
    scaled = from_pretrained(path, dtype=jnp.float32)
    plain = from_pretrained(path, dtype=jnp.float32, rope_type="default", rope_scaling=())
    assert scaled.config.rope_type != "default"
    assert float(jnp.abs(scaled(ids) - plain(ids)).max()) > 1e-2


def test_bf16_default_close_to_fp32(tiny_hf_dirs):
    path = tiny_hf_dirs["qwen3"]
    ids = jnp.asarray(np.random.RandomState(4).randint(0, 320, (2, 16)), jnp.int32)
    bf = from_pretrained(path)
    assert bf.config.dtype == jnp.bfloat16 and bf.params()["embed"]["embedding"].dtype == jnp.bfloat16
    f32 = from_pretrained(path, dtype=jnp.float32)
    out_bf, out_f = bf(ids), f32(ids)
    assert out_bf.dtype == jnp.float32  # logits are always returned in float32
    np.testing.assert_array_equal(np.argmax(out_bf, -1)[:, :4], np.argmax(out_f, -1)[:, :4])
    assert float(jnp.abs(out_bf - out_f).max()) < 0.3
