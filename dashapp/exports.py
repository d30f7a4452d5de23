"""CSV exports without a database or Flask: parameters, cells, Lambda summaries, streaming.

Everything a user notices about an export is decided here, as pure functions, so it
is tested without a server: which query parameters are accepted and what a wrong
one is told (`parse_*`), how each cell is written (`*_cells`), how per-minute
Lambda datapoints become one summary row (`summarise_lambda`), and how rows become
bounded chunks of UTF-8 (`csv_chunks`). The web layer (`dashapp/web/export.py`)
only wires these to the database (`dashapp/export_queries.py`) and to HTTP.

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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Protocol

from dashapp.clock import iso_z

DEFAULT_WINDOW = timedelta(hours=24)
# Rows are buffered until a chunk holds this many characters: large enough that the
# per-chunk overhead vanishes, small enough that memory never depends on export size.
CHUNK_CHARS = 64 * 1024

RUN_STATES = (
    "STARTING",
    "RUNNING",
    "STOPPING",
    "STOPPED",
    "SUCCEEDED",
    "FAILED",
    "TIMEOUT",
    "ERROR",
    "WAITING",
    "EXPIRED",
)
RESOURCE_TYPES = ("glue_job", "lambda_function")
# What the collector stores; a metric found in the database is known too (see export_queries).
KNOWN_METRICS: Mapping[str, tuple[str, ...]] = {
    "lambda_function": ("Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions"),
    "glue_job": (
        "glue.driver.aggregate.recordsRead",
        "glue.driver.aggregate.bytesRead",
        "glue.driver.aggregate.elapsedTime",
        "glue.driver.aggregate.numFailedTasks",
        "RowsWritten",
    ),
}

JOB_RUNS_HEADER = (
    "job_name",
    "run_id",
    "state",
    "started_at",
    "completed_at",
    "duration_s",
    "dpu_seconds",
    "rows_read",
    "rows_written",
    "attempt",
    "trigger",
    "error_message",
)
METRICS_HEADER = ("resource_type", "resource_name", "metric", "stat", "timestamp", "value")
LAMBDA_SUMMARY_HEADER = (
    "function_name",
    "invocations",
    "errors",
    "error_rate",
    "throttles",
    "duration_avg_ms",
    "duration_p95_ms",
    "duration_p99_ms",
)
LOG_EVENTS_HEADER = ("log_group", "log_stream", "timestamp", "message")

WINDOW_PARAMS = ("since", "until")
JOB_RUNS_PARAMS = ("job", "state", *WINDOW_PARAMS)
METRICS_PARAMS = ("resource_type", "name", "metric", *WINDOW_PARAMS)
LAMBDA_SUMMARY_PARAMS = WINDOW_PARAMS
LOG_EVENTS_PARAMS = ("group", "stream", "q", "level", *WINDOW_PARAMS)
# Most severe first; `level=WARN` means WARN and ERROR, as the log viewer's filter does.
LOG_LEVELS: tuple[str, ...] = ("ERROR", "WARN", "INFO", "DEBUG")
ATHENA_PARAMS: tuple[str, ...] = ()


# --- errors a user is told about -------------------------------------------------------


class ExportError(Exception):
    """A request the export cannot answer; `str()` is the one line the user reads."""

    status = 400


class BadParameter(ExportError):
    """400: a parameter is malformed, unknown, repeated or out of range."""

    def __init__(self, param: str, problem: str) -> None:
        self.param = param
        super().__init__(f"{param}: {problem}")


class UnknownParameter(BadParameter):
    """400: a parameter this export does not take (a typo would otherwise be ignored)."""

    def __init__(self, param: str, allowed: Sequence[str]) -> None:
        takes = ", ".join(allowed) if allowed else "no parameters"
        super().__init__(param, f"unknown parameter; this export takes {takes}")


class NotFound(ExportError):
    """404: the named job, function, metric, log group or query does not exist."""

    status = 404

    def __init__(self, param: str, problem: str) -> None:
        self.param = param
        super().__init__(f"{param}: {problem}")


# --- parameters ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The half-open time range [since, until) an export covers, aware UTC."""

    since: datetime
    until: datetime


