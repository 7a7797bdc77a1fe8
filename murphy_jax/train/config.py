"""Run-config validation (one-line errors naming the key) and the typed views the trainer uses.

Checks run at start-up, before any model is loaded or compiled: unknown or
missing keys, bad values (with the allowed ones), and inconsistent combinations
(a micro-batch the mesh cannot split, a reference model without a KL term...).
"""
from __future__ import annotations

import dataclasses
import inspect
import re
from typing import Any

import ml_collections

from murphy_jax.data.prompts import PromptTemplates
from murphy_jax.errors import MurphyUserError
from murphy_jax.execution.config import ExecutorConfig
from murphy_jax.rl.defaults import KNOBS
from murphy_jax.rollout.expand import RolloutConfig


class ConfigValueError(MurphyUserError, ValueError):
    """A run-config value is unknown, bad or inconsistent; the message starts with the key."""


_CHOICES = {
    "model.dtype": ("bfloat16", "float32"),
    "model.param_dtype": ("bfloat16", "float32"),
    "model.remat": ("none", "full", "dots"),
    "optim.schedule": ("constant", "cosine"),
    "train.on_nonfinite": ("stop", "skip"),
    "data.on_bad_row": ("error", "skip"),
    "log.dump_trees": ("none", "last", "all"),
    "distributed.enabled": ("auto", "on", "off"),
    "rl.credit.strategy": ("mars", "mers", "none"),
    "rl.loss.aggregation": ("token_mean", "seq_mean_token_mean", "seq_mean_token_sum_norm"),
    "rl.batch.overflow": ("error", "drop"),
    "rl.batch.layout": ("packed", "bucketed"),
    "rl.baseline.match_by": ("generated_tokens", "executor_calls"),
}
_POSITIVE = ("data.tasks_per_step", "sampling.max_new_tokens", "sampling.max_prompt_tokens", "sampling.max_rows",
             "sampling.chunk", "train.steps", "train.ppo_epochs", "train.minibatches", "checkpoint.every",
             "checkpoint.keep", "log.every", "rl.batch.micro_batch_size", "rl.batch.pack_len", "rl.batch.pack_rows",
             "optim.lr",
             "train.preempt_grace_s")
_NON_NEGATIVE = ("data.limit", "sampling.top_k", "optim.warmup_steps", "optim.weight_decay", "optim.clip_norm",
                 "train.logits_chunk", "sampling.temperature", "rl.loss.beta", "rl.prune.inter_keep",
                 "rl.prune.intra_keep", "checkpoint.min_free_gb")


def _get(c, key: str):
    node = c
    for part in key.split("."):
        node = node[part]
    return node


def _flat(c, prefix="") -> dict[str, Any]:
    out = {}
    for k, v in c.items():
        key = f"{prefix}{k}"
        if isinstance(v, (ml_collections.ConfigDict, dict)):
            out.update(_flat(v, key + "."))
        else:
            out[key] = v
    return out


def validate(c: ml_collections.ConfigDict, reference: ml_collections.ConfigDict | None = None) -> None:
    """Raise ConfigValueError for the first unknown key, bad value or inconsistent combination."""
    if reference is not None:
        ref_keys, keys = set(_flat(reference)), set(_flat(c))
        for key in sorted(keys - ref_keys):
            near = [k for k in ref_keys if k.rsplit(".", 1)[-1] == key.rsplit(".", 1)[-1]]
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ConfigValueError(f"{key}: unknown config key{hint}")
        for key in sorted(ref_keys - keys):
            raise ConfigValueError(f"{key}: missing from the config (start experiment configs from configs/base.py)")
    for key, allowed in _CHOICES.items():
        if _get(c, key) not in allowed:
            raise ConfigValueError(f"{key}={_get(c, key)!r}: must be one of {allowed}")
    for key in _POSITIVE:
        if not _get(c, key) > 0:
            raise ConfigValueError(f"{key}={_get(c, key)!r}: must be > 0")
    for key in _NON_NEGATIVE:
        if _get(c, key) < 0:
            raise ConfigValueError(f"{key}={_get(c, key)!r}: must be >= 0")
    if not (0 < c.sampling.top_p <= 1):
        raise ConfigValueError(f"sampling.top_p={c.sampling.top_p!r}: must be in (0, 1]")
    if not (0 <= c.rl.credit.gamma <= 1):
        raise ConfigValueError(f"rl.credit.gamma={c.rl.credit.gamma!r}: must be in [0, 1]")
    if not (0 <= c.rl.loss.eps_low < 1) or c.rl.loss.eps_high < 0:
        raise ConfigValueError(f"rl.loss.eps_low={c.rl.loss.eps_low!r}, rl.loss.eps_high={c.rl.loss.eps_high!r}: "
                               "need 0 <= eps_low < 1 and eps_high >= 0")
    if not c.model.path:
        raise ConfigValueError("model.path: empty; give an HF dir, .gguf, hub id, 'smollm2' or 'random:<variant>'")
    for key, value in (("mesh.data", c.mesh.data), ("mesh.fsdp", c.mesh.fsdp), ("mesh.tensor", c.mesh.tensor)):
        if value == 0 or value < -1:
            raise ConfigValueError(f"{key}={value!r}: must be a positive size or -1 (the remaining devices)")
    try:
        rollout_config(c).validate()
    except ValueError as e:
        raise ConfigValueError(str(e)) from None
    try:
        executor_config(c)
    except (ValueError, TypeError) as e:
        raise ConfigValueError(str(e)) from None
    try:
        PromptTemplates.from_config(c.prompts)
    except ValueError as e:
        raise ConfigValueError(str(e)) from None
    _check_batch(c)


