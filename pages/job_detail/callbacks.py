"""Callbacks of the job detail page: the server-side run grid, the run panel, the URL.

Every callback body is a pure-ish function of the services and its inputs
(`job_view`, `grid_response`, `run_panel`) so tests call them
directly. The grid answers AG Grid's `getRowsRequest` with one bounded SELECT
(`queries.run_grid.run_page`); an unsupported sort or filter is refused with a
message instead of being ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, State, html, no_update
from sqlalchemy.exc import SQLAlchemyError

from callbacks import payload
from callbacks.timerange import register_time_range
from callbacks.url_state import register_url_state
from dashapp.clock import iso_z
from dashapp.db import db_error_line
from dashapp.queries import job_detail as job_detail_reads
from dashapp.queries import run_grid, runs, sla
from dashapp.services import Services, services
from dashapp.timerange import resolve_range
from dashapp.web import shared_answers
from dashapp.web.humanize import duration, money
from layouts import shell
from layouts.components import (
    database_unreachable,
    empty_state,
    icon,
    notice,
    state_badge,
    time_ago,
)
from layouts.job_actions import run_actions
from layouts.timerange import range_ids
from pages import links
from pages.job_detail import layout as jd
from pages.job_detail.charts import chart_figures, chart_summaries

# --- the whole page's data ---------------------------------------------------------------


@dataclass(frozen=True)
class JobView:
    info: Any
    stats: Any
    figures: dict[str, Any]
    summaries: dict[str, str]
    chart_export: str
    found: bool


def _info(info: job_detail_reads.JobInfo | None, now: datetime) -> list[Any]:
    if info is None:
        return ["Not in the collected inventory (runs only)."]
    parts: list[Any] = []
    if info.description:
        parts.append(info.description + " · ")
    capacity = (
        f"{info.number_of_workers} × {info.worker_type}"
        if info.worker_type and info.number_of_workers
        else (f"{info.max_capacity:g} DPU" if info.max_capacity else "capacity unknown")
    )
    parts.append(capacity)
    if info.schedule:
        parts += [" · schedule ", html.Code(info.schedule)]
    if info.gone_at:
        parts += [" · deleted from AWS ", time_ago(info.gone_at, now)]
    return parts


def job_view(svc: Services, job_name: str, range_value: str | None, dark: bool) -> JobView:
    """Header line, range figures, charts with text alternatives and export links."""
    settings = svc.settings
    now = svc.clock.now()
    window, _ = resolve_range(range_value, now)
    try:
        with svc.sessions() as session:
            info = job_detail_reads.job_info(session, job_name)
            found = info is not None or job_detail_reads.job_has_runs(session, job_name)
            stats = job_detail_reads.range_stats(session, job_name, *window.bounds)
            points, truncated = job_detail_reads.run_series(session, job_name, *window.bounds)
    except SQLAlchemyError as e:
        empty = {k: {} for k, _ in jd.CHARTS}
        msg = db_error_line(e)
        return JobView("", database_unreachable(msg), empty, {}, "", True)
    if not found:
        stats_line: Any = empty_state(
            f"No Glue job named {job_name!r}",
            "The collector has seen no job and no run by this name. Check the link, or go "
            "back to the Overview.",
            "question-circle",
        )
    else:
        rate = stats.success_rate
        stats_line = (
            f"{window.label}: {stats.runs} runs, {stats.succeeded} succeeded, "
            f"{stats.failed} failed"
            + (f" ({rate * 100:.0f}% success)" if rate is not None else "")
            + f", {stats.rows_written:,} rows written, {stats.dpu_seconds / 3600:,.2f} DPU-hours "
            f"({money(sla.cost(stats.dpu_seconds, settings.dpu_hour_price), settings.currency)})."
        )
    figures = chart_figures(points, settings.dpu_hour_price, settings.currency, dark, window.bounds)
    return JobView(
        info=_info(info, now),
        stats=stats_line,
        figures={k: f.to_plotly_json() for k, f in figures.items()},
        summaries=chart_summaries(points, settings.dpu_hour_price, settings.currency, truncated),
        chart_export=links.job_runs_export(job_name, *window.bounds, None),
        found=found,
    )


# --- grid ---------------------------------------------------------------------------------


def grid_response(
    svc: Services, job_name: str, range_value: str | None, request: dict[str, Any] | None
) -> tuple[dict[str, Any], str]:
    """AG Grid's `getRowsResponse` for a block request, and a note (why nothing came back)."""
    window, _ = resolve_range(range_value, svc.clock.now())
    try:
        req = run_grid.parse_grid_request(request)
    except run_grid.GridRequestError as e:
        return {"rowData": [], "rowCount": 0}, f"Filter not applied: {e}."
    try:
        with svc.sessions() as session:
            page = run_grid.run_page(session, job_name, *window.bounds, req)
    except SQLAlchemyError as e:
        return {"rowData": [], "rowCount": 0}, f"Database unreachable: {db_error_line(e)}"
    response: dict[str, Any] = {"rowData": page.rows}
    if page.last_row is not None:
        response["rowCount"] = page.last_row
    return response, ""


