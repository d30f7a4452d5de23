"""Log viewer (`/logs`): one Glue run's or Lambda function's lines, live and searchable.

The URL holds the whole view (`run=` or `function=`, `q`, `level`, `range`, and
`jump=first-error`), so a link from a failed run's page opens straight on its first
error. The page skeleton is drawn here from the query; pages/logs/callbacks.py reads the
database, appends new lines as they are stored and keeps the URL in step.

Each line is text (never HTML): the time, the level as an icon *and* a word (an
error reads as an error without colour), the message with search matches in
`<mark>`. The line list is a keyboard-focusable, labelled scroll region.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp.clock import iso_z
from dashapp.queries.logs import (
    LEVELS,
    MAX_LINES,
    LogRow,
    LogViewError,
    highlight_parts,
    parse_level,
    parse_source,
)
from dashapp.timerange import normalise_range
from layouts.components import icon, loading, notice
from layouts.timerange import range_ids, time_range_picker
from layouts.url_state import UrlState, url_stores
from pages import links

PATH = links.LOGS
NAME = "Logs"
PAGE = "logs"
DEFAULT_RANGE = "7d"
TAIL_INTERVAL_MS = 500

SOURCE = "logs-source"
SEARCH = "logs-search"
LEVEL = "logs-level"
PAUSE = "logs-pause"
JUMP = "logs-jump"
DOWNLOAD = "logs-download"
STATUS = "logs-status"
NOTICE = "logs-notice"
PARAM_NOTICE = "logs-param-notice"
LINES = "logs-lines"
VIEW = "logs-view"  # store: cursor, count, source, filters, watch renewal
JUMP_TARGET = "logs-jump-target"  # store: DOM id of the line to scroll to and focus
JUMP_REQUEST = "logs-jump-request"  # store: "first-error" when the URL asked for it
PAUSED = "logs-paused"
TAIL = "logs-tail"
SCROLLED = "logs-scrolled"  # dummy output of the clientside scroll/URL callbacks
SOURCE_DIGEST = "logs-source-digest"  # which options the picker holds, so unchanged ones stay put

LEVEL_ICONS = {
    "ERROR": "x-octagon-fill",
    "WARN": "exclamation-triangle-fill",
    "INFO": "info-circle",
    "DEBUG": "bug",
}


URL_STATE = UrlState(
    PAGE,
    {
        "source": (SOURCE, "value"),  # "run:<id>" / "function:<name>" → run= / function=
        "q": (SEARCH, "value"),
        "level": (LEVEL, "value"),
        "range": (range_ids(PAGE).value, "data"),
    },
    defaults={"level": "ALL", "range": DEFAULT_RANGE},
    keep=("jump",),  # a reload still lands on the line the link asked for
    split=("source",),
)


def line_dom_id(event_id: int) -> str:
    """The DOM id of a drawn line, the target of 'jump to first error'."""
    return f"log-line-{event_id}"


def layout(**query: str) -> html.Div:
    """The viewer for the URL's query; bad parameters are named, never silently dropped."""
    problems: list[str] = []
    try:
        source = parse_source(query.get("run"), query.get("function"))
    except LogViewError as e:
        problems.append(str(e))
        source = None
    try:
        level = parse_level(query.get("level"))
    except LogViewError as e:
        problems.append(f"{e}; showing every level")
        level = None
    range_value, range_error = normalise_range(query.get("range"), DEFAULT_RANGE)
    jump = "first-error" if query.get("jump") == "first-error" else None
    if query.get("jump") and jump is None:
        problems.append(f"jump {query['jump']!r} is not known; the only jump is first-error")
    return html.Div(
        [
            html.H1(NAME, className="h2"),
            html.P(
                "Read a Glue run's or a Lambda function's log lines as they arrive, "
                "search them and download exactly what is shown.",
                className="lead smd-lead",
            ),
            controls(source.value if source else None, query.get("q") or "", level),
            time_range_picker(PAGE, range_value, range_error),
            html.Div(
                [notice(p, "warning", "exclamation-triangle-fill") for p in problems],
                id=PARAM_NOTICE,
                className="d-grid gap-2 mt-3",
            ),
            html.Div(id=NOTICE, className="d-grid gap-2 my-3"),
            toolbar(),
            html.Div(
                loading("log lines"),
                id=LINES,
                role="log",
                tabIndex=0,
                className="smd-log-lines",
                **{"aria-live": "off", "aria-label": "Log lines, oldest first"},
            ),
            dcc.Store(id=VIEW),
            dcc.Store(id=SOURCE_DIGEST),
            dcc.Store(id=JUMP_TARGET),
            dcc.Store(id=JUMP_REQUEST, data=jump),
            dcc.Store(id=PAUSED, data=False),
            dcc.Store(id=SCROLLED),
            *url_stores(URL_STATE),
            dcc.Interval(id=TAIL, interval=TAIL_INTERVAL_MS, disabled=True),
        ],
        className="smd-logs-page",
    )