@dataclass(frozen=True)
class JobRunsRequest:
    window: Window
    job: str | None = None
    state: str | None = None


@dataclass(frozen=True)
class MetricsRequest:
    window: Window
    resource_type: str | None = None
    name: str | None = None
    metric: str | None = None


@dataclass(frozen=True)
class LogEventsRequest:
    window: Window
    group: str | None = None
    stream: str | None = None
    q: str | None = None
    levels: tuple[str, ...] | None = None


class _Args(Protocol):
    """What Flask's `request.args` (a MultiDict) offers and the parsers use."""

    def keys(self) -> Iterable[str]: ...

    def getlist(self, key: str) -> list[str]: ...


# "+01:00" arrives as " 01:00" when a link was typed without encoding '+' as %2B.
_SPACE_FOR_PLUS = re.compile(
    r"^(\d{4}-?\d{2}-?\d{2}[T ]\d{2}(?::?\d{2}(?::?\d{2}(?:\.\d+)?)?)?)"  # date and time
    r" (\d{2}(?::?\d{2})?)$"  # the offset whose '+' became a space
)


def single_values(args: _Args, allowed: Sequence[str]) -> dict[str, str]:
    """Each allowed parameter's one value; empty values count as absent.

    An unknown or repeated parameter is a 400, not silently ignored: `?jobs=x` or
    `?job=a&job=b` would otherwise export something other than what was asked.
    """
    values: dict[str, str] = {}
    for key in args.keys():  # noqa: SIM118 (a MultiDict, not a dict)
        if key not in allowed:
            raise UnknownParameter(key, allowed)
        given = [v for v in args.getlist(key) if v.strip()]
        if len(given) > 1:
            raise BadParameter(key, f"given {len(given)} times; give it once")
        if given:
            values[key] = given[0].strip()
    return values


def parse_time(param: str, raw: str) -> datetime:
    """ISO 8601 with `Z` or an offset (naive means UTC), as aware UTC."""
    text = raw.strip()
    repaired = _SPACE_FOR_PLUS.match(text)
    if repaired:
        text = f"{repaired.group(1)}+{repaired.group(2)}"
    try:
        value = datetime.fromisoformat(text)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except ValueError:
        raise BadParameter(
            param,
            f"{raw!r} is not an ISO 8601 date-time (e.g. 2026-11-25T18:00:00Z; "
            "write a '+' offset as %2B)",
        ) from None
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise BadParameter(param, f"{raw!r} is outside the years 1 to 9999 in UTC") from None


def parse_window(values: Mapping[str, str], now: datetime) -> Window:
    """`since`/`until` from the parameters; by default the 24 hours up to `now`.

    With only `since`, the window runs to `now`; with only `until`, it is the 24 hours
    before `until`.
    """
    until = parse_time("until", values["until"]) if "until" in values else now
    if "since" in values:
        since = parse_time("since", values["since"])
    elif until - datetime.min.replace(tzinfo=UTC) < DEFAULT_WINDOW:
        raise BadParameter("until", "too early for the default 24 h window; give since too")
    else:
        since = until - DEFAULT_WINDOW
    if since >= until:
        raise BadParameter("since", f"must be before until ({iso_z(since)} >= {iso_z(until)})")
    return Window(since, until)


def parse_job_runs_args(args: _Args, now: datetime) -> JobRunsRequest:
    """`job`, `state` (any case, one of RUN_STATES) and the window."""
    values = single_values(args, JOB_RUNS_PARAMS)
    state = values.get("state")
    if state is not None:
        state = state.upper()
        if state not in RUN_STATES:
            raise BadParameter(
                "state", f"unknown run state {values['state']!r}; one of {', '.join(RUN_STATES)}"
            )
    return JobRunsRequest(parse_window(values, now), job=values.get("job"), state=state)


