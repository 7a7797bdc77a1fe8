"""TaskStream: an epoch-shuffled, resumable stream of training tasks, sliced per host.

The position (epoch, cursor) is all the state there is: the order of epoch e
is a permutation seeded by (seed, e), so a restored stream yields exactly the
tasks an uninterrupted one would. On a multi-host job every process owns the
tasks at indices ``process_id::num_processes`` of each epoch's order (whole
trees stay on one host) and keeps its own position.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from murphy_jax.data.task import CodeTask


@dataclass
class StreamPosition:
    """Where a stream is: epoch number and index of the next task of that epoch (host-local)."""

    epoch: int = 0
    cursor: int = 0


class TaskStream:
    """Yields batches of ``per_step`` tasks for this host, reshuffled each epoch."""

    def __init__(self, tasks: Sequence[CodeTask], per_step: int, *, seed: int = 0, shuffle: bool = True,
                 process_id: int = 0, num_processes: int = 1):
        if not tasks:
            raise ValueError("data.train: no training tasks")
        if per_step % num_processes:
            raise ValueError(f"data.tasks_per_step={per_step}: must be a multiple of the "
                             f"{num_processes} processes (each host owns whole trees)")
        self.tasks = list(tasks)
        self.local_per_step = per_step // num_processes
        self.seed, self.shuffle = seed, shuffle
        self.process_id, self.num_processes = process_id, num_processes
        if len(self._local_order(0)) < self.local_per_step:
            raise ValueError(f"data.tasks_per_step={per_step}: more than the {len(self.tasks)} training tasks allow")
        self.position = StreamPosition()

    def _local_order(self, epoch: int) -> np.ndarray:
        order = np.arange(len(self.tasks))
        if self.shuffle:
            order = np.random.default_rng([self.seed, epoch]).permutation(len(self.tasks))
        return order[self.process_id::self.num_processes]

    def next_batch(self) -> list[CodeTask]:
        """The next ``per_step / num_processes`` tasks of this host (an epoch's tail rolls into the next)."""
        out: list[CodeTask] = []
        while len(out) < self.local_per_step:
            order = self._local_order(self.position.epoch)
            take = order[self.position.cursor:self.position.cursor + self.local_per_step - len(out)]
            out.extend(self.tasks[i] for i in take)
            self.position.cursor += len(take)
            if self.position.cursor >= len(order):
                self.position = StreamPosition(self.position.epoch + 1, 0)
        return out

    def state_dict(self) -> dict:
        """JSON-able position, saved with every checkpoint."""
        return {"epoch": self.position.epoch, "cursor": self.position.cursor, "num_tasks": len(self.tasks),
                "process_id": self.process_id}

    def load_state_dict(self, d: dict) -> None:
        """Restore a position saved by ``state_dict`` (the task list must be the same)."""
        if d.get("num_tasks") not in (None, len(self.tasks)):
            raise ValueError(f"checkpoint data position was saved with {d['num_tasks']} training tasks, "
                             f"this run has {len(self.tasks)}: data.train or data.limit changed")
        self.position = StreamPosition(int(d["epoch"]), int(d["cursor"]))
