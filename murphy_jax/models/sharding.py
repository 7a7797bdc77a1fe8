"""Logical axis names -> mesh axes, the device mesh, and parameter shardings.

Parameters carry logical names (``vocab``, ``embed``, ``mlp``, ``q_heads``,
``kv_heads``, ``head_dim``, ``layers``, ``norm``). A rule table maps each name
to a mesh axis (or a tuple of them, or None). A mesh axis is used at most once
per array, and a dimension that the mesh axis size does not divide stays
replicated, so the same rules work for every model size and mesh shape.
"""
from __future__ import annotations

import math
from typing import Sequence

import jax
import numpy as np
from flax import nnx
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec as P

MESH_AXES = ("data", "fsdp", "tensor")

# FSDP shards the hidden ("embed") dimension of every matrix; tensor parallelism
# shards heads, MLP width and vocab. Batch dims of activations go over data+fsdp.
DEFAULT_RULES: tuple[tuple[str, str | tuple | None], ...] = (
    ("batch", ("data", "fsdp")),
    ("vocab", "tensor"),
    ("embed", "fsdp"),
    ("mlp", "tensor"),
    ("q_heads", "tensor"),
    ("kv_heads", "tensor"),
    ("head_dim", None),
    ("layers", None),
    ("norm", None),
)


def make_mesh(data: int = 1, fsdp: int = -1, tensor: int = 1, devices: Sequence | None = None) -> Mesh:
    """A ("data", "fsdp", "tensor") mesh; one size may be -1 to take the remaining devices."""
    devices = list(devices if devices is not None else jax.devices())
    sizes = [data, fsdp, tensor]
    if sizes.count(-1) > 1:
        raise ValueError("at most one of data/fsdp/tensor may be -1")
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:
        if len(devices) % known:
            raise ValueError(f"{len(devices)} devices are not divisible by data*tensor*fsdp={known}")
        sizes[sizes.index(-1)] = len(devices) // known
    if math.prod(sizes) != len(devices):
        raise ValueError(f"mesh data={sizes[0]} fsdp={sizes[1]} tensor={sizes[2]} needs "
                         f"{math.prod(sizes)} devices, have {len(devices)}")
    arr = np.asarray(devices).reshape(sizes)
    return Mesh(arr, MESH_AXES, axis_types=(AxisType.Auto,) * 3)


def logical_to_spec(axes: Sequence[str | None], shape: Sequence[int], mesh: Mesh,
                    rules=DEFAULT_RULES) -> P:
    """PartitionSpec for one array: each logical name's mesh axes, dropped where they don't divide or repeat."""
    table = dict(rules)
    used: set[str] = set()
    spec = []
    for name, dim in zip(axes, shape):
        target = table.get(name) if name is not None else None
        if target is None:
            spec.append(None)
            continue
        cand = (target,) if isinstance(target, str) else tuple(target)
        chosen = []
        size = 1
        for ax in cand:
            n = mesh.shape.get(ax, 1)
            if ax in used or n == 1 or dim % (size * n):
                continue
            chosen.append(ax)
            size *= n
        used.update(chosen)
        spec.append(None if not chosen else chosen[0] if len(chosen) == 1 else tuple(chosen))
    return P(*spec)


def param_shardings(model: nnx.Module, mesh: Mesh, rules=DEFAULT_RULES) -> dict:
    """NamedShardings for ``model``'s parameters, as a pure dict shaped like ``model.params()``."""
    state = nnx.state(model, nnx.Param)

    def one(v):
        return NamedSharding(mesh, logical_to_spec(v.get_metadata()["axes"], v.shape, mesh, rules))

    return nnx.to_pure_dict(jax.tree.map(one, state, is_leaf=lambda x: isinstance(x, nnx.Variable)))


def shard_params(params: dict, shardings: dict) -> dict:
    """Place a params dict onto its shardings."""
    return jax.tree.map(jax.device_put, params, shardings)


def batch_sharding(mesh: Mesh, ndim: int = 2, rules=DEFAULT_RULES) -> NamedSharding:
    """Sharding for an activation/batch array: leading dim over the batch mesh axes, the rest replicated."""
    lead = dict(rules)["batch"]
    lead = tuple(a for a in ((lead,) if isinstance(lead, str) else lead) if mesh.shape.get(a, 1) > 1)
    first = None if not lead else lead[0] if len(lead) == 1 else lead
    return NamedSharding(mesh, P(first, *([None] * (ndim - 1))))
