"""The log viewer's reads (and its one write, the watch heartbeat), plus its pure rules.

A viewer is open on a *source*: a Glue run (its stream, named after the run id, in
the driver output and error groups) or a Lambda function (every stream of its log
group). Reading is in two steps, both cheap on PostgreSQL and SQLite:

- `initial_lines`: the newest `MAX_LINES` matching lines (by time), shown oldest first,
  plus a cursor, the table's highest id when the read began;
- `tail_lines`: only rows with `cursor < id <= max(id)`, read through the
  `(log_group, id)` index, so a poll every half second costs one short range scan
  however long the stream is.

The filters (`q` a case-insensitive literal substring, `level` a minimum severity)
are the same in both, so a tick never shows a line the first read would have hidden.
`touch_watch` is the web tier's only write: it asks the collector to follow the
streams on screen now (collectors/logs.py reads `log_watches` first).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from dashapp.clock import iso_z
from dashapp.db import upsert
from dashapp.models import JobRun, LambdaFunction, LogEvent, LogStream, LogWatch
from dashapp.queries.filters import LOG_LEVELS
from dashapp.queries.sql import contains

# The browser keeps at most this many lines; older ones are dropped with a note.
MAX_LINES = 5000
# Most severe first; a filter level shows that level and everything more severe.
LEVELS: tuple[str, ...] = LOG_LEVELS
# How long one heartbeat keeps a stream followed; the page renews it well before.
WATCH_S = 30
# Lambda streams a function view asks the collector to follow (the most recent ones).
WATCHED_FUNCTION_STREAMS = 3
# Runs and functions the source picker offers.
PICKER_RUNS = 50

SourceKind = Literal["run", "function"]


class LogViewError(ValueError):
    """A viewer parameter that cannot be used; `str()` is the sentence the user reads."""


@dataclass(frozen=True)
class LogSource:
    """What the viewer shows: one Glue run's streams or one Lambda function's group."""

    kind: SourceKind
    name: str

    @property
    def value(self) -> str:
        """The picker's option value, e.g. `run:jr_123` or `function:orders-api`."""
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class LogRow:
    """One line as the viewer draws it."""

    id: int
    log_group: str
    log_stream: str
    ts: datetime
    level: str
    message: str


@dataclass(frozen=True)
class LogFilter:
    """Everything that narrows the lines: source, window start, search text, level."""

    source: LogSource
    since: datetime
    until: datetime | None = None  # None: open-ended (a live, relative range)
    q: str | None = None
    level: str | None = None


# --- pure rules ---------------------------------------------------------------------------


def parse_level(raw: str | None) -> str | None:
    """`level=` as one of LEVELS (any case; WARNING means WARN); empty means all levels."""
    text = (raw or "").strip().upper()
    if not text or text == "ALL":
        return None
    if text == "WARNING":
        text = "WARN"
    if text not in LEVELS:
        raise LogViewError(f"level {raw!r} is not one of {', '.join(LEVELS)}")
    return text


def levels_at_least(level: str | None) -> tuple[str, ...] | None:
    """The stored levels a minimum level lets through (None: no level filter)."""
    if level is None:
        return None
    return LEVELS[: LEVELS.index(level) + 1]


def parse_source(run: object, function: object) -> LogSource | None:
    """`run=` or `function=` from the URL (not both); None when neither is given."""
    run = run.strip() if isinstance(run, str) else ""
    function = function.strip() if isinstance(function, str) else ""
    if run and function:
        raise LogViewError("give either run= or function=, not both")
    if run:
        return LogSource("run", run)
    if function:
        return LogSource("function", function)
    return None


def source_from_value(value: object) -> LogSource | None:
    """The picker's option value back into a source (None for no selection)."""
    if not isinstance(value, str) or ":" not in value:
        return None
    kind, _, name = value.partition(":")
    if kind not in ("run", "function") or not name:
        return None
    return LogSource(kind, name)  # type: ignore[arg-type]


def normalise_query(raw: object) -> str | None:
    """The search text as matched: surrounding blanks dropped, empty means no search."""
    text = raw.strip() if isinstance(raw, str) else ""

    return text or None


