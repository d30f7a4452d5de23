"""Callbacks of the log viewer: first read, live tail, watch heartbeat, jump, pause, URL.

- `load_view` (source, search, level or range changed): the newest matching lines,
  the tail cursor, the download link, and a watch on the streams when the view is live.
- `tail_view` (every 500 ms while live): only rows past the cursor, sent to the
  browser as a `dash.Patch` that appends them (and drops the oldest beyond
  `MAX_LINES`), so a tick with nothing new sends nothing but the status line.
- Clientside: keep the newest line in view unless paused, scroll to and focus the
  first error, and mirror the view's state in the address bar (`history.replaceState`,
  which does not re-render the page) so the URL is always a permalink.

Both server callbacks are thin: the pure functions here take `Services` and the
stored view and are tested without a browser.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, Patch, State, ctx, no_update
from sqlalchemy.exc import SQLAlchemyError

from callbacks import payload
from callbacks.timerange import register_time_range
from callbacks.url_state import register_url_state
from dashapp.clock import as_utc, iso_z
from dashapp.db import db_error_line
from dashapp.queries import logs as lq
from dashapp.services import Services, services
from dashapp.timerange import TimeRangeError, parse_range, query_end
from layouts import shell
from layouts.components import database_unreachable, notice
from layouts.timerange import range_ids
from pages import links
from pages.logs import layout as logs

# Renew the watch when it has fewer than this many seconds left (it lasts WATCH_S).
WATCH_RENEW_BEFORE_S = 20
HIDDEN_DOWNLOAD = "btn btn-sm btn-outline-primary d-none"
SHOWN_DOWNLOAD = "btn btn-sm btn-outline-primary"


@dataclass
class LoadResult:
    """Everything the first read puts on the page."""

    children: list[Any]
    view: dict[str, Any] | None
    status: str
    download_href: str
    download_class: str
    notices: list[Any]
    tail_disabled: bool
    jump_target: str | None = None


@dataclass
class TailResult:
    """New rows since the cursor, and the view advanced past them."""

    rows: list[lq.LogRow]
    view: dict[str, Any]
    drop: int = 0
    status: str | None = None
    download_href: str | None = None
    notices: list[Any] = field(default_factory=list)


_MAX_ID = 2**63 - 1  # the event id column's range


def stored_view(value: object) -> dict[str, Any] | None:
    """The view store as `load_view` wrote it, or None: a crafted or mangled store must
    stop the tail, not fail every tick."""
    found = payload.mapping(value)
    if found is None or not all(
        found.get(k) is None or isinstance(found[k], str) for k in ("q", "level")
    ):
        return None
    # Text goes back into SQL and the watch rows: narrowed like any input (NUL, surrogates).
    view = {**found, **{k: payload.text(found.get(k)) for k in ("source", "q", "level")}}
    if lq.source_from_value(view["source"]) is None or view["level"] not in (None, *lq.LEVELS):
        return None
    try:
        for key in ("since", "until", "watch_renew_at"):
            if key == "since" or view.get(key):
                as_utc(datetime.fromisoformat(view[key]))  # an offset past year 9999 overflows
        numbers = (view["cursor"], view.get("count") or 0)
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    if not all(isinstance(n, int) and 0 <= n <= _MAX_ID for n in numbers):
        return None
    return view


def view_filter(view: dict[str, Any]) -> lq.LogFilter:
    """The stored view back into the query filter."""
    source = lq.source_from_value(view["source"])
    assert source is not None
    until = datetime.fromisoformat(view["until"]) if view.get("until") else None
    return lq.LogFilter(
        source=source,
        since=datetime.fromisoformat(view["since"]),
        until=until,
        q=view.get("q"),
        level=view.get("level"),
    )


def _export_until(view: dict[str, Any], now: datetime) -> datetime:
    """A live view's download runs to where every page's reads end (`query_end`)."""
    if view.get("until"):
        return datetime.fromisoformat(view["until"])
    return query_end(now)


def export_href(
    source: lq.LogSource,
    glue_log_group_prefix: str,
    since: datetime,
    until: datetime,
    q: str | None = None,
    level: str | None = None,
) -> str:
    """The download of exactly a source's lines in a window: a run's lines are its stream (the
    run id) in both Glue groups, so the link names only the stream; a function's are its group.
    """
    if source.kind == "function":
        group = lq.source_groups(source, glue_log_group_prefix)[0]
        return links.log_events_export(group=group, q=q, level=level, since=since, until=until)
    return links.log_events_export(stream=source.name, q=q, level=level, since=since, until=until)


def _href(view: dict[str, Any], prefix: str, now: datetime) -> str:
    f = view_filter(view)
    return export_href(f.source, prefix, f.since, _export_until(view, now), f.q, f.level)


def load_view(
    svc: Services,
    source_value: str | None,
    q: str | None,
    level_value: str | None,
    range_value: str | None,
    jump_request: str | None = None,
) -> LoadResult:
    """The first read of a view (or a re-read after any filter changed)."""
    now = svc.clock.now()
    source = lq.source_from_value(source_value)
    if source is None:
        return LoadResult(
            [logs.empty_lines("Pick a Glue run or a Lambda function above to read its logs.")],
            None,
            "",
            "",
            HIDDEN_DOWNLOAD,
            [],
            True,
        )
    notices: list[Any] = []
    try:
        level = lq.parse_level(level_value)
    except lq.LogViewError as e:
        notices.append(notice(str(e), "warning", "exclamation-triangle-fill"))
        level = None
    try:
        window = parse_range(range_value, now, logs.DEFAULT_RANGE)
    except TimeRangeError as e:
        notices.append(
            notice(f"{e}; showing the last 7 days", "warning", "exclamation-triangle-fill")
        )
        window = parse_range(logs.DEFAULT_RANGE, now)
    query = lq.normalise_query(q)
    view_until = None if window.relative else window.until
    f = lq.LogFilter(source, window.since, view_until, query, level)
    prefix = svc.settings.glue_log_group_prefix
    try:
        with svc.sessions.begin() as session:
            exists = lq.source_exists(session, source)
            rows, cursor, more = lq.initial_lines(session, f, prefix)
            first_error = (
                lq.first_error_id(session, f, prefix) if jump_request == "first-error" else None
            )
            state = lq.run_state(session, source.name) if source.kind == "run" else None
            live = window.relative
            watch_renew_at = None
            if live:
                until = lq.touch_watch(session, lq.watched_streams(session, source, prefix), now)
                watch_renew_at = iso_z(until - timedelta(seconds=WATCH_RENEW_BEFORE_S))
    except SQLAlchemyError as e:
        return LoadResult(
            [database_unreachable(db_error_line(e))], None, "", "", HIDDEN_DOWNLOAD, [], True
        )
    what = "run" if source.kind == "run" else "function"
    if not exists:
        notices.append(
            notice(
                f"No Glue {what} {source.name!r} is known yet; lines appear here as soon as "
                "the collector stores them."
                if source.kind == "run"
                else f"No Lambda function {source.name!r} is known yet; lines appear here "
                "as soon as the collector stores them.",
                "info",
                "info-circle",
            )
        )
    jump_target = None
    if jump_request == "first-error":
        if first_error is None:
            notices.append(
                notice(f"This {what} has no error line in the range.", "info", "info-circle")
            )
        elif first_error in {r.id for r in rows}:
            jump_target = logs.line_dom_id(first_error)
        else:
            notices.append(
                notice(
                    "The first error is older than the lines kept on screen; "
                    "narrow the range or download the lines to read it.",
                    "info",
                    "info-circle",
                )
            )
    view: dict[str, Any] = {
        "source": source.value,
        "q": query,
        "level": level,
        "since": iso_z(window.since),
        "until": iso_z(view_until) if view_until else None,
        "cursor": cursor,
        "count": len(rows),
        "trimmed": more,
        "live": live,
        "watch_renew_at": watch_renew_at,
        "run_state": state,
    }
    children = logs.lines(rows, query) if rows else [logs.empty_lines(_nothing_yet(f, live))]
    return LoadResult(
        children=children,
        view=view,
        status=logs.status_text(len(rows), live, more, now),
        download_href=_href(view, prefix, now),
        download_class=SHOWN_DOWNLOAD if rows else HIDDEN_DOWNLOAD,
        notices=notices,
        tail_disabled=not live,
        jump_target=jump_target,
    )


def _nothing_yet(f: lq.LogFilter, live: bool) -> str:
    filtered = " matching the search and level" if (f.q or f.level) else ""
    later = " New lines appear here as they arrive." if live else ""
    return f"No log lines{filtered} in this range.{later}"


def tail_view(svc: Services, view: dict[str, Any]) -> TailResult:
    """New lines since the stored cursor; renews the watch when it is about to lapse."""
    now = svc.clock.now()
    prefix = svc.settings.glue_log_group_prefix
    f = view_filter(view)
    new_view = dict(view)
    with svc.sessions.begin() as session:
        rows, cursor = lq.tail_lines(session, f, prefix, int(view["cursor"]))
        renew_at = view.get("watch_renew_at")
        if renew_at and now >= datetime.fromisoformat(renew_at):
            until = lq.touch_watch(session, lq.watched_streams(session, f.source, prefix), now)
            new_view["watch_renew_at"] = iso_z(until - timedelta(seconds=WATCH_RENEW_BEFORE_S))
    new_view["cursor"] = cursor
    if not rows:
        return TailResult([], new_view)
    count = int(view.get("count") or 0)
    drop = lq.trim_to_limit(count, len(rows))
    kept_rows = rows[-lq.MAX_LINES :]
    new_view["count"] = count + len(rows) - drop
    new_view["trimmed"] = bool(view.get("trimmed")) or drop > 0
    return TailResult(
        rows=kept_rows,
        view=new_view,
        drop=min(drop, count),
        status=logs.status_text(new_view["count"], True, new_view["trimmed"], now),
        download_href=_href(view, prefix, now),
    )


def lines_patch(result: TailResult, q: str | None, replace: bool) -> Any:
    """The browser update: append new lines, drop the oldest beyond the limit.

    `replace` (the area showed the 'no lines yet' note) replaces the children instead.
    """
    new = logs.lines(result.rows, q)
    if replace or len(result.rows) >= lq.MAX_LINES:
        return new
    patch = Patch()
    for _ in range(result.drop):
        del patch[0]
    patch.extend(new)
    return patch


def tail_outputs(svc: Services, view: dict[str, Any] | None) -> tuple[Any, ...]:
    """What one tail tick writes: lines patch, view, status, download link and its class."""
    if not view:
        return (no_update,) * 5
    try:
        result = tail_view(svc, view)
    except SQLAlchemyError:
        return (no_update,) * 5  # the next tick retries; the first read shows the cause
    if not result.rows:
        return no_update, result.view, no_update, no_update, no_update
    replace = int(view.get("count") or 0) == 0
    return (
        lines_patch(result, view.get("q"), replace),
        result.view,
        result.status,
        result.download_href,
        SHOWN_DOWNLOAD,
    )


def source_options(svc: Services, selected: str | None) -> list[dict[str, str]]:
    """The picker's options: recent runs, then functions, the selected one always there."""
    with svc.sessions() as session:
        found = lq.source_options(session, lq.source_from_value(selected))
    return [{"label": o.label, "value": o.source.value} for o in found]


