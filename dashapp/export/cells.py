"""CSV cells and streaming: how every export writes its rows, without a database or Flask.

Pure functions, tested without a server: how each cell is written (`*_cells`) and
how rows become bounded chunks of UTF-8 (`csv_chunks`). The web layer
(`dashapp/web/export.py`) wires these to the read side (`dashapp.queries`) and HTTP.

Spreadsheet injection: a cell that starts with `=`, `+`, `-`, `@`, a tab or a
carriage return is run as a formula by Excel, LibreOffice and Google Sheets when
the file is opened. Every text cell gets a leading `'` in that case (OWASP's
advice), which spreadsheets hide and every other consumer can strip. Numbers we
format ourselves are never text cells, so a negative value stays a number.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Protocol

from dashapp.clock import iso_z
from dashapp.export.params import LAMBDA_SUMMARY_HEADER, Window
from dashapp.queries.lambda_summary import LambdaSummary, rounded

# Rows are buffered until a chunk holds this many characters: large enough that the
# per-chunk overhead vanishes, small enough that memory never depends on export size.
CHUNK_CHARS = 64 * 1024


# --- cells ---------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise(text: str) -> str:
    """Prefix `'` when a spreadsheet would run the cell as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def neutralise_untyped(text: str) -> str:
    """Like `neutralise`, but a plain number (`-12.5`, `+3e4`) is left alone.

    For cells whose column type we do not know (Athena results): a numeric literal
    cannot run anything, and a negative amount must stay a number in a spreadsheet.
    The number test runs only on cells a spreadsheet would run: a million-row export
    calls this for every cell, and most start with no formula character at all.
    """
    if not text.startswith(_FORMULA_START) or _NUMBER.fullmatch(text):
        return text
    return "'" + text


def text_cell(value: str | None) -> str:
    """A text column's cell: empty for NULL, neutralised otherwise."""
    return "" if value is None else neutralise(value)


def number_cell(value: float | None, places: int | None = None) -> str:
    """A number as a spreadsheet reads it: integral values without `.0`, empty for NULL.

    `places` rounds (durations to the microsecond, rates to six decimals) so float
    noise such as 0.30000000000000004 never reaches a user. NaN and infinities, which
    no spreadsheet reads, are empty.
    """
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    number = float(value)
    if not math.isfinite(number):
        return ""
    if places is not None:
        number = round(number, places)
    if number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number)


def time_cell(value: datetime | None) -> str:
    """ISO 8601 UTC ending in Z; empty for NULL."""
    return "" if value is None else iso_z(value)


class JobRunRecord(Protocol):
    job_name: str
    run_id: str
    state: str
    started_at: datetime
    completed_at: datetime | None
    duration_s: float | None
    dpu_seconds: float | None
    rows_read: int | None
    rows_written: int | None
    attempt: int
    trigger_name: str | None
    error_message: str | None


class MetricRecord(Protocol):
    resource_type: str
    resource_name: str
    metric: str
    stat: str
    ts: datetime
    value: float


class LogEventRecord(Protocol):
    log_group: str
    log_stream: str
    ts: datetime
    message: str


def job_run_cells(run: JobRunRecord) -> list[str]:
    """One row of job-runs.csv, in JOB_RUNS_HEADER order."""
    return [
        text_cell(run.job_name),
        text_cell(run.run_id),
        text_cell(run.state),
        time_cell(run.started_at),
        time_cell(run.completed_at),
        number_cell(run.duration_s, 3),
        number_cell(run.dpu_seconds, 3),
        number_cell(run.rows_read),
        number_cell(run.rows_written),
        number_cell(run.attempt),
        text_cell(run.trigger_name),
        text_cell(run.error_message),
    ]


def metric_cells(point: MetricRecord) -> list[str]:
    """One row of metrics.csv, in METRICS_HEADER order; the value keeps full precision."""
    return [
        text_cell(point.resource_type),
        text_cell(point.resource_name),
        text_cell(point.metric),
        text_cell(point.stat),
        time_cell(point.ts),
        number_cell(point.value),
    ]


def log_event_cells(event: LogEventRecord) -> list[str]:
    """One row of log-events.csv, in LOG_EVENTS_HEADER order."""
    return [
        text_cell(event.log_group),
        text_cell(event.log_stream),
        time_cell(event.ts),
        text_cell(event.message),
    ]


def lambda_summary_cells(summary: LambdaSummary) -> list[str]:
    """One row of lambda-summary.csv, in LAMBDA_SUMMARY_HEADER order, rounded as the page."""
    figures = rounded(summary)
    return [text_cell(summary.function_name)] + [
        number_cell(figures[column]) for column in LAMBDA_SUMMARY_HEADER[1:]
    ]


# --- CSV streaming ------------------------------------------------------------------------------


def csv_chunks(
    header: Sequence[str] | None,
    rows: Iterable[Sequence[str]],
    *,
    chunk_chars: int = CHUNK_CHARS,
) -> Iterator[bytes]:
    """RFC 4180 CSV (CRLF, quotes doubled, fields with separators quoted) as UTF-8 chunks.

    The header goes out on its own first, so a download starts before a slow query
    returns its first row; rows follow in chunks of about `chunk_chars` characters, so
    memory is bounded by one chunk whatever the number of rows.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
        yield _drain(buffer)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= chunk_chars:
            yield _drain(buffer)
    if buffer.tell():
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8", errors="replace")
    buffer.seek(0)
    buffer.truncate()
    return data


def rewrite_untyped_csv(lines: Iterable[str]) -> Iterator[list[str]]:
    """Parse CSV text (Athena's result object) and neutralise every cell, header included.

    Re-writing through the csv module, rather than copying bytes, is what lets the
    injection rule apply to data we did not produce.
    """
    for row in csv.reader(lines):
        yield [neutralise_untyped(cell) for cell in row]


# --- names ---------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _file_time(value: datetime) -> str:
    v = value.astimezone(UTC)
    text = v.strftime("%Y-%m-%dT%H-%M")
    if v.second or v.microsecond:
        text += v.strftime("-%S")
    return text + "Z"


def export_filename(kind: str, window: Window | None = None, *subjects: str | None) -> str:
    """A download name that says what is inside: kind, filters, time range.

    e.g. `job-runs_sales-orders-ingest_2026-11-24T18-00Z_2026-11-25T18-00Z.csv`; only
    `[A-Za-z0-9._-]` survive, so the name is safe on every file system.
    """
    parts = [kind]
    for subject in subjects:
        if subject:
            cleaned = _UNSAFE.sub("-", subject).strip("-.")[:80]
            if cleaned:
                parts.append(cleaned)
    if window is not None:
        parts += [_file_time(window.since), _file_time(window.until)]
    return "_".join(parts) + ".csv"
