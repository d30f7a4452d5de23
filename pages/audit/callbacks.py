"""Callbacks of the Audit log page: the admin gate once per visit, then the filtered table."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, no_update
from sqlalchemy.exc import SQLAlchemyError

from callbacks import payload
from callbacks.timerange import register_time_range
from callbacks.url_state import register_url_state
from dashapp.actions.auth import current_identity, require
from dashapp.db import db_error_line
from dashapp.identity import Forbidden, Role
from dashapp.queries import audit as audit_queries
from dashapp.services import Services, services
from dashapp.timerange import resolve_range
from layouts import shell
from layouts.components import database_unreachable
from layouts.timerange import range_ids
from pages.audit import layout as al


def gate_view(svc: Services, chosen_action: str | None = None) -> tuple[Any, bool, Any]:
    """(gate message, content hidden, action options): admins see the log, others why not."""
    try:
        require(Role.admin, "view_audit_log", target=al.PATH)
    except Forbidden as e:
        return al.denied(str(e)), True, no_update
    try:
        with svc.sessions() as session:
            actions = audit_queries.audit_actions(session)
    except SQLAlchemyError as e:
        return database_unreachable(db_error_line(e)), True, no_update
    return None, False, al.action_options(actions, chosen_action)


def table_view(
    svc: Services,
    range_value: str | None,
    actor: str | None,
    action: str | None,
    outcome: str | None,
) -> tuple[Any, Any]:
    """(rows, status line); nothing for anyone below admin."""
    if not current_identity().can(Role.admin):
        return [], None
    now = svc.clock.now()
    window, _ = resolve_range(range_value, now, al.DEFAULT_RANGE)
    until = window.query_until
    try:
        with svc.sessions() as session:
            entries = audit_queries.audit_entries(
                session,
                since=window.since,
                until=until,
                actor=(actor or "").strip() or None,
                action=None if action in (None, al.ANY) else action,
                outcome=None if outcome in (None, al.ANY) else outcome,
            )
    except SQLAlchemyError as e:
        return [], database_unreachable(db_error_line(e))
    n = len(entries)
    return al.rows(entries), f"{n} entr{'ies' if n != 1 else 'y'}"


def register(app: Dash) -> None:
    register_time_range(app, al.PAGE)
    rid = range_ids(al.PAGE)
    register_url_state(app, al.URL_STATE)

    @app.callback(
        Output(al.GATE, "children"),
        Output(al.CONTENT, "hidden"),
        Output(al.ACTION, "options"),
        Input(shell.URL, "pathname"),
        State(al.ACTION, "value"),
    )
    def _gate(pathname: str | None, action: str | None) -> Any:
        if pathname != al.PATH:
            return no_update, no_update, no_update
        return gate_view(services(), payload.text(action))

    @app.callback(
        Output(al.GRID, "rowData"),
        Output(al.STATUS, "children"),
        Input(rid.value, "data"),
        Input(al.ACTOR, "value"),
        Input(al.ACTION, "value"),
        Input(al.OUTCOME, "value"),
        Input(shell.REFRESH, "n_intervals"),
    )
    def _table(range_value: Any, actor: Any, action: Any, outcome: Any, _n: Any) -> Any:
        text = payload.text
        return table_view(services(), range_value, text(actor), text(action), text(outcome))
