"""Count XLA compilations and their seconds from ``jax.monitoring`` events (no log parsing, any thread).

    watch = CompileWatch().install()
    ...                                   # run a step
    print(watch.take())                   # {'compile/count': 2, 'compile/seconds': 5.1, ...} since the last take

A compilation here is one backend compile request of a jitted program: a
fresh compile or a load from the persistent compilation cache (counted apart
as ``compile/cache_hits``); its seconds include lowering to MLIR. Eager jnp
operations on new shapes compile small programs too, and are counted. A steady-state training step should show 0 of
both: every program it runs is already in the in-memory jit caches.
"""
from __future__ import annotations

import threading

import jax.monitoring as monitoring

# Event names recorded by jax (jax/_src/dispatch.py and compiler.py, jax 0.10).
BACKEND_COMPILE = "/jax/core/compile/backend_compile_duration"
TRACE = "/jax/core/compile/jaxpr_trace_duration"
LOWER = "/jax/core/compile/jaxpr_to_mlir_module_duration"
CACHE_HIT = "/jax/compilation_cache/cache_hits"


class CompileWatch:
    """Accumulates compile counts and seconds while installed; ``take()`` returns and resets them."""

    def __init__(self):
        self._lock = threading.Lock()
        self._zero()
        self._installed = False

    def _zero(self) -> None:
        self.count, self.seconds, self.cache_hits, self.trace_s = 0, 0.0, 0, 0.0
        self.programs: list[str] = []

    def _on_duration(self, event: str, duration: float, **kw) -> None:
        if event == BACKEND_COMPILE:
            with self._lock:
                self.count += 1
                self.seconds += float(duration)
                self.programs.append(str(kw.get("fun_name", "?")))
        elif event == LOWER:  # part of what a new shape costs: counted in its seconds
            with self._lock:
                self.seconds += float(duration)
        elif event == TRACE:
            with self._lock:
                self.trace_s += float(duration)

    def _on_event(self, event: str, **kw) -> None:
        if event == CACHE_HIT:
            with self._lock:
                self.cache_hits += 1

    def install(self) -> "CompileWatch":
        """Start listening (idempotent)."""
        if not self._installed:
            monitoring.register_event_duration_secs_listener(self._on_duration)
            monitoring.register_event_listener(self._on_event)
            self._installed = True
        return self

    def uninstall(self) -> None:
        """Stop listening."""
        if self._installed:
            monitoring.unregister_event_duration_listener(self._on_duration)
            monitoring.unregister_event_listener(self._on_event)
            self._installed = False

    def take(self) -> dict:
        """Counts since the last ``take`` (as metrics), then reset; ``programs`` names what compiled."""
        with self._lock:
            out = {"compile/count": float(self.count), "compile/seconds": self.seconds,
                   "compile/cache_hits": float(self.cache_hits), "compile/trace_s": self.trace_s}
            self.last_programs = list(self.programs)
            self._zero()
        return out

    def __enter__(self) -> "CompileWatch":
        return self.install()

    def __exit__(self, *exc) -> None:
        self.uninstall()