def highlight_parts(message: str, q: str | None) -> list[tuple[str, bool]]:
    """Split `message` into (text, is_match) pieces for case-insensitive literal `q`.

    `q` is escaped, never compiled as a pattern, and the pieces are plain text the
    page renders as text nodes, so neither regex nor HTML in `q` or the message can
    do anything but match literally. Joining the texts gives back `message`.
    """
    if not q or not message:
        return [(message, False)] if message else []
    parts: list[tuple[str, bool]] = []
    position = 0
    for match in re.finditer(re.escape(q), message, flags=re.IGNORECASE):
        if match.start() == match.end():
            continue
        if match.start() > position:
            parts.append((message[position : match.start()], False))
        parts.append((match.group(0), True))
        position = match.end()
    if position < len(message):
        parts.append((message[position:], False))
    return parts


def source_groups(source: LogSource, glue_log_group_prefix: str) -> tuple[str, ...]:
    """The log groups a source's lines live in."""
    if source.kind == "function":
        return (f"/aws/lambda/{source.name}",)
    prefix = glue_log_group_prefix.rstrip("/")
    return (f"{prefix}/output", f"{prefix}/error")


def trim_to_limit(count: int, new: int, limit: int = MAX_LINES) -> int:
    """How many of the oldest lines to drop so `count + new` lines fit in `limit`."""
    return max(0, count + new - limit)


# --- reads --------------------------------------------------------------------------------


def _source_criteria(source: LogSource, glue_log_group_prefix: str) -> ColumnElement[bool]:
    groups = source_groups(source, glue_log_group_prefix)
    if source.kind == "function":
        return LogEvent.log_group == groups[0]
    return and_(LogEvent.log_group.in_(groups), LogEvent.log_stream == source.name)


def _filtered(
    session: Session, stmt: Select[tuple[LogEvent]], view: LogFilter, prefix: str
) -> Select[tuple[LogEvent]]:
    stmt = stmt.where(_source_criteria(view.source, prefix), LogEvent.ts >= view.since)
    if view.until is not None:
        stmt = stmt.where(LogEvent.ts < view.until)
    allowed = levels_at_least(view.level)
    if allowed is not None:
        stmt = stmt.where(LogEvent.level.in_(allowed))
    if view.q:
        # The same literal, Unicode-folding match as /export/log-events.csv.
        stmt = stmt.where(contains(session, LogEvent.message, view.q))
    return stmt


def _rows(events: Sequence[LogEvent]) -> list[LogRow]:
    return [
        LogRow(e.id, e.log_group, e.log_stream, e.ts, e.level or "INFO", e.message) for e in events
    ]


def max_event_id(session: Session) -> int:
    """The highest log_events id (0 when empty): the tail's cursor, read off the primary key."""
    return int(session.scalar(select(func.max(LogEvent.id))) or 0)


def initial_lines(
    session: Session, view: LogFilter, prefix: str, limit: int = MAX_LINES
) -> tuple[list[LogRow], int, bool]:
    """The newest `limit` matching lines oldest first, the tail cursor, and whether more exist."""
    cursor = max_event_id(session)
    stmt = _filtered(session, select(LogEvent), view, prefix).where(LogEvent.id <= cursor)
    newest = list(
        session.scalars(stmt.order_by(LogEvent.ts.desc(), LogEvent.id.desc()).limit(limit + 1))
    )
    more = len(newest) > limit
    return _rows(newest[:limit][::-1]), cursor, more


def tail_lines(
    session: Session, view: LogFilter, prefix: str, after_id: int, limit: int = MAX_LINES
) -> tuple[list[LogRow], int]:
    """Matching lines stored since `after_id` (in id order) and the new cursor.

    The cursor advances to the table's highest id even when nothing matched, so rows
    of other streams are never looked at twice.
    """
    cursor = max_event_id(session)
    if cursor <= after_id:
        return [], after_id
    stmt = _filtered(session, select(LogEvent), view, prefix).where(
        LogEvent.id > after_id, LogEvent.id <= cursor
    )
    rows = list(session.scalars(stmt.order_by(LogEvent.id).limit(limit)))
    if len(rows) == limit:
        cursor = rows[-1].id  # read the rest next tick
    return _rows(rows), cursor


