"""Athena (`/athena`): write SQL, see what it will cost, run it, read and download the result.

The query being looked at is in the URL (`?q=<execution id>`), so a reload or a shared
link reopens it and its result; `?fork=<id>` and `?saved=<id>` open the editor on an
earlier or saved query. Operators run, cancel and save; viewers read the history and
every result. The schema browser reads the catalog cache (never AWS while rendering);
the result grid is AG Grid's infinite model fed 1,000-row pages from the server.
"""

from __future__ import annotations

import uuid
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp.aws.athena import STATES
from dashapp.timerange import normalise_range
from layouts.components import GRID_THEME, empty_grid_message, icon, loading, paged_grid_options
from layouts.timerange import range_ids, time_range_picker
from layouts.url_state import UrlState, url_stores
from pages import links

PATH = links.ATHENA
NAME = "Athena"
PAGE = "athena"
DEFAULT_RANGE = "7d"
ANY = "all"

SQL = "athena-sql"
DATABASE = "athena-database"
PARAMETERS = "athena-parameters"
REUSE = "athena-reuse"
REUSE_MINUTES = "athena-reuse-minutes"
RUN = "athena-run"
CANCEL = "athena-cancel"
MESSAGE = "athena-message"
WARNING = "athena-warning"
QUERY = "athena-query"  # store: the execution id on screen (the URL's q=)
DRAFT = "athena-draft"  # store: the request token of the next Run (a double click runs once)
OPENED = "athena-opened"  # store: the URL's fork= / saved= when the page was opened
STATUS = "athena-status"
POLL = "athena-poll"
RESULT_FOR = "athena-result-for"  # store: the execution id whose result the grid shows
RESULT_NOTE = "athena-result-note"
RESULT_BOX = "athena-result-box"  # hidden until there is a result (an empty grid is noise)
GRID = "athena-results"
DOWNLOAD = "athena-download"
SCHEMA_DB = "athena-schema-database"
SCHEMA = "athena-schema"
COSTS = "athena-costs"
HISTORY = "athena-history"
HISTORY_USER = "athena-history-user"
HISTORY_STATE = "athena-history-state"
SAVE_NAME = "athena-save-name"
SAVE_SHARED = "athena-save-shared"
SAVE = "athena-save"
SAVED = "athena-saved"

URL_STATE = UrlState(
    PAGE,
    {
        "q": (QUERY, "data"),
        "range": (range_ids(PAGE).value, "data"),
        "user": (HISTORY_USER, "value"),
        "state": (HISTORY_STATE, "value"),
    },
    defaults={"range": DEFAULT_RANGE, "user": ANY, "state": ANY},
)

PARAMETERS_HELP = (
    "One value per line for each ? in the query, in order, as type then value: "
    "string Alice · integer 42 · decimal 1.5 · boolean true · date 2026-11-01 · "
    "timestamp 2026-11-01 10:00"
)


def _label(text: str, for_id: str) -> html.Label:
    return html.Label(text, htmlFor=for_id, className="form-label small mb-1")


def editor() -> html.Section:
    """The SQL editor, its database and parameters, result reuse, Run and Cancel."""
    return html.Section(
        [
            html.H2("Query", className="h5"),
            _label("SQL (Ctrl+Enter or ⌘+Enter runs it)", SQL),
            dcc.Textarea(
                id=SQL,
                value="",
                className="form-control font-monospace smd-athena-sql",
                spellCheck=False,
                placeholder="SELECT * FROM orders WHERE dt = '2026-11-01' LIMIT 100",
                style={"minHeight": "10rem", "width": "100%"},
            ),
            html.Div(id=WARNING, className="mt-2", **{"aria-live": "polite"}),
            html.Div(
                [
                    html.Div(
                        [_label("Database", DATABASE), dbc.Select(id=DATABASE, options=[])],
                        className="col-sm-4",
                    ),
                    html.Div(
                        [
                            _label("Parameters", PARAMETERS),
                            dcc.Textarea(
                                id=PARAMETERS,
                                value="",
                                className="form-control font-monospace",
                                placeholder="date 2026-11-01",
                                style={"height": "2.4rem", "width": "100%"},
                            ),
                            html.Small(
                                PARAMETERS_HELP,
                                id=f"{PARAMETERS}-help",
                                className="text-body-secondary",
                            ),
                        ],
                        className="col-sm-5",
                    ),
                    html.Div(
                        [
                            dbc.Checkbox(id=REUSE, label="Reuse a result up to", value=False),
                            html.Label(
                                "Result reuse, minutes",
                                htmlFor=REUSE_MINUTES,
                                className="visually-hidden",
                            ),
                            dbc.InputGroup(
                                [
                                    dbc.Input(
                                        id=REUSE_MINUTES,
                                        type="number",
                                        min=1,
                                        max=10080,
                                        value=60,
                                    ),
                                    dbc.InputGroupText("min"),
                                ],
                                size="sm",
                            ),
                        ],
                        className="col-sm-3",
                    ),
                ],
                className="row g-3 mt-1",
            ),
            html.Div(
                [
                    html.Button(
                        [icon("play-fill", "me-1"), "Run"],
                        id=RUN,
                        className="btn btn-primary",
                        n_clicks=0,
                    ),
                    html.Button(
                        [icon("stop-circle", "me-1"), "Cancel"],
                        id=CANCEL,
                        className="btn btn-outline-danger",
                        n_clicks=0,
                        disabled=True,
                    ),
                ],
                className="d-flex gap-2 mt-3",
            ),
            html.Div(id=MESSAGE, className="mt-2", **{"aria-live": "polite"}),
        ],
        className="smd-athena-editor",
        **{"aria-label": "Query editor"},
    )


