"""Callbacks of the Access page's token sections: mint, list and revoke (admins only).

Each section has one callback that draws its table and carries out its own creations
and revocations, so the table a button sits in is the one its click changed. Every
creation and revocation asks `require` and is audited (never with the secret).
"""

from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, no_update
from flask import has_request_context, request
from sqlalchemy.exc import SQLAlchemyError

from callbacks import payload
from dashapp.actions import audit
from dashapp.actions.auth import current_identity, require
from dashapp.db import db_error_line
from dashapp.identity import Forbidden, Identity, Role
from dashapp.models import AccessToken
from dashapp.services import Services, services
from dashapp.signin import sessions, tokens
from layouts import shell
from layouts.components import database_unreachable
from pages.access import layout as al
from pages.access import tokens_layout as tl


def _remote() -> str | None:
    return request.remote_addr if has_request_context() else None


def _base_url(svc: Services) -> str:
    base = svc.settings.public_url or (request.host_url if has_request_context() else "")
    return base.rstrip("/")


def _days(value: Any, default: int) -> int:
    found = payload.whole_number(value, 1, 366)
    return default if found is None else found


def _audit(
    session: Any, identity: Identity, action: str, target: str, now: Any, **detail: Any
) -> None:
    audit.record(
        session,
        identity,
        action=action,
        target=target,
        outcome="ok",
        at=now,
        detail=detail,
        remote_addr=_remote(),
    )


def mint_screen(svc: Services, label: str | None, page: str | None, days: Any) -> Any:
    try:
        identity = require(Role.admin, "mint_screen_token", target=label or "")
    except Forbidden as e:
        return tl.refused(str(e))
    limit = page if page in {p for p, _ in al.SCREEN_PAGES} else None
    now = svc.clock.now()
    with svc.sessions.begin() as session:
        raw, row = tokens.mint(
            session,
            kind=tokens.SCREEN,
            label=label or "wall screen",
            owner=identity,
            role=Role.viewer,
            now=now,
            lifetime_s=_days(days, 1) * 86400,
            page_limit=limit,
        )
        _audit(
            session, identity, "mint_screen_token", row.label, now, page=limit or "any", id=row.id
        )
    return tl.shown_once(f"Enrolment link for {row.label}", f"{_base_url(svc)}/kiosk/enrol?t={raw}")


def mint_api(
    svc: Services, label: str | None, role: str | None, scopes: list[str], days: Any
) -> Any:
    try:
        identity = require(Role.admin, "mint_api_token", target=label or "")
    except Forbidden as e:
        return tl.refused(str(e))
    chosen = tuple(s for s in scopes if s in tokens.SCOPES)
    if not chosen:
        return tl.refused("Choose at least one scope.")
    try:
        wanted = Role.parse(role or "viewer")
    except ValueError:
        wanted = Role.viewer
    now = svc.clock.now()
    with svc.sessions.begin() as session:
        raw, row = tokens.mint(
            session,
            kind=tokens.API,
            label=label or "api",
            owner=identity,
            role=wanted,
            now=now,
            lifetime_s=_days(days, 90) * 86400,
            scopes=chosen,
        )
        _audit(
            session,
            identity,
            "mint_api_token",
            row.label,
            now,
            role=row.role,
            scopes=list(chosen),
            id=row.id,
        )
    return tl.shown_once(f"API token {row.label}", raw)


def revoke_token(svc: Services, token_id: int, kind: str) -> Any:
    """Revoke a token of `kind` (a screen's also ends the device sessions it enrolled)."""
    try:
        identity = require(Role.admin, "revoke_token", target=str(token_id))
    except Forbidden as e:
        return tl.refused(str(e))
    now = svc.clock.now()
    with svc.sessions.begin() as session:
        row = session.get(AccessToken, token_id)
        if row is None or row.kind != kind:
            return no_update
        if tokens.revoke(session, token_id, by=identity.user, now=now) is None:
            return al.gone_notice()
        ended = 0
        if kind == tokens.SCREEN:
            ended = sessions.revoke_subject(
                session, tokens.device_subject(row), by=identity.user, now=now
            )
        _audit(session, identity, "revoke_token", row.label, now, kind=kind, sessions_ended=ended)
        return tl.revoked(row.label)


def table(svc: Services, kind: str) -> Any:
    if not current_identity().can(Role.admin):
        return None
    now = svc.clock.now()
    try:
        with svc.sessions() as session:
            rows = tokens.listed(session, now, kind)
    except SQLAlchemyError as e:
        return database_unreachable(db_error_line(e))
    return tl.screens_table(rows, now) if kind == tokens.SCREEN else tl.api_table(rows, now)


def _revoked_id() -> int | None:
    trigger = payload.mapping(ctx.triggered_id) or {}
    if trigger.get("type") == tl.TOKEN_REVOKE and ctx.triggered[0].get("value"):
        return payload.whole_number(trigger.get("token"), 1, payload.ROW_ID_MAX)
    return None


def register(app: Dash) -> None:
    revoke_all = Input({"type": tl.TOKEN_REVOKE, "token": ALL}, "n_clicks")

    @app.callback(
        Output(tl.SCREEN_TABLE, "children"),
        Output(tl.SCREEN_NEW, "children"),
        Input(shell.URL, "pathname"),
        Input(tl.SCREEN_CREATE, "n_clicks"),
        revoke_all,
        State(tl.SCREEN_LABEL, "value"),
        State(tl.SCREEN_PAGE, "value"),
        State(tl.SCREEN_DAYS, "value"),
    )
    def _screens(pathname: Any, create: Any, _revoke: Any, label: Any, page: Any, days: Any) -> Any:
        if pathname != al.PATH:
            return no_update, no_update
        svc = services()
        news: Any = no_update
        if ctx.triggered_id == tl.SCREEN_CREATE and create:
            news = mint_screen(svc, payload.text(label), payload.text(page), days)
        elif (token_id := _revoked_id()) is not None:
            news = revoke_token(svc, token_id, tokens.SCREEN)
        return table(svc, tokens.SCREEN), news

    @app.callback(
        Output(tl.API_TABLE, "children"),
        Output(tl.API_NEW, "children"),
        Input(shell.URL, "pathname"),
        Input(tl.API_CREATE, "n_clicks"),
        revoke_all,
        State(tl.API_LABEL, "value"),
        State(tl.API_ROLE, "value"),
        State(tl.API_SCOPES, "value"),
        State(tl.API_DAYS, "value"),
    )
    def _api(
        pathname: Any, create: Any, _revoke: Any, label: Any, role: Any, scopes: Any, days: Any
    ) -> Any:
        if pathname != al.PATH:
            return no_update, no_update
        svc = services()
        news: Any = no_update
        if ctx.triggered_id == tl.API_CREATE and create:
            text = payload.text
            news = mint_api(svc, text(label), text(role), payload.texts(scopes), days)
        elif (token_id := _revoked_id()) is not None:
            news = revoke_token(svc, token_id, tokens.API)
        return table(svc, tokens.API), news
