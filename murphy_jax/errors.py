"""The error contract shared by every murphy_jax command.

A command's exit status says who has to act:

==========  =================================================================
status      meaning
==========  =================================================================
0           success
1           an internal error (a bug: please report it with ``--debug`` output)
2           a user error: bad flags, config, paths or input files; one line
            on stderr names the input and the cause, nothing was written
3           an infrastructure failure: the executor sandbox, the disk, a
            device; the input was fine, the machine was not
75          preempted (SIGTERM/SIGINT): the last completed step or batch is
            saved; rerunning the same command resumes (EX_TEMPFAIL)
==========  =================================================================

Library code raises :class:`MurphyUserError` (or a subclass) for input the
user can fix and :class:`MurphyInfraError` for failures of the environment; the
command-line front ends turn them into the statuses above. Tracebacks are shown
only with ``--debug`` or ``MURPHY_DEBUG=1``.
"""
from __future__ import annotations

import os

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_INFRA = 3
EXIT_PREEMPTED = 75

DEBUG_ENV = "MURPHY_DEBUG"


class MurphyUserError(Exception):
    """Input the user can fix (flag, config key, path, file contents); reported as one line, exit 2."""


class MurphyInfraError(Exception):
    """The environment failed (sandbox, disk, device) although the input was valid; one line, exit 3."""


def debug_requested(argv: list[str] | None = None) -> bool:
    """True when ``--debug`` is among ``argv`` or ``MURPHY_DEBUG`` is set to a non-empty value other than 0."""
    if argv is not None and "--debug" in argv:
        return True
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def one_line(e: BaseException) -> str:
    """The first non-empty line of an exception's message, or its class name when it has none."""
    for line in str(e).splitlines():
        if line.strip():
            return line.strip()
    return type(e).__name__