def controls(source_value: str | None, q: str, level: str | None) -> html.Div:
    """Source picker, search box and level filter, each with a visible label."""
    level_options = [{"label": "All levels", "value": "ALL"}] + [
        {"label": f"{lv} and more severe" if lv != "ERROR" else "ERROR only", "value": lv}
        for lv in LEVELS
    ]
    return html.Div(
        [
            html.Div(
                [
                    html.Label("Log source", htmlFor=SOURCE, className="form-label"),
                    dbc.Select(
                        id=SOURCE,
                        options=(
                            [{"label": source_value, "value": source_value}] if source_value else []
                        ),
                        value=source_value or "",
                        placeholder="Pick a Glue run or a Lambda function",
                        className="smd-log-source",
                    ),
                ],
                className="col-12 col-lg-6",
            ),
            html.Div(
                [
                    html.Label("Search (case-insensitive)", htmlFor=SEARCH, className="form-label"),
                    dcc.Input(
                        id=SEARCH,
                        type="search",
                        value=q,
                        debounce=0.4,
                        placeholder="Text to find",
                        className="form-control",
                        autoComplete="off",
                    ),
                ],
                className="col-12 col-md-6 col-lg-3",
            ),
            html.Div(
                [
                    html.Label("Level", htmlFor=LEVEL, className="form-label"),
                    dbc.Select(id=LEVEL, options=level_options, value=level or "ALL"),
                ],
                className="col-12 col-md-6 col-lg-3",
            ),
        ],
        className="row g-3 mb-3 smd-log-controls",
    )


def toolbar() -> html.Div:
    """Pause, jump to the first error, download, and the status line."""
    return html.Div(
        [
            html.Button(
                [icon("pause-fill", "me-1"), "Pause auto-scroll"],
                id=PAUSE,
                type="button",
                className="btn btn-sm btn-outline-secondary",
                **{"aria-pressed": "false"},
            ),
            html.Button(
                [icon("skip-forward-fill", "me-1"), "Jump to first error"],
                id=JUMP,
                type="button",
                className="btn btn-sm btn-outline-secondary",
            ),
            html.A(
                [icon("download", "me-1"), "Download these lines (CSV)"],
                id=DOWNLOAD,
                href="/export/log-events.csv",
                className="btn btn-sm btn-outline-primary d-none",
                download="",
            ),
            html.Span(id=STATUS, className="ms-auto small smd-log-status"),
        ],
        className="d-flex flex-wrap align-items-center gap-2 mb-2 smd-log-toolbar",
    )


def line(row: LogRow, q: str | None) -> html.Div:
    """One log line: time, level (icon + word), message with matches marked."""
    level = row.level if row.level in LEVEL_ICONS else "INFO"
    message = [
        html.Mark(text, className="smd-log-match") if hit else text
        for text, hit in highlight_parts(row.message, q)
    ]
    return html.Div(
        [
            html.Time(_clock(row.ts), dateTime=iso_z(row.ts), className="smd-log-ts"),
            html.Span(
                [icon(LEVEL_ICONS[level], "me-1"), level],
                className=f"smd-log-level smd-log-level--{level.lower()}",
            ),
            html.Span(message, className="smd-log-msg"),
        ],
        id=line_dom_id(row.id),
        tabIndex=-1,
        className=f"smd-log-line smd-log-line--{level.lower()}",
    )


def lines(rows: list[LogRow], q: str | None) -> list[Any]:
    """Every row as a line, oldest first."""
    return [line(r, q) for r in rows]


def empty_lines(message: str) -> html.P:
    """What the line area says when there is nothing to show, and why."""
    return html.P([icon("info-circle", "me-2"), message], className="smd-log-empty mb-0")


def status_text(count: int, live: bool, trimmed: bool, now: datetime) -> str:
    """'1,234 lines · live, updated 18:32:17 UTC' (plus the browser-side limit when hit)."""
    parts = [f"{count:,} line{'' if count == 1 else 's'}"]
    if trimmed:
        parts.append(f"only the newest {MAX_LINES:,} are kept on screen; the download has all")
    parts.append(
        f"live, updated {now:%H:%M:%S} UTC" if live else f"as of {now:%H:%M:%S} UTC (not live)"
    )
    return " · ".join(parts)


def _clock(ts: datetime) -> str:
    return f"{ts:%Y-%m-%d %H:%M:%S}.{ts.microsecond // 1000:03d}"
