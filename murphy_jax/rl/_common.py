"""Host-side checks and shape bucketing shared by the jitted RL array functions.

Every public array function in ``murphy_jax.rl`` has two paths:

* called with host arrays (numpy, lists, concrete ``jax.Array``), it validates
  the inputs with errors that name the bad entry, pads them to a bucketed
  length so the number of compilations stays logarithmic in the tree size,
  runs the jitted core, and returns numpy arrays of the original length;
* called with tracers (inside someone else's ``jax.jit``), it skips the checks
  and the padding (neither is possible on abstract values) and returns traced
  arrays.
"""
from __future__ import annotations

from typing import Any, Iterable

import jax
import numpy as np

# Smallest padded length: small trees (tests, tiny runs) share one compilation.
MIN_BUCKET = 256
# Padded lengths per octave: waste is below 1/STEPS_PER_OCTAVE of the size.
STEPS_PER_OCTAVE = 4


class TreeError(ValueError):
    """Inputs to a tree array function are malformed; the message names the entry."""


def is_traced(*xs: Any) -> bool:
    """True when any argument is an abstract JAX value (we are inside a trace)."""
    return any(isinstance(x, jax.core.Tracer) for x in xs)


def bucket_size(n: int, minimum: int = MIN_BUCKET) -> int:
    """Smallest bucketed length >= n (and > 0): MIN_BUCKET, then 4 sizes per power of two."""
    if n <= minimum:
        return minimum
    top = 1 << (int(n) - 1).bit_length()  # next power of two >= n
    step = max(top // (2 * STEPS_PER_OCTAVE), 1)
    return int(-(-n // step) * step)


def check_choice(key: str, value: Any, allowed: Iterable[str]) -> str:
    """Return value if it is one of allowed, else raise naming the key and the options."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{key}={value!r}: must be one of {allowed}")
    return value


def as_1d(name: str, x: Any, dtype: Any) -> np.ndarray:
    """Convert to a 1-D numpy array of dtype, raising on other ranks."""
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise TreeError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    if np.issubdtype(np.dtype(dtype), np.integer) and arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.equal(np.mod(arr, 1), 0)):
            raise TreeError(f"{name}: expected integers, got dtype {arr.dtype}")
    return arr.astype(dtype, copy=False)


def check_finite(name: str, x: np.ndarray) -> None:
    """Raise naming the first NaN/inf entry of x."""
    bad = ~np.isfinite(x)
    if bad.any():
        i = int(np.argmax(bad))
        raise TreeError(f"{name}[{i}]={x[i]}: values must be finite (NaN means a node was never scored)")


def check_same_length(**arrays: np.ndarray) -> int:
    """Return the common length of the arrays, raising when they differ."""
    sizes = {k: len(v) for k, v in arrays.items()}
    if len(set(sizes.values())) > 1:
        raise TreeError(f"arrays must have the same length, got {sizes}")
    return next(iter(sizes.values()))


def check_parent(parent: Any) -> np.ndarray:
    """Validate a parent array: -1 for roots, else an index strictly before the node."""
    p = as_1d("parent", parent, np.int64)
    idx = np.arange(len(p))
    bad = (p < -1) | (p >= idx)
    if bad.any():
        i = int(np.argmax(bad))
        if p[i] >= len(p):
            why = f"out of range (tree has {len(p)} nodes)"
        elif p[i] >= i:
            why = "points forward: parents must be stored before their children"
        else:
            why = "must be -1 (root) or a node index"
        raise TreeError(f"parent[{i}]={p[i]}: {why}")
    return p.astype(np.int32)


def check_group(group: Any, num_groups: int) -> np.ndarray:
    """Validate group ids against num_groups (0 <= g < num_groups)."""
    if int(num_groups) < 1:
        raise TreeError(f"num_groups={num_groups}: must be >= 1")
    g = as_1d("group", group, np.int64)
    bad = (g < 0) | (g >= num_groups)
    if bad.any():
        i = int(np.argmax(bad))
        raise TreeError(f"group[{i}]={g[i]}: must lie in [0, num_groups={num_groups})")
    return g.astype(np.int32)


def check_constant_per_group(name: str, x: np.ndarray, group: np.ndarray, num_groups: int) -> None:
    """Raise when members of one group disagree on x (e.g. their task)."""
    if len(x) == 0:
        return
    # Any one member's value per group (the last write wins), then compare all.
    ref = np.zeros(num_groups, x.dtype)
    ref[group] = x
    bad = ref[group] != x
    if bad.any():
        i = int(np.argmax(bad))
        g = int(group[i])
        raise TreeError(f"group {g}: its members disagree on {name} ({x[i]} vs {ref[g]}); "
                        "a sibling group lies inside one task and one turn")


def pad_to(x: np.ndarray, n: int, fill: Any) -> np.ndarray:
    """Right-pad a 1-D array to length n with fill."""
    if len(x) == n:
        return x
    out = np.full(n, fill, dtype=x.dtype)
    out[: len(x)] = x
    return out


def training_rows(caller: str, prompt_ids, response_ids, old_logprobs, advantages, node_index=None):
    """(prompts, responses, log-probs, advantages, node indices) of the rows to pack, checked for agreement.

    Token lists become int32 arrays and log-probs float32 arrays; ``node_index``
    defaults to 0..n-1. Raises naming ``caller`` when the lists disagree in
    length, an advantage is not finite, a prompt is empty or a node's log-probs
    do not match its response.
    """
    n = len(prompt_ids)
    adv = np.asarray(advantages, np.float32).reshape(-1)
    node_index = np.arange(n) if node_index is None else np.asarray(node_index, np.int64).reshape(-1)
    if not (len(response_ids) == len(old_logprobs) == len(adv) == len(node_index) == n):
        raise ValueError(f"{caller}: {n} prompts, {len(response_ids)} responses, {len(old_logprobs)} log-prob rows, "
                         f"{len(adv)} advantages, {len(node_index)} node indices")
    check_finite("advantages", adv)
    prompts = [np.asarray(p, np.int32).reshape(-1) for p in prompt_ids]
    responses = [np.asarray(r, np.int32).reshape(-1) for r in response_ids]
    logps = [np.asarray(x, np.float32).reshape(-1) for x in old_logprobs]
    for i in range(n):
        if len(prompts[i]) < 1:
            raise ValueError(f"{caller}: node {node_index[i]} has an empty prompt (nothing predicts its first token)")
        if len(logps[i]) != len(responses[i]):
            raise ValueError(f"{caller}: node {node_index[i]} has {len(logps[i])} log-probs for "
                             f"{len(responses[i])} response tokens")
    return prompts, responses, logps, adv, node_index
