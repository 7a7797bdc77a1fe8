"""Loading into a sharded mesh streams shard by shard: host memory peaks near one shard, not one model."""
import tracemalloc

import jax.numpy as jnp
import numpy as np
import pytest

from murphy_jax.models import from_pretrained, make_mesh
from murphy_jax.models.safetensors_io import SafetensorsDir
from murphy_jax.testing.tiny_hf import make_tiny_hf


@pytest.fixture(scope="module")
def wide_model(tmp_path_factory):
    # Embedding 4096 x 512 fp32 = 8 MiB: large next to one of its 8 shards (1 MiB).
    return make_tiny_hf("llama", str(tmp_path_factory.mktemp("wide")), vocab_size=4096, hidden_size=512,
                        intermediate_size=1024, num_attention_heads=8, num_key_value_heads=8)


def test_sharded_load_never_materialises_a_full_tensor(wide_model):
    src = SafetensorsDir(wide_model)
    largest = max(int(np.prod(src.shape(n))) * 4 for n in src.names())
    assert largest == 4096 * 512 * 4
    mesh = make_mesh(data=1, fsdp=8, tensor=1)
    tracemalloc.start()
    model = from_pretrained(wide_model, dtype=jnp.float32, mesh=mesh)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    emb = model.params()["embed"]["embedding"]
    assert emb.addressable_shards[0].data.shape == (4096, 64)
    # numpy temporaries stay well under one full tensor (jax device buffers are not traced).
    assert peak < largest / 2, f"peak host allocation {peak} bytes vs largest tensor {largest}"
