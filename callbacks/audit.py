"""Callbacks of the Audit log page: the admin gate once per visit, then the filtered table."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dash import Dash, Input, Output, no_update
from sqlalchemy.exc import SQLAlchemyError

from dashapp import audit_queries
from dashapp.auth import Forbidden, Role, current_identity, require
from dashapp.services import Services, services
from dashapp.web.health import db_error_line
from layouts import audit as al
from layouts import shell
from layouts.components import database_unreachable
from layouts.failures import DEFAULT_RANGE, RANGE_HOURS


def gate_view(svc: Services) -> tuple[Any, bool, Any]:
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
    options = [{"label": "Any action", "value": al.ANY}] + [
        {"label": a, "value": a} for a in actions
    ]
    return None, False, options


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
    hours = RANGE_HOURS.get(range_value or "", RANGE_HOURS[DEFAULT_RANGE])
    try:
        with svc.sessions() as session:
            entries = audit_queries.audit_entries(
                session,
                since=now - timedelta(hours=hours),
                until=now + timedelta(seconds=1),
                actor=(actor or "").strip() or None,
                action=None if action in (None, al.ANY) else action,
                outcome=None if outcome in (None, al.ANY) else outcome,
            )
    except SQLAlchemyError as e:
        return [], database_unreachable(db_error_line(e))
    n = len(entries)
    return al.rows(entries), f"{n} entr{'ies' if n != 1 else 'y'}"


def register(app: Dash) -> None:
    @app.callback(
        Output(al.GATE, "children"),
        Output(al.CONTENT, "hidden"),
        Output(al.ACTION, "options"),
        Input(shell.URL, "pathname"),
    )
    def _gate(pathname: str | None) -> Any:
        if pathname != al.PATH:
            return no_update, no_update, no_update
        return gate_view(services())

    @app.callback(
        Output(al.GRID, "rowData"),
        Output(al.STATUS, "children"),
        Input(al.RANGE, "value"),
        Input(al.ACTOR, "value"),
        Input(al.ACTION, "value"),
        Input(al.OUTCOME, "value"),
        Input(shell.REFRESH, "n_intervals"),
    )
    def _table(range_value: Any, actor: Any, action: Any, outcome: Any, _n: Any) -> Any:
        return table_view(services(), range_value, actor, action, outcome)
