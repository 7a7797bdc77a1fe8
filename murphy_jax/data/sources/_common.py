"""Shared plumbing for task loaders: row readers, skip accounting and the load report.

Every loader turns *rows* (dicts in the source's published schema) into
``CodeTask``s. Rows come either from local files (JSON list, JSONL, gzip'd
JSONL, parquet) or from the Hugging Face hub through ``datasets``; after
that point there is one code path per source. A row that cannot be turned
into a valid task raises ``RowError(reason)``; the driver counts it under
that reason, remembers where it was (``file:line``) and moves on;
``load_tasks`` then skips such rows with one warning or stops on the first
one, as its ``on_bad_row`` option says.
"""
from __future__ import annotations

import collections
import gzip
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from murphy_jax.data.task import CodeTask, TaskFormatError
from murphy_jax.errors import MurphyUserError

ON_BAD_ROW = ("skip", "error")  # what load_tasks does with malformed rows; the first is the default
MAX_BAD_ROWS_KEPT = 20  # row ids remembered for messages (the count covers all of them)


class RowError(MurphyUserError, ValueError):
    """A source row is malformed; ``reason`` is a short, stable category used for counting."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class NoValidRowsError(MurphyUserError, ValueError):
    """A source produced zero valid tasks (every row was malformed or filtered out)."""


class SourceError(MurphyUserError, ValueError):
    """Bad loader input: unknown source, missing file, unsupported option."""


class BadRowError(SourceError):
    """A malformed row under ``on_bad_row="error"``; the message starts with the row's ``file:line``."""


@dataclass(repr=False)
class LoadReport:
    """Tasks from one source plus what was dropped and why.

    ``skipped`` counts malformed rows by reason; ``filtered`` counts valid rows
    removed on purpose (date window, difficulty, limit); ``stats`` holds
    source-specific counts that are not drops (e.g. HumanEval tasks with no
    parseable docstring example, hence no public tests).
    """

    source: str
    tasks: list[CodeTask] = field(default_factory=list)
    n_rows: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_examples: dict[str, str] = field(default_factory=dict)  # reason -> first row id/detail
    filtered: dict[str, int] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)
    bad_rows: list[tuple[str, str]] = field(default_factory=list)  # (row id, cause) of the first malformed rows

    def __len__(self) -> int:
        return len(self.tasks)

    def __repr__(self) -> str:
        return f"LoadReport({self.summary()})"  # the tasks themselves would flood test failure output

    def __iter__(self) -> Iterator[CodeTask]:
        return iter(self.tasks)

    @property
    def n_skipped(self) -> int:
        """Malformed rows in total."""
        return sum(self.skipped.values())

    def summary(self) -> str:
        """One line: source, rows read, tasks kept, skips and filters by reason."""
        parts = [f"{self.source}: {self.n_rows} rows -> {len(self.tasks)} tasks"]
        if self.skipped:
            parts.append("skipped " + ", ".join(f"{k}={v}" for k, v in sorted(self.skipped.items())))
        if self.filtered:
            parts.append("filtered " + ", ".join(f"{k}={v}" for k, v in sorted(self.filtered.items())))
        return "; ".join(parts)


def build_report(source: str, rows: Iterable[tuple[str, Any]], convert: Callable[[Any], CodeTask | None],
                 report: LoadReport | None = None) -> LoadReport:
    """Convert ``(row_id, row)`` pairs, counting RowError/TaskFormatError skips; ``None`` means filtered."""
    rep = report if report is not None else LoadReport(source=source)
    skipped: collections.Counter = collections.Counter(rep.skipped)
    for row_id, row in rows:
        rep.n_rows += 1
        try:
            if isinstance(row, RowError):  # an unreadable line from iter_file_rows
                raise row
            task = convert(row)
            if task is not None:
                task.validate()
        except RowError as e:
            skipped[e.reason] += 1
            rep.skipped_examples.setdefault(e.reason, f"{row_id}: {e.detail}" if e.detail else row_id)
            note_bad_row(rep, row_id, e.detail if e.reason in e.detail else str(e))
            continue
        except TaskFormatError as e:
            skipped["invalid CodeTask"] += 1
            rep.skipped_examples.setdefault("invalid CodeTask", f"{row_id}: {e}")
            note_bad_row(rep, row_id, f"invalid CodeTask: {e}")
            continue
        if task is not None:
            rep.tasks.append(task)
    rep.skipped = dict(skipped)
    return rep


