"""Job detail (`/jobs/<job_name>`): a job's runs over time, its run history, and one run.

Three charts (duration, rows, DPU-seconds and cost per run; failed runs marked
with a red cross *and* listed in each chart's text summary), the run history in an
AG Grid that pages, sorts and filters on the server (infinite row model: the
browser only ever holds the blocks it shows), and a panel with the selected run's
error, arguments, attempt, trigger, causing upload and a link to its logs.

URL state: `range`, `run` (the selected run) and `state` (the grid's state filter),
so a copied link reopens the same view.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import dash_ag_grid as dag
from dash import dcc, html

from dashapp.queries.run_grid import GRID_FIELDS
from dashapp.timerange import DEFAULT_RANGE, normalise_range
from layouts.components import GRID_THEME, icon, loading
from layouts.job_actions import job_toolbar
from layouts.timerange import range_ids, time_range_picker
from layouts.url_state import UrlState, url_stores
from pages import links

PATH = links.JOBS
PATH_TEMPLATE = f"{links.JOBS}/<job_name>"
NAME = "Job detail"
PAGE = "job"

STATE_FILTER = "job-state-filter"  # the grid's state filter as the URL's `state=`
JOB = "job-name"
RUN = "job-run"
HEADER_INFO = "job-info"
STATS = "job-stats"
GRID = "job-runs-grid"
GRID_EXPORT = "job-runs-export"
GRID_NOTE = "job-runs-note"
RUN_PANEL = "job-run-panel"
PURGE = "job-grid-purge"
RELOADED = "job-grid-reloaded"
THEME = "job-theme"  # the theme actually applied (system preference included), for the charts

CHARTS: tuple[tuple[str, str], ...] = (
    ("duration", "Duration per run"),
    ("rows", "Rows read and written per run"),
    ("dpu", "DPU-seconds and cost per run"),
)


URL_STATE = UrlState(
    PAGE,
    {
        "range": (range_ids(PAGE).value, "data"),
        "run": (RUN, "data"),
        "state": (STATE_FILTER, "data"),
    },
    defaults={"range": DEFAULT_RANGE},
)


def chart_id(key: str) -> str:
    return f"job-chart-{key}"


def chart_summary_id(key: str) -> str:
    return f"job-chart-{key}-summary"


def chart_export_id(key: str) -> str:
    return f"job-chart-{key}-export"


COLUMN_DEFS: list[dict[str, Any]] = [
    {"field": "started_at", "headerName": "Started (UTC)", "filter": "agDateColumnFilter"},
    {"field": "state", "headerName": "State", "filter": "agTextColumnFilter"},
    {"field": "duration_s", "headerName": "Duration (s)", "filter": "agNumberColumnFilter"},
    {"field": "rows_read", "headerName": "Rows read", "filter": "agNumberColumnFilter"},
    {"field": "rows_written", "headerName": "Rows written", "filter": "agNumberColumnFilter"},
    {"field": "dpu_seconds", "headerName": "DPU-s", "filter": "agNumberColumnFilter"},
    {"field": "attempt", "headerName": "Attempt", "filter": "agNumberColumnFilter"},
    {"field": "trigger_name", "headerName": "Trigger", "filter": "agTextColumnFilter"},
    {"field": "run_id", "headerName": "Run id", "filter": "agTextColumnFilter"},
    {"field": "completed_at", "headerName": "Completed (UTC)", "filter": "agDateColumnFilter"},
    {
        "field": "error_message",
        "headerName": "Error",
        "filter": "agTextColumnFilter",
        "flex": 2,
        "minWidth": 260,
        "tooltipField": "error_message",
    },
]
if {c["field"] for c in COLUMN_DEFS} != set(GRID_FIELDS):  # the grid asks only for these
    raise RuntimeError("job_detail.COLUMN_DEFS must match queries.run_grid.GRID_FIELDS")


def state_filter_model(state: str | None) -> dict[str, Any]:
    """The grid's filter model for `state=` from the URL (empty: no filter)."""
    if not state:
        return {}
    return {"state": {"filterType": "text", "type": "equals", "filter": state.upper()}}


def state_of_filter_model(model: dict[str, Any] | None) -> str | None:
    """The URL's `state=` for a grid filter model that filters state equal to one value."""
    found = (model or {}).get("state")
    if isinstance(found, dict) and found.get("type") == "equals" and found.get("filter"):
        return str(found["filter"]).upper()
    return None


