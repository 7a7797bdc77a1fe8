"""Checkpoint tensors -> sharded parameters (streamed), and parameters -> an HF directory.

Loading builds every parameter shard by shard: each device's shard is read
from the source (a memmap view for safetensors), converted and placed on its
device before the next is read, so the host holds one shard at a time, never
a full copy of the model (let alone one per device).
"""
from __future__ import annotations

import json
import logging
import os
from typing import Protocol

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
from flax import nnx
from jax.sharding import SingleDeviceSharding

from murphy_jax.models import hf_names
from murphy_jax.models.config import ModelConfig
from murphy_jax.models.decoder import Decoder, abstract_decoder
from murphy_jax.models.safetensors_io import WeightsError

log = logging.getLogger(__name__)


class TensorSource(Protocol):
    """Anything that serves HF-named tensors: ``names()``, ``shape(name)``, ``get(name)``, ``in``."""

    def names(self) -> list[str]: ...

    def shape(self, name: str) -> tuple[int, ...]: ...

    def get(self, name: str) -> np.ndarray: ...

    def __contains__(self, name: str) -> bool: ...


def _np_dtype(dtype) -> np.dtype:
    return np.dtype(ml_dtypes.bfloat16) if jnp.dtype(dtype) == jnp.bfloat16 else np.dtype(jnp.dtype(dtype).name)


def _get_path(tree: dict, path: tuple[str, ...]):
    for k in path:
        tree = tree[k]
    return tree


def _set_path(tree: dict, path: tuple[str, ...], value) -> None:
    for k in path[:-1]:
        tree = tree.setdefault(k, {})
    tree[path[-1]] = value


def check_source(cfg: ModelConfig, source: TensorSource, where: str) -> None:
    """Fail with the tensor's name if a parameter is missing or has the wrong shape."""
    abstract = abstract_decoder(cfg).params()
    expected = set()
    for m in hf_names.tensor_maps(cfg):
        ours = _get_path(abstract, m.path).shape
        layer_shape = ours[1:] if m.stacked else ours
        names = [m.hf.format(i=i) for i in range(cfg.num_layers)] if m.stacked else [m.hf]
        for name in names:
            expected.add(name)
            if name not in source:
                raise WeightsError(f"{where}: missing tensor {name!r} required by the config")
            want, got = hf_names.hf_shape(m, layer_shape), tuple(source.shape(name))
            if want != got:
                raise WeightsError(f"{where}: tensor {name!r} has shape {got}, the config implies {want}")
    extra = sorted(set(source.names()) - expected - {"lm_head.weight"})
    extra = [n for n in extra if not n.endswith("rotary_emb.inv_freq")]
    if extra:
        log.warning("%s: ignoring %d tensors the config does not use, e.g. %s", where, len(extra), extra[:3])


def load_params(cfg: ModelConfig, source: TensorSource, shardings: dict | None = None,
                where: str = "checkpoint") -> dict:
    """Build the params dict of ``cfg`` from ``source``, each array placed on its sharding as it is read."""
    check_source(cfg, source, where)
    abstract = abstract_decoder(cfg).params()
    dt = _np_dtype(cfg.param_dtype)
    default = SingleDeviceSharding(jax.devices()[0])
    params: dict = {}
    for m in hf_names.tensor_maps(cfg):
        shape = _get_path(abstract, m.path).shape
        sharding = _get_path(shardings, m.path) if shardings is not None else default

        def callback(index, m=m, shape=shape):
            if not m.stacked:
                view = hf_names.to_ours(m, source.get(m.hf), shape)
                return np.asarray(view[index], dtype=dt)
            layers = range(cfg.num_layers)[index[0]]
            parts = [np.asarray(hf_names.to_ours(m, source.get(m.hf.format(i=i)), shape[1:])[index[1:]], dtype=dt)
                     for i in layers]
            return np.stack(parts) if parts else np.zeros((0, *shape[1:]), dt)[index[1:]]

        _set_path(params, m.path, _place(shape, sharding, callback))
    return params


def _place(shape, sharding, read):
    """A global array built shard by shard: only one shard is ever on the host at a time.

    (``jax.make_array_from_callback`` would first collect every local shard,
    i.e. a full host copy of the parameter on a single-host mesh.)
    """
    arrays, done = [], {}
    for device, index in sharding.addressable_devices_indices_map(shape).items():
        key = tuple((s.start, s.stop, s.step) if isinstance(s, slice) else s for s in index)
        if key in done:  # replicated shard: copy device to device instead of re-reading
            arrays.append(jax.device_put(done[key], device))
            continue
        arrays.append(jax.device_put(read(index), device))
        done[key] = arrays[-1]
    return jax.make_array_from_single_device_arrays(shape, sharding, arrays)


def build_model(cfg: ModelConfig, params: dict) -> Decoder:
    """A Decoder whose parameters are ``params`` (arrays keep their shardings)."""
    model = abstract_decoder(cfg)
    state = nnx.state(model, nnx.Param)
    nnx.replace_by_pure_dict(state, params)
    nnx.update(model, state)
    return model


def export_hf(model: Decoder, out_dir: str, *, dtype=None, tokenizer=None, base_config: dict | None = None,
              max_shard_bytes: int = 2 * 2**30) -> str:
    """Write ``model`` as an HF directory (config.json + safetensors, sharded with an index when large)."""
    from safetensors.numpy import save_file

    cfg: ModelConfig = model.config
    params = model.params()
    out_dtype = _np_dtype(dtype or cfg.param_dtype)
    os.makedirs(out_dir, exist_ok=True)
    shards: list[dict] = [{}]
    sizes = [0]
    for m in hf_names.tensor_maps(cfg):
        arr = _get_path(params, m.path)
        layers = range(cfg.num_layers) if m.stacked else [None]
        for i in layers:
            # Gather one layer at a time: a sharded model is never fully on the host.
            x = np.asarray(jax.device_get(arr[i] if i is not None else arr)).astype(out_dtype)
            t = hf_names.to_hf(m, x)
            if sizes[-1] and sizes[-1] + t.nbytes > max_shard_bytes:
                shards.append({})
                sizes.append(0)
            shards[-1][m.hf.format(i=i)] = t
            sizes[-1] += t.nbytes
    if len(shards) == 1:
        save_file(shards[0], os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
        for stale in ("model.safetensors.index.json",):
            if os.path.exists(os.path.join(out_dir, stale)):
                os.remove(os.path.join(out_dir, stale))
    else:
        weight_map = {}
        for k, shard in enumerate(shards):
            fn = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
            save_file(shard, os.path.join(out_dir, fn), metadata={"format": "pt"})
            weight_map.update({name: fn for name in shard})
        with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": int(sum(sizes))}, "weight_map": weight_map}, f, indent=2)
    hf_cfg = hf_names.hf_config_dict(cfg, base_config)
    hf_cfg["torch_dtype"] = "bfloat16" if out_dtype == np.dtype(ml_dtypes.bfloat16) else out_dtype.name
    if tokenizer is not None:
        for key in ("bos_token_id", "eos_token_id", "pad_token_id"):
            v = getattr(tokenizer, key, None)
            if v is not None:
                hf_cfg[key] = int(v)
        tokenizer.save_pretrained(out_dir)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(hf_cfg, f, indent=2, sort_keys=True)
    return out_dir

