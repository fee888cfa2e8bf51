"""Crash-safe file primitives: atomic replacement and an append-only JSON Lines log.

Whole files are written to a temporary file in the same folder, flushed to disk and renamed
over the target, so a reader or a killed writer finds the old file or the new one, never a mix.
The metrics log is the exception: it is appended to one line at a time, so a kill can leave a
cut-off last line, which ``read_jsonl`` skips.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

FILE_MODE = 0o644  # mkstemp creates files readable by the owner only


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` and rename it over ``path`` on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temporary_path = Path(temporary)
    os.chmod(temporary_path, FILE_MODE)
    try:
        yield temporary_path
        with open(temporary_path, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary_path, path)
    finally:
        temporary_path.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as indented JSON atomically."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one record as a single JSON line and flush it to disk."""
    line = json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n"
    with open(path, "a", encoding="utf-8") as log:
        log.write(line)
        log.flush()
        os.fsync(log.fileno())


def read_jsonl(path: Path) -> tuple[list[dict[str, Any]], list[int]]:
    """Read a JSON Lines file, skipping lines that are cut off or not JSON objects.

    Returns:
        The records in file order, and the 1-based numbers of the lines that were skipped.
    """
    records: list[dict[str, Any]] = []
    skipped: list[int] = []
    with open(path, encoding="utf-8", errors="replace") as log:
        for number, line in enumerate(log, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                skipped.append(number)
                continue
            if isinstance(record, dict):
                records.append(record)
            else:
                skipped.append(number)
    return records, skipped
