"""Callbacks of the Athena page: run, follow, cancel, page the result, schema, cost, history.

The page reads the database only, except where a user acts (Run, Cancel) or reads a
result block (GetQueryResults, through `dashapp.actions.athena_results`). The query's
state comes from the collector, which follows every unfinished query each second;
the page polls the database once a second while the query is unfinished.
"""

from __future__ import annotations

import uuid
from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, State, ctx, no_update
from sqlalchemy.exc import SQLAlchemyError

from callbacks import payload
from callbacks.timerange import register_time_range
from callbacks.url_state import register_url_state
from dashapp.actions import athena as athena_actions
from dashapp.actions import athena_results
from dashapp.actions.auth import current_identity, require
from dashapp.athena_sql import unfiltered_partitions
from dashapp.aws.athena import ACTIVE_STATES
from dashapp.db import db_error_line
from dashapp.identity import Forbidden, Role
from dashapp.queries import athena as reads
from dashapp.services import Services, services
from dashapp.timerange import resolve_range
from layouts.components import database_unreachable, notice
from layouts.job_actions import NEEDS_OPERATOR
from layouts.timerange import range_ids
from pages import links
from pages.athena import layout as al
from pages.athena import views

_MAX_ROW = 10**9  # a block request past this is not one the grid sends


def parse_parameters(text: str | None) -> list[dict[str, str]]:
    """'date 2026-11-01' lines → typed parameters; a line without a type is a string."""
    found = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        kind, _, value = line.strip().partition(" ")
        if kind.lower() in athena_actions.PARAMETER_TYPES:
            found.append({"type": kind.lower(), "value": value.strip()})
        else:
            found.append({"type": "string", "value": line.strip()})
    return found


def parameters_text(parameters: list[dict[str, str]]) -> str:
    return "\n".join(f"{p.get('type', 'string')} {p.get('value', '')}" for p in parameters)


def database_options(svc: Services) -> tuple[list[dict[str, str]], str]:
    default = svc.settings.athena_database
    with svc.sessions() as session:
        names = reads.databases(session)
    names = sorted(set(names) | {default})
    return [{"label": n, "value": n} for n in names], default


def status_view(svc: Services, execution_id: str | None) -> tuple[Any, ...]:
    """(panel, poll disabled, cancel disabled, download href, download class, result for,
    grid columns)."""
    hidden = "btn btn-sm btn-outline-secondary d-none"
    if not execution_id:
        return (views.status_panel(None, svc.clock.now(), 0), True, True, "#", hidden, None, [])
    with svc.sessions() as session:
        q = reads.query(session, execution_id)
    tb_price = svc.settings.athena_tb_price
    if q is None:
        panel = notice(
            f"No query {execution_id!r} was run from this dashboard.", "warning", "question-circle"
        )
        return (panel, True, True, "#", hidden, None, [])
    active = q.state in ACTIVE_STATES
    succeeded = q.state == "SUCCEEDED"
    columns = [
        {"field": athena_results.field_name(i), "headerName": f"{c['name']} ({c['type']})"}
        for i, c in enumerate(q.columns or [])
    ]
    return (
        views.status_panel(q, svc.clock.now(), tb_price),
        not active,
        not active or not current_identity().can(Role.operator),
        links.athena_result_export(q.execution_id) if succeeded else "#",
        hidden.replace(" d-none", "") if succeeded else hidden,
        q.execution_id if succeeded else None,
        columns,
    )


def grid_block(svc: Services, execution_id: str | None, request: Any) -> tuple[Any, Any, str]:
    """(getRowsResponse, columns or no_update, note) for one block of the result."""
    if not execution_id or not request:
        return {"rowData": [], "rowCount": 0}, no_update, ""
    start = request.get("startRow") or 0
    if not isinstance(start, int) or not 0 <= start <= _MAX_ROW:
        return {"rowData": [], "rowCount": 0}, no_update, "That block of rows cannot be read."
    block = athena_results.read_block(svc.sessions, svc.aws.client("athena"), execution_id, start)
    response: dict[str, Any] = {"rowData": block.rows}
    if block.last_row is not None:
        response["rowCount"] = block.last_row
    columns = [
        {"field": athena_results.field_name(i), "headerName": f"{c['name']} ({c['type']})"}
        for i, c in enumerate(block.columns)
    ]
    note = block.note or (
        f"{block.last_row:,} rows" if block.last_row is not None else "more rows as you scroll"
    )
    return response, columns or no_update, note


