"""A lazy, validating safetensors reader over numpy memmaps.

Reading a tensor returns a memmap view, so slicing it touches only the bytes
a device shard needs: loaders never hold a full host copy of a large model.
Headers are checked against the file size, so a truncated or corrupt file is
reported by name instead of crashing later.
"""
from __future__ import annotations

import json
import os
import struct

import ml_dtypes
import numpy as np

from murphy_jax.errors import MurphyUserError

_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": ml_dtypes.bfloat16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_,
}


class WeightsError(MurphyUserError, ValueError):
    """Weights are missing, corrupt or do not match the config; the message names the file or tensor."""


class SafetensorsFile:
    """One ``.safetensors`` file: ``names()``, ``shape(name)``, ``get(name)`` (a read-only memmap view)."""

    def __init__(self, path: str):
        self.path = os.fspath(path)
        size = os.path.getsize(self.path)
        with open(self.path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise WeightsError(f"{self.path}: truncated safetensors file (no header)")
            (n,) = struct.unpack("<Q", head)
            if n > size - 8 or n > 100 * 2**20:
                raise WeightsError(f"{self.path}: corrupt safetensors header (length {n}, file {size} bytes)")
            try:
                header = json.loads(f.read(n))
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise WeightsError(f"{self.path}: corrupt safetensors header: {e}") from None
        self.metadata = header.pop("__metadata__", {}) or {}
        self._base = 8 + n
        self._entries = {}
        for name, e in header.items():
            try:
                dtype = np.dtype(_DTYPES[e["dtype"]])
                shape = tuple(int(s) for s in e["shape"])
                begin, end = (int(x) for x in e["data_offsets"])
            except (KeyError, TypeError, ValueError):
                raise WeightsError(f"{self.path}: corrupt safetensors header: bad entry for {name!r}") from None
            if end - begin != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize or begin > end:
                raise WeightsError(f"{self.path}: tensor {name!r} byte range does not match its shape {shape}")
            if self._base + end > size:
                raise WeightsError(f"{self.path}: truncated: tensor {name!r} ends at byte {self._base + end}, "
                                   f"file has {size}")
            self._entries[name] = (dtype, shape, begin)

    def names(self) -> list[str]:
        return list(self._entries)

    def shape(self, name: str) -> tuple[int, ...]:
        return self._entries[name][1]

    def get(self, name: str) -> np.ndarray:
        """A read-only memmap view of one tensor."""
        dtype, shape, begin = self._entries[name]
        if not shape or int(np.prod(shape)) == 0:
            return np.zeros(shape, dtype)
        return np.memmap(self.path, dtype=dtype, mode="r", offset=self._base + begin, shape=shape)


class SafetensorsDir:
    """All ``*.safetensors`` of an HF model directory, single file or sharded with an index."""

    def __init__(self, model_dir: str):
        index = os.path.join(model_dir, "model.safetensors.index.json")
        single = os.path.join(model_dir, "model.safetensors")
        if os.path.exists(index):
            try:
                with open(index, encoding="utf-8") as f:
                    weight_map = json.load(f)["weight_map"]
            except (json.JSONDecodeError, KeyError) as e:
                raise WeightsError(f"{index}: corrupt index: {e}") from None
            files = sorted(set(weight_map.values()))
        elif os.path.exists(single):
            files = ["model.safetensors"]
        else:
            found = [f for f in os.listdir(model_dir) if f.endswith(".safetensors")]
            if not found:
                others = [f for f in os.listdir(model_dir) if f.endswith((".bin", ".pt", ".gguf"))]
                hint = f" (found {others[:3]}; only safetensors and GGUF are supported)" if others else ""
                raise WeightsError(f"{model_dir}: no *.safetensors weights{hint}")
            files = sorted(found)
        self._files = {}
        self._where = {}
        for fn in files:
            path = os.path.join(model_dir, fn)
            if not os.path.exists(path):
                raise WeightsError(f"{path}: listed in the index but missing")
            sf = SafetensorsFile(path)
            self._files[fn] = sf
            for name in sf.names():
                self._where[name] = sf

    def names(self) -> list[str]:
        return list(self._where)

    def shape(self, name: str) -> tuple[int, ...]:
        return self._where[name].shape(name)

    def get(self, name: str) -> np.ndarray:
        return self._where[name].get(name)

    def __contains__(self, name: str) -> bool:
        return name in self._where