def parse_metrics_args(args: _Args, now: datetime) -> MetricsRequest:
    """`resource_type` (glue_job or lambda_function), `name`, `metric` and the window."""
    values = single_values(args, METRICS_PARAMS)
    resource_type = values.get("resource_type")
    if resource_type is not None and resource_type not in RESOURCE_TYPES:
        raise BadParameter(
            "resource_type",
            f"unknown resource type {resource_type!r}; one of {', '.join(RESOURCE_TYPES)}",
        )
    return MetricsRequest(
        parse_window(values, now),
        resource_type=resource_type,
        name=values.get("name"),
        metric=values.get("metric"),
    )


def parse_lambda_summary_args(args: _Args, now: datetime) -> Window:
    """Only the window."""
    return parse_window(single_values(args, LAMBDA_SUMMARY_PARAMS), now)


def parse_log_events_args(args: _Args, now: datetime) -> LogEventsRequest:
    """`group`, `stream`, `q` (case-insensitive substring), `level` (least severe kept), window."""
    values = single_values(args, LOG_EVENTS_PARAMS)
    return LogEventsRequest(
        parse_window(values, now),
        group=values.get("group"),
        stream=values.get("stream"),
        q=values.get("q"),
        levels=parse_min_level(values.get("level")),
    )


def parse_min_level(raw: str | None) -> tuple[str, ...] | None:
    """The levels `level=` keeps: it and every more severe one."""
    if raw is None or not raw.strip():
        return None
    level = raw.strip().upper()
    if level not in LOG_LEVELS:
        raise BadParameter("level", f"must be one of {', '.join(LOG_LEVELS)}, not {raw!r}")
    return LOG_LEVELS[: LOG_LEVELS.index(level) + 1]