def warning_view(svc: Services, sql: str | None) -> Any:
    if not (sql or "").strip():
        return None
    with svc.sessions() as session:
        partitioned = reads.partitioned_tables(reads.tables(session))
    found = unfiltered_partitions(sql or "", partitioned)
    if not found:
        return None
    return notice(
        "No partition filter on " + "; ".join(found) + ": Athena will read, and bill, every "
        "partition. Add a WHERE on a partition key to read only the days you need.",
        "warning",
        "exclamation-triangle-fill",
    )


def history_view(
    svc: Services, range_value: str | None, user: str | None, state: str | None
) -> tuple[Any, Any]:
    window, _ = resolve_range(range_value, svc.clock.now(), al.DEFAULT_RANGE)
    since, until = window.bounds
    f = reads.HistoryFilter(
        since,
        until,
        user=None if user in (None, al.ANY) else user,
        state=None if state in (None, al.ANY) else state,
    )
    with svc.sessions() as session:
        queries = reads.history(session, f)
        users = reads.history_users(session)
    options = [{"label": "Anyone", "value": al.ANY}] + [{"label": u, "value": u} for u in users]
    return views.history_rows(queries, svc.settings.athena_tb_price), options


def opened_editor(
    svc: Services, user: str, opened: dict[str, str] | None
) -> tuple[Any, Any, Any, Any]:
    """(sql, database, parameters text, message) for the URL's `q=` (run it again), `fork=`
    (a copy to change) or `saved=` (a saved query the user may open)."""
    opened = opened or {}
    with svc.sessions() as session:
        if opened.get("fork") or opened.get("q"):
            q = reads.query(session, opened.get("fork") or opened["q"])
            if q is not None and not opened.get("fork"):
                return (
                    q.sql,
                    q.database,
                    parameters_text(q.parameters or []),
                    notice(
                        "The editor holds this query: Run runs it again as a new query.",
                        "info",
                        "arrow-repeat",
                    ),
                )
            if q is not None:
                return (
                    q.sql,
                    q.database,
                    parameters_text(q.parameters or []),
                    notice(f"Editing a copy of query {q.execution_id}.", "info", "diagram-2"),
                )
        saved = opened.get("saved", "")
        if saved.isascii() and saved.isdigit() and len(saved) <= 9:  # '²' is a digit to isdigit
            s = reads.saved_query(session, int(saved), user)
            if s is not None:
                return (
                    s.sql,
                    s.database or no_update,
                    no_update,
                    notice(f"Opened saved query “{s.name}”.", "info", "bookmark"),
                )
            return (
                no_update,
                no_update,
                no_update,
                notice(
                    "That saved query does not exist or is private to someone else.",
                    "warning",
                    "lock",
                ),
            )
    return no_update, no_update, no_update, no_update


def run_action(
    svc: Services,
    sql: str | None,
    database: str | None,
    params: str | None,
    reuse: bool | None,
    minutes: Any,
    draft: str,
    forked_from: str | None = None,
) -> tuple[Any, ...]:
    """(query id, message, next request token, poll disabled) for Run; the role is checked
    first and a refusal changes nothing but the message."""
    try:
        identity = require(Role.operator, "athena.run", target=database or "")
    except Forbidden as e:
        return no_update, notice(str(e), "danger", "lock"), no_update, no_update
    try:
        reuse_minutes = int(minutes) if reuse else None
    except (TypeError, ValueError):
        message = "Not run: give result reuse in whole minutes."
        return no_update, notice(message, "danger", "x-octagon-fill"), no_update, no_update
    settings = svc.settings
    result = athena_actions.run_query(
        svc.sessions,
        svc.aws.client("athena"),
        identity,
        sql=sql,
        database=database or settings.athena_database,
        workgroup=settings.athena_workgroup,
        output_location=f"s3://{settings.athena_results_bucket}/results/",
        now=svc.clock.now(),
        request_token=draft,
        parameters=parse_parameters(params),
        reuse_minutes=reuse_minutes,
        forked_from=forked_from,
    )
    if not result.ok:
        return no_update, notice(result.message, "danger", "x-octagon-fill"), no_update, no_update
    started = notice(result.message, "success", "play-circle")
    return result.execution_id, started, uuid.uuid4().hex, False


