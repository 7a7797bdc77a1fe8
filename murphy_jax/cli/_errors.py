"""The error contract of every murphy_jax command, applied in one place (docs/cli.md lists the exit statuses).

``guarded(prog, body)`` runs a command's body and turns what escapes it into
one line on stderr and an exit status: :class:`MurphyUserError` -> ``prog:
error: ...`` (2), :class:`MurphyInfraError` -> ``prog: infrastructure failure:
...`` (3), anything else -> ``prog: internal error: ...`` (1), with the
traceback only when ``--debug`` or ``MURPHY_DEBUG=1`` asks for it.
``OneLineParser`` gives argparse's usage errors the same one-line shape.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from typing import Callable

from murphy_jax.errors import (DEBUG_ENV, EXIT_INFRA, EXIT_INTERNAL, EXIT_PREEMPTED, EXIT_USAGE, MurphyInfraError,
                               MurphyUserError, debug_requested, one_line)

DEBUG_HELP = f"print the Python traceback of an error (same as {DEBUG_ENV}=1)"
EXIT_INTERRUPTED = 128 + signal.SIGINT  # the shell's status for a process ended by Ctrl-C


def guarded(prog: str, body: Callable[[], int | None], *, debug: bool | None = None) -> int:
    """Run ``body`` and return its exit status, reporting an exception as one line (see the module docstring).

    ``debug`` defaults to :func:`murphy_jax.errors.debug_requested` on this process's arguments.
    ``SystemExit`` passes through: argparse, absl and ``--help`` have already said what they had to (a
    preemption's message is printed as ``prog: preempted: ...``).
    """
    if debug is None:  # absl commands: their flags are parsed inside body, so look at the raw arguments
        args = sys.argv[1:]
        debug = debug_requested(args) or any(a.lower() in ("--debug=true", "--debug=1") for a in args)
    try:
        status = body()
    except SystemExit as e:
        # A preemption (murphy_jax.train.checkpoint.Preempted) carries the line that says what was kept.
        if e.code == EXIT_PREEMPTED and str(e) not in ("", str(e.code)):
            print(f"{prog}: {e}", file=sys.stderr, flush=True)
        raise
    except MurphyUserError as e:
        return _report(prog, f"error: {one_line(e)}", EXIT_USAGE, debug)
    except MurphyInfraError as e:
        return _report(prog, f"infrastructure failure: {one_line(e)}", EXIT_INFRA, debug)
    except BrokenPipeError:  # the reader went away (`... | head`): nothing left to say to it
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the interpreter's final flush does not fail again
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        return _report(prog, "interrupted", EXIT_INTERRUPTED, debug)
    except Exception as e:
        hint = "" if debug else f"; rerun with --debug (or {DEBUG_ENV}=1) for the traceback"
        return _report(prog, f"internal error ({type(e).__name__}: {one_line(e)}){hint}; please report it",
                       EXIT_INTERNAL, debug)
    return 0 if status is None else int(status)


def _report(prog: str, message: str, status: int, debug: bool) -> int:
    sys.stdout.flush()
    if debug:
        exc = sys.exc_info()[1]
        # `raise ... from None` keeps the one-line message clean; a debugging user wants the cause as well.
        if exc is not None and exc.__suppress_context__ and exc.__context__ is not None:
            traceback.print_exception(exc.__context__)
            print("\nwhich was reported as:\n", file=sys.stderr)
        traceback.print_exc()
    print(f"{prog}: {message}", file=sys.stderr, flush=True)
    return status


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line, ``prog: error: ... (see --help)``, exit status 2."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def add_debug_flag(parser: argparse.ArgumentParser) -> None:
    """Add ``--debug`` (tracebacks on error) to an argparse command."""
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