def options_digest(options: list[dict[str, str]]) -> str:
    """A short fingerprint of the picker's options, to tell whether they changed."""
    return hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()[:16]


def register(app: Dash) -> None:
    """Wire the viewer's callbacks (and its time range picker)."""
    register_time_range(app, logs.PAGE)
    range_value = range_ids(logs.PAGE).value

    # On the refresh timer too: a run that just started can be picked without a reload.
    # Unchanged options are not sent again (a digest of them stays in the page, not the
    # options themselves), so an open dropdown is left alone.
    @app.callback(
        Output(logs.SOURCE, "options"),
        Output(logs.SOURCE_DIGEST, "data"),
        Input(logs.SOURCE, "id"),
        Input(shell.REFRESH, "n_intervals"),
        State(logs.SOURCE, "value"),
        State(logs.SOURCE_DIGEST, "data"),
    )
    def _options(_id: str, _n: int | None, selected: str | None, digest: str | None) -> Any:
        selected, digest = payload.text(selected), payload.text(digest)
        try:
            found = source_options(services(), selected)
        except SQLAlchemyError:
            if digest:
                return no_update, no_update
            return ([{"label": selected, "value": selected}] if selected else []), None
        new = options_digest(found)
        return (no_update, no_update) if new == digest else (found, new)

    @app.callback(
        Output(logs.LINES, "children"),
        Output(logs.VIEW, "data"),
        Output(logs.STATUS, "children"),
        Output(logs.DOWNLOAD, "href"),
        Output(logs.DOWNLOAD, "className"),
        Output(logs.NOTICE, "children"),
        Output(logs.TAIL, "disabled"),
        Output(logs.JUMP_TARGET, "data"),
        Input(logs.SOURCE, "value"),
        Input(logs.SEARCH, "value"),
        Input(logs.LEVEL, "value"),
        Input(range_value, "data"),
        Input(logs.JUMP, "n_clicks"),
        State(logs.JUMP_REQUEST, "data"),
    )
    def _load(
        source: str | None,
        q: str | None,
        level: str | None,
        range_text: str | None,
        _jump_clicks: int | None,
        jump_request: str | None,
    ) -> tuple[Any, ...]:
        jump = "first-error" if ctx.triggered_id == logs.JUMP else payload.text(jump_request)
        text = payload.text
        r = load_view(services(), text(source), text(q), text(level), range_text, jump)
        return (
            r.children,
            r.view,
            r.status,
            r.download_href,
            r.download_class,
            r.notices,
            r.tail_disabled,
            r.jump_target,
        )

    @app.callback(
        Output(logs.LINES, "children", allow_duplicate=True),
        Output(logs.VIEW, "data", allow_duplicate=True),
        Output(logs.STATUS, "children", allow_duplicate=True),
        Output(logs.DOWNLOAD, "href", allow_duplicate=True),
        Output(logs.DOWNLOAD, "className", allow_duplicate=True),
        Input(logs.TAIL, "n_intervals"),
        State(logs.VIEW, "data"),
        prevent_initial_call=True,
    )
    def _tail(_n: int | None, view: dict[str, Any] | None) -> tuple[Any, ...]:
        return tail_outputs(services(), stored_view(view))

    app.clientside_callback(
        ClientsideFunction(namespace="smd", function_name="logsScroll"),
        Output(logs.SCROLLED, "data"),
        Input(logs.VIEW, "data"),
        Input(logs.PAUSED, "data"),
        State(logs.LINES, "id"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="smd", function_name="logsJump"),
        Output(logs.PAUSED, "data", allow_duplicate=True),
        Input(logs.JUMP_TARGET, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="smd", function_name="logsPause"),
        Output(logs.PAUSED, "data"),
        Input(logs.PAUSE, "n_clicks"),
        State(logs.PAUSED, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="smd", function_name="logsPauseLabel"),
        Output(logs.PAUSE, "aria-pressed"),
        Output(logs.PAUSE, "className"),
        Input(logs.PAUSED, "data"),
    )
    register_url_state(app, logs.URL_STATE)
