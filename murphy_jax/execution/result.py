"""ExecResult and TestOutcome: what one execution of a program against a task's tests produced."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from murphy_jax.errors import MurphyInfraError

# Per-test and overall statuses. ``no_code`` only ever comes from ExecResult.no_code (the
# response had no program); infrastructure failures are raised as InfraError, never returned.
STATUSES = ("passed", "failed", "runtime_error", "timeout", "memory_limit", "output_limit", "syntax_error",
            "no_code")
# Which failure names a run when tests fail in different ways (most severe first wins).
SEVERITY = ("syntax_error", "no_code", "timeout", "memory_limit", "output_limit", "runtime_error", "failed")
REWARD_TESTS = ("all", "private")
REWARD_KINDS = ("fraction", "binary")


class InfraError(MurphyInfraError, RuntimeError):
    """The executor itself failed (worker crash, sandbox broken, canary failed); not the program's fault."""


@dataclass(frozen=True)
class TestOutcome:
    """The verdict for one test, with what feedback needs to explain a failure."""

    __test__ = False  # not a pytest test class

    index: int  # position in task.all_tests (public tests first)
    public: bool  # public tests may be shown in feedback; private ones never are
    kind: str  # assert | pytest | stdio | call
    name: str  # display label (test code, function name or input excerpt)
    status: str  # one of STATUSES except no_code
    message: str = ""  # one-line reason ("expected 3, got 4", "exceeded 3.0 s of CPU", ...)
    expected: str | None = None  # repr/text of the expected value where the format has one
    actual: str | None = None  # repr/text of what the program produced
    exc_type: str | None = None  # exception raised by the candidate, if any
    traceback: str | None = None  # the candidate's own frames only
    cpu_s: float | None = None  # CPU the candidate used on this test (when measured)
    wall_s: float | None = None

    @property
    def passed(self) -> bool:
        """True when the test passed."""
        return self.status == "passed"

    def to_dict(self) -> dict:
        """Plain dict without empty fields."""
        return {f: v for f in _OUTCOME_FIELDS if (v := getattr(self, f)) is not None and v != ""}

    @classmethod
    def from_dict(cls, d: dict) -> "TestOutcome":
        """Inverse of ``to_dict``."""
        return cls(**d)


@dataclass(frozen=True)
class ExecResult:
    """Outcome of running one program against all of a task's tests (public then private)."""

    status: str
    outcomes: tuple[TestOutcome, ...] = ()
    task_id: str = ""
    message: str = ""  # program-level diagnostics: syntax error, import-time exception, budget notes
    stdout: str = ""  # the program's captured stdout (truncated; per-test stdio output is in outcomes)
    stderr: str = ""
    wall_s: float = 0.0  # time from the worker starting the job to the verdict (no queueing)
    reward_tests: str = "all"  # defaults for reward(); set from ExecutorConfig
    reward_kind: str = "fraction"
    meta: dict = field(default_factory=dict)  # executor details (worker, layers digest); not used for scoring

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcomes", tuple(self.outcomes))

    @property
    def passed(self) -> bool:
        """True when every test passed."""
        return self.status == "passed"

    @property
    def n_tests(self) -> int:
        """Number of tests (public and private)."""
        return len(self.outcomes)

    @property
    def n_passed(self) -> int:
        """Number of tests that passed."""
        return sum(o.passed for o in self.outcomes)

    @property
    def pass_fraction(self) -> float:
        """Fraction of all tests (public and private) that passed."""
        return self.n_passed / self.n_tests if self.outcomes else 0.0

    def reward(self, tests: str | None = None, kind: str | None = None) -> float:
        """Reward in [0, 1] over ``tests`` ("all" or "private"; private falls back to all when a task has none)."""
        tests = tests or self.reward_tests
        kind = kind or self.reward_kind
        if tests not in REWARD_TESTS:
            raise ValueError(f"tests={tests!r}: must be one of {REWARD_TESTS}")
        if kind not in REWARD_KINDS:
            raise ValueError(f"kind={kind!r}: must be one of {REWARD_KINDS}")
        pool = self.outcomes
        if tests == "private":
            pool = tuple(o for o in self.outcomes if not o.public) or self.outcomes
        if not pool or self.status in ("syntax_error", "no_code"):
            return 0.0
        frac = sum(o.passed for o in pool) / len(pool)
        return frac if kind == "fraction" else float(frac == 1.0)

    def to_dict(self) -> dict:
        """Plain, JSON-ready dict (what ``murphy-exec --json`` prints)."""
        d = {f: getattr(self, f) for f in _RESULT_FIELDS}
        d["outcomes"] = [o.to_dict() for o in self.outcomes]
        d["meta"] = dict(self.meta)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ExecResult":
        """Inverse of ``to_dict``."""
        d = dict(d)
        d["outcomes"] = tuple(TestOutcome.from_dict(o) for o in d.get("outcomes", ()))
        return cls(**d)

    @classmethod
    def no_code(cls, task, *, reward_tests: str = "all", reward_kind: str = "fraction") -> "ExecResult":
        """The response contained no program: zero reward, and feedback that says so."""
        outcomes = tuple(
            TestOutcome(index=i, public=i < len(task.public_tests), kind=t.kind, name=describe_test(t),
                        status="failed", message="no code was submitted")
            for i, t in enumerate(task.all_tests))
        return cls(status="no_code", outcomes=outcomes, task_id=task.task_id,
                   message="The response contained no code block.", reward_tests=reward_tests,
                   reward_kind=reward_kind)


_OUTCOME_FIELDS = tuple(f.name for f in dataclasses.fields(TestOutcome))
_RESULT_FIELDS = tuple(f.name for f in dataclasses.fields(ExecResult))


def overall_status(outcomes, program_status: str | None = None) -> str:
    """Status of a run: the program-level status if any, else passed or the most severe test failure."""
    if program_status:
        return program_status
    statuses = {o.status for o in outcomes}
    if outcomes and statuses == {"passed"}:
        return "passed"
    for s in SEVERITY:
        if s in statuses:
            return s
    return "failed"  # a task with no outcomes cannot pass


def describe_test(test, cap: int = 160) -> str:
    """A short human label for a test (its name, code or input)."""
    if test.name:
        text = test.name
    elif test.kind == "assert":
        text = test.code.strip()
    elif test.kind == "stdio":
        text = "stdin: " + test.stdin
    elif test.kind == "call":
        text = f"args: {test.args!r}"
    else:
        text = test.kind
    text = " ".join(text.split())
    return text if len(text) <= cap else text[: cap - 3] + "..."
