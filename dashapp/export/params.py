"""The CSV export API's parameters: what each export accepts and what a wrong one is told.

Pure functions over Flask's `request.args`, tested without a server: an unknown,
repeated or malformed parameter is a 400 naming it; a name that does not exist is a
404 (`NotFound`, raised by the web layer after asking the read side).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from dashapp.clock import iso_z
from dashapp.queries.filters import (
    LOG_LEVELS,
    RESOURCE_TYPES,
    RUN_STATES,
    JobRunsRequest,
    LogEventsRequest,
    MetricsRequest,
    Window,
)

DEFAULT_WINDOW = timedelta(hours=24)

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
ATHENA_PARAMS: tuple[str, ...] = ()


# --- errors a user is told about -------------------------------------------------------


class ExportError(Exception):
    """A request the export cannot answer; `str()` is the one line the user reads."""

    status = 400


class BadParameter(ExportError):
    """400: a parameter is malformed, unknown, repeated or out of range."""

    def __init__(self, param: str, problem: str) -> None:
        self.param = param
        super().__init__(f"{shown_name(param)}: {problem}")


def shown_name(param: str) -> str:
    """A parameter's name as the one-line answer can show it: a name a link decoded into
    line breaks or other control characters is quoted, so the answer stays one line."""
    return param if param.isprintable() else repr(param)


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
        if any("\x00" in v for v in given):
            # No stored name can hold one (PostgreSQL text cannot), and the driver refuses it.
            raise BadParameter(key, "contains a NUL character (%00)")
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


def parse_athena_args(args: _Args, query_execution_id: str = "") -> None:
    """The Athena export takes no parameters; any given is a mistake worth reporting. The
    execution id comes in the path, where %00 decodes to a NUL no stored id can hold."""
    single_values(args, ATHENA_PARAMS)
    if "\x00" in query_execution_id:
        raise BadParameter("query_execution_id", "contains a NUL character (%00)")