def _check_batch(c) -> None:
    """The longest row (prompt + response) must fit the layout's row length unless overflowing rows are dropped."""
    b = c.rl.batch
    longest = c.sampling.max_prompt_tokens + c.sampling.max_new_tokens
    if not isinstance(b.share_prefix, bool):
        raise ConfigValueError(f"rl.batch.share_prefix={b.share_prefix!r}: must be True or False")
    for key in ("pack_len", "pack_rows"):
        if not isinstance(b[key], int) or isinstance(b[key], bool):
            raise ConfigValueError(f"rl.batch.{key}={b[key]!r}: must be an integer")
    if b.overflow == "drop":
        return
    if b.layout == "packed" and longest > b.pack_len:
        raise ConfigValueError(f"rl.batch.pack_len={b.pack_len}: must hold the longest row, sampling.max_prompt_tokens"
                               f" + sampling.max_new_tokens = {longest} (or set rl.batch.overflow='drop')")
    if b.layout == "bucketed" and longest > max(b.buckets):
        raise ConfigValueError(f"rl.batch.buckets={tuple(b.buckets)}: the largest bucket must hold "
                               f"sampling.max_prompt_tokens + sampling.max_new_tokens = {longest} "
                               "(or set rl.batch.overflow='drop')")


def check_mesh(c, mesh, num_processes: int = 1) -> None:
    """Consistency of batch sizes with the mesh (needs the devices, so it runs after the mesh exists).

    ``rl.batch.micro_batch_size`` counts rows per process; the global
    micro-batch (times the processes) is split over the mesh's data*fsdp devices.
    """
    batch_ways = mesh.shape["data"] * mesh.shape["fsdp"]
    per_process = max(1, batch_ways // num_processes)
    if c.rl.batch.micro_batch_size % per_process:
        raise ConfigValueError(f"rl.batch.micro_batch_size={c.rl.batch.micro_batch_size}: must be a multiple of "
                               f"the {per_process} data*fsdp devices of each process")


def rollout_config(c) -> RolloutConfig:
    """The expansion loop's config from the ``rollout`` section (the run seed drives sampling)."""
    return RolloutConfig(**c.rollout.to_dict(), seed=int(c.seed))


def executor_config(c) -> ExecutorConfig:
    """ExecutorConfig from the ``executor`` section (unknown keys are errors)."""
    d = c.executor.to_dict()
    names = {f.name for f in dataclasses.fields(ExecutorConfig)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise ConfigValueError(f"executor.{unknown[0]}: unknown config key")
    return ExecutorConfig(**d)


def _field_comments(cls) -> dict[str, str]:
    """One-line docs of a dataclass's fields, read from their trailing ``# comments``."""
    out = {}
    for line in inspect.getsource(cls).splitlines():
        m = re.match(r"\s+(\w+): [^=]+=.*?#\s*(.+)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def _base_comments() -> dict[str, str]:
    import configs.base as base  # noqa: PLC0415  (the file users edit is the source of truth)

    out = {}
    for line in inspect.getsource(base).splitlines():
        m = re.match(r"\s+c\.([\w.]+) = (.*?)(?:#\s*(.+))?$", line)
        if m and m.group(3) and "ConfigDict(" not in m.group(2):
            out[m.group(1)] = m.group(3).strip()
    return out


def describe(c) -> dict[str, tuple[Any, str]]:
    """Every config key -> (value, one-line explanation)."""
    docs = dict(_base_comments())
    for prefix, cls in (("rollout", RolloutConfig), ("executor", ExecutorConfig), ("prompts", PromptTemplates)):
        docs.update({f"{prefix}.{k}": v for k, v in _field_comments(cls).items()})
    docs.update({k: v[1] for k, v in KNOBS.items()})
    prompts_doc = "prompt template (str.format fields documented in murphy_jax/data/prompts.py)"
    return {k: (v, docs.get(k) or (prompts_doc if k.startswith("prompts.") else ""))
            for k, v in sorted(_flat(c).items())}