def results() -> html.Section:
    return html.Section(
        [
            html.H2("Result", className="h5"),
            html.Div(id=STATUS, children=loading("the query"), **{"aria-live": "polite"}),
            html.Div(
                [
                    html.A(
                        [icon("download", "me-1"), "Download the whole result (CSV)"],
                        id=DOWNLOAD,
                        href="#",
                        className="btn btn-sm btn-outline-secondary d-none",
                    ),
                    html.Span(id=RESULT_NOTE, className="small text-body-secondary ms-2"),
                ],
                className="my-2",
            ),
            html.Div(
                dag.AgGrid(
                    id=GRID,
                    rowModelType="infinite",
                    columnDefs=[],
                    defaultColDef={"resizable": True, "sortable": False, "minWidth": 110},
                    dashGridOptions={
                        "theme": GRID_THEME,
                        "cacheBlockSize": 1000,
                        "maxBlocksInCache": 20,
                        "infiniteInitialRowCount": 1,
                        "ensureDomOrder": True,
                        **empty_grid_message(
                            "No result to show yet: run a query or open one from the history."
                        ),
                    },
                    style={"height": "28rem"},
                    className="smd-athena-grid",
                ),
                id=RESULT_BOX,
                className="d-none",
            ),
        ],
        **{"aria-label": "Query result"},
    )


def schema_browser() -> html.Section:
    return html.Section(
        [
            html.H2("Schema", className="h5"),
            _label("Database", SCHEMA_DB),
            dbc.Select(id=SCHEMA_DB, options=[]),
            html.Div(
                id=SCHEMA, children=loading("the catalog"), className="mt-2 smd-athena-schema"
            ),
        ],
        **{"aria-label": "Schema browser"},
    )


def history_section(range_value: str, user: str, state: str) -> html.Section:
    state_options = [{"label": "Any state", "value": ANY}] + [
        {"label": s.title(), "value": s} for s in STATES
    ]
    return html.Section(
        [
            html.H2("History", className="h5"),
            html.Div(
                [
                    html.Div(time_range_picker(PAGE, range_value), className="col-auto"),
                    html.Div(
                        [
                            _label("Who", HISTORY_USER),
                            dbc.Select(
                                id=HISTORY_USER,
                                value=user,
                                options=[{"label": "Anyone", "value": ANY}]
                                + ([{"label": user, "value": user}] if user != ANY else []),
                            ),
                        ],
                        className="col-sm-3",
                    ),
                    html.Div(
                        [
                            _label("State", HISTORY_STATE),
                            dbc.Select(id=HISTORY_STATE, value=state, options=state_options),
                        ],
                        className="col-sm-3",
                    ),
                ],
                className="row g-3 align-items-end mb-2",
            ),
            dag.AgGrid(
                id=HISTORY,
                columnDefs=HISTORY_COLUMNS,
                rowData=[],
                defaultColDef={"resizable": True, "sortable": True, "filter": False},
                dashGridOptions=paged_grid_options("No queries in this range."),
                className="smd-athena-history",
            ),
        ],
        **{"aria-label": "Query history"},
    )


HISTORY_COLUMNS: list[dict[str, Any]] = [
    {"field": "submitted", "headerName": "Submitted (UTC)", "minWidth": 170},
    {"field": "user", "headerName": "Who"},
    {"field": "state", "headerName": "State"},
    {"field": "billed", "headerName": "Billed"},
    {"field": "cost", "headerName": "Cost"},
    {"field": "sql", "headerName": "SQL", "flex": 2, "minWidth": 260},
    {"field": "open", "headerName": "", "cellRenderer": "markdown", "minWidth": 160},
]


def saved_section() -> html.Section:
    return html.Section(
        [
            html.H2("Saved queries", className="h5"),
            html.Div(
                [
                    html.Label("Name", htmlFor=SAVE_NAME, className="visually-hidden"),
                    dbc.Input(id=SAVE_NAME, placeholder="Name to save the query as"),
                    dbc.Checkbox(
                        id=SAVE_SHARED,
                        label="Share with the team",
                        value=False,
                        className="mx-2 mt-2",
                    ),
                    html.Button("Save", id=SAVE, className="btn btn-outline-primary", n_clicks=0),
                ],
                className="d-flex align-items-start",
            ),
            html.Div(id=SAVED, children=loading("saved queries"), className="mt-2"),
        ],
        **{"aria-label": "Saved queries"},
    )


def layout(**query: str) -> html.Div:
    """The workbench for the URL's query; callbacks fill status, result, schema and history."""
    range_value, _ = normalise_range(query.get("range"), DEFAULT_RANGE)
    user = query.get("user") or ANY
    state = (query.get("state") or ANY).upper() if query.get("state") not in (None, ANY) else ANY
    opened = {k: query[k] for k in ("q", "fork", "saved") if query.get(k)}
    return html.Div(
        [
            *url_stores(URL_STATE),
            dcc.Store(id=QUERY, data=query.get("q") or None),
            dcc.Store(id=DRAFT, data=uuid.uuid4().hex),
            dcc.Store(id=OPENED, data=opened),
            dcc.Store(id=RESULT_FOR),
            dcc.Interval(id=POLL, interval=1000, disabled=not query.get("q")),
            html.H1(NAME, className="h3"),
            html.Div(id=COSTS, children=loading("costs"), className="mb-3"),
            html.Div(
                [
                    html.Div([schema_browser(), saved_section()], className="col-lg-3"),
                    html.Div([editor(), results()], className="col-lg-9"),
                ],
                className="row g-4",
            ),
            history_section(range_value, user, state),
        ],
        className="smd-athena-page",
    )
