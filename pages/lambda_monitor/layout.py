"""Lambda monitor (`/lambda`): every function's numbers, one function's charts, a comparison.

Three sections, all for the time range in the URL:

- a sortable table (dash-ag-grid) whose summary columns are lambda-summary.csv;
- one function's charts (invocations/errors, duration avg/p95/p99/max, throttles,
  concurrency), each a `<figure>` with a caption that states its numbers in words
  (the chart's text alternative) and links to the datapoints as CSV;
- a comparison of 2 to 6 functions on one metric, one line each.

The URL carries `range`, `fn`, `compare` (comma-separated) and `metric`, so a link
reopens the same view. Callbacks (pages/lambda_monitor/callbacks.py) fill the sections.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from dashapp.queries.lambda_ import (
    CHARTS,
    COMPARE_METRICS,
    MAX_COMPARE,
    Series,
    describe_series,
)
from dashapp.timerange import normalise_range
from layouts.components import GRID_THEME, empty_grid_message, icon, loading
from layouts.timerange import range_ids, time_range_picker
from layouts.url_state import UrlState, url_stores
from pages import links

PATH = links.LAMBDA
NAME = "Lambda"
PAGE = "lambda"
DEFAULT_RANGE = "24h"

GRID = "lambda-grid"
GRID_NOTE = "lambda-grid-note"
SUMMARY_DOWNLOAD = "lambda-summary-download"
FUNCTION = "lambda-function"
CHARTS_AREA = "lambda-charts"
COMPARE = "lambda-compare"
COMPARE_METRIC = "lambda-compare-metric"
COMPARE_AREA = "lambda-compare-chart"
THEME = "lambda-theme"  # store: the theme in effect ("light"/"dark"), read from <html>

COLUMNS: tuple[tuple[str, str], ...] = (
    ("function_name", "Function"),
    ("invocations", "Invocations"),
    ("errors", "Errors"),
    ("error_rate", "Error rate"),
    ("throttles", "Throttles"),
    ("duration_avg_ms", "Duration avg (ms)"),
    ("duration_p95_ms", "Duration p95 (ms)"),
    ("duration_p99_ms", "Duration p99 (ms)"),
    ("concurrency_max", "Peak concurrency"),
)

# Colours readable on both themes' backgrounds (3:1 or better for graphical objects).
SERIES_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#e377c2", "#8c564b")
DARK_SERIES_COLOURS = ("#6cb4ff", "#ff7b7b", "#63d471", "#c9a3ff", "#ff9bd9", "#e0b48a")


URL_STATE = UrlState(
    PAGE,
    {
        "range": (range_ids(PAGE).value, "data"),
        "fn": (FUNCTION, "value"),
        "compare": (COMPARE, "value"),
        "metric": (COMPARE_METRIC, "value"),
    },
    defaults={"range": DEFAULT_RANGE, "metric": "invocations"},
)


def split_list(raw: str | None) -> list[str]:
    """`compare=a,b,c` into names (blanks dropped, order kept)."""
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def layout(**query: str) -> html.Div:
    """The page skeleton for the URL's query; callbacks fill table, charts and comparison."""
    range_value, range_error = normalise_range(query.get("range"), DEFAULT_RANGE)
    fn = (query.get("fn") or "").strip() or None
    compare = split_list(query.get("compare"))
    metric = query.get("metric") if query.get("metric") in COMPARE_METRICS else "invocations"
    return html.Div(
        [
            html.H1(NAME, className="h2"),
            html.P(
                "Invocations, errors, duration percentiles, throttles and concurrency of "
                "every Lambda function, from CloudWatch's per-minute datapoints.",
                className="lead smd-lead",
            ),
            time_range_picker(PAGE, range_value, range_error),
            _section(
                "Functions",
                "lambda-functions",
                [
                    html.Div(
                        [
                            html.P(
                                "Sort by any column (click or press Enter on its header). "
                                "Select a row to chart that function.",
                                className="text-body-secondary mb-0",
                            ),
                            html.A(
                                [icon("download", "me-1"), "Download this table (CSV)"],
                                id=SUMMARY_DOWNLOAD,
                                href="/export/lambda-summary.csv",
                                download="",
                                className="btn btn-sm btn-outline-primary ms-auto",
                            ),
                        ],
                        className="d-flex flex-wrap align-items-center gap-2 mb-2",
                    ),
                    functions_grid(),
                    html.P(id=GRID_NOTE, className="small text-body-secondary mt-2"),
                ],
            ),
            _section(
                "One function",
                "lambda-function",
                [
                    html.Label("Function to chart", htmlFor=FUNCTION, className="form-label"),
                    dbc.Select(
                        id=FUNCTION,
                        options=[{"label": fn, "value": fn}] if fn else [],
                        value=fn or "",
                        placeholder="Pick a function",
                        className="mb-3 smd-lambda-function",
                    ),
                    html.Div(loading("charts"), id=CHARTS_AREA),
                ],
            ),
            _section(
                "Compare functions",
                "lambda-compare",
                [
                    html.Div(
                        [
                            html.Fieldset(
                                [
                                    html.Legend(
                                        f"Functions to compare (2 to {MAX_COMPARE})",
                                        className="form-label fs-6",
                                    ),
                                    dbc.Checklist(
                                        id=COMPARE,
                                        options=[{"label": n, "value": n} for n in compare],
                                        value=compare,
                                        inline=True,
                                        className="smd-lambda-compare",
                                    ),
                                ],
                                className="col-12 col-lg-8",
                            ),
                            html.Div(
                                [
                                    html.Label(
                                        "Metric", htmlFor=COMPARE_METRIC, className="form-label"
                                    ),
                                    dbc.Select(
                                        id=COMPARE_METRIC,
                                        options=[
                                            {"label": spec[2], "value": key}
                                            for key, spec in COMPARE_METRICS.items()
                                        ],
                                        value=metric,
                                    ),
                                ],
                                className="col-12 col-lg-4",
                            ),
                        ],
                        className="row g-3 mb-3",
                    ),
                    html.Div(loading("comparison"), id=COMPARE_AREA),
                ],
            ),
            dcc.Store(id=THEME),
            *url_stores(URL_STATE),
        ],
        className="smd-lambda-page",
    )


