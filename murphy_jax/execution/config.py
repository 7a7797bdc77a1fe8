"""ExecutorConfig: every executor knob, plain types only (the trainer builds it from an ml-collections dict)."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from .result import REWARD_KINDS, REWARD_TESTS

# Isolation layers that can be required or disabled, in the order they are reported. The base
# (fresh interpreters, own session, external kill, private scratch dir, scrubbed environment,
# out-of-process verdicts) is always on and not listed here.
LAYERS = ("userns", "pidns", "netns", "fs", "rlimits", "audit")
LAYER_DOC = {
    "userns": "user namespace: sandbox root is an unprivileged host uid with no capabilities",
    "pidns": "PID namespace: own /proc, every process of a run killed at its end (daemons too)",
    "netns": "network namespace: no interfaces, so no network and no metadata server",
    "fs": "mount namespace: minimal read-only root, private size-capped /tmp and /dev/shm",
    "rlimits": "resource limits: address space, file size, open files, processes, CPU",
    "audit": "audit hook: blocks process creation, sockets, ctypes, signalling others (tripwire only)",
}
# Modules most generated solutions import; preloading them makes those imports free in every fork.
# Not random/statistics/hashlib: their at-fork hooks (reseeding from urandom) would cost every fork ~0.2 ms.
DEFAULT_PRELOAD = ("collections", "itertools", "functools", "heapq", "bisect", "math", "cmath", "re", "string",
                   "json", "typing", "dataclasses", "fractions", "decimal", "copy",
                   "operator", "datetime", "array", "enum", "textwrap", "unicodedata")


@dataclass(frozen=True)
class ExecutorConfig:
    """How the executor runs programs. Every field has a default; ``from_dict`` rejects unknown keys."""

    workers: int = 0  # worker processes (= concurrent executions); 0 = one per usable core
    oversubscribe: bool = False  # allow more workers than cores (heavy solutions then compete for CPU)
    test_timeout_s: float = 3.0  # CPU seconds per test; a task's time_limit_s overrides it
    wall_factor: float = 3.0  # per-test wall-clock backstop = CPU limit * wall_factor + wall_grace_s
    wall_grace_s: float = 1.0  # added to every wall-clock limit (start-up and scheduling noise)
    program_timeout_s: float = 60.0  # CPU seconds for all tests of one program together
    memory_mb: int = 1024  # address space a candidate may allocate beyond the interpreter baseline
    file_size_mb: int = 16  # largest file a candidate may write (RLIMIT_FSIZE)
    scratch_mb: int = 64  # size cap of the sandbox's private /tmp and /dev/shm (fs layer)
    max_open_files: int = 64  # RLIMIT_NOFILE in the candidate
    max_processes: int = 32  # processes + threads in one sandbox (RLIMIT_NPROC; with userns or as root)
    output_limit_bytes: int = 1_000_000  # stdout+stderr one candidate process may write before output_limit
    capture_bytes: int = 16_384  # stdout/stderr (and expected/actual texts) kept in an ExecResult
    max_message_mb: int = 16  # largest value a candidate may hand back to a test
    require_layers: tuple = LAYERS  # start-up fails when one of these is unavailable (unless allow_degraded)
    disable_layers: tuple = ()  # layers not applied at all (benchmarks, debugging); must not be required
    allow_degraded: bool = False  # start anyway, with a loud warning, when a required layer is unavailable
    block_processes: bool = True  # audit layer: candidates may not start processes
    expose_paths: tuple = ()  # extra host paths visible (read-only) inside the sandbox (fs layer)
    preload_modules: tuple = DEFAULT_PRELOAD  # imported once by the sandbox's forker, shared by every fork
    sandbox_uid: int = 65534  # host uid/gid the sandbox runs as when the executor runs as root
    hash_seed: int = 0  # PYTHONHASHSEED in the sandbox (-1 = random) so set/dict order is reproducible
    float_rel_tol: float = 1e-6  # call and stdio tests: relative tolerance for floats
    float_abs_tol: float = 1e-6  # call and stdio tests: absolute tolerance for floats
    reward_tests: str = "all"  # tests ExecResult.reward() scores by default: all | private
    reward_kind: str = "fraction"  # fraction of tests passed | binary (all passed)
    canary: bool = True  # run a known-good program on every worker at start-up
    python: str = ""  # interpreter for workers and sandboxes; "" = this interpreter (sys.executable)
    judge_fork: str = "pytest"  # fork a fresh judge per job: "pytest" (only pytest tasks) or "always"
    job_retries: int = 1  # times a job is re-run on a fresh worker after an infrastructure failure
    start_timeout_s: float = 60.0  # time a worker may take to start (its sandbox and the canary)

    def __post_init__(self) -> None:
        for name in ("require_layers", "disable_layers", "expose_paths", "preload_modules"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,) if value else ()
            object.__setattr__(self, name, tuple(value))
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first bad field and its allowed values."""
        for name in ("require_layers", "disable_layers"):
            bad = [x for x in getattr(self, name) if x not in LAYERS]
            if bad:
                raise ValueError(f"executor.{name}: unknown layer(s) {bad}; allowed {LAYERS}")
        both = set(self.require_layers) & set(self.disable_layers)
        if both:
            raise ValueError(f"executor.require_layers and executor.disable_layers both name {sorted(both)}")
        positive = ("test_timeout_s", "wall_factor", "program_timeout_s", "memory_mb", "file_size_mb", "scratch_mb",
                    "max_open_files", "max_processes", "output_limit_bytes", "capture_bytes", "max_message_mb",
                    "start_timeout_s")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"executor.{name}={getattr(self, name)!r}: must be > 0")
        if self.wall_factor < 1:
            raise ValueError(f"executor.wall_factor={self.wall_factor!r}: must be >= 1")
        if self.max_open_files < 16:
            raise ValueError("executor.max_open_files: must be >= 16 (the interpreter itself needs some)")
        if self.workers < 0:
            raise ValueError(f"executor.workers={self.workers!r}: must be >= 0 (0 = one per core)")
        if self.workers > usable_cores() and not self.oversubscribe:
            raise ValueError(f"executor.workers={self.workers} exceeds the {usable_cores()} usable cores; "
                             "set executor.oversubscribe=True to allow it")
        if self.judge_fork not in ("pytest", "always"):
            raise ValueError(f"executor.judge_fork={self.judge_fork!r}: must be 'pytest' or 'always'")
        if self.reward_tests not in REWARD_TESTS:
            raise ValueError(f"executor.reward_tests={self.reward_tests!r}: must be one of {REWARD_TESTS}")
        if self.reward_kind not in REWARD_KINDS:
            raise ValueError(f"executor.reward_kind={self.reward_kind!r}: must be one of {REWARD_KINDS}")
        if self.job_retries < 0 or self.wall_grace_s < 0 or self.float_rel_tol < 0 or self.float_abs_tol < 0:
            raise ValueError("executor.job_retries, wall_grace_s and float tolerances must be >= 0")

    @property
    def n_workers(self) -> int:
        """Worker count after resolving 0 to the number of usable cores."""
        return self.workers or usable_cores()

    def wanted_layers(self) -> tuple:
        """Layers to try, in report order."""
        return tuple(x for x in LAYERS if x not in self.disable_layers)

    def to_dict(self) -> dict:
        """The config as a plain dict (round-trips through ``from_dict``)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d) -> "ExecutorConfig":
        """Build from a mapping (e.g. ``config.executor`` of an ml-collections ConfigDict)."""
        d = dict(d)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"executor: unknown key(s) {unknown}; allowed {sorted(names)}")
        return cls(**d)


def usable_cores() -> int:
    """Cores this process may run on (affinity-aware)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