def grid_export(
    job_name: str, range_value: str | None, now: datetime, filter_model: dict[str, Any] | None
) -> tuple[str, str]:
    """The run history's export link and, when the grid filters more than the API can, a note."""
    window, _ = resolve_range(range_value, now)
    state = jd.state_of_filter_model(filter_model)
    others = [k for k in (filter_model or {}) if k != "state" or state is None]
    note = ""
    if others:
        note = (
            "The export holds every run in the range"
            + (f" in state {state}" if state else "")
            + "; the other column filters apply on screen only."
        )
    return links.job_runs_export(job_name, *window.bounds, state), note


# --- run panel ----------------------------------------------------------------------------


def run_panel(svc: Services, job_name: str, run_id: str | None) -> list[Any]:
    """The selected run's facts, error, arguments, upload, logs link and actions."""
    if not run_id:
        return [html.P("Select a run in the history to see its details.", className="mb-0")]
    now = svc.clock.now()
    try:
        with svc.sessions() as session:
            detail = job_detail_reads.run_detail(session, job_name, run_id)
    except SQLAlchemyError as e:
        return [database_unreachable(db_error_line(e))]
    if detail is None:
        return [
            notice(f"Run {run_id} is not a stored run of {job_name}.", "warning", "question-circle")
        ]
    run = detail.run
    facts: list[tuple[str, Any]] = [
        ("State", state_badge(run["state"])),
        ("Started", [time_ago(run["started_at"], now), f" ({iso_z(run['started_at'])})"]),
        (
            "Duration",
            duration(run["duration_s"])
            if run["duration_s"] is not None
            else (
                f"running for {duration((now - run['started_at']).total_seconds())}"
                if run["completed_at"] is None
                else "–"
            ),
        ),
        (
            "Attempt",
            str(run["attempt"])
            + (f" (retry of {run['previous_run_id']})" if run["previous_run_id"] else ""),
        ),
        ("Trigger", run["trigger_name"] or "Manual or API start"),
        ("Rows", f"{run['rows_read'] or 0:,} read · {run['rows_written'] or 0:,} written"),
        ("DPU-seconds", f"{run['dpu_seconds']:,.0f}" if run["dpu_seconds"] is not None else "–"),
        (
            "Upload",
            html.A(
                [icon("cloud-arrow-up", "me-1"), detail.upload_name or detail.upload_id],
                href=links.upload_href(detail.upload_id),
            )
            if detail.upload_id
            else "Not started by an upload",
        ),
    ]
    items: list[Any] = []
    for term, value in facts:
        items += [html.Dt(term, className="col-sm-3"), html.Dd(value, className="col-sm-9")]
    args = run["arguments"] or {}
    body: list[Any] = [
        html.Div(
            [
                html.H2(["Run ", html.Code(run_id)], className="h5 mb-0 text-break"),
                html.A(
                    [icon("journal-text", "me-1"), "Logs of this run"],
                    href=links.run_logs_href(
                        run_id, first_error=run["state"] in runs.FAILED_STATES
                    ),
                    className="btn btn-sm btn-outline-primary",
                ),
            ],
            className="d-flex flex-wrap justify-content-between align-items-center gap-2 mb-2",
        ),
        run_actions(run_id, job_name, run["state"]),
        html.Dl(items, className="row smd-facts mt-2 mb-2"),
    ]
    if run["error_message"]:
        body.append(
            notice(
                [
                    html.Strong("Error message"),
                    html.Pre(run["error_message"], className="smd-error mb-0"),
                ],
                "danger",
                "exclamation-octagon-fill",
            )
        )
    body.append(html.H3("Arguments", className="h6 mt-3"))
    body.append(
        html.Pre(json.dumps(args, indent=2, sort_keys=True), className="smd-args mb-0")
        if args
        else html.P("No run arguments (the job's defaults applied).", className="mb-0")
    )
    return body