def _section(title: str, anchor: str, children: list[Any]) -> html.Section:
    heading_id = f"{anchor}-heading"
    return html.Section(
        [html.H2(title, id=heading_id, className="h4"), *children],
        className="smd-section mb-5",
        **{"aria-labelledby": heading_id},
    )


def functions_grid() -> dag.AgGrid:
    """The sortable functions table; rows come from the callback."""
    numeric = {"type": "rightAligned", "filter": False}
    column_defs: list[dict[str, Any]] = []
    for field, header in COLUMNS:
        col: dict[str, Any] = {"field": field, "headerName": header, "sortable": True}
        if field == "function_name":
            col.update({"pinned": "left", "minWidth": 220, "sort": "asc"})
        else:
            col.update(numeric)
        if field == "error_rate":
            col["valueFormatter"] = {
                "function": "params.value == null ? '' : (params.value * 100).toFixed(2) + ' %'"
            }
        column_defs.append(col)
    return dag.AgGrid(
        id=GRID,
        columnDefs=column_defs,
        rowData=[],
        columnSize="autoSize",
        defaultColDef={"resizable": True},
        dashGridOptions={
            "theme": GRID_THEME,
            "rowSelection": {
                "mode": "singleRow",
                "checkboxes": False,
                "enableClickSelection": True,
            },
            "domLayout": "autoHeight",
            **empty_grid_message("No Lambda function is known yet."),
            "ensureDomOrder": True,
        },
        getRowId="params.data.function_name",
        className="smd-lambda-grid",
        style={"width": "100%"},
    )


def figure(series: Sequence[Series], unit: str, title: str, dark: bool) -> go.Figure:
    """A line chart of `series`, styled for the theme (transparent background, readable text)."""
    colours = DARK_SERIES_COLOURS if dark else SERIES_COLOURS
    text = "#e9ecef" if dark else "#212529"
    grid = "rgba(255,255,255,0.15)" if dark else "rgba(0,0,0,0.12)"
    fig = go.Figure()
    for i, s in enumerate(series):
        fig.add_trace(
            go.Scatter(
                x=[ts for ts, _ in s.points],
                y=[v for _, v in s.points],
                name=s.label,
                mode="lines",
                line={"color": colours[i % len(colours)], "width": 2, "dash": _dash(i)},
            )
        )
    fig.update_layout(
        template="plotly_dark" if dark else "plotly_white",
        title={"text": title, "font": {"size": 14}},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"color": text},
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        height=280,
        legend={"orientation": "h", "y": -0.2},
        yaxis={"title": {"text": unit}, "gridcolor": grid, "rangemode": "tozero"},
        xaxis={"gridcolor": grid},
    )
    return fig


def _dash(index: int) -> str:
    """Line styles differ too, so series are told apart without colour."""
    return ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")[index % 6]


def chart_figure(
    chart_id: str,
    title: str,
    series: Sequence[Series],
    unit: str,
    dark: bool,
    downloads: Sequence[tuple[str, str]],
) -> html.Figure:
    """A chart with its text alternative (the caption) and one CSV link per metric."""
    caption_id = f"{chart_id}-caption"
    return html.Figure(
        [
            html.Div(
                dcc.Graph(
                    id=chart_id,
                    figure=figure(series, unit, title, dark),
                    # No mode bar: its mouse-only buttons would sit inside role="img"; the
                    # caption's links give the data, the caption states it in words.
                    config={"displayModeBar": False, "responsive": True},
                ),
                role="img",
                **{"aria-label": f"Chart: {title}", "aria-describedby": caption_id},
            ),
            html.Figcaption(
                [
                    html.Span(" ".join(describe_series(s, unit) for s in series)),
                    html.Span(
                        [
                            html.A(
                                [icon("download", "me-1"), label],
                                href=href,
                                download="",
                                className="btn btn-sm btn-link",
                            )
                            for label, href in downloads
                        ],
                        className="d-flex flex-wrap gap-1",
                    ),
                ],
                id=caption_id,
            ),
        ],
        className="smd-chart col",
    )


def charts_grid(figures: list[html.Figure]) -> html.Div:
    """The function's charts, two per row on a wide screen."""
    return html.Div(figures, className="row row-cols-1 row-cols-xl-2 g-4")


CHART_TITLES = {c.key: c.title for c in CHARTS}
