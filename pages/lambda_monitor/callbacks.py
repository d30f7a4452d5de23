"""Callbacks of the Lambda monitor: table, one function's charts, comparison, URL.

Each server callback calls one pure function here (`table_view`, `charts_view`,
`compare_view`) that takes `Services` and plain values and is tested directly. The
theme is read from `<html data-bs-theme>` clientside, so charts redraw in the
colours of the theme actually shown, whether it came from the toggle or the OS.
The URL is mirrored with `history.replaceState` (no page re-render), so the
address bar is always a permalink of the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, ctx, html, no_update
from sqlalchemy.exc import SQLAlchemyError

from callbacks import payload
from callbacks.timerange import register_time_range
from callbacks.url_state import register_url_state
from dashapp.db import db_error_line
from dashapp.queries import lambda_ as lq
from dashapp.queries.filters import Window
from dashapp.services import Services, services
from dashapp.timerange import TimeRange, TimeRangeError, parse_range
from layouts import shell
from layouts.components import database_unreachable, empty_state, notice
from layouts.timerange import range_ids
from pages import links
from pages.lambda_monitor import layout as lm


@dataclass
class TableView:
    rows: list[dict[str, Any]]
    href: str
    note: str
    options: list[dict[str, str]]


def _window(svc: Services, range_value: str | None) -> tuple[TimeRange, str | None]:
    now = svc.clock.now()
    try:
        return parse_range(range_value, now, lm.DEFAULT_RANGE), None
    except TimeRangeError as e:
        return parse_range(lm.DEFAULT_RANGE, now), f"{e}; showing the last 24 hours"


def _metrics_href(name: str, metric: str, window: Window) -> str:
    return links.metrics_export(lq.RESOURCE_TYPE, name, metric, window.since, window.until)


def table_view(svc: Services, range_value: str | None) -> TableView:
    """The table's rows, its CSV link and a note on the window, for `range=`."""
    resolved, problem = _window(svc, range_value)
    window = Window(*resolved.bounds)
    with svc.sessions() as session:
        rows = lq.lambda_table_rows(session, window)
    href = links.lambda_summary_export(window.since, window.until)
    note = (
        f"{len(rows)} function{'' if len(rows) == 1 else 's'} · {resolved.label} "
        f"({href.split('?', 1)[1].replace('&', ', ')}). "
        "p95 and p99 combine the per-minute percentiles weighted by invocations, "
        "as the CSV does."
    )
    if problem:
        note = f"{problem}. {note}"
    options = [{"label": r["function_name"], "value": r["function_name"]} for r in rows]
    return TableView(rows, href, note, options)


def charts_view(svc: Services, name: str | None, range_value: str | None, dark: bool) -> list[Any]:
    """One function's four charts, each with caption and CSV links."""
    if not name:
        return [
            empty_state(
                "No function selected",
                "Select a row of the table or pick a function above to see its charts.",
            )
        ]
    resolved, _ = _window(svc, range_value)
    window = Window(*resolved.bounds)
    with svc.sessions() as session:
        charts = lq.function_charts(session, name, window)
    figures = []
    for spec in lq.CHARTS:
        metrics = list(dict.fromkeys(m for m, _, _ in spec.series))
        downloads = [
            (f"{m} CSV" if len(metrics) > 1 else "Datapoints CSV", _metrics_href(name, m, window))
            for m in metrics
        ]
        figures.append(
            lm.chart_figure(
                f"lambda-chart-{spec.key}",
                f"{spec.title} · {name}",
                charts[spec.key],
                spec.unit,
                dark,
                downloads,
            )
        )
    step = lq.chart_step(window)
    note = (
        []
        if step <= 60
        else [
            html.P(
                f"Points are {step // 60}-minute buckets of the per-minute datapoints "
                "(counts added, averages averaged, percentiles and maxima the worst minute); "
                "the CSV links give every minute.",
                className="small text-body-secondary",
            )
        ]
    )
    return [*note, lm.charts_grid(figures)]