def first_error_id(session: Session, view: LogFilter, prefix: str) -> int | None:
    """The id of the earliest ERROR line of the source in the window (filters ignored)."""
    stmt = select(LogEvent.id).where(
        _source_criteria(view.source, prefix),
        LogEvent.level == "ERROR",
        LogEvent.ts >= view.since,
    )
    if view.until is not None:
        stmt = stmt.where(LogEvent.ts < view.until)
    return session.scalar(stmt.order_by(LogEvent.ts, LogEvent.id).limit(1))


def watched_streams(session: Session, source: LogSource, prefix: str) -> list[tuple[str, str]]:
    """The (group, stream) pairs a viewer on `source` asks the collector to follow."""
    groups = source_groups(source, prefix)
    if source.kind == "run":
        return [(g, source.name) for g in groups]
    recent = session.execute(
        select(LogStream.log_group, LogStream.log_stream)
        .where(LogStream.log_group == groups[0])
        .order_by(LogStream.last_event_at.desc().nulls_last(), LogStream.id.desc())
        .limit(WATCHED_FUNCTION_STREAMS)
    )
    return [(g, s) for g, s in recent]


def touch_watch(
    session: Session, streams: Sequence[tuple[str, str]], now: datetime, seconds: int = WATCH_S
) -> datetime:
    """Upsert `watched_until = now + seconds` for each stream; returns that instant.

    The only write the web tier makes for logs: the collector then reads these
    streams every second while the view stays open, and forgets them after.
    """
    until = now + timedelta(seconds=seconds)
    upsert(
        session,
        LogWatch,
        [{"log_group": g, "log_stream": s, "watched_until": until} for g, s in streams],
        conflict=["log_group", "log_stream"],
        update=["watched_until"],
    )
    return until


@dataclass(frozen=True)
class SourceOption:
    """One entry of the source picker."""

    source: LogSource
    label: str


def source_options(
    session: Session, selected: LogSource | None, limit: int = PICKER_RUNS
) -> list[SourceOption]:
    """Recent Glue runs (newest first) then Lambda functions, plus the selected source."""
    options: list[SourceOption] = []
    runs = session.execute(
        select(JobRun.run_id, JobRun.job_name, JobRun.state, JobRun.started_at)
        .order_by(JobRun.started_at.desc(), JobRun.run_id.desc())
        .limit(limit)
    ).all()
    for run_id, job, state, started in runs:
        label = f"Glue run · {job} · {state.title()} · started {iso_z(started)} · {run_id}"
        options.append(SourceOption(LogSource("run", run_id), label))
    functions = session.scalars(
        select(LambdaFunction.name).where(LambdaFunction.gone_at.is_(None)).order_by("name")
    ).all()
    for name in functions:
        options.append(SourceOption(LogSource("function", name), f"Lambda function · {name}"))
    if selected is not None and selected not in {o.source for o in options}:
        options.insert(0, SourceOption(selected, _selected_label(session, selected)))
    return options


def _selected_label(session: Session, source: LogSource) -> str:
    if source.kind == "run":
        run = session.get(JobRun, source.name)
        if run is not None:
            return (
                f"Glue run · {run.job_name} · {run.state.title()} · "
                f"started {iso_z(run.started_at)} · {run.run_id}"
            )
        return f"Glue run · {source.name}"
    return f"Lambda function · {source.name}"


def run_state(session: Session, run_id: str) -> str | None:
    """The stored state of a Glue run (None when unknown); tells the viewer if it is live."""
    return session.scalar(select(JobRun.state).where(JobRun.run_id == run_id))


def source_exists(session: Session, source: LogSource) -> bool:
    """Whether the database knows the run or function (for a clear 'not found' note)."""
    if source.kind == "run":
        return session.get(JobRun, source.name) is not None or bool(
            session.scalar(select(LogStream.id).where(LogStream.log_stream == source.name).limit(1))
        )
    return session.get(LambdaFunction, source.name) is not None or bool(
        session.scalar(
            select(LogStream.id)
            .where(or_(LogStream.log_group == f"/aws/lambda/{source.name}"))
            .limit(1)
        )
    )
