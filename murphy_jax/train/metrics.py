"""Metrics out: TensorBoard event files and a JSONL file in the workdir, and the console progress bar.

TensorBoard files are written with the ``tensorboard`` package's own event
writer (no TensorFlow needed). Only process 0 writes; other hosts pass
``enabled=False``.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time

import numpy as np


class MetricsWriter:
    """Scalars per step to ``<workdir>/tb`` (TensorBoard) and ``<workdir>/metrics.jsonl``."""

    def __init__(self, workdir: str, *, tensorboard: bool = True, enabled: bool = True):
        self.enabled = enabled
        self._tb = None
        self._jsonl = None
        if not enabled:
            return
        os.makedirs(workdir, exist_ok=True)
        self._jsonl = open(os.path.join(workdir, "metrics.jsonl"), "a", encoding="utf-8")
        if tensorboard:
            from tensorboard.summary.writer.event_file_writer import EventFileWriter

            self._tb = EventFileWriter(os.path.join(workdir, "tb"))

    def write(self, step: int, scalars: dict[str, float]) -> None:
        """One JSON line and one TensorBoard scalar per finite value."""
        if not self.enabled:
            return
        clean = {k: float(v) for k, v in scalars.items() if v is not None and np.ndim(v) == 0}
        self._jsonl.write(json.dumps({"step": step, "time": time.time(), **clean}, sort_keys=True) + "\n")
        self._jsonl.flush()
        if self._tb is not None:
            from tensorboard.compat.proto import event_pb2, summary_pb2

            values = [summary_pb2.Summary.Value(tag=k, simple_value=v) for k, v in clean.items() if math.isfinite(v)]
            self._tb.add_event(event_pb2.Event(wall_time=time.time(), step=step,
                                               summary=summary_pb2.Summary(value=values)))
            self._tb.flush()

    def close(self) -> None:
        if self._jsonl is not None:
            self._jsonl.close()
        if self._tb is not None:
            self._tb.close()


# The disjoint parts of one RL step's wall time (docs/training.md, "Where a step's time goes"); with
# ``time/other_s`` they sum to ``time/step_s``. Reference and checkpoint appear only on steps that have them.
STEP_TIME_PARTS = ("time/prefill_s", "time/decode_s", "time/sample_host_s", "time/execute_s", "time/rollout_host_s",
                   "time/credit_s", "time/batch_prep_s", "time/reference_s", "time/train_fwd_bwd_s",
                   "time/optimizer_s", "time/checkpoint_s")


def close_step_times(metrics: dict, step_s: float) -> dict:
    """Set ``time/step_s`` and ``time/other_s`` (the step minus its named parts, at least 0) in ``metrics``."""
    named = sum(float(metrics[k]) for k in STEP_TIME_PARTS if k in metrics)
    metrics["time/step_s"] = float(step_s)
    metrics["time/other_s"] = max(0.0, float(step_s) - named)
    return metrics


def read_jsonl(path: str) -> list[dict]:
    """The metric records of a run (for tests and reports)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class Progress:
    """A tqdm bar over RL steps with ETA; silent when disabled or stdout is not a terminal."""

    def __init__(self, total: int, initial: int = 0, *, enabled: bool = True, desc: str = "train"):
        self.bar = None
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=desc, dynamic_ncols=True)
        self._last_line = 0.0
        self.total, self.done, self.desc, self.enabled = total, initial, desc, enabled
        self._t0 = time.time()
        self._start = initial

    def update(self, info: dict[str, float]) -> None:
        """Advance one step; show key metrics (and print a plain line every 30 s without a TTY)."""
        self.done += 1
        post = {k: f"{v:.3g}" for k, v in info.items()}
        if self.bar is not None:
            self.bar.set_postfix(post, refresh=False)
            self.bar.update(1)
        elif self.enabled and (time.time() - self._last_line > 30 or self.done == self.total):
            rate = (time.time() - self._t0) / max(1, self.done - self._start)
            eta = rate * (self.total - self.done)
            print(f"[{self.desc}] step {self.done}/{self.total} eta {eta / 60:.1f} min "
                  + " ".join(f"{k}={v}" for k, v in post.items()), flush=True)
            self._last_line = time.time()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
