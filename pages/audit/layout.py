"""Audit log (`/audit`, admins): who did what to which target, how it ended, and when.

Every user action and every denial is written in the action's own transaction
(`dashapp/audit.py`); this page reads them back with filters. Anyone below admin
sees which role the page needs (and that look is itself audited as a denial).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import html

from dashapp.actions.audit import OUTCOMES
from dashapp.clock import iso_z
from dashapp.queries.audit import AuditRow
from dashapp.timerange import normalise_range
from layouts.components import loading, notice, paged_grid_options
from layouts.timerange import range_ids, time_range_picker
from layouts.url_state import UrlState, url_stores
from pages import links

PATH = links.AUDIT
NAME = "Audit log"

GATE = "audit-gate"
CONTENT = "audit-content"
PAGE = "audit"  # the time range picker's key
ACTOR = "audit-actor"
ACTION = "audit-action"
OUTCOME = "audit-outcome"
STATUS = "audit-status"
GRID = "audit-grid"
ANY = "__any__"
DEFAULT_RANGE = "7d"

COLUMNS: tuple[tuple[str, str], ...] = (
    ("at", "When (UTC)"),
    ("actor", "Who"),
    ("role", "Role"),
    ("action", "Action"),
    ("target", "Target"),
    ("outcome", "Outcome"),
    ("detail", "Detail"),
)


URL_STATE = UrlState(
    PAGE,
    {
        "range": (range_ids(PAGE).value, "data"),
        "actor": (ACTOR, "value"),
        "action": (ACTION, "value"),
        "outcome": (OUTCOME, "value"),
    },
    defaults={"range": DEFAULT_RANGE, "action": ANY, "outcome": ANY},
)


def layout(**query: str) -> html.Div:
    """The gate (filled per visit) and the filtered table, hidden until the role is known.

    The filters start from the link (`?range=&actor=&action=&outcome=`) and are kept in it.
    """
    value, error = normalise_range(query.get("range"), DEFAULT_RANGE)
    action = query.get("action") or ANY
    outcome = query.get("outcome") if query.get("outcome") in OUTCOMES else ANY
    return html.Div(
        [
            *url_stores(URL_STATE),
            html.H1(NAME, className="h2"),
            html.P(
                "Every action users (and the automatic retry) took, and every request a role "
                "did not allow, newest first.",
                className="lead smd-lead",
            ),
            html.Div(loading("the audit log"), id=GATE),
            html.Div(
                [
                    html.Div(time_range_picker(PAGE, value, error), className="smd-controls mb-2"),
                    html.Div(
                        [
                            _field(
                                "Who",
                                dbc.Input(
                                    id=ACTOR,
                                    type="search",
                                    placeholder="user name",
                                    debounce=True,
                                    value=query.get("actor", ""),
                                ),
                                ACTOR,
                            ),
                            _field(
                                "Action",
                                dbc.Select(
                                    id=ACTION,
                                    options=action_options([], action),
                                    value=action,
                                ),
                                ACTION,
                            ),
                            _field(
                                "Outcome",
                                dbc.Select(
                                    id=OUTCOME,
                                    options=[{"label": "Any outcome", "value": ANY}]
                                    + [{"label": o, "value": o} for o in OUTCOMES],
                                    value=outcome,
                                ),
                                OUTCOME,
                            ),
                        ],
                        className="d-flex flex-wrap gap-3 mb-3",
                    ),
                    html.Div(id=STATUS, className="mb-2", role="status"),
                    grid(),
                ],
                id=CONTENT,
                hidden=True,
            ),
        ]
    )


def action_options(actions: Sequence[str], chosen: str | None) -> list[dict[str, str]]:
    """'Any action' plus every recorded action, and the one a link asked for even when
    nothing recorded it yet (so the select shows it rather than a blank)."""
    names = list(actions)
    if chosen and chosen != ANY and chosen not in names:
        names.append(chosen)
    return [{"label": "Any action", "value": ANY}] + [{"label": a, "value": a} for a in names]


def _field(label: str, control: Any, control_id: str) -> html.Div:
    return html.Div([dbc.Label(label, html_for=control_id), control])


_WIDTHS = {"at": 210, "actor": 170, "role": 110, "action": 160, "target": 200, "outcome": 120}


def grid() -> dag.AgGrid:
    column_defs: list[dict[str, Any]] = []
    for field, header in COLUMNS:
        col: dict[str, Any] = {"field": field, "headerName": header, "sortable": True}
        col["width"] = _WIDTHS.get(field, 160)
        if field == "detail":
            col.update({"flex": 1, "minWidth": 360, "wrapText": True, "autoHeight": True})
        if field == "at":
            col["sort"] = "desc"
        column_defs.append(col)
    return dag.AgGrid(
        id=GRID,
        columnDefs=column_defs,
        rowData=[],
        defaultColDef={"resizable": True, "filter": True},
        dashGridOptions=paged_grid_options("No audit entries match."),
        getRowId="params.data.id",
        className="smd-audit-grid",
        style={"width": "100%"},
    )


def rows(entries: Sequence[AuditRow]) -> list[dict[str, Any]]:
    """Grid rows; the detail as compact JSON a reader can scan."""
    return [
        {
            "id": str(e.id),
            "at": iso_z(e.at),
            "actor": e.actor,
            "role": e.role,
            "action": e.action,
            "target": e.target,
            "outcome": e.outcome,
            "detail": json.dumps(e.detail, sort_keys=True, separators=(", ", ": ")),
        }
        for e in entries
    ]


def denied(message: str) -> html.Div:
    """What a viewer or operator sees instead of the log."""
    return notice(
        [html.Strong("This page needs the admin role. "), message], "warning", "shield-lock"
    )
