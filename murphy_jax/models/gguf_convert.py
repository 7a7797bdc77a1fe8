"""Convert a GGUF file into an HF directory (config.json, sharded safetensors, tokenizer) tensor by tensor.

Streaming matters for the 1.5B Qwen model: the float32 weights are ~7 GB, and building the whole
model first (``from_pretrained`` + ``export_hf``) would hold them all, plus a copy per shard. Here
at most one shard (``max_shard_bytes``) of dequantised tensors is in memory at a time.
"""
from __future__ import annotations

import json
import os
import time
from typing import Callable

import ml_dtypes
import numpy as np

from murphy_jax.models.gguf_io import GGUFSource, gguf_tokenizer

_DTYPE_NAMES = {"float32": np.dtype(np.float32), "bfloat16": np.dtype(ml_dtypes.bfloat16)}


def gguf_to_hf_dir(gguf: str, out_dir: str, *, dtype: str = "float32", max_shard_bytes: int = 2 * 2**30,
                   progress: Callable[[str], None] | None = None) -> str:
    """Write the GGUF file ``gguf`` as an HF model directory in ``out_dir`` (created; files in it are replaced).

    ``dtype`` is the stored dtype: ``float32`` keeps the dequantised values exactly, ``bfloat16``
    halves the size and rounds them. ``progress`` receives one line per written shard.
    """
    from safetensors.numpy import save_file

    from murphy_jax.models.config import ModelConfig
    from murphy_jax.models.hf_names import hf_config_dict

    if dtype not in _DTYPE_NAMES:
        raise ValueError(f"dtype={dtype!r}: expected one of {sorted(_DTYPE_NAMES)}")
    out_dtype = _DTYPE_NAMES[dtype]
    say = progress or (lambda _msg: None)
    src = GGUFSource(gguf)
    os.makedirs(out_dir, exist_ok=True)
    names = src.names()
    groups: list[list[str]] = [[]]
    size = 0
    for name in names:  # plan the shards from the shapes alone, so the file count is known up front
        nbytes = int(np.prod(src.shape(name))) * out_dtype.itemsize
        if groups[-1] and size + nbytes > max_shard_bytes:
            groups.append([])
            size = 0
        groups[-1].append(name)
        size += nbytes
    weight_map, total, t0 = {}, 0, time.perf_counter()
    for k, group in enumerate(groups):
        fn = "model.safetensors" if len(groups) == 1 else f"model-{k + 1:05d}-of-{len(groups):05d}.safetensors"
        shard = {name: np.ascontiguousarray(src.get(name).astype(out_dtype)) for name in group}
        save_file(shard, os.path.join(out_dir, fn), metadata={"format": "pt"})
        nbytes = sum(a.nbytes for a in shard.values())
        total += nbytes
        del shard
        weight_map.update({name: fn for name in group})
        say(f"wrote {fn} ({len(group)} tensors, {nbytes / 1e9:.2f} GB; {total / 1e9:.2f} GB in "
            f"{time.perf_counter() - t0:.0f}s)")
    if len(groups) > 1:
        with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    hf = hf_config_dict(ModelConfig.from_hf(src.hf_config), src.hf_config)
    hf["torch_dtype"] = dtype
    say("building the tokenizer from the GGUF metadata (transformers' converter; ~1.5 min for a 150k vocabulary)")
    gguf_tokenizer(gguf).save_pretrained(out_dir)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(hf, f, indent=2, sort_keys=True)
    return out_dir
