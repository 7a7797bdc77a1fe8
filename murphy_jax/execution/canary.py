"""Known-good and known-bad programs the executor runs on every worker at start-up.

A broken sandbox (or judge) that fails everything, or passes everything, must stop the
executor before a single reward is computed with it.
"""
from __future__ import annotations

from ..data.task import CodeTask, TestCase

_FUNCTION_TASK = CodeTask(
    task_id="canary/function",
    prompt="Return the sum of a list of numbers.",
    entry_point="total",
    public_tests=(TestCase(kind="assert", code="assert candidate([1, 2, 3]) == 6"),),
    private_tests=(TestCase(kind="call", args=[[0.5, 0.25]], expected=0.75),
                   TestCase(kind="assert", code="assert total([]) == 0")),
)
_STDIO_TASK = CodeTask(
    task_id="canary/stdio",
    prompt="Read two integers and print their sum.",
    io_mode="stdio",
    public_tests=(TestCase(kind="stdio", stdin="2 3\n", expected="5\n"),),
)


def canary_cases() -> list[tuple[str, CodeTask, str]]:
    """(program, task, expected status) triples."""
    return [
        ("def total(xs):\n    return sum(xs)\n", _FUNCTION_TASK, "passed"),
        ("def total(xs):\n    return 0\n", _FUNCTION_TASK, "failed"),
        ("a, b = map(int, input().split())\nprint(a + b)\n", _STDIO_TASK, "passed"),
        ("print(4)\n", _STDIO_TASK, "failed"),
    ]
