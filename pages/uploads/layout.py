"""Uploads (`/uploads`): the history of every upload, filtered, with its trail and a CSV export.

Filters (dataset, status, user, time range) come from the query string too, so a
filtered view is a link to share; the export link carries the same filters to
`/export/uploads.csv`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp.config import Dataset
from dashapp.queries.uploads import STATUSES, UploadView
from dashapp.timerange import normalise_range
from layouts.components import icon, loading, paged_grid_options
from layouts.timerange import range_ids, time_range_picker
from layouts.url_state import UrlState, url_stores
from pages import links
from pages.upload.layout import STATUS_BADGES

PATH = links.UPLOADS
NAME = "Uploads"
DATASET = "uploads-dataset"
STATUS = "uploads-status"
USER = "uploads-user"
PAGE = "uploads"  # the time range picker's key
UPLOAD = "uploads-upload"  # the one upload a link asked for (a run's "Upload" fact)
UPLOAD_NOTE = "uploads-upload-note"
UPLOAD_CLEAR = "uploads-upload-clear"
GRID = "uploads-grid"
SUMMARY = "uploads-summary"
EXPORT = "uploads-export"
DEFAULT_RANGE = "7d"
ANY = "any"  # the select's "no filter" choice (an empty value would show as no choice)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("created_at", "Created (UTC)"),
    ("file", "File"),
    ("dataset", "Dataset"),
    ("uploaded_by", "User"),
    ("size_bytes", "Size (bytes)"),
    ("status", "Status"),
    ("run", "Run (logs)"),
    ("rows_read", "Rows read"),
    ("rows_written", "Rows written"),
    ("error", "Error"),
)


URL_STATE = UrlState(
    PAGE,
    {
        "dataset": (DATASET, "value"),
        "status": (STATUS, "value"),
        "user": (USER, "value"),
        "range": (range_ids(PAGE).value, "data"),
        "upload": (UPLOAD, "data"),
    },
    defaults={"dataset": ANY, "status": ANY, "range": DEFAULT_RANGE},
)


def layout(**query: str) -> html.Div:
    """The page skeleton, filters set from the query string (a shared link); the dataset
    choices and the rows come from pages/uploads/callbacks.py (no data before sign-in)."""
    return uploads_page(query)


def dataset_options(datasets: Sequence[Dataset]) -> list[dict[str, str]]:
    return [{"label": "All datasets", "value": ANY}] + [
        {"label": d.label, "value": d.name} for d in datasets
    ]


def _select(id_: str, label: str, options: list[dict[str, str]], value: str) -> html.Div:
    return html.Div(
        [
            html.Label(label, htmlFor=id_, className="form-label"),
            dbc.Select(id=id_, options=options, value=value),
        ],
        className="col-12 col-md-6 col-lg-3",
    )


def uploads_page(query: dict[str, str]) -> html.Div:
    # A dataset named in the link is kept as given; an unknown one matches nothing.
    dataset = query.get("dataset") or ANY
    status = query.get("status", ANY) if query.get("status") in STATUSES else ANY
    value, error = normalise_range(query.get("range"), DEFAULT_RANGE)
    upload = (query.get("upload") or "").strip() or None
    return html.Div(
        [
            *url_stores(URL_STATE),
            dcc.Store(id=UPLOAD, data=upload),
            html.H1(NAME, className="h2"),
            html.P(
                "Every file uploaded into a dataset, where it went and how its ingest ended.",
                className="lead smd-lead",
            ),
            html.Form(
                [
                    _select(
                        DATASET,
                        "Dataset",
                        [{"label": "All datasets", "value": ANY}]
                        + ([{"label": dataset, "value": dataset}] if dataset != ANY else []),
                        dataset,
                    ),
                    _select(
                        STATUS,
                        "Status",
                        [{"label": "Any status", "value": ANY}]
                        + [{"label": STATUS_BADGES[s][0], "value": s} for s in STATUSES],
                        status,
                    ),
                    html.Div(
                        [
                            html.Label("User", htmlFor=USER, className="form-label"),
                            dbc.Input(
                                id=USER,
                                type="search",
                                value=query.get("user", ""),
                                debounce=True,
                                placeholder="Any user",
                            ),
                        ],
                        className="col-12 col-md-6 col-lg-3",
                    ),
                    html.Div(time_range_picker(PAGE, value, error), className="col-12"),
                ],
                className="row g-3 mb-3",
                role="search",
                **{"aria-label": "Filter uploads"},
            ),
            html.Div(upload_note(upload), id=UPLOAD_NOTE, hidden=upload is None),
            html.Div(
                [
                    html.P(loading("uploads"), id=SUMMARY, className="mb-0", role="status"),
                    html.A(
                        [icon("download", "me-1"), "Export CSV"],
                        id=EXPORT,
                        href="/export/uploads.csv",
                        className="btn btn-secondary btn-sm",
                        download="",
                    ),
                ],
                className="d-flex justify-content-between align-items-center gap-2 mb-2",
            ),
            uploads_grid(),
        ]
    )


def uploads_grid() -> dag.AgGrid:
    """The sortable history; rows come from the callback."""
    defs: list[dict[str, Any]] = []
    for field, header in COLUMNS:
        col: dict[str, Any] = {"field": field, "headerName": header, "sortable": True}
        if field in ("size_bytes", "rows_read", "rows_written"):
            col["type"] = "rightAligned"
        if field == "run":
            col["cellRenderer"] = "markdown"
        if field == "file":
            col["minWidth"] = 200
        if field == "error":
            col.update({"minWidth": 260, "wrapText": True, "autoHeight": True})
        defs.append(col)
    return dag.AgGrid(
        id=GRID,
        columnDefs=defs,
        rowData=[],
        columnSize="autoSize",
        defaultColDef={"resizable": True},
        dashGridOptions=paged_grid_options("No upload matches these filters."),
        getRowId="params.data.id",
        className="smd-uploads-grid",
        style={"width": "100%"},
    )


def _run_link(run_id: str, failed: bool) -> str:
    return f"[{_short(run_id)}]({links.run_logs_href(run_id, first_error=failed)})"


def grid_rows(views: Sequence[UploadView], labels: dict[str, str]) -> list[dict[str, Any]]:
    """Rows for the grid: plain values, a markdown link from the run to its logs."""
    return [
        {
            "id": v.id,
            "created_at": f"{v.created_at:%Y-%m-%d %H:%M:%S}",
            "file": v.original_name,
            "dataset": labels.get(v.dataset, v.dataset),
            "uploaded_by": v.uploaded_by,
            "size_bytes": v.size_bytes,
            "status": STATUS_BADGES.get(v.status, (v.status, "", ""))[0],
            "run": _run_link(v.run_id, v.status == "failed") if v.run_id else "",
            "rows_read": v.rows_read,
            "rows_written": v.rows_written,
            "error": v.error or "",
        }
        for v in views
    ]


def _short(run_id: str) -> str:
    """Glue run ids are 67 characters; the start tells them apart in a list."""
    return run_id if len(run_id) <= 14 else run_id[:13] + "…"


def upload_note(upload: str | None) -> Any:
    """Says the list is narrowed to one upload, with the way back to all of them."""
    if upload is None:
        return None
    return html.Div(
        [
            html.Span(["Showing upload ", html.Code(upload), " only, whenever it was made."]),
            html.Button(
                "Show all uploads",
                id=UPLOAD_CLEAR,
                type="button",
                className="btn btn-sm btn-outline-secondary",
            ),
        ],
        className="alert alert-info d-flex flex-wrap align-items-center gap-2 py-2",
    )


def summary(shown: int, total: int, range_label: str) -> str:
    """'12 uploads (last 7 days)': the scope as the picker labels it, mid-sentence."""
    scope = "l" + range_label[1:] if range_label.startswith("Last") else range_label
    if total == 0:
        return f"No uploads match ({scope})."
    if shown < total:
        return f"Showing the newest {shown:,} of {total:,} uploads ({scope})."
    return f"{total:,} upload{'s' if total != 1 else ''} ({scope})."
