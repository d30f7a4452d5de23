"""The Access page's token sections: wall-screen enrolment links and API tokens.

A new secret is shown exactly once, in the notice that answers its creation; the
tables list what exists (never the secrets) with who made it, until when it works
and when it was last used, and a Revoke button.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from dashapp.models import AccessToken
from layouts.components import badge, empty_state, notice, time_ago

SCREEN_LABEL, SCREEN_PAGE, SCREEN_DAYS = (
    "access-screen-label",
    "access-screen-page",
    "access-screen-days",
)
SCREEN_CREATE, SCREEN_NEW, SCREEN_TABLE = (
    "access-screen-create",
    "access-screen-new",
    "access-screen-table",
)
API_LABEL, API_ROLE, API_SCOPES = "access-api-label", "access-api-role", "access-api-scopes"
API_DAYS, API_CREATE, API_NEW, API_TABLE = (
    "access-api-days",
    "access-api-create",
    "access-api-new",
    "access-api-table",
)
TOKEN_REVOKE = "access-token-revoke"  # pattern-matching type: {"type": …, "token": "<id>"}
ANY_PAGE = "__any__"


def _field(label: str, control: Any, control_id: str) -> html.Div:
    return html.Div([dbc.Label(label, html_for=control_id), control])


def _days(control_id: str, choices: Sequence[int], value: int) -> dbc.Select:
    return dbc.Select(
        id=control_id,
        options=[{"label": f"{d} day{'s' if d != 1 else ''}", "value": str(d)} for d in choices],
        value=str(value),
    )


def screens_section(pages: Sequence[tuple[str, str]]) -> html.Section:
    """Mint an enrolment link for a wall screen; `pages` are (path, name) it may be held to."""
    options = [{"label": "Any page (viewer)", "value": ANY_PAGE}] + [
        {"label": f"{name} ({path})", "value": path} for path, name in pages
    ]
    return html.Section(
        [
            html.H2("Wall screens", className="h4 mt-4"),
            html.P(
                "An enrolment link works once, on the screen that opens it, and turns into that "
                "screen's own session (viewer role, revocable above).",
                className="text-body-secondary",
            ),
            html.Div(
                [
                    _field(
                        "Screen name",
                        dbc.Input(id=SCREEN_LABEL, placeholder="ops-room-tv"),
                        SCREEN_LABEL,
                    ),
                    _field(
                        "Shows",
                        dbc.Select(id=SCREEN_PAGE, options=options, value="/wall"),
                        SCREEN_PAGE,
                    ),
                    _field("Link valid for", _days(SCREEN_DAYS, (1, 7, 30), 1), SCREEN_DAYS),
                    html.Div(
                        dbc.Button("Create enrolment link", id=SCREEN_CREATE),
                        className="align-self-end",
                    ),
                ],
                className="d-flex flex-wrap gap-3 mb-2",
            ),
            html.Div(id=SCREEN_NEW, role="status", className="mb-2"),
            html.Div(id=SCREEN_TABLE),
        ]
    )


def api_section() -> html.Section:
    return html.Section(
        [
            html.H2("API tokens", className="h4 mt-4"),
            html.P(
                [
                    "Send as ",
                    html.Code("Authorization: Bearer …"),
                    " to the CSV exports or /metrics.",
                ],
                className="text-body-secondary",
            ),
            html.Div(
                [
                    _field("Name", dbc.Input(id=API_LABEL, placeholder="prometheus"), API_LABEL),
                    _field(
                        "Role",
                        dbc.Select(
                            id=API_ROLE,
                            options=[
                                {"label": r, "value": r} for r in ("viewer", "operator", "admin")
                            ],
                            value="viewer",
                        ),
                        API_ROLE,
                    ),
                    html.Fieldset(
                        [
                            html.Legend("Scopes", className="form-label fs-6"),
                            dbc.Checklist(
                                id=API_SCOPES,
                                options=[
                                    {"label": "CSV exports", "value": "export"},
                                    {"label": "/metrics", "value": "metrics"},
                                ],
                                value=["metrics"],
                                inline=True,
                            ),
                        ]
                    ),
                    _field("Valid for", _days(API_DAYS, (30, 90, 365), 90), API_DAYS),
                    html.Div(
                        dbc.Button("Create API token", id=API_CREATE), className="align-self-end"
                    ),
                ],
                className="d-flex flex-wrap gap-3 mb-2",
            ),
            html.Div(id=API_NEW, role="status", className="mb-2"),
            html.Div(id=API_TABLE),
        ]
    )


def revoke_button(row: AccessToken) -> html.Button:
    return html.Button(
        "Revoke",
        id={"type": TOKEN_REVOKE, "token": str(row.id)},
        type="button",
        className="btn btn-outline-danger btn-sm",
        **{"aria-label": f"Revoke {row.kind} token {row.label}"},
    )


def _table(headers: Sequence[str], rows: list[html.Tr]) -> dbc.Table:
    head = html.Thead(html.Tr([html.Th(h, scope="col") for h in headers]))
    return dbc.Table(
        [head, html.Tbody(rows)], hover=True, responsive=True, className="align-middle"
    )


def _when(value: datetime | None, now: datetime, never: str) -> Any:
    return time_ago(value, now) if value is not None else never


def screens_table(rows: Sequence[AccessToken], now: datetime) -> Any:
    if not rows:
        return empty_state(
            "No enrolment links", "Create one above for each wall screen.", "display"
        )
    body = [
        html.Tr(
            [
                html.Td(r.label),
                html.Td(r.page_limit or "any page"),
                html.Td(r.owner),
                html.Td(_when(r.used_at, now, "not yet")),
                html.Td(html.Time(r.expires_at.strftime("%Y-%m-%d %H:%M UTC"))),
                html.Td(revoke_button(r)),
            ]
        )
        for r in rows
    ]
    return _table(("Screen", "Shows", "Created by", "Enrolled", "Link expires", ""), body)


def api_table(rows: Sequence[AccessToken], now: datetime) -> Any:
    if not rows:
        return empty_state("No API tokens", "Create one above for a script or Prometheus.", "key")
    body = [
        html.Tr(
            [
                html.Td(r.label),
                html.Td(r.owner),
                html.Td(r.role),
                html.Td(", ".join(r.scopes.get("scopes", []))),
                html.Td(_when(r.last_used_at, now, "never")),
                html.Td(html.Time(r.expires_at.strftime("%Y-%m-%d %H:%M UTC"))),
                html.Td(revoke_button(r)),
            ]
        )
        for r in rows
    ]
    return _table(("Name", "Owner", "Role", "Scopes", "Last used", "Expires", ""), body)


def shown_once(what: str, secret: str) -> html.Div:
    """The new secret, once: copy it now, it is not stored anywhere it could be shown again."""
    return notice(
        [
            html.Strong(f"{what} — copy it now; it is not shown again: "),
            html.Code(secret, className="smd-secret user-select-all text-break"),
        ],
        "success",
        "key-fill",
    )


def refused(message: str) -> html.Div:
    return notice(message, "warning", "shield-lock")


def revoked(label: str) -> html.Div:
    return badge(f"Revoked {label}", "secondary", "x-circle")
