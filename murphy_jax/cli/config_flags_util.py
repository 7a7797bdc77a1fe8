"""Shared by the config-driven CLIs (murphy-train, murphy-plan): flag parsing, ``--help`` and the config file.

Mistakes on the command line (unknown flags, unknown or badly typed ``--config.KEY`` overrides, a config
file that is missing or raises) become one :class:`MurphyUserError` line; ``--help`` lists the command's
own flags with their help strings (absl's ``--help`` lists none of them).
"""
from __future__ import annotations

import difflib
import os
import re
import sys
from typing import Callable

from murphy_jax.errors import MurphyUserError, one_line

HELP_ARGS = ("--help", "-h", "-?", "--helpshort")
CONFIG_KEYS_HELP = ("config keys: override any key with --config.KEY=VALUE;\n"
                    "  murphy-train --config FILE --describe_config  prints every key with its value and explanation\n"
                    "  (all keys and their defaults: configs/base.py; docs/cli.md, docs/training.md)")


def unknown_key_message(key: str) -> str | None:
    """'a.b: unknown config key; did you mean 'a.c'?' when ``key`` is not in configs/base.py, else None."""
    from configs.base import get_config as base_config

    node, path = base_config(), []
    for part in key.split("."):
        if not hasattr(node, "keys") or part not in node:
            near = difflib.get_close_matches(part, list(node.keys()) if hasattr(node, "keys") else [], n=1)
            return f"{key}: unknown config key" + (f"; did you mean {'.'.join(path + near)!r}?" if near else "")
        node, path = node[part], path + [part]
    return None


def config_arg(argv: list[str]) -> str | None:
    """The value of ``--config`` among ``argv`` (``--config X`` or ``--config=X``), else None."""
    for i, a in enumerate(argv):
        if a == "--":
            break
        if a.startswith("--config="):
            return a.split("=", 1)[1]
        if a == "--config" and i + 1 < len(argv):
            return argv[i + 1]
    return None


def _last_line(e: BaseException) -> str:
    """The last non-empty line of an error's message without a leading 'SomeError: '.

    ml_collections re-raises a get_config() error with the whole traceback in its message, and reports an
    unreadable file with the list of paths it tried; in both the last line is the cause.
    """
    lines = [x.strip() for x in str(e).splitlines() if x.strip()]
    return re.sub(r"^[A-Za-z_][\w.]*(Error|Exception): ", "", lines[-1]) if lines else type(e).__name__


def _config_load_error(spec: str, e: BaseException) -> MurphyUserError:
    """One line for a config file that raised while loading."""
    if isinstance(e, SyntaxError):
        return MurphyUserError(f"--config {spec}: syntax error at {e.filename}:{e.lineno}: {e.msg}")
    return MurphyUserError(f"--config {spec}: {_last_line(e)}")


def print_help(prog: str, doc: str, flag_values, module_name: str, config_help: str = CONFIG_KEYS_HELP) -> None:
    """``--help``: the module docstring's usage part, then the flags ``module_name`` defines, then ``config_help``."""
    print(doc.strip())
    print(f"\n{prog} flags:")
    text = flag_values.module_help(module_name)
    lines = text.strip("\n").splitlines()
    print("\n".join(lines[1:] if lines and lines[0].rstrip().endswith(":") else lines))
    print(f"\n{config_help}")


def make_flags_parser(prog: str, flag_values, rewrite: Callable[[str], str] = lambda a: a, *,
                      module_name: str | None = None, doc: str = ""):
    """An absl ``flags_parser`` raising :class:`MurphyUserError` for flag and config mistakes; handles ``--help``."""
    from absl import flags

    def parse(argv: list[str]) -> list[str]:
        argv = [rewrite(a) for a in argv]
        args = argv[1:argv.index("--")] if "--" in argv else argv[1:]
        if module_name and any(a in HELP_ARGS for a in args):
            print_help(prog, doc, flag_values, module_name)
            sys.exit(0)
        spec = config_arg(args)
        if spec is not None:
            path = spec.split(":", 1)[0]
            if not path:
                raise MurphyUserError("--config: empty path; give configs/NAME.py[:ARG]")
            if not os.path.isfile(path):
                why = "is a directory" if os.path.isdir(path) else "no such file"
                raise MurphyUserError(f"--config {spec}: {why} (the configs are configs/NAME.py)")
        try:
            return flag_values(argv)
        except flags.Error as e:
            if spec is not None and "Error whilst parsing config file" in str(e):
                raise _config_load_error(spec, e) from e
            if m := re.search(r"Flag --(\w+) must have a value other than None", str(e)):
                raise MurphyUserError(f"--{m.group(1)} is required (see --help)") from e
            raise MurphyUserError(one_line(e)) from e
        except (AttributeError, KeyError, TypeError, ValueError) as e:
            for a in argv:
                key = a.split("=", 1)[0][len("--config."):] if a.startswith("--config.") else ""
                if key and (msg := unknown_key_message(key)):
                    raise MurphyUserError(msg) from e
            raise MurphyUserError(one_line(e)) from e
        except Exception as e:  # the config file is the user's Python: whatever it raised is about it
            if spec is None:
                raise
            raise _config_load_error(spec, e) from e

    return parse


def loaded_config(holder):
    """The config of a ``DEFINE_config_file`` flag, or a one-line error when its file could not be read.

    ml_collections defers an unreadable file's error to the first use of the config.
    """
    cfg = holder.value
    try:
        cfg.keys()
    except OSError as e:
        raise MurphyUserError(f"--config: cannot load the config file: {_last_line(e.__cause__ or e)}") from e
    return cfg


def dashed_device_memory(arg: str) -> str:
    """``--device-memory`` (as users type it) to absl's ``--device_memory``; other arguments unchanged."""
    return arg.replace("--device-memory", "--device_memory", 1) if arg.startswith("--device-memory") else arg


def run_config_command(prog: str, main, flags_parser) -> None:
    """Console-script body of the config-driven absl commands: --config required, errors per docs/cli.md."""
    from absl import app, flags

    from murphy_jax.cli._errors import guarded

    flags.mark_flag_as_required("config")
    sys.exit(guarded(prog, lambda: app.run(main, flags_parser=flags_parser)))
