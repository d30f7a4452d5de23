"""Access (`/access`, admins): every session still valid, and a Revoke button for each.

A revoked session is refused on its very next request, on every worker (the sessions
live in the database). The table is read once per visit and after each revocation,
not on the refresh timer, so keyboard focus stays where the admin left it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from dashapp.models import AuthSession
from layouts.components import badge, empty_state, loading, notice, time_ago
from pages import links
from pages.access import tokens_layout

PATH = links.ACCESS
NAME = "Access"

GATE = "access-gate"
CONTENT = "access-content"
SESSIONS = "access-sessions"
STATUS = "access-status"
RELOAD = "access-reload"
REVOKE = "access-revoke"  # pattern-matching type: {"type": REVOKE, "session": "<row id>"}
# Pages a wall screen may be held to (its enrolment link names one, or none).
SCREEN_PAGES = (
    (links.WALL, "Wall screen"),
    (links.OVERVIEW, "Overview"),
    (links.PIPELINES, "Pipelines"),
    (links.LAMBDA, "Lambda"),
    (links.SYSTEM, "System status"),
)


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H1(NAME, className="h2"),
            html.P(
                "Who is signed in right now, from where, and until when; wall screens' enrolment "
                "links and API tokens. Revoking signs that browser, screen or script out on its "
                "next request.",
                className="lead smd-lead",
            ),
            html.Div(loading("the sessions"), id=GATE),
            html.Div(
                [
                    html.Div(
                        [
                            html.H2("Sessions", className="h4 mb-0"),
                            dbc.Button(
                                "Reload", id=RELOAD, color="secondary", outline=True, size="sm"
                            ),
                        ],
                        className="d-flex align-items-center gap-3 mb-2",
                    ),
                    html.Div(id=STATUS, role="status", className="mb-2"),
                    html.Div(id=SESSIONS),
                    tokens_layout.screens_section(SCREEN_PAGES),
                    tokens_layout.api_section(),
                ],
                id=CONTENT,
                hidden=True,
            ),
        ]
    )


def revoke_id(session_id: int) -> dict[str, str]:
    return {"type": REVOKE, "session": str(session_id)}


def _kind(row: AuthSession) -> html.Span:
    if row.kind == "device":
        return badge("Wall screen", "info", "display")
    return badge("Browser", "secondary", "person")


def sessions_table(rows: Sequence[AuthSession], now: datetime, own_id: int | None) -> Any:
    """One row per valid session; the admin's own is marked (revoking it signs them out)."""
    if not rows:
        return empty_state(
            "Nobody is signed in",
            "Sessions appear here as people sign in and wall screens enrol.",
            "person-slash",
        )
    header = html.Thead(
        html.Tr(
            [
                html.Th(h, scope="col")
                for h in ("Who", "Role", "Kind", "Signed in", "Last seen", "Ends", "From", "")
            ]
        )
    )
    body = []
    for row in rows:
        who: list[Any] = [row.display_name or row.user]
        if row.display_name and row.display_name != row.user:
            who += [html.Br(), html.Small(row.user, className="text-body-secondary")]
        if row.id == own_id:
            who += [" ", badge("You", "primary", "person-check")]
        body.append(
            html.Tr(
                [
                    html.Td(who),
                    html.Td(row.role),
                    html.Td(_kind(row)),
                    html.Td(time_ago(row.created_at, now)),
                    html.Td(time_ago(row.last_seen_at, now)),
                    html.Td(html.Time(row.expires_at.strftime("%Y-%m-%d %H:%M UTC"))),
                    html.Td(
                        [row.remote_addr or "—", html.Br(), html.Small(row.user_agent[:80])],
                        className="text-break",
                    ),
                    html.Td(
                        html.Button(
                            "Revoke",
                            id=revoke_id(row.id),
                            type="button",
                            className="btn btn-outline-danger btn-sm",
                            **{"aria-label": f"Revoke the session of {row.user}"},
                        )
                    ),
                ]
            )
        )
    return dbc.Table(
        [header, html.Tbody(body)], hover=True, responsive=True, className="align-middle"
    )


def denied(message: str) -> html.Div:
    return notice(
        [html.Strong("This page needs the admin role. "), message], "warning", "shield-lock"
    )


def revoked_notice(user: str) -> html.Div:
    return notice(f"Revoked the session of {user}.", "success", "check-circle-fill")


def gone_notice() -> html.Div:
    return notice("That session had already ended.", "secondary", "info-circle")