def parse_athena_args(args: _Args) -> None:
    """The Athena export takes no parameters; any given is a mistake worth reporting."""
    single_values(args, ATHENA_PARAMS)


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
    """
    return text if _NUMBER.fullmatch(text) else neutralise(text)


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


# --- Lambda summary ---------------------------------------------------------------------------

# (metric, stat) → LambdaMinute field, exactly as the collector stores Lambda datapoints.
LAMBDA_SERIES: Mapping[tuple[str, str], str] = {
    ("Invocations", "Sum"): "invocations",
    ("Errors", "Sum"): "errors",
    ("Throttles", "Sum"): "throttles",
    ("Duration", "Average"): "duration_avg",
    ("Duration", "p95"): "duration_p95",
    ("Duration", "p99"): "duration_p99",
}


class LambdaPointRecord(Protocol):
    resource_name: str
    ts: datetime
    metric: str
    stat: str
    value: float


@dataclass
class LambdaMinute:
    """The datapoints one function has for one minute (None where CloudWatch had none)."""

    ts: datetime
    invocations: float | None = None
    errors: float | None = None
    throttles: float | None = None
    duration_avg: float | None = None
    duration_p95: float | None = None
    duration_p99: float | None = None


@dataclass(frozen=True)
class LambdaSummary:
    """One row of lambda-summary.csv."""

    function_name: str
    invocations: float = 0.0
    errors: float = 0.0
    throttles: float = 0.0
    error_rate: float | None = None
    duration_avg_ms: float | None = None
    duration_p95_ms: float | None = None
    duration_p99_ms: float | None = None


def weighted_percentile(values: Iterable[tuple[float, float]], q: float) -> float | None:
    """The smallest value whose cumulative weight reaches `q` of the total (no interpolation).

    `values` are (value, weight) pairs; pairs with no weight count for nothing.
    None when the total weight is zero.
    """
    pairs = sorted((v, w) for v, w in values if w > 0)
    total = sum(w for _, w in pairs)
    if total <= 0:
        return None
    threshold = q * total
    cumulative = 0.0
    for value, weight in pairs:
        cumulative += weight
        if cumulative >= threshold * (1 - 1e-12):
            return value
    return pairs[-1][0]


def summarise_lambda(function_name: str, minutes: Iterable[LambdaMinute]) -> LambdaSummary:
    """Combine one function's per-minute datapoints into the window's summary.

    Counts are sums. The average duration is the invocation-weighted mean of the
    per-minute averages, which is exact. Percentiles of different minutes cannot be
    combined exactly without the raw durations, which CloudWatch does not give: p95
    (p99) is the invocation-weighted 95th (99th) percentile of the per-minute p95
    (p99) values. It is exact when every minute has the same distribution, always lies
    between the best and the worst minute, and leans towards the slow minutes when
    they carry much of the traffic, which is the conservative side for an alert.
    Minutes without invocations carry no weight; a function with no invocations
    gets zeros and empty rates and durations.
    """
    invocations = errors = throttles = 0.0
    weighted_sum = weight = 0.0
    p95: list[tuple[float, float]] = []
    p99: list[tuple[float, float]] = []
    for m in minutes:
        calls = m.invocations or 0.0
        invocations += calls
        errors += m.errors or 0.0
        throttles += m.throttles or 0.0
        if calls > 0 and m.duration_avg is not None:
            weighted_sum += m.duration_avg * calls
            weight += calls
        if calls > 0 and m.duration_p95 is not None:
            p95.append((m.duration_p95, calls))
        if calls > 0 and m.duration_p99 is not None:
            p99.append((m.duration_p99, calls))
    return LambdaSummary(
        function_name=function_name,
        invocations=invocations,
        errors=errors,
        throttles=throttles,
        error_rate=errors / invocations if invocations > 0 else None,
        duration_avg_ms=weighted_sum / weight if weight > 0 else None,
        duration_p95_ms=weighted_percentile(p95, 0.95),
        duration_p99_ms=weighted_percentile(p99, 0.99),
    )


def lambda_minutes(points: Iterable[LambdaPointRecord]) -> Iterator[tuple[str, LambdaMinute]]:
    """Pivot datapoints ordered by (function, minute) into one LambdaMinute per minute."""
    for (name, ts), group in groupby(points, key=lambda p: (p.resource_name, p.ts)):
        minute = LambdaMinute(ts=ts)
        for p in group:
            field = LAMBDA_SERIES.get((p.metric, p.stat))
            if field is not None:
                setattr(minute, field, p.value)
        yield name, minute


def lambda_summaries(
    function_names: Iterable[str], points: Iterable[LambdaPointRecord]
) -> list[LambdaSummary]:
    """One summary per function, sorted by name: every name given, and any the points add.

    `points` must be ordered by (function, minute), as the database returns them; only
    one function's minutes are held at a time, plus one small summary per function. The
    output is sorted here, by code point, so it never depends on the database collation.
    """
    found: dict[str, LambdaSummary] = {}
    for name, group in groupby(lambda_minutes(points), key=lambda item: item[0]):
        found[name] = summarise_lambda(name, (minute for _, minute in group))
    names = sorted(set(function_names) | found.keys())
    return [found[n] if n in found else summarise_lambda(n, ()) for n in names]


def lambda_summary_cells(summary: LambdaSummary) -> list[str]:
    """One row of lambda-summary.csv, in LAMBDA_SUMMARY_HEADER order."""
    return [
        text_cell(summary.function_name),
        number_cell(summary.invocations),
        number_cell(summary.errors),
        number_cell(summary.error_rate, 6),
        number_cell(summary.throttles),
        number_cell(summary.duration_avg_ms, 3),
        number_cell(summary.duration_p95_ms, 3),
        number_cell(summary.duration_p99_ms, 3),
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
