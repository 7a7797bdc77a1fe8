"""CodeTask: the one JSON-serialisable task format shared by loaders, executor, training and eval.

A task is a problem statement plus tests. Every test is scored on its own
(one outcome per ``TestCase``). Tests are split into *public* ones, which may
appear in execution feedback shown to the policy, and *private* ones, which
are never shown and (with the public ones, by default) decide the reward.

Test kinds (``TestCase.kind``):

``assert``
    ``code`` holds Python statements (usually one ``assert``) run after the
    candidate program, in a namespace holding the candidate's globals, the
    task's ``test_setup`` and ``candidate`` bound to ``entry_point`` (HumanEval
    style). MBPP ``test_list`` rows and the asserts of HumanEval ``check`` both
    become this kind.
``pytest``
    ``name`` names a test function defined in the task's ``test_module``
    (KodCode style: the module imports the candidate as ``solution``; it may
    also use pytest fixtures such as ``tmp_path``/``capsys`` or
    ``pytest.raises``).
``stdio``
    The candidate is a whole program: ``stdin`` is fed to it and its stdout is
    compared with ``expected`` (a string) under whitespace/float rules.
``call``
    ``entry_point`` is called with ``args`` (a JSON list of positional
    arguments) and the return value is compared with ``expected`` (JSON).
    When ``entry_point`` is ``"Solution.method"`` a fresh ``Solution()``
    instance is made per test (LiveCodeBench functional problems).

For ``stdio`` and ``call`` tests the expected value never enters the
candidate's process: comparison happens in the trusted parent.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from murphy_jax.errors import MurphyUserError

TEST_KINDS = ("assert", "pytest", "stdio", "call")
IO_MODES = ("function", "stdio")


class TaskFormatError(MurphyUserError, ValueError):
    """A task or test does not follow the CodeTask format; the message names the field."""


@dataclass(frozen=True)
class TestCase:
    """One independently scored test. Which fields matter depends on ``kind``."""

    __test__ = False  # not a pytest test class

    kind: str
    code: str = ""  # assert: statements to run after the candidate
    name: str = ""  # pytest: function name in test_module; otherwise a display label
    stdin: str = ""  # stdio: text fed to the program
    args: list | None = None  # call: positional arguments (JSON values)
    expected: Any = None  # stdio: expected stdout (str); call: expected return (JSON)

    def validate(self, where: str = "test") -> None:
        """Raise TaskFormatError naming the first bad field."""
        if self.kind not in TEST_KINDS:
            raise TaskFormatError(f"{where}.kind={self.kind!r}: must be one of {TEST_KINDS}")
        if self.kind == "assert" and not self.code.strip():
            raise TaskFormatError(f"{where}.code: an assert test needs code")
        if self.kind == "pytest" and not self.name.isidentifier():
            raise TaskFormatError(f"{where}.name={self.name!r}: a pytest test needs a function name")
        if self.kind == "stdio" and not isinstance(self.expected, str):
            raise TaskFormatError(f"{where}.expected: a stdio test needs the expected stdout as a string")
        if self.kind == "call" and not isinstance(self.args, list):
            raise TaskFormatError(f"{where}.args: a call test needs a JSON list of arguments")

    def to_dict(self) -> dict:
        """JSON-ready dict; empty optional fields are omitted, but never a value the kind needs."""
        needed = {"stdio": ("stdin", "expected"), "call": ("args", "expected")}.get(self.kind, ())
        return {k: v for k, v in dataclasses.asdict(self).items()
                if k == "kind" or k in needed or v not in ("", None)}

    @classmethod
    def from_dict(cls, d: dict, where: str = "test") -> "TestCase":
        if not isinstance(d, dict):
            raise TaskFormatError(f"{where}: expected an object, got {type(d).__name__}")
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise TaskFormatError(f"{where}: unknown field(s) {sorted(unknown)}")
        if "kind" not in d:
            raise TaskFormatError(f"{where}.kind: missing")
        t = cls(**d)
        t.validate(where)
        return t


@dataclass(frozen=True)
class CodeTask:
    """A programming problem with public and private tests.

    ``prompt`` is the problem statement shown to the policy (for HumanEval it
    is the signature plus docstring). ``starter_code`` is code the answer is
    expected to start from (may be empty). ``entry_point`` names the function
    under test (``None`` for stdio programs). ``test_setup`` is trusted code
    run before the tests (MBPP ``test_setup_code``, imports used by HumanEval
    checks). ``test_module`` is the shared test file for pytest-kind tests.
    """

    task_id: str
    prompt: str
    public_tests: tuple[TestCase, ...] = ()
    private_tests: tuple[TestCase, ...] = ()
    entry_point: str | None = None
    io_mode: str = "function"
    starter_code: str = ""
    test_setup: str = ""
    test_module: str = ""
    difficulty: str = ""
    source: str = ""
    time_limit_s: float | None = None  # per-test override of the executor default
    reference_solution: str = ""  # known-good answer, when the source ships one
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Accept lists from callers; store tuples so tasks are hashable-ish and immutable.
        object.__setattr__(self, "public_tests", tuple(self.public_tests))
        object.__setattr__(self, "private_tests", tuple(self.private_tests))

    @property
    def all_tests(self) -> tuple[TestCase, ...]:
        return self.public_tests + self.private_tests

    def validate(self) -> None:
        """Raise TaskFormatError naming the first bad field."""
        w = f"task {self.task_id!r}"
        if not isinstance(self.task_id, str) or not self.task_id:
            raise TaskFormatError("task_id: must be a non-empty string")
        if not isinstance(self.prompt, str) or not self.prompt.strip():
            raise TaskFormatError(f"{w}: prompt must be a non-empty string")
        if self.io_mode not in IO_MODES:
            raise TaskFormatError(f"{w}: io_mode={self.io_mode!r} must be one of {IO_MODES}")
        if not self.all_tests:
            raise TaskFormatError(f"{w}: has no tests")
        for i, t in enumerate(self.public_tests):
            t.validate(f"{w}.public_tests[{i}]")
        for i, t in enumerate(self.private_tests):
            t.validate(f"{w}.private_tests[{i}]")
        kinds = {t.kind for t in self.all_tests}
        if kinds & {"call"} and not self.entry_point:
            raise TaskFormatError(f"{w}: call tests need entry_point")
        if "pytest" in kinds and not self.test_module.strip():
            raise TaskFormatError(f"{w}: pytest tests need test_module")
        if self.io_mode == "stdio" and kinds - {"stdio"}:
            raise TaskFormatError(f"{w}: io_mode='stdio' allows only stdio tests, got {sorted(kinds)}")

    def to_dict(self) -> dict:
        d = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name in ("public_tests", "private_tests"):
                v = [t.to_dict() for t in v]
            d[f.name] = v
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: dict) -> "CodeTask":
        if not isinstance(d, dict):
            raise TaskFormatError(f"task: expected a JSON object, got {type(d).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise TaskFormatError(f"task {d.get('task_id')!r}: unknown field(s) {sorted(unknown)}")
        for req in ("task_id", "prompt"):
            if req not in d:
                raise TaskFormatError(f"task: missing required field {req!r}")
        w = f"task {d['task_id']!r}"
        kw = dict(d)
        for split in ("public_tests", "private_tests"):
            raw = kw.get(split, [])
            if not isinstance(raw, list):
                raise TaskFormatError(f"{w}.{split}: must be a list")
            kw[split] = tuple(TestCase.from_dict(t, f"{w}.{split}[{i}]") for i, t in enumerate(raw))
        task = cls(**kw)
        task.validate()
        return task

    @classmethod
    def from_json(cls, text: str) -> "CodeTask":
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise TaskFormatError(f"task JSON is malformed: {e}") from None
        return cls.from_dict(d)


def write_jsonl(tasks: Iterable[CodeTask], path) -> int:
    """Write tasks one JSON object per line; returns the count."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for t in tasks:
            f.write(t.to_json() + "\n")
            n += 1
    return n


def read_jsonl(path) -> Iterator[CodeTask]:
    """Read tasks written by ``write_jsonl``; errors name the line number."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield CodeTask.from_json(line)
            except TaskFormatError as e:
                raise TaskFormatError(f"{path}:{lineno}: {e}") from None
