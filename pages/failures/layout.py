"""Failed runs (`/failures`): every failed run across jobs, and re-running many at once.

After an outage an operator wants the failures of the last hours in one list, with
their errors, how many attempts each already had and whether the auto-retry is
handling it, then to re-run a chosen set in one go. The confirmation lists exactly
the runs that will start again; the result says, per run, what happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp.actions.jobcontrol import ActionResult
from dashapp.clock import iso_z
from dashapp.queries.retries import FailedRun
from dashapp.timerange import normalise_range
from layouts.components import icon, loading, notice, paged_grid_options
from layouts.timerange import range_ids, time_range_picker
from layouts.url_state import UrlState, url_stores
from pages import links

PATH = links.FAILURES
NAME = "Failed runs"

PAGE = "failures"  # the time range picker's key
JOB = "failures-job"
REFRESH = "failures-refresh"
GRID = "failures-grid"
STATUS = "failures-status"
RERUN = "failures-rerun"
RERUN_HINT = "failures-rerun-hint"
MODAL = "failures-modal"
MODAL_TITLE = "failures-modal-title"
MODAL_BODY = "failures-modal-body"
CONFIRM = "failures-confirm"
CANCEL = "failures-cancel"
TOKEN = "failures-token"
RESULTS = "failures-results"

DEFAULT_RANGE = "7d"  # after an outage, the week's failures
ALL_JOBS = "__all__"


COLUMNS: tuple[tuple[str, str], ...] = (
    ("job_name", "Job"),
    ("run_id", "Run"),
    ("state", "State"),
    ("started_at", "Started (UTC)"),
    ("attempt", "Attempt"),
    ("error_message", "Error"),
    ("auto_retry", "Auto-retry"),
    ("retried_by", "Re-run as"),
)


URL_STATE = UrlState(
    PAGE,
    {"range": (range_ids(PAGE).value, "data"), "job": (JOB, "value")},
    defaults={"range": DEFAULT_RANGE, "job": ALL_JOBS},
)


def layout(**query: str) -> html.Div:
    """Filters (`?range=&job=`, kept in the URL), the grid (filled by callbacks), bulk re-run."""
    value, error = normalise_range(query.get("range"), DEFAULT_RANGE)
    job = query.get("job") or ALL_JOBS
    return html.Div(
        [
            *url_stores(URL_STATE),
            html.H1(NAME, className="h2"),
            html.P(
                "Runs that failed, timed out or were stopped, across every job: their error, "
                "their attempt and what the automatic retry does about them. Select runs "
                "to start them again with their own arguments.",
                className="lead smd-lead",
            ),
            html.Div(time_range_picker(PAGE, value, error), className="smd-controls mb-3"),
            html.Div(
                [
                    html.Div(
                        [
                            dbc.Label("Job", html_for=JOB),
                            dbc.Select(
                                id=JOB,
                                options=[{"label": "All jobs", "value": ALL_JOBS}],
                                value=job,
                            ),
                        ]
                    ),
                    html.Button(
                        [icon("arrow-repeat", "me-1"), "Refresh"],
                        id=REFRESH,
                        type="button",
                        className="btn btn-secondary align-self-end",
                    ),
                ],
                className="d-flex flex-wrap gap-3 mb-3",
            ),
            html.Div(loading("failed runs"), id=STATUS, className="mb-2", role="status"),
            grid(),
            html.Div(
                [
                    html.Button(
                        [icon("arrow-clockwise", "me-1"), "Re-run selected…"],
                        id=RERUN,
                        type="button",
                        className="btn btn-primary",
                        disabled=True,
                    ),
                    html.Small(
                        "Select failed runs in the table to re-run them.",
                        id=RERUN_HINT,
                        className="text-body-secondary",
                    ),
                ],
                className="d-flex align-items-center gap-2 mt-3",
            ),
            html.Div(id=RESULTS, className="mt-3", role="status"),
            dcc.Store(id=TOKEN),
            dbc.Modal(
                [
                    dbc.ModalHeader(dbc.ModalTitle("Re-run these runs?", id=MODAL_TITLE)),
                    dbc.ModalBody(id=MODAL_BODY),
                    dbc.ModalFooter(
                        [
                            dbc.Button("Cancel", id=CANCEL, color="secondary"),
                            dbc.Button(
                                [icon("arrow-clockwise", "me-1"), "Re-run"],
                                id=CONFIRM,
                                color="primary",
                            ),
                        ]
                    ),
                ],
                id=MODAL,
                is_open=False,
                labelledby=MODAL_TITLE,
                size="lg",
            ),
        ]
    )


def grid() -> dag.AgGrid:
    """Multi-row selection with checkboxes; rows keep their selection across refreshes."""
    column_defs: list[dict[str, Any]] = []
    for field, header in COLUMNS:
        col: dict[str, Any] = {"field": field, "headerName": header, "sortable": True}
        if field == "job_name":
            col.update({"pinned": "left", "minWidth": 180})
        if field == "error_message":
            col.update({"minWidth": 260, "wrapText": True, "autoHeight": True, "flex": 2})
        if field == "auto_retry":
            col.update({"minWidth": 240, "wrapText": True, "autoHeight": True, "flex": 1})
        if field == "attempt":
            col.update({"type": "rightAligned", "maxWidth": 110})
        column_defs.append(col)
    return dag.AgGrid(
        id=GRID,
        columnDefs=column_defs,
        rowData=[],
        defaultColDef={"resizable": True, "filter": True},
        dashGridOptions=paged_grid_options(
            "No failed runs in this time range.",
            rowSelection={"mode": "multiRow", "checkboxes": True, "headerCheckbox": True},
            selectionColumnDef={"pinned": "left"},
        ),
        getRowId="params.data.run_id",
        className="smd-failures-grid",
        style={"width": "100%"},
    )


def rows(runs: Sequence[FailedRun]) -> list[dict[str, Any]]:
    """Grid rows: JSON-ready values, times in ISO 8601 UTC."""
    return [
        {
            "run_id": r.run_id,
            "job_name": r.job_name,
            "state": r.state,
            "started_at": iso_z(r.started_at),
            "attempt": r.attempt,
            "error_message": r.error_message or "",
            "auto_retry": r.auto_retry,
            "retried_by": r.retried_by or "",
        }
        for r in runs
    ]


def confirmation(selected: Sequence[dict[str, Any]]) -> html.Div:
    """The modal's body: exactly the runs that will start again."""
    return html.Div(
        [
            html.P(
                f"{len(selected)} run{'s' if len(selected) != 1 else ''} will start again, each "
                "with its own arguments. Every re-run is a new Glue run, billed as one."
            ),
            html.Ul(
                [
                    html.Li([html.Strong(r.get("job_name", "")), " · ", html.Code(r["run_id"])])
                    for r in selected
                ],
                className="smd-rerun-list",
            ),
        ]
    )


def results(outcomes: Sequence[ActionResult]) -> html.Div:
    """One line per run: started as which run, or why not."""
    ok = sum(1 for o in outcomes if o.ok)
    tone = "success" if ok == len(outcomes) else ("warning" if ok else "danger")
    items = [
        html.Li(
            [
                icon("check-circle-fill" if o.ok else "x-octagon-fill", "me-1"),
                html.Code(o.source_run_id or o.job_name),
                ": ",
                o.message,
            ]
        )
        for o in outcomes
    ]
    return notice(
        [html.P(f"{ok} of {len(outcomes)} re-runs started.", className="mb-1"), html.Ul(items)],
        tone,
        "info-circle",
    )
