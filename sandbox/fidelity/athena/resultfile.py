"""A finished query's result: Athena's CSV on disk, with the byte offset of every row.

Why one file for both: Athena serves GetQueryResults from the same CSV it
leaves at OutputLocation, so the pages and the download cannot disagree.  The
sandbox keeps that CSV in a temporary file (a million-row result would not
fit comfortably in Python objects) and an array of row offsets, so any page
(``NextToken`` is a row index) is one ``pread`` and a parse of at most 1,000
records.

Athena's CSV: RFC 4180, ``\\n`` line ends, a header row of column names, every
value in double quotes (quotes doubled), SQL NULL as an empty *unquoted*
field -- which is how a page tells NULL (no ``VarCharValue``) from ``''``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import weakref
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["ResultFile", "csv_line", "parse_record"]


def _quote(value: str | None) -> str:
    return "" if value is None else '"' + value.replace('"', '""') + '"'


def csv_line(values: Sequence[str | None]) -> bytes:
    """One record of Athena's result CSV."""
    return (",".join(_quote(v) for v in values) + "\n").encode("utf-8")


def parse_record(text: str) -> list[str | None]:
    """Parse one record written by :func:`csv_line` (NULL stays None, ``""`` stays ``''``)."""
    values: list[str | None] = []
    i, n = 0, len(text.rstrip("\n"))
    while True:
        if i < n and text[i] == '"':
            i += 1
            chunk = []
            while True:
                j = text.index('"', i)
                chunk.append(text[i:j])
                if j + 1 < n and text[j + 1] == '"':
                    chunk.append('"')
                    i = j + 2
                    continue
                i = j + 1
                break
            values.append("".join(chunk))
        else:
            j = text.find(",", i, n)
            end = n if j < 0 else j
            raw = text[i:end]
            values.append(raw if raw else None)
            i = end
        if i >= n:
            return values
        i += 1  # the comma
        if i >= n:
            values.append(None)
            return values


class ResultFile:
    """The CSV lines of one result (the header is line 0) and where each starts."""

    def __init__(self, columns: list[dict[str, Any]]) -> None:
        self.columns = columns
        fd, self.path = tempfile.mkstemp(prefix="sandbox-athena-", suffix=".csv")
        self._file = os.fdopen(fd, "w+b")
        self._offsets = array("q", [0])
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _remove, self._file, self.path)

    def append(self, records: Iterable[Sequence[str | None]]) -> None:
        """Write records (the first call writes the header) and remember their offsets."""
        with self._lock:
            for record in records:
                line = csv_line(record)
                self._file.write(line)
                self._offsets.append(self._offsets[-1] + len(line))

    @property
    def lines(self) -> int:
        """Records written, header included."""
        return len(self._offsets) - 1

    @property
    def size(self) -> int:
        return self._offsets[-1]

    def read_bytes(self) -> bytes:
        with self._lock:
            self._file.flush()
            return os.pread(self._file.fileno(), self.size, 0)

    def read_rows(self, start: int, count: int) -> list[list[str | None]]:
        """Records ``start`` .. ``start + count - 1`` (line 0 is the header)."""
        end = min(self.lines, start + count)
        if start >= end:
            return []
        with self._lock:
            self._file.flush()
            first, last = self._offsets[start], self._offsets[end]
            blob = os.pread(self._file.fileno(), last - first, first)
        return [
            parse_record(
                blob[self._offsets[i] - first : self._offsets[i + 1] - first].decode("utf-8")
            )
            for i in range(start, end)
        ]

    def close(self) -> None:
        self._finalizer()


def _remove(handle: Any, path: str) -> None:
    handle.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
