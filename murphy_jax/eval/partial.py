"""Resumable evaluation: a per-task partial-results JSONL keyed by a hash of the evaluation config, and progress.

Every finished task is appended as one JSON line carrying ``config_hash`` (which covers
everything but the number of iterations). A rerun with the same config reads the file, keeps
the tasks already done and evaluates only the rest, so an interrupted evaluation continues
where it stopped; records of more iterations serve fewer, and fewer are continued
(``replay.py``). Lines of another config, and a last line cut short by a crash, are ignored.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from typing import Iterable

log = logging.getLogger(__name__)


def config_hash(config: dict) -> str:
    """A short stable hash of a JSON-able config (key order does not matter)."""
    text = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def read_partial(path: str, chash: str) -> dict[str, dict]:
    """task_id -> record (the one with most iterations) among the records of ``path`` under config hash ``chash``."""
    done: dict[str, dict] = {}
    if not path or not os.path.exists(path):
        return done
    bad = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                bad += 1  # a line cut short when the previous run was killed mid-write
                continue
            if isinstance(rec, dict) and rec.get("config_hash") == chash and "task_id" in rec:
                # A task evaluated again with more iterations keeps its longest record (later lines win ties).
                if rec.get("iters", 0) >= done.get(rec["task_id"], {}).get("iters", 0):
                    done[rec["task_id"]] = rec
    if bad:
        log.warning("%s: ignored %d unreadable line(s)", path, bad)
    return done


def append_records(path: str, records: Iterable[dict]) -> None:
    """Append records as JSON lines and flush them to disk (each task is durable once written)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a+", encoding="utf-8") as f:
        # A crash mid-line leaves no trailing newline: start on a fresh line so the next record stays readable.
        if f.tell() > 0:
            f.seek(f.tell() - 1)
            if f.read(1) != "\n":
                f.write("\n")
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


class EvalProgress:
    """Tasks done out of total: a tqdm bar on a terminal, else a plain line every ``every_s`` seconds."""

    def __init__(self, total: int, initial: int = 0, *, desc: str = "eval", enabled: bool = True,
                 every_s: float = 30.0, stream=None):
        self.stream = stream or sys.stderr
        self.total, self.done, self.desc, self.enabled, self.every_s = total, initial, desc, enabled, every_s
        self.bar = None
        if enabled and self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=desc, dynamic_ncols=True, file=self.stream)
        self._t0, self._start, self._last = time.time(), initial, 0.0

    def update(self, k: int, info: dict | None = None) -> None:
        """``k`` more tasks finished; ``info`` (e.g. running pass@1) is shown next to the count."""
        self.done += k
        post = {key: (f"{v:.3f}" if isinstance(v, float) else str(v)) for key, v in (info or {}).items()}
        if self.bar is not None:
            self.bar.set_postfix(post, refresh=False)
            self.bar.update(k)
        elif self.enabled and (time.time() - self._last >= self.every_s or self.done >= self.total):
            rate = (time.time() - self._t0) / max(1, self.done - self._start)
            eta = rate * (self.total - self.done)
            print(f"[{self.desc}] {self.done}/{self.total} tasks, eta {eta / 60:.1f} min "
                  + " ".join(f"{key}={v}" for key, v in post.items()), file=self.stream, flush=True)
            self._last = time.time()

    def note(self, text: str) -> None:
        """Progress inside a batch of tasks (e.g. an iteration finished): bar postfix or a plain line."""
        if self.bar is not None:
            self.bar.set_postfix_str(text)
        elif self.enabled:
            print(f"[{self.desc}] {self.done}/{self.total} tasks done; {text}", file=self.stream, flush=True)

    def close(self) -> None:
        """Close the bar (no-op without one)."""
        if self.bar is not None:
            self.bar.close()
