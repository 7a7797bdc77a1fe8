"""Timing helpers shared by the benchmark scripts: wall time of jitted work, a matmul peak, the machine."""
from __future__ import annotations

import os
import platform
import statistics
import time
from typing import Callable

import jax
import jax.numpy as jnp


def block(x):
    """Wait for every array in a pytree."""
    return jax.block_until_ready(x)


def time_fn(fn: Callable, *args, repeats: int = 5, warmup: int = 1) -> float:
    """Median seconds per call of ``fn(*args)`` after ``warmup`` calls (compilation excluded)."""
    for _ in range(warmup):
        block(fn(*args))
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        block(fn(*args))
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def matmul_peak(dtype=jnp.float32, n: int = 2048, repeats: int = 5) -> float:
    """Achieved FLOP/s of a square jitted matmul on the default device: the practical peak."""
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    a = jax.random.normal(k1, (n, n), jnp.float32).astype(dtype)
    b = jax.random.normal(k2, (n, n), jnp.float32).astype(dtype)
    f = jax.jit(lambda x, y: x @ y)
    return 2 * n ** 3 / time_fn(f, a, b, repeats=repeats)


def read_bandwidth(nbytes: int = 2**30, repeats: int = 7) -> float:
    """Bytes/s read by a jitted ``jnp.sum`` over ``nbytes`` (all cores): the ceiling of a weight-bound decode step."""
    x = jnp.ones((nbytes // 4,), jnp.float32)
    f = jax.jit(jnp.sum)
    return nbytes / time_fn(f, x, repeats=repeats)


def copy_bandwidth(nbytes: int = 512 * 2**20, repeats: int = 5) -> float:
    """Bytes/s of a jitted elementwise op writing a fresh buffer (an aside: page faults dominate, not a roofline)."""
    x = jnp.ones((nbytes // 4,), jnp.float32)
    f = jax.jit(lambda v: v * 1.0001)
    return 2 * nbytes / time_fn(f, x, repeats=repeats)


def machine() -> str:
    """One line describing this machine and JAX backend."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    dev = jax.devices()[0]
    return (f"{cpu}, {os.cpu_count()} cores, jax {jax.__version__} on {dev.platform} "
            f"({getattr(dev, 'device_kind', dev.platform)})")