def compare_view(
    svc: Services,
    names: list[str] | None,
    metric: str | None,
    range_value: str | None,
    dark: bool,
) -> list[Any]:
    """The comparison chart of 2 to 6 functions, or what to change to get one."""
    try:
        chosen, key = lq.validate_compare(names, metric)
    except lq.CompareError as e:
        tone = "warning" if names and len(names) > lq.MAX_COMPARE else "info"
        return [notice(str(e), tone, "info-circle")]  # type: ignore[arg-type]
    resolved, _ = _window(svc, range_value)
    window = Window(*resolved.bounds)
    with svc.sessions() as session:
        series = lq.compare_series(session, chosen, key, window)
    metric_name, _stat, label, unit = lq.COMPARE_METRICS[key]
    downloads = [(f"{n} CSV", _metrics_href(n, metric_name, window)) for n in chosen]
    return [
        lm.chart_figure(
            "lambda-compare-graph",
            f"{label}: {', '.join(chosen)}",
            series,
            unit,
            dark,
            downloads,
        )
    ]


def selected_function(
    rows: list[dict[str, Any]] | None, clicked: dict[str, Any] | None, triggered: Any
) -> Any:
    """The function a row selection (Space/Enter or click) or a cell click picked.

    Both are read: a refresh of the rows can clear the selection between a click and
    its event, while the click itself still names the row.
    """
    if any(str(key).endswith(".cellClicked") for key in triggered or {}) and clicked:
        row_id = payload.text(clicked.get("rowId"))
        if row_id:
            return row_id
    names = [payload.text(r.get("function_name")) for r in rows or []]
    return names[0] if names and names[0] else no_update


def register(app: Dash) -> None:
    """Wire the monitor's callbacks (and its time range picker)."""
    register_time_range(app, lm.PAGE)
    range_value = range_ids(lm.PAGE).value

    @app.callback(
        Output(lm.GRID, "rowData"),
        Output(lm.SUMMARY_DOWNLOAD, "href"),
        Output(lm.GRID_NOTE, "children"),
        Output(lm.FUNCTION, "options"),
        Output(lm.COMPARE, "options"),
        Input(range_value, "data"),
        Input(shell.REFRESH, "n_intervals"),
    )
    def _table(range_text: str | None, _n: int | None) -> tuple[Any, ...]:
        try:
            view = table_view(services(), range_text)
        except SQLAlchemyError as e:
            return [], no_update, database_unreachable(db_error_line(e)), no_update, no_update
        return view.rows, view.href, view.note, view.options, view.options

    @app.callback(
        Output(lm.FUNCTION, "value"),
        Input(lm.GRID, "selectedRows"),
        Input(lm.GRID, "cellClicked"),
        prevent_initial_call=True,
    )
    def _select(rows: list[dict[str, Any]] | None, clicked: dict[str, Any] | None) -> Any:
        return selected_function(
            payload.records(rows), payload.mapping(clicked), ctx.triggered_prop_ids
        )

    @app.callback(
        Output(lm.CHARTS_AREA, "children"),
        Input(lm.FUNCTION, "value"),
        Input(range_value, "data"),
        Input(lm.THEME, "data"),
    )
    def _charts(name: str | None, range_text: str | None, theme: str | None) -> list[Any]:
        try:
            return charts_view(services(), payload.text(name), range_text, theme == "dark")
        except SQLAlchemyError as e:
            return [database_unreachable(db_error_line(e))]

    @app.callback(
        Output(lm.COMPARE_AREA, "children"),
        Input(lm.COMPARE, "value"),
        Input(lm.COMPARE_METRIC, "value"),
        Input(range_value, "data"),
        Input(lm.THEME, "data"),
    )
    def _compare(
        names: list[str] | None, metric: str | None, range_text: str | None, theme: str | None
    ) -> list[Any]:
        try:
            chosen, metric = payload.texts(names), payload.text(metric)
            return compare_view(services(), chosen, metric, range_text, theme == "dark")

        except SQLAlchemyError as e:
            return [database_unreachable(db_error_line(e))]

    app.clientside_callback(
        ClientsideFunction(namespace="smd", function_name="appliedTheme"),
        Output(lm.THEME, "data"),
        Input(shell.THEME_STORE, "data"),
        Input(lm.GRID, "id"),
    )
    register_url_state(app, lm.URL_STATE)