def cancel_action(svc: Services, execution_id: str | None) -> Any:
    try:
        identity = require(Role.operator, "athena.cancel", target=execution_id or "")
    except Forbidden as e:
        return notice(str(e), "danger", "lock")
    if not execution_id:
        return no_update
    result = athena_actions.cancel_query(
        svc.sessions, svc.aws.client("athena"), identity, execution_id, svc.clock.now()
    )
    return notice(result.message, "info" if result.ok else "warning", "stop-circle")


def saved_view(
    svc: Services,
    saving: bool,
    name: str | None,
    shared: bool,
    sql: str | None,
    database: str | None,
) -> Any:
    """The saved-query list, after saving the editor's query when `saving`."""
    message = None
    if saving:
        try:
            identity = require(Role.operator, "athena.save", target=name or "")
        except Forbidden as e:
            message = notice(str(e), "danger", "lock")
        else:
            result = athena_actions.save_query(
                svc.sessions,
                identity,
                name=name,
                sql=sql,
                database=database,
                shared=shared,
                now=svc.clock.now(),
            )
            message = notice(result.message, "success" if result.ok else "danger", "bookmark")
    user = current_identity().user
    try:
        with svc.sessions() as session:
            listing = views.saved_list(reads.saved_queries(session, user), user)
    except SQLAlchemyError as e:
        listing = database_unreachable(db_error_line(e))
    return [message, listing] if message else listing


