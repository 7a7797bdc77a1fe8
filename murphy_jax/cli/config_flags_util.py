"""Shared by the config-driven CLIs (murphy-train, murphy-plan): one-line errors for bad --config overrides."""
from __future__ import annotations

import difflib
import sys
from typing import Callable


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


def make_flags_parser(prog: str, flag_values, rewrite: Callable[[str], str] = lambda a: a):
    """An absl ``flags_parser`` that reports flag and config-override mistakes as ``prog: error: ...`` (exit 2)."""
    from absl import flags

    def fail(msg) -> None:
        print(f"{prog}: error: {msg}", file=sys.stderr)
        sys.exit(2)

    def parse(argv: list[str]) -> list[str]:
        argv = [rewrite(a) for a in argv]
        try:
            return flag_values(argv)
        except flags.Error as e:
            fail(e)
        except (AttributeError, KeyError, TypeError, ValueError) as e:
            for a in argv:
                key = a.split("=", 1)[0][len("--config."):] if a.startswith("--config.") else ""
                if key and (msg := unknown_key_message(key)):
                    fail(msg)
            fail(e)
        return []

    return parse
