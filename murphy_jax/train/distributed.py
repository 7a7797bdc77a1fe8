"""Multi-host plumbing: jax.distributed start-up, host-local generation meshes, global batches, metric reduction.

The layout (DESIGN.md principle 5): every process owns whole trees. It takes
its slice of the tasks, generates on its *own* devices with a host-local copy
of the parameters, runs its own executor pool and tree bookkeeping. Only the
train step is global: each host's rows become its block of the global batch.
Metrics and data positions are gathered to every host; process 0 writes logs.

A process that dies stops sending heartbeats; the JAX coordination service
then terminates the others with an error naming the dead task (after
``distributed.heartbeat_timeout_s``) instead of letting them hang in a
collective.
"""
from __future__ import annotations

import json
import logging
import math
import os

import jax
import numpy as np
from jax.sharding import Mesh

log = logging.getLogger(__name__)

def _pod_detected() -> bool:
    hosts = os.environ.get("TPU_WORKER_HOSTNAMES", "")
    return "," in hosts or bool(os.environ.get("JAX_COORDINATOR_ADDRESS"))


def initialize(dcfg) -> bool:
    """Start jax.distributed per the ``distributed`` config section; returns whether it was started.

    Must run before anything touches JAX devices. ``enabled="auto"`` starts it
    when a coordinator or several processes are configured, or on a TPU pod.
    """
    mode = dcfg.enabled
    explicit = bool(dcfg.coordinator) or int(dcfg.num_processes) > 1
    if mode == "off" or (mode == "auto" and not (explicit or _pod_detected())):
        return False
    kw = {"heartbeat_timeout_seconds": int(dcfg.heartbeat_timeout_s)}
    if explicit:
        if not dcfg.coordinator:
            raise ValueError("distributed.coordinator: host:port of process 0 is required with num_processes > 1")
        kw.update(coordinator_address=dcfg.coordinator, num_processes=int(dcfg.num_processes),
                  process_id=int(dcfg.process_id))
    if jax.config.jax_platforms in (None, "", "cpu") or os.environ.get("JAX_PLATFORMS", "") == "cpu":
        # CPU processes talk through gloo; harmless when an accelerator backend is used instead.
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(**kw)
    log.info("jax.distributed: process %d of %d, %d local / %d global devices", jax.process_index(),
             jax.process_count(), jax.local_device_count(), jax.device_count())
    return True


def multiprocess() -> bool:
    """True when this run spans several JAX processes."""
    return jax.process_count() > 1


