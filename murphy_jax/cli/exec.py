"""``murphy-exec --task TASK.json --solution FILE [--json]``: run one program against one task in the sandbox.

The task file is one CodeTask JSON object (docs/executor.md describes the format). Exit status:
0 all tests passed, 1 the program failed, 2 bad input (task or arguments), 3 executor failure.
"""
from __future__ import annotations

import argparse
import json
import sys

from ..data.task import CodeTask, TaskFormatError


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    ap = argparse.ArgumentParser(prog="murphy-exec", description=__doc__.split("\n")[0])
    ap.add_argument("--task", required=True, help="CodeTask JSON file")
    ap.add_argument("--solution", required=True, help="program file ('-' reads stdin)")
    ap.add_argument("--json", action="store_true", help="print the full ExecResult as JSON")
    ap.add_argument("--feedback", action="store_true", help="also print the feedback the policy would see")
    ap.add_argument("--timeout", type=float, help="CPU seconds per test (default: the task's, else 3)")
    ap.add_argument("--allow-degraded", action="store_true",
                    help="run even if an isolation layer is unavailable on this machine")
    return ap


def run(argv=None) -> int:
    """Entry point of the ``murphy-exec`` console script."""
    args = build_parser().parse_args(argv)
    try:
        with open(args.task, encoding="utf-8") as f:
            task = CodeTask.from_json(f.read())
    except (OSError, UnicodeDecodeError) as e:
        print(f"murphy-exec: cannot read the task file: {e}", file=sys.stderr)
        return 2
    except TaskFormatError as e:
        print(f"murphy-exec: bad task: {e}", file=sys.stderr)
        return 2
    try:
        program = sys.stdin.buffer.read() if args.solution == "-" else open(args.solution, "rb").read()
    except OSError as e:
        print(f"murphy-exec: cannot read the solution: {e}", file=sys.stderr)
        return 2

    from ..execution import Executor, ExecutorConfig, InfraError, render_feedback

    overrides = {"workers": 1, "allow_degraded": args.allow_degraded}
    if args.timeout is not None:
        overrides["test_timeout_s"] = args.timeout
    try:
        with Executor(ExecutorConfig(**overrides)) as ex:
            result = ex.run(program, task)
    except TaskFormatError as e:
        print(f"murphy-exec: bad task: {e}", file=sys.stderr)
        return 2
    except (InfraError, ValueError) as e:
        print(f"murphy-exec: executor failure: {e}", file=sys.stderr)
        return 3
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