def runs_grid(state: str | None) -> dag.AgGrid:
    """The run history: server-side blocks of 100 rows, single-row selection opens a run."""
    return dag.AgGrid(
        id=GRID,
        rowModelType="infinite",
        columnDefs=COLUMN_DEFS,
        defaultColDef={
            "sortable": True,
            "resizable": True,
            "filterParams": {"buttons": ["apply", "reset"], "closeOnApply": True},
            "minWidth": 110,
        },
        filterModel=state_filter_model(state),
        dashGridOptions={
            "theme": GRID_THEME,
            "ensureDomOrder": True,
            "rowSelection": {
                "mode": "singleRow",
                "checkboxes": False,
                "enableClickSelection": True,
            },
            "cacheBlockSize": 100,
            "maxBlocksInCache": 20,
            "infiniteInitialRowCount": 1,
            "tooltipShowDelay": 300,
        },
        getRowId="params.data.run_id",
        className="smd-grid",
        style={"height": "420px", "width": "100%"},
    )


def _chart(key: str, title: str) -> html.Figure:
    return html.Figure(
        [
            html.Div(
                [
                    html.H3(title, className="h6 mb-0", id=f"{chart_id(key)}-title"),
                    html.A(
                        [icon("download", "me-1"), "CSV"],
                        id=chart_export_id(key),
                        href="",
                        download="",
                        className="btn btn-sm btn-outline-secondary",
                        **{"aria-label": f"Export the data of “{title}” as CSV"},
                    ),
                ],
                className="d-flex justify-content-between align-items-center mb-1",
            ),
            dcc.Graph(
                id=chart_id(key),
                config={"displaylogo": False, "responsive": True, "displayModeBar": False},
                style={"height": "260px"},
            ),
            html.Figcaption(id=chart_summary_id(key), className="visually-hidden"),
        ],
        className="smd-chart col",
        # Named by its title, described by the text alternative (the figcaption).
        **{
            "aria-labelledby": f"{chart_id(key)}-title",
            "aria-describedby": chart_summary_id(key),
        },
    )


def layout(job_name: str = "", **query: str) -> html.Div:
    """The page for one job, its controls set from the URL; callbacks fill the data."""
    name = unquote(job_name or "")
    value, error = normalise_range(query.get("range"))
    state = (query.get("state") or "").upper() or None
    return html.Div(
        [
            *url_stores(URL_STATE),
            dcc.Store(id=STATE_FILTER, data=state),
            dcc.Store(id=JOB, data=name),
            dcc.Store(id=RUN, data=query.get("run") or None),
            dcc.Store(id=PURGE),
            dcc.Store(id=RELOADED),
            dcc.Store(id=THEME),
            html.Nav(
                html.Ol(
                    [
                        html.Li(
                            html.A("Overview", href=links.overview_href(value)),
                            className="breadcrumb-item",
                        ),
                        html.Li(
                            name, className="breadcrumb-item active", **{"aria-current": "page"}
                        ),
                    ],
                    className="breadcrumb mb-1",
                ),
                **{"aria-label": "Breadcrumb"},
            ),
            html.Div(
                [
                    html.H1(
                        [html.Span("Glue job ", className="visually-hidden"), name],
                        className="h2 mb-0 text-break",
                    ),
                    job_toolbar(name),
                ],
                className="d-flex flex-wrap justify-content-between align-items-start gap-2",
            ),
            html.Div(id=HEADER_INFO, className="smd-job-info text-body-secondary mb-2"),
            time_range_picker(PAGE, value, error),
            html.P(loading("run figures"), id=STATS, className="smd-count mt-2", role="status"),
            html.Section(
                [
                    html.H2("Runs over time", className="h5 mb-3"),
                    html.Div(
                        [_chart(key, title) for key, title in CHARTS],
                        className="row row-cols-1 row-cols-xl-3 g-3",
                    ),
                ],
                className="mb-4",
                **{"aria-label": "Runs over time"},
            ),
            html.Section(
                [
                    html.Div(
                        [
                            html.H2("Run history", className="h5 mb-0", id="job-history-h"),
                            html.A(
                                [icon("download", "me-1"), "Export runs (CSV)"],
                                id=GRID_EXPORT,
                                href="",
                                download="",
                                className="btn btn-sm btn-outline-secondary",
                            ),
                        ],
                        className="d-flex justify-content-between align-items-center mb-2",
                    ),
                    html.P(
                        "Sort and filter from the column headers; select a row (click, or "
                        "Space on a focused row) to open the run below.",
                        className="small text-body-secondary mb-1",
                    ),
                    html.P(id=GRID_NOTE, className="small mb-1"),
                    runs_grid(state),
                ],
                className="mb-4",
                **{"aria-labelledby": "job-history-h"},
            ),
            html.Section(
                html.Div(
                    "Select a run in the history to see its details.",
                    className="text-body-secondary",
                ),
                id=RUN_PANEL,
                className="smd-run-panel card card-body",
                tabIndex="-1",
                **{"aria-label": "Selected run"},
            ),
        ],
        className="smd-job-detail",
    )
