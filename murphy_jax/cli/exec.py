"""``murphy-exec --task TASK.json --solution FILE [--json]``: run one program against one task in the sandbox.

The task file is one CodeTask JSON object (docs/executor.md describes the format). Exit status:
0 all tests passed, 1 the program failed its tests, 2 bad input (task or arguments; one line),
3 executor (infrastructure) failure; docs/cli.md. Unlike the other commands, 1 is a verdict here:
an internal error is still reported as ``murphy-exec: internal error ...``.
"""
from __future__ import annotations

import argparse
import json
import sys

from ..data.task import CodeTask, TaskFormatError
from ..errors import MurphyUserError, debug_requested, one_line
from ._errors import OneLineParser, add_debug_flag, guarded

PROG = "murphy-exec"


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text}: must be > 0 seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    ap = OneLineParser(prog=PROG, description=__doc__.split("\n")[0])
    ap.add_argument("--task", required=True, help="CodeTask JSON file")
    ap.add_argument("--solution", required=True, help="program file ('-' reads stdin)")
    ap.add_argument("--json", action="store_true", help="print the full ExecResult as JSON")
    ap.add_argument("--feedback", action="store_true", help="also print the feedback the policy would see")
    ap.add_argument("--timeout", type=_positive_seconds,
                    help="CPU seconds per test, > 0 (default: the task's, else 3)")
    ap.add_argument("--allow-degraded", action="store_true",
                    help="run even if an isolation layer is unavailable on this machine")
    add_debug_flag(ap)
    return ap


def run(argv=None) -> int:
    """Entry point of the ``murphy-exec`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    return guarded(PROG, lambda: _run(args), debug=args.debug or debug_requested())


def _run(args) -> int:
    try:
        with open(args.task, encoding="utf-8") as f:
            task = CodeTask.from_json(f.read())
    except (OSError, UnicodeDecodeError) as e:
        raise MurphyUserError(f"cannot read the task file: {e}") from None
    except TaskFormatError as e:
        raise MurphyUserError(f"bad task: {one_line(e)}") from None
    try:
        program = sys.stdin.buffer.read() if args.solution == "-" else open(args.solution, "rb").read()
    except OSError as e:
        raise MurphyUserError(f"cannot read the solution: {e}") from None

    from ..execution import Executor, ExecutorConfig, render_feedback

    overrides = {"workers": 1, "allow_degraded": args.allow_degraded}
    if args.timeout is not None:
        overrides["test_timeout_s"] = args.timeout
    try:
        config = ExecutorConfig(**overrides)
    except ValueError as e:  # only the command line's values go into it
        raise MurphyUserError(one_line(e)) from None
    try:
        with Executor(config) as ex:
            result = ex.run(program, task)
    except TaskFormatError as e:  # found only when the tests are compiled
        raise MurphyUserError(f"bad task: {one_line(e)}") from None
    # An InfraError (a MurphyInfraError) leaves through guarded(): one line, exit status 3.
    if args.json:
        print(json.dumps(result.to_dict(), indent=1, ensure_ascii=False))
    else:
        print(_summary(result))
    if args.feedback:
        print("\n--- feedback ---\n" + render_feedback(result, task))
    return 0 if result.passed else 1


def _summary(result) -> str:
    lines = [f"{result.task_id}: {result.status} ({result.n_passed}/{result.n_tests} tests passed, "
             f"{result.wall_s:.3f} s)"]
    for o in result.outcomes:
        scope = "public " if o.public else "private"
        lines.append(f"  [{scope}] {o.status:13s} {o.name}" + (f"  -- {o.message}" if o.message else ""))
    if result.message:
        lines.append(result.message.rstrip())
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(run())
