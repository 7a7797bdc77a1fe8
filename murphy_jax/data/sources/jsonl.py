"""Generic loader for the project's own CodeTask JSONL (``murphy_jax.data.task.write_jsonl``).

Unlike ``task.read_jsonl`` (strict: the first bad line raises), this skips and
counts malformed lines, so a hand-edited or partially written file still loads.
"""
from __future__ import annotations

from murphy_jax.data.sources._common import LoadReport, RowError, build_report, iter_path_rows
from murphy_jax.data.task import CodeTask, TaskFormatError

FILE_PATTERNS = ("*.jsonl", "*.jsonl.gz")


def _task(row) -> CodeTask:
    try:
        return CodeTask.from_dict(row)
    except TaskFormatError as e:
        msg = str(e)
        # Stable reason keys for counting; the full message is kept as the example.
        if "unknown field" in msg:
            raise RowError("unknown field", msg) from None
        if "missing required field" in msg:
            raise RowError("missing required field", msg) from None
        raise RowError("invalid CodeTask", msg) from None
    except (TypeError, ValueError) as e:  # a field of the wrong type
        raise RowError("invalid CodeTask", str(e)[:120]) from None


def load_jsonl(path: str) -> LoadReport:
    """CodeTask JSONL file (or a directory of them); malformed lines are skipped and counted."""
    return build_report("jsonl", iter_path_rows(path, FILE_PATTERNS), _task)

