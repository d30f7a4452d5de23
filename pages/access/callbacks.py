"""Callbacks of the Access page: the admin gate, the sessions table and its Revoke buttons.

One callback draws the table and carries out a revocation, so the table a button sits
in is always the table its click changed. The role is asked of `require` for both.
"""

from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, ctx, no_update
from flask import g, has_request_context, request
from sqlalchemy.exc import SQLAlchemyError

from callbacks import payload
from dashapp.actions import audit
from dashapp.actions.auth import current_identity, require
from dashapp.db import db_error_line
from dashapp.identity import Forbidden, Role
from dashapp.services import Services, services
from dashapp.signin import sessions
from dashapp.signin.gate import REQUEST_RESOLVED
from layouts import shell
from layouts.components import database_unreachable
from pages.access import layout as al
from pages.access import token_callbacks


def own_session_id() -> int | None:
    resolved = g.get(REQUEST_RESOLVED) if has_request_context() else None
    return getattr(resolved, "session_id", None)


def gate_view() -> tuple[Any, bool]:
    """(gate message, content hidden): admins see the sessions, others which role it needs."""
    try:
        require(Role.admin, "view_sessions", target=al.PATH)
    except Forbidden as e:
        return al.denied(str(e)), True
    return None, False


def table_view(svc: Services) -> Any:
    now = svc.clock.now()
    try:
        with svc.sessions() as session:
            rows = sessions.active(
                session, now, svc.settings.auth_session_idle_s, svc.settings.auth_device_idle_s
            )
    except SQLAlchemyError as e:
        return database_unreachable(db_error_line(e))
    return al.sessions_table(rows, now, own_session_id())


def revoke_view(svc: Services, session_id: int) -> Any:
    """Revoke one session (admins only) and say what happened."""
    try:
        identity = require(Role.admin, "revoke_session", target=str(session_id))
    except Forbidden as e:
        return al.denied(str(e))
    now = svc.clock.now()
    with svc.sessions.begin() as session:
        row = sessions.revoke(session, session_id, by=identity.user, now=now)
        if row is None:
            return al.gone_notice()
        audit.record(
            session,
            identity,
            action="revoke_session",
            target=f"{row.user} (session {row.id})",
            outcome="ok",
            at=now,
            detail={"kind": row.kind, "role": row.role},
            remote_addr=request.remote_addr if has_request_context() else None,
        )
        return al.revoked_notice(row.user)


def register(app: Dash) -> None:
    token_callbacks.register(app)

    @app.callback(
        Output(al.GATE, "children"),
        Output(al.CONTENT, "hidden"),
        Input(shell.URL, "pathname"),
    )
    def _gate(pathname: str | None) -> Any:
        if pathname != al.PATH:
            return no_update, no_update
        return gate_view()

    @app.callback(
        Output(al.SESSIONS, "children"),
        Output(al.STATUS, "children"),
        Input(shell.URL, "pathname"),
        Input(al.RELOAD, "n_clicks"),
        Input({"type": al.REVOKE, "session": ALL}, "n_clicks"),
    )
    def _sessions(pathname: str | None, _reload: Any, _clicks: Any) -> Any:
        if pathname != al.PATH:
            return no_update, no_update
        svc = services()
        status: Any = None
        trigger = payload.mapping(ctx.triggered_id) or {}
        if trigger.get("type") == al.REVOKE:
            if not ctx.triggered[0].get("value"):
                return no_update, no_update  # a button appeared; nobody clicked it
            session_id = payload.whole_number(trigger.get("session"), 1, payload.ROW_ID_MAX)
            if session_id is None:
                return no_update, no_update
            status = revoke_view(svc, session_id)
        if not current_identity().can(Role.admin):
            return None, status  # the gate callback already said why (and audited it)
        return table_view(svc), status