def local_mesh(global_mesh: Mesh) -> Mesh:
    """A mesh of this process's devices with the global mesh's axis names, for host-local generation.

    Local devices go to the tensor axis first (same size as globally when
    possible), then fsdp (up to its global size), then data, so a data-parallel
    run stays data-parallel (replicated params, no cross-device reductions).
    """
    if not multiprocess():
        return global_mesh
    n = jax.local_device_count()
    tensor = math.gcd(global_mesh.shape["tensor"], n)
    fsdp = math.gcd(global_mesh.shape["fsdp"], n // tensor)
    data = n // (tensor * fsdp)
    arr = np.asarray(jax.local_devices()).reshape(data, fsdp, tensor)
    return Mesh(arr, global_mesh.axis_names, axis_types=(jax.sharding.AxisType.Auto,) * 3)


def to_local(params, local_shardings):
    """The global (possibly cross-host sharded) params as arrays on this host's devices.

    Single process: the params themselves (no copy). Multi-process: an
    all-gather to every host, then placement with ``local_shardings``.
    """
    if not multiprocess():
        return params
    from jax.experimental import multihost_utils

    full = multihost_utils.process_allgather(params, tiled=True)
    return jax.tree.map(jax.device_put, full, local_shardings)


def to_host(tree):
    """Numpy copies of a pytree of (possibly cross-host sharded) arrays, on every host."""
    if not multiprocess():
        return jax.device_get(tree)
    from jax.experimental import multihost_utils

    return multihost_utils.process_allgather(tree, tiled=True)


def allgather_json(obj) -> list:
    """``obj`` (JSON-able) of every process, in process order (just ``[obj]`` single-process)."""
    if not multiprocess():
        return [obj]
    from jax.experimental import multihost_utils

    data = np.frombuffer(json.dumps(obj, sort_keys=True).encode(), np.uint8)
    lengths = multihost_utils.process_allgather(np.asarray([len(data)], np.int32)).reshape(-1)
    padded = np.zeros(int(lengths.max()), np.uint8)
    padded[: len(data)] = data
    everyone = multihost_utils.process_allgather(padded).reshape(len(lengths), -1)
    return [json.loads(bytes(row[:n]).decode()) for row, n in zip(everyone, lengths)]


def agree_max(x: int) -> int:
    """The maximum of an integer over processes (shapes every host must share)."""
    return int(max(allgather_json(int(x))))


def agree_sum(x: float) -> float:
    """The sum of a number over processes."""
    return float(sum(allgather_json(float(x))))


# How host-local metrics combine: counters and throughputs add up, times take the slowest host,
# global train metrics are already identical on every host, anything else is averaged.
_SUM_PREFIXES = ("rollout/", "throughput/")
_MAX_PREFIXES = ("time/", "compile/")
_FIRST_PREFIXES = ("train/",)


def reduce_metrics(per_host: list[dict]) -> dict:
    """Combine the metric dicts of all hosts into one (see the prefix rules above)."""
    if len(per_host) == 1:
        return dict(per_host[0])
    keys = sorted({k for d in per_host for k in d})
    out = {}
    for k in keys:
        vals = [float(d[k]) for d in per_host if k in d and d[k] is not None]
        if not vals:
            continue
        if k.startswith(_SUM_PREFIXES):
            out[k] = float(sum(vals))
        elif k.startswith(_MAX_PREFIXES):
            out[k] = float(max(vals))
        elif k.startswith(_FIRST_PREFIXES):
            out[k] = vals[0]
        else:
            finite = [v for v in vals if math.isfinite(v)]
            out[k] = float(np.mean(finite)) if finite else float("nan")
    return out


def global_batch(local: dict[str, np.ndarray], shardings: dict) -> dict:
    """Per-host [M, mb, T] arrays -> global [M, mb * processes, T] arrays (each host's rows are its block)."""
    if not multiprocess():
        return {k: jax.device_put(v, shardings[k]) for k, v in local.items()}
    return {k: jax.make_array_from_process_local_data(shardings[k], v) for k, v in local.items()}


_TREE_COLUMNS = ("parent", "task", "turn", "group", "reward", "succeeded", "R", "advantage", "kept")


def merge_trees(tree):
    """All hosts' rollout trees as one RolloutTree (numeric columns and token counts only), for global metrics.

    Node, task and group indices of host k are shifted past those of hosts
    0..k-1; token id lists are zero arrays of the right lengths (metrics only
    need lengths). Single-process: the tree itself.
    """
    if not multiprocess():
        return tree
    from murphy_jax.rollout.tree import RolloutTree

    mine = {c: getattr(tree, c).tolist() for c in _TREE_COLUMNS}
    mine.update(plen=tree.prompt_lens.tolist(), rlen=tree.response_lens.tolist(), has=tree.has_children().tolist(),
                ntasks=len(tree.task_names), names=list(tree.task_names))
    parts = allgather_json(mine)
    merged = RolloutTree(task_names=[n for p in parts for n in p["names"]])
    cols = {c: [] for c in _TREE_COLUMNS}
    node_off = task_off = group_off = 0
    has, plen, rlen = [], [], []
    for p in parts:
        n = len(p["parent"])
        cols["parent"].append(np.where(np.asarray(p["parent"]) >= 0, np.asarray(p["parent"]) + node_off, -1))
        cols["task"].append(np.asarray(p["task"]) + task_off)
        cols["group"].append(np.asarray(p["group"]) + group_off)
        for c in ("turn", "reward", "succeeded", "R", "advantage", "kept"):
            cols[c].append(np.asarray(p[c]))
        has += p["has"]
        plen += p["plen"]
        rlen += p["rlen"]
        node_off += n
        task_off += max(p["ntasks"], (max(p["task"]) + 1) if p["task"] else 0)
        group_off += (max(p["group"]) + 1) if p["group"] else 0
    for c in _TREE_COLUMNS:
        setattr(merged, c, np.concatenate(cols[c]).astype(getattr(tree, c).dtype))
    merged.node_id = np.arange(node_off, dtype=np.int64)
    merged.prompt_ids = [np.zeros(k, np.int32) for k in plen]
    merged.response_ids = [np.zeros(k, np.int32) for k in rlen]
    merged._has_children = np.asarray(has, bool)
    return merged