def register(app: Dash) -> None:
    """Wire the job detail page."""
    register_time_range(app, jd.PAGE)
    rid = range_ids(jd.PAGE)
    shared_answers.shareable(
        app,
        Output(jd.HEADER_INFO, "children"),
        Output(jd.GRID, "getRowsResponse"),
        Output(jd.GRID_EXPORT, "href"),
        Output(jd.RUN_PANEL, "children"),
    )

    @app.callback(
        Output(jd.HEADER_INFO, "children"),
        Output(jd.STATS, "children"),
        [Output(jd.chart_id(k), "figure") for k, _ in jd.CHARTS],
        [Output(jd.chart_summary_id(k), "children") for k, _ in jd.CHARTS],
        [Output(jd.chart_export_id(k), "href") for k, _ in jd.CHARTS],
        Input(shell.REFRESH, "n_intervals"),
        Input(rid.value, "data"),
        Input(jd.THEME, "data"),
        State(jd.JOB, "data"),
    )
    def _page(
        _n: int | None, range_value: str | None, theme: str | None, job_name: str
    ) -> tuple[Any, ...]:
        view = job_view(services(), payload.text(job_name) or "", range_value, theme == "dark")
        keys = [k for k, _ in jd.CHARTS]
        return (
            view.info,
            view.stats,
            *[view.figures.get(k, no_update) for k in keys],
            *[view.summaries.get(k, "") for k in keys],
            *[view.chart_export for _ in keys],
        )

    @app.callback(
        Output(jd.GRID, "getRowsResponse"),
        Output(jd.GRID_NOTE, "children", allow_duplicate=True),
        Input(jd.GRID, "getRowsRequest"),
        State(rid.value, "data"),
        State(jd.JOB, "data"),
        prevent_initial_call=True,
    )
    def _rows(request: dict[str, Any] | None, range_value: str | None, job: str) -> Any:
        response, note = grid_response(
            services(), payload.text(job) or "", range_value, payload.mapping(request)
        )
        return response, note or no_update

    @app.callback(
        Output(jd.GRID_EXPORT, "href"),
        Output(jd.GRID_NOTE, "children"),
        Input(rid.value, "data"),
        Input(jd.GRID, "filterModel"),
        Input(shell.REFRESH, "n_intervals"),
        State(jd.JOB, "data"),
    )
    def _export(range_value: str | None, model: Any, _n: int | None, job: str) -> Any:
        now = services().clock.now()
        return grid_export(payload.text(job) or "", range_value, now, payload.mapping(model))

    app.clientside_callback(
        ClientsideFunction(namespace="smd", function_name="appliedTheme"),
        Output(jd.THEME, "data"),
        Input(shell.THEME_STORE, "data"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="smd", function_name="purgeRuns"),
        Output(jd.PURGE, "data"),
        Input(rid.value, "data"),
        State(jd.GRID, "id"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="smd", function_name="reloadRuns"),
        Output(jd.RELOADED, "data"),
        Input(shell.REFRESH, "n_intervals"),
        State(jd.GRID, "id"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(jd.RUN, "data"),
        Input(jd.GRID, "selectedRows"),
        prevent_initial_call=True,
    )
    def _select(rows: list[dict[str, Any]] | None) -> Any:
        selected = payload.records(rows)
        if not selected:
            return no_update
        return payload.text(selected[0].get("run_id")) or no_update

    @app.callback(
        Output(jd.RUN_PANEL, "children"),
        Input(jd.RUN, "data"),
        Input(shell.REFRESH, "n_intervals"),
        State(jd.JOB, "data"),
    )
    def _panel(run_id: str | None, _n: int | None, job: str) -> list[Any]:
        return run_panel(services(), payload.text(job) or "", payload.text(run_id))

    @app.callback(
        Output(jd.STATE_FILTER, "data"),
        Input(jd.GRID, "filterModel"),
        prevent_initial_call=True,
    )
    def _state_filter(model: Any) -> str | None:
        return jd.state_of_filter_model(payload.mapping(model))

    register_url_state(app, jd.URL_STATE)
