"""What ``murphy-eval --model`` accepts, resolved to an architecture, a tokenizer and parameters.

* an HF directory, a ``.gguf`` file, a hub repo id, ``smollm2`` (the cached SmolLM2-135M-Instruct)
  or ``qwen2.5-coder-1.5b`` (the cached Qwen2.5-Coder-1.5B-Instruct, murphy_jax.models.qwen_coder);
* a training workdir (its newest checkpoint), its ``checkpoints`` directory (newest), one step
  directory ``checkpoints/<step>`` or that step's ``state`` directory. Parameters then come from
  the orbax checkpoint and the architecture and tokenizer from the run's model path
  (``meta.model_path``, else ``config.json``'s ``model.path``), or from ``arch`` when given.
  The run's prompt templates and history settings are picked up too, so evaluation prompts
  the model the way training did.

``resolve_model`` does the cheap part (paths, configs, the shape check of a checkpoint
against its architecture) so that every ``--model`` is validated before any is evaluated;
``load_model`` then loads the parameters.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from murphy_jax.errors import MurphyUserError
from murphy_jax.models import load_config, load_tokenizer, resolve
from murphy_jax.models.decoder import abstract_decoder
from murphy_jax.train.checkpoint import restore_params_numpy


class ModelSpecError(MurphyUserError, ValueError):
    """A --model value that cannot be evaluated (bad checkpoint, shapes of another architecture...)."""


@dataclass
class EvalModel:
    """A resolved --model: where the architecture, tokenizer and (for checkpoints) parameters come from."""

    spec: str  # as the user gave it
    label: str  # short display name (table row, plot legend, partial-results file name)
    arch_path: str  # HF dir or .gguf: architecture (and weights unless ``checkpoint``)
    tokenizer_path: str
    checkpoint: str | None = None  # orbax step directory holding ``state``
    step: int | None = None
    run_config: dict | None = None  # the training run's config.json, when there is one
    identity: dict = field(default_factory=dict)  # what enters the evaluation's config hash

    def templates_config(self) -> dict | None:
        """The run's ``prompts`` section (None outside a training run)."""
        return (self.run_config or {}).get("prompts")

    def rollout_setting(self, key: str, default):
        """A ``rollout`` setting of the training run (history, attempt_format, feedback_chars), else ``default``."""
        return (self.run_config or {}).get("rollout", {}).get(key, default)


def _is_step_dir(path: str) -> bool:
    return os.path.isdir(os.path.join(path, "state"))


def _steps(ckpt_dir: str) -> list[int]:
    # Orbax renames a finished save to its bare step number; temporary directories carry a suffix.
    return sorted(int(d) for d in os.listdir(ckpt_dir) if d.isdigit() and _is_step_dir(os.path.join(ckpt_dir, d)))


def _find_checkpoint(path: str) -> tuple[str, str | None] | None:
    """(step dir, workdir or None) when ``path`` is a training workdir or a checkpoint, else None."""
    path = os.path.abspath(path.rstrip("/"))
    if os.path.basename(path) == "state" and os.path.isdir(path):
        path = os.path.dirname(path)
    if _is_step_dir(path):
        parent = os.path.dirname(path)
        workdir = os.path.dirname(parent) if os.path.basename(parent) == "checkpoints" else None
        return path, workdir
    for ckpt_dir, workdir in ((os.path.join(path, "checkpoints"), path), (path, os.path.dirname(path))):
        if os.path.isdir(ckpt_dir) and (steps := _steps(ckpt_dir)):
            return os.path.join(ckpt_dir, str(steps[-1])), workdir
    if os.path.isdir(os.path.join(path, "checkpoints")):
        raise ModelSpecError(f"{path}: a training workdir without a complete checkpoint")
    return None


def _read_json(path: str) -> dict | None:
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _checkpoint_arch(step_dir: str, workdir: str | None, run_config: dict | None) -> str:
    """The run's model path: ``meta.model_path`` if it still exists, else ``config.json``'s model.path."""
    meta_dir = os.path.join(step_dir, "meta")
    meta = {}
    if os.path.isdir(meta_dir):
        for name in sorted(os.listdir(meta_dir)):
            try:
                meta = _read_json(os.path.join(meta_dir, name)) or {}
                break
            except (json.JSONDecodeError, UnicodeDecodeError, IsADirectoryError):
                continue
    if meta.get("model_path") and os.path.exists(meta["model_path"]):
        return meta["model_path"]
    path = ((run_config or {}).get("model") or {}).get("path")
    if path and workdir:
        from murphy_jax.train.policy import resolve_model_path

        return resolve_model_path(path, workdir, int((run_config or {}).get("seed", 0)))
    raise ModelSpecError(f"{step_dir}: cannot tell which architecture this checkpoint has (no meta.model_path "
                         "on disk and no run config.json); pass --arch PATH")