def register(app: Dash) -> None:
    register_time_range(app, al.PAGE)
    register_url_state(app, al.URL_STATE)
    rid = range_ids(al.PAGE)

    @app.callback(
        Output(al.DATABASE, "options"),
        Output(al.DATABASE, "value"),
        Output(al.SCHEMA_DB, "options"),
        Output(al.SCHEMA_DB, "value"),
        Output(al.RUN, "disabled"),
        Output(al.SAVE, "disabled"),
        Output(al.RUN, "title"),
        Input(al.DRAFT, "id"),
    )
    def _setup(_id: str) -> tuple[Any, ...]:
        svc = services()
        try:
            options, default = database_options(svc)
        except SQLAlchemyError:
            default = svc.settings.athena_database
            options = [{"label": default, "value": default}]
        can = current_identity().can(Role.operator)
        return options, default, options, default, not can, not can, "" if can else NEEDS_OPERATOR

    @app.callback(
        Output(al.SQL, "value"),
        Output(al.DATABASE, "value", allow_duplicate=True),
        Output(al.PARAMETERS, "value"),
        Output(al.MESSAGE, "children", allow_duplicate=True),
        Input(al.OPENED, "data"),
        prevent_initial_call="initial_duplicate",
    )
    def _open(opened: dict[str, str] | None) -> tuple[Any, ...]:
        return opened_editor(services(), current_identity().user, payload.text_fields(opened))

    @app.callback(Output(al.SCHEMA, "children"), Input(al.SCHEMA_DB, "value"))
    def _schema(database: str | None) -> Any:
        try:
            with services().sessions() as session:
                return views.schema_tree(reads.tables(session, payload.text(database)))
        except SQLAlchemyError as e:
            return database_unreachable(db_error_line(e))

    @app.callback(Output(al.WARNING, "children"), Input(al.SQL, "value"))
    def _warning(sql: str | None) -> Any:
        return warning_view(services(), payload.text(sql))

    @app.callback(
        Output(al.QUERY, "data"),
        Output(al.MESSAGE, "children"),
        Output(al.DRAFT, "data"),
        Output(al.POLL, "disabled", allow_duplicate=True),
        Input(al.RUN, "n_clicks"),
        State(al.SQL, "value"),
        State(al.DATABASE, "value"),
        State(al.PARAMETERS, "value"),
        State(al.REUSE, "value"),
        State(al.REUSE_MINUTES, "value"),
        State(al.DRAFT, "data"),
        State(al.OPENED, "data"),
        prevent_initial_call=True,
    )
    def _run(
        _n: int,
        sql: str | None,
        database: str | None,
        params: str | None,
        reuse: bool | None,
        minutes: Any,
        draft: str,
        opened: dict[str, str] | None,
    ) -> tuple[Any, ...]:
        text = payload.text
        found = payload.text_fields(opened)
        fork = found.get("fork") or found.get("q")
        token = text(draft) or uuid.uuid4().hex
        return run_action(
            services(), text(sql), text(database), text(params), reuse, minutes, token, fork
        )

    @app.callback(
        Output(al.MESSAGE, "children", allow_duplicate=True),
        Input(al.CANCEL, "n_clicks"),
        State(al.QUERY, "data"),
        prevent_initial_call=True,
    )
    def _cancel(_n: int, execution_id: str | None) -> Any:
        return cancel_action(services(), payload.text(execution_id))

    @app.callback(
        Output(al.STATUS, "children"),
        Output(al.POLL, "disabled"),
        Output(al.CANCEL, "disabled"),
        Output(al.DOWNLOAD, "href"),
        Output(al.DOWNLOAD, "className"),
        Output(al.RESULT_FOR, "data"),
        Output(al.GRID, "columnDefs"),
        Output(al.RESULT_BOX, "className"),
        Input(al.QUERY, "data"),
        Input(al.POLL, "n_intervals"),
        State(al.RESULT_FOR, "data"),
    )
    def _status(execution_id: str | None, _n: int | None, shown: str | None) -> tuple[Any, ...]:
        execution_id, shown = payload.text(execution_id), payload.text(shown)
        try:
            out = status_view(services(), execution_id)
        except SQLAlchemyError as e:
            down = database_unreachable(db_error_line(e))
            return (down, False, True, "#", no_update, no_update, no_update, no_update)
        box = "" if out[5] is not None else "d-none"
        if out[5] is not None and out[5] == shown and ctx.triggered_id == al.POLL:
            return (*out[:5], no_update, no_update, no_update)
        return (*out, box)

    app.clientside_callback(
        ClientsideFunction(namespace="smd", function_name="purgeGrid"),
        Output(al.RESULT_NOTE, "title"),
        Input(al.RESULT_FOR, "data"),
        State(al.GRID, "id"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(al.GRID, "getRowsResponse"),
        Output(al.GRID, "columnDefs", allow_duplicate=True),
        Output(al.RESULT_NOTE, "children"),
        Input(al.GRID, "getRowsRequest"),
        State(al.RESULT_FOR, "data"),
        prevent_initial_call=True,
    )
    def _rows(request: Any, execution_id: str | None) -> tuple[Any, Any, str]:
        return grid_block(services(), payload.text(execution_id), payload.mapping(request))

    app.clientside_callback(
        ClientsideFunction(namespace="smd", function_name="runOnCtrlEnter"),
        Output(al.SQL, "title"),
        Input(al.SQL, "id"),
        State(al.RUN, "id"),
    )

    @app.callback(
        Output(al.HISTORY, "rowData"),
        Output(al.HISTORY_USER, "options"),
        Input(rid.value, "data"),
        Input(al.HISTORY_USER, "value"),
        Input(al.HISTORY_STATE, "value"),
        Input(al.STATUS, "children"),
    )
    def _history(
        range_value: str | None, user: str | None, state: str | None, _s: Any
    ) -> tuple[Any, Any]:
        try:
            return history_view(services(), range_value, payload.text(user), payload.text(state))
        except SQLAlchemyError:
            return [], no_update

    @app.callback(Output(al.COSTS, "children"), Input(al.STATUS, "children"))
    def _costs(_s: Any) -> Any:
        svc = services()
        try:
            with svc.sessions() as session:
                totals = reads.cost_totals(session, current_identity().user, svc.clock.now())
        except SQLAlchemyError as e:
            return database_unreachable(db_error_line(e))
        return views.costs_line(totals, svc.settings.athena_tb_price)

    @app.callback(
        Output(al.SAVED, "children"),
        Input(al.SAVE, "n_clicks"),
        State(al.SAVE_NAME, "value"),
        State(al.SAVE_SHARED, "value"),
        State(al.SQL, "value"),
        State(al.DATABASE, "value"),
    )
    def _saved(
        n: int, name: str | None, shared: bool | None, sql: str | None, database: str | None
    ) -> Any:
        saving = bool(n) and ctx.triggered_id == al.SAVE
        text = payload.text
        return saved_view(
            services(), saving, text(name), payload.flag(shared), text(sql), text(database)
        )
