"""Decode-only parameter layouts: what the sampler's decode loop reads at every step.

``prepare_decode_params(params, cfg)`` turns the trainer's parameter dict
(stacked ``[layers, ...]`` kernels with head axes) into one dict per layer of
2-D ``[in, out]`` kernels, q/k/v and gate/up fused, which
``murphy_jax.models.decode_layers.decode_forward`` consumes (``layers.forward``
dispatches to it when given such a dict and a cache). The copy is made once per
parameter object; prefill keeps using the original stacked parameters.

``weights="int8"`` additionally stores every layer kernel (and the LM head) as
int8 with one float32 scale per output column (``murphy_jax/models/quant.py``):
rollouts then sample from a slightly different policy, which the loss's
importance ratio against the rollout log-probs accounts for (docs/sampling.md
gives the measured ratio statistics).
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from murphy_jax.models.config import ModelConfig
from murphy_jax.models.decode_layers import LAYOUT_KEY
from murphy_jax.models.quant import quantize_int8

WEIGHTS = ("model", "int8")


def _layer(cfg: ModelConfig, lp: dict, quant) -> dict:
    a, m = lp["attn"], lp["mlp"]
    h = cfg.hidden_size
    flat = lambda p: p["kernel"].reshape(h, -1)  # noqa: E731  [h, heads, d] -> [h, heads*d]
    out = {
        "attn_norm": lp["attn_norm"], "mlp_norm": lp["mlp_norm"],
        "qkv": quant(jnp.concatenate([flat(a["q_proj"]), flat(a["k_proj"]), flat(a["v_proj"])], axis=1)),
        "o": quant(a["o_proj"]["kernel"].reshape(cfg.num_heads * cfg.head_dim, h)),
        "gate_up": quant(jnp.concatenate([m["gate_proj"]["kernel"], m["up_proj"]["kernel"]], axis=1)),
        "down": quant(m["down_proj"]["kernel"]),
    }
    if cfg.qkv_bias:
        out["qkv"]["bias"] = jnp.concatenate([a[n]["bias"].reshape(-1) for n in ("q_proj", "k_proj", "v_proj")])
    if cfg.o_bias:
        out["o"]["bias"] = a["o_proj"]["bias"]
    if cfg.mlp_bias:
        out["gate_up"]["bias"] = jnp.concatenate([m["gate_proj"]["bias"], m["up_proj"]["bias"]])
        out["down"]["bias"] = m["down_proj"]["bias"]
    for n in ("q_norm", "k_norm"):
        if n in a:
            out[n] = a[n]
    return out


def prepare_decode_params(params: dict, cfg: ModelConfig, *, weights: str = "model") -> dict:
    """The decode layout of ``params`` (stacked or per-layer) for ``decode_layers.decode_forward``.

    ``weights="model"``: the same float values, rearranged (logits equal the
    reference forward's up to float summation order). ``"int8"``: layer kernels
    and the LM head quantised per output column (embedding lookups stay exact).
    """
    if weights not in WEIGHTS:
        raise ValueError(f"weights={weights!r}: expected one of {WEIGHTS}")

    layers = params["layers"]
    if not isinstance(layers, (list, tuple)):
        n = jax.tree.leaves(layers)[0].shape[0]
        layers = [jax.tree.map(lambda x, i=i: x[i], layers) for i in range(n)]
    out = {LAYOUT_KEY: None, "embed": params["embed"], "final_norm": params["final_norm"],
           "layers": [_prep_layer(lp, cfg=cfg, weights=weights) for lp in layers]}
    if not cfg.tie_word_embeddings:
        out["head"] = _quant(params["lm_head"]["kernel"], weights)
    elif weights == "int8":
        out["head"] = _quant_transposed(params["embed"]["embedding"], weights=weights)
    return out


def _quant(w, weights: str) -> dict:
    return quantize_int8(w) if weights == "int8" else {"kernel": w}


# Module-level jits (static config): one compile per model and weight format for the whole run, where a
# jit made per call would compile again every time the trainer hands the sampler new parameters.
@functools.partial(jax.jit, static_argnames=("cfg", "weights"))
def _prep_layer(lp: dict, *, cfg: ModelConfig, weights: str) -> dict:
    return _layer(cfg, lp, lambda w: _quant(w, weights))


@functools.partial(jax.jit, static_argnames=("weights",))
def _quant_transposed(e, *, weights: str) -> dict:
    return _quant(e.T, weights)