def resolve_model(spec: str, *, arch: str | None = None) -> EvalModel:
    """Resolve one --model value; checkpoints are shape-checked against their architecture here."""
    if spec == "smollm2":
        from murphy_jax.models.smollm2 import ensure_smollm2

        path = ensure_smollm2()
        return EvalModel(spec, "smollm2", path, path, identity={"model": "smollm2"})
    if spec == "qwen2.5-coder-1.5b":
        from murphy_jax.models.qwen_coder import ensure_qwen_coder

        path = ensure_qwen_coder()
        return EvalModel(spec, spec, path, path, identity={"model": spec})
    found = _find_checkpoint(spec) if os.path.exists(spec) else None
    if found is None:
        if arch:
            raise ModelSpecError(f"--arch is only for checkpoints; {spec!r} is a model, not a checkpoint")
        path = resolve(spec)  # ModelNotFoundError (one line) for a missing path or an unreachable hub id
        label = os.path.basename(os.path.abspath(path).rstrip("/")) if os.path.exists(spec) else spec
        return EvalModel(spec, label.removesuffix(".gguf"), path, path, identity={"model": os.path.abspath(path)})
    step_dir, workdir = found
    run_config = _read_json(os.path.join(workdir, "config.json")) if workdir else None
    arch_path = resolve(arch) if arch else _checkpoint_arch(step_dir, workdir, run_config)
    tok = ((run_config or {}).get("model") or {}).get("tokenizer") or ""
    tokenizer_path = resolve(tok) if tok and not arch else arch_path
    step = int(os.path.basename(step_dir)) if os.path.basename(step_dir).isdigit() else None
    name = os.path.basename(workdir) if workdir else os.path.basename(step_dir)
    m = EvalModel(spec, f"{name}@{step}" if step is not None else name, arch_path, tokenizer_path,
                  checkpoint=step_dir, step=step, run_config=run_config,
                  identity={"checkpoint": step_dir, "arch": os.path.abspath(arch_path)})
    check_checkpoint_shapes(m)
    return m


def _flatten(tree, prefix=()) -> dict[tuple, object]:
    if isinstance(tree, dict):
        out = {}
        for k, v in tree.items():
            out.update(_flatten(v, prefix + (str(k),)))
        return out
    return {prefix: tree}


def _checkpoint_param_metadata(step_dir: str) -> dict:
    from murphy_jax.train.checkpoint import param_metadata

    try:
        return param_metadata(step_dir)
    except ValueError as e:
        raise ModelSpecError(str(e)) from None
    except Exception as e:  # not an orbax checkpoint, or a damaged one
        from murphy_jax.train.checkpoint import unreadable_reason

        raise ModelSpecError(f"{step_dir}: cannot read the checkpoint ({unreadable_reason(step_dir, e)})") from None


def _checkpoint_params(step_dir: str) -> dict:
    """The checkpoint's parameters as numpy; damage (a truncated or missing array file) is one ModelSpecError line."""
    from murphy_jax.train.checkpoint import quiet_abandoned_reads, unreadable_reason

    try:
        return restore_params_numpy(step_dir)
    except Exception as e:  # orbax/TensorStore report damage as pages of spec dump; keep the precise cause
        quiet_abandoned_reads()
        raise ModelSpecError(f"{step_dir}: cannot read the checkpoint's parameters "
                             f"({unreadable_reason(step_dir, e)}); evaluate an earlier step directory "
                             f"({os.path.dirname(step_dir)}/<step>) instead") from None


def check_checkpoint_shapes(m: EvalModel) -> None:
    """Raise ModelSpecError naming the first parameter whose name or shape differs from ``m.arch_path``'s."""
    cfg = load_config(m.arch_path, dtype=jnp.float32)
    expected = {k: tuple(v.shape) for k, v in _flatten(abstract_decoder(cfg).params()).items()}
    got = {k: tuple(v.shape) for k, v in _flatten(_checkpoint_param_metadata(m.checkpoint)).items()}
    where = f"checkpoint {m.checkpoint} does not match the architecture of {m.arch_path}"
    for k in sorted(set(expected) | set(got)):
        name = "/".join(k)
        if k not in got:
            raise ModelSpecError(f"{where}: parameter {name} is missing from the checkpoint")
        if k not in expected:
            raise ModelSpecError(f"{where}: the checkpoint has parameter {name}, which the model does not")
        if got[k] != expected[k]:
            raise ModelSpecError(f"{where}: parameter {name} has shape {got[k]} in the checkpoint but "
                                 f"{expected[k]} in the model (a checkpoint of another model?)")


def load_model(m: EvalModel, dtype: str = "float32"):
    """(ModelConfig, params on the default device, tokenizer) for a resolved model."""
    dt = jnp.dtype(dtype)
    tokenizer = load_tokenizer(m.tokenizer_path)
    if m.checkpoint is None:
        from murphy_jax.models import from_pretrained

        model = from_pretrained(m.arch_path, dtype=dt)
        cfg, params = model.config, model.params()
    else:
        cfg = load_config(m.arch_path, dtype=dt)
        # Committed to one device like from_pretrained's arrays: uncommitted ones lower to different programs,
        # so a checkpoint would miss every program compiled (or cached on disk) for its starting model.
        device = jax.devices()[0]
        params = jax.tree.map(lambda x: jax.device_put(np.asarray(x, dt), device), _checkpoint_params(m.checkpoint))
    if len(tokenizer) > cfg.vocab_size:
        raise ModelSpecError(f"{m.spec}: the tokenizer has {len(tokenizer)} tokens but the model's vocab_size is "
                             f"{cfg.vocab_size}")
    return cfg, params, tokenizer
