"""Mesh presets: the data/fsdp/tensor split of each shipped model config on common slices.

    murphy-train --config configs/qwen3_4b_murphy.py:v5p-16 ...
    murphy-plan  --config configs/qwen3_4b_murphy.py:v5p-16 --hardware v5p-16

A config's argument names the hardware (``murphy_jax.plan.from_config.HARDWARE`` has
its device count and memory); the preset only sets ``mesh.data``, ``mesh.fsdp`` and
``mesh.tensor``, so any ``--config.mesh.*`` override still wins. The reasoning, per model:

- tiny / SmolLM2-135M: the whole model fits every device many times over, so pure data
  parallelism (no parameter all-gathers at all).
- Qwen3-1.7B / 4B: FSDP over the chips of a host (parameters, Adam moments and gradients
  divided by 8); on 16+ chips an outer data axis keeps each all-gather inside 8 chips.
- OLMo-2-7B: tensor parallelism of 4 (its 32 heads and 11008-wide MLP split evenly),
  kept inside one host's 4 chips on v4/v5p, times FSDP, times data on larger slices.

Whether a split fits is the planner's call (docs/scaling.md lists its verdicts; a few
of these combinations need ``sampling.max_rows`` or ``rl.batch.micro_batch_size`` lowered).
"""
from __future__ import annotations

# model key -> hardware -> (data, fsdp, tensor); the product is the slice's JAX device count.
PRESETS: dict[str, dict[str, tuple[int, int, int]]] = {
    "small": {  # tiny, smollm2_135m
        "v4-8": (4, 1, 1), "v5e-8": (8, 1, 1), "v5p-8": (4, 1, 1), "v5p-16": (8, 1, 1), "v5p-32": (16, 1, 1),
        "v6e-8": (8, 1, 1), "8xA100-80GB": (8, 1, 1), "8xH100-80GB": (8, 1, 1),
    },
    "qwen3_1p7b": {
        "v4-8": (1, 4, 1), "v5e-8": (1, 8, 1), "v5p-8": (1, 4, 1), "v5p-16": (1, 8, 1), "v5p-32": (2, 8, 1),
        "v6e-8": (1, 8, 1), "8xA100-80GB": (1, 8, 1), "8xH100-80GB": (1, 8, 1),
    },
    "qwen3_4b": {
        "v4-8": (1, 4, 1), "v5e-8": (1, 8, 1), "v5p-8": (1, 4, 1), "v5p-16": (1, 8, 1), "v5p-32": (2, 8, 1),
        "v6e-8": (1, 8, 1), "8xA100-80GB": (1, 8, 1), "8xH100-80GB": (1, 8, 1),
    },
    "olmo2_7b": {
        "v4-8": (1, 1, 4), "v5e-8": (1, 2, 4), "v5p-8": (1, 1, 4), "v5p-16": (1, 2, 4), "v5p-32": (2, 2, 4),
        "v6e-8": (1, 2, 4), "8xA100-80GB": (1, 2, 4), "8xH100-80GB": (1, 2, 4),
    },
}


# TPU hardware -> (libtpu topology name, get_topology_desc options): the compile-only devices murphy-compile
# builds the slice from (one JAX device per chip). v4 chips have two TensorCores that JAX drives as one
# ("megacore"); v5e-8/v6e-8 are one 8-chip host, v4/v5p hosts have 4 chips (2x2x1).
TPU_TOPOLOGIES: dict[str, tuple[str, dict]] = {
    "v4-8": ("v4:2x2x1", {"chip_config_name": "megacore"}),
    "v5e-8": ("v5e:2x4", {"chips_per_host_bounds": (2, 4, 1)}),
    "v5p-8": ("v5p:2x2x1", {}),
    "v5p-16": ("v5p:2x2x2", {"chips_per_host_bounds": (2, 2, 1)}),
    "v5p-32": ("v5p:2x2x4", {"chips_per_host_bounds": (2, 2, 1)}),
    "v6e-8": ("v6e:2x4", {"chips_per_host_bounds": (2, 4, 1)}),
}


def hardware_names() -> list[str]:
    """Every hardware name a preset exists for."""
    return sorted(PRESETS["small"])


def apply(c, model_key: str, hardware: str):
    """Set ``c.mesh`` to the preset of ``model_key`` on ``hardware`` (returns ``c``); '' leaves it alone."""
    if not hardware:
        return c
    table = PRESETS[model_key]
    if hardware not in table:
        raise ValueError(f"mesh preset {hardware!r}: unknown hardware; one of {', '.join(hardware_names())}")
    c.mesh.data, c.mesh.fsdp, c.mesh.tensor = table[hardware]
    return c
