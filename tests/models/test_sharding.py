"""Sharded forward on 8 fake CPU devices equals the unsharded forward; large params really are sharded."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P

from murphy_jax.models import forward, from_pretrained, make_mesh, param_shardings
from murphy_jax.models.sharding import batch_sharding, logical_to_spec


@pytest.fixture(scope="module")
def ids():
    return np.random.RandomState(0).randint(0, 320, (8, 24)).astype(np.int32)


@pytest.mark.parametrize("shape,expect", [
    (dict(data=1, fsdp=8, tensor=1), {"gate": P(None, "fsdp", None), "embed": P(None, "fsdp"),
                                      "q": P(None, "fsdp", None, None)}),
    (dict(data=1, fsdp=2, tensor=4), {"gate": P(None, "fsdp", "tensor"), "embed": P("tensor", "fsdp"),
                                      "q": P(None, "fsdp", "tensor", None)}),
    (dict(data=2, fsdp=2, tensor=2), {"gate": P(None, "fsdp", "tensor"), "embed": P("tensor", "fsdp"),
                                      "q": P(None, "fsdp", "tensor", None)}),
])
def test_sharded_forward_equals_unsharded(tiny_hf_dirs, ids, shape, expect):
    assert len(jax.devices()) == 8, "conftest must provide 8 fake CPU devices"
    path = tiny_hf_dirs["llama"]
    ref = np.asarray(from_pretrained(path, dtype=jnp.float32)(jnp.asarray(ids)))

    mesh = make_mesh(**shape)
    model = from_pretrained(path, dtype=jnp.float32, mesh=mesh)
    params = model.params()
    gate = params["layers"]["mlp"]["gate_proj"]["kernel"]
    assert gate.sharding.spec == expect["gate"]
    assert params["embed"]["embedding"].sharding.spec == expect["embed"]
    assert params["layers"]["attn"]["q_proj"]["kernel"].sharding.spec == expect["q"]
    # Really sharded: each device holds a fraction of the matrix.
    n_shards = mesh.shape["fsdp"] * mesh.shape["tensor"]
    assert gate.addressable_shards[0].data.size * n_shards == gate.size

    shardings = param_shardings(model, mesh)
    in_b = batch_sharding(mesh, 2)
    out_b = batch_sharding(mesh, 3)
    fn = jax.jit(functools.partial(forward, model.config), in_shardings=(shardings, in_b), out_shardings=out_b)
    out = fn(params, jax.device_put(jnp.asarray(ids), in_b))
    assert out.sharding.spec == out_b.spec
    np.testing.assert_allclose(np.asarray(out), ref, atol=2e-5, rtol=0)


def test_non_divisible_dims_stay_replicated():
    mesh = make_mesh(data=1, fsdp=2, tensor=4)
    # 3 kv heads cannot be split 4 ways, 576 hidden splits over fsdp=2.
    assert logical_to_spec(("layers", "embed", "kv_heads", "head_dim"), (30, 576, 3, 64), mesh) == \
        P(None, "fsdp", None, None)
    # A mesh axis is never used twice in one spec.
    assert logical_to_spec(("mlp", "q_heads"), (8, 8), mesh) == P("tensor", None)


def test_make_mesh_errors():
    with pytest.raises(ValueError, match="needs 12 devices, have 8"):
        make_mesh(data=3, fsdp=2, tensor=2)
    with pytest.raises(ValueError, match="not divisible"):
        make_mesh(data=3, fsdp=-1)