def note_bad_row(rep: LoadReport, row_id: str, cause: str) -> None:
    """Remember where a malformed row was (the first ``MAX_BAD_ROWS_KEPT`` of them), cause on one line."""
    if len(rep.bad_rows) < MAX_BAD_ROWS_KEPT:
        rep.bad_rows.append((row_id, " ".join(cause.split())[:300]))


def count(d: dict[str, int], key: str, n: int = 1) -> None:
    """Increment a counter stored as a plain dict."""
    d[key] = d.get(key, 0) + n


def require(row: Any, *fields: str, types: tuple = (str,)) -> list:
    """Return the named fields of a dict row, raising RowError for a missing or mistyped one."""
    if not isinstance(row, dict):
        raise RowError("row is not an object", type(row).__name__)
    out = []
    for f in fields:
        if f not in row or row[f] is None:
            raise RowError(f"missing field {f!r}")
        if not isinstance(row[f], types):
            raise RowError(f"field {f!r} has wrong type", type(row[f]).__name__)
        out.append(row[f])
    return out


# ----------------------------------------------------------------------------- row readers

_MALFORMED_LINE = "malformed JSON line"


def _open_text(path: Path):
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def iter_file_rows(path: str | os.PathLike) -> Iterator[tuple[str, Any]]:
    """Yield ``(row_id, row)`` from a .json (list), .jsonl(.gz) or .parquet file.

    A JSONL line that is not valid JSON is yielded as a ``RowError`` instance so
    the caller counts it like any other malformed row.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise SourceError(f"{p}: no such file or directory")
    if not p.is_file():
        raise SourceError(f"{p}: is a directory; pass the data file")
    name = p.name.lower()
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq  # ships with datasets

        for i, row in enumerate(pq.read_table(p).to_pylist()):
            yield f"{p}[{i}]", row
    elif name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        with _open_text(p) as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    yield f"{p}:{lineno}", json.loads(line)
                except json.JSONDecodeError as e:
                    # json's own "line 1 column N" would read as a line of the file: give the column only.
                    yield f"{p}:{lineno}", RowError(_MALFORMED_LINE, f"{e.msg} at column {e.colno}"
                                                    if e.lineno == 1 else f"{e.msg} at the end of the line")
    elif name.endswith((".json", ".json.gz")):
        with _open_text(p) as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as e:
                raise SourceError(f"{p}: not valid JSON ({e})") from None
        if isinstance(data, dict):
            # Some dumps wrap the list, e.g. {"data": [...]}; accept a single list-valued key.
            lists = [v for v in data.values() if isinstance(v, list)]
            if len(lists) != 1:
                raise SourceError(f"{p}: expected a JSON list of rows, got an object")
            data = lists[0]
        if not isinstance(data, list):
            raise SourceError(f"{p}: expected a JSON list of rows, got {type(data).__name__}")
        for i, row in enumerate(data):
            yield f"{p}[{i}]", row
    else:
        raise SourceError(f"{p}: unsupported file type (want .json, .jsonl, .jsonl.gz or .parquet)")


def resolve_files(path: str | os.PathLike, patterns: tuple[str, ...]) -> list[Path]:
    """A file, or every file in a directory matching ``patterns`` (sorted); clear error when missing."""
    p = Path(path).expanduser()
    if not p.exists():
        raise SourceError(f"{p}: no such file or directory")
    if p.is_file():
        return [p]
    files = sorted({f for pat in patterns for f in p.glob(pat) if f.is_file()})
    if not files:
        raise SourceError(f"{p}: directory has no files matching {', '.join(patterns)}")
    return files


def iter_path_rows(path: str | os.PathLike, patterns: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    """Rows of every file that ``path`` names (see ``resolve_files``)."""
    for f in resolve_files(path, patterns):
        yield from iter_file_rows(f)


def iter_hub_rows(name: str, config: str | None = None, split: str = "test",
                  data_files: Any = None) -> Iterator[tuple[str, Any]]:
    """Rows of a hub dataset through ``datasets.load_dataset``; a failure becomes a one-line SourceError."""
    try:
        import datasets

        kw = {"split": split}
        if data_files is not None:
            kw["data_files"] = data_files
        ds = datasets.load_dataset(name, config, **kw) if config else datasets.load_dataset(name, **kw)
    except Exception as e:  # network, auth, missing config: all surface the same way to the user
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise SourceError(f"could not load {name!r}"
                          f"{f' ({config})' if config else ''} split={split!r} from the hub: {first}; "
                          "pass path=... to load a local copy") from None
    for i, row in enumerate(ds):
        yield f"{name}[{i}]", row
