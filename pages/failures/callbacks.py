"""Callbacks of the Failed runs page: the grid, the selection, the confirmed bulk re-run.

The grid reads the database through `retries` (never AWS). The bulk
re-run checks the role first, then re-runs each selected run with the token the
confirmation modal was opened with, so re-sending the request starts nothing twice.
"""

from __future__ import annotations

import uuid
from typing import Any

from dash import Dash, Input, Output, State, ctx, no_update
from sqlalchemy.exc import SQLAlchemyError

from callbacks import payload
from callbacks.job_actions import database_refused, remote_addr
from callbacks.timerange import register_time_range
from callbacks.url_state import register_url_state
from dashapp.actions import jobcontrol
from dashapp.actions.auth import current_identity, require
from dashapp.db import db_error_line
from dashapp.identity import Forbidden, Role
from dashapp.queries import retries
from dashapp.services import Services, services
from dashapp.timerange import resolve_range
from layouts.components import database_unreachable, icon, notice
from layouts.job_actions import NEEDS_OPERATOR
from layouts.timerange import range_ids
from pages.failures import layout as fl


def selected_runs(selected: object) -> list[dict[str, Any]]:
    """The grid's selected rows that name a run, as text (what a crafted request sends is
    dropped or made storable)."""
    rows = [{**r, "run_id": payload.text(r.get("run_id"))} for r in payload.records(selected)]
    return [r for r in rows if r["run_id"]]


def grid_view(svc: Services, range_value: str | None, job: str | None) -> tuple[Any, Any, Any]:
    """(rows, status line, job options) for the filters, as of the services' clock."""
    now = svc.clock.now()
    window, _ = resolve_range(range_value, now, fl.DEFAULT_RANGE)
    since = window.since
    until = window.query_until
    chosen = None if job in (None, "", fl.ALL_JOBS) else job
    try:
        with svc.sessions() as session:
            runs = retries.failed_runs(
                session,
                since=since,
                until=until,
                now=now,
                policy_for=svc.settings.retry_policy,
                job=chosen,
            )
            names = retries.failed_job_names(session, since=since)
    except SQLAlchemyError as e:
        return [], database_unreachable(db_error_line(e)), no_update
    options = [{"label": "All jobs", "value": fl.ALL_JOBS}] + [
        {"label": n, "value": n} for n in names
    ]
    if chosen and chosen not in names:
        options.append({"label": chosen, "value": chosen})
    count = len(runs)
    status = f"{count} failed run{'s' if count != 1 else ''}" + (
        f" (the newest {retries.MAX_FAILED_ROWS})" if count >= retries.MAX_FAILED_ROWS else ""
    )
    return fl.rows(runs), status, options


def selection_state(selected: list[dict[str, Any]] | None, allowed: bool) -> tuple[bool, Any]:
    """Whether "Re-run selected…" is enabled, and the hint next to it."""
    if not allowed:
        return True, [icon("lock", "me-1"), NEEDS_OPERATOR]
    n = len(selected or [])
    if n == 0:
        return True, "Select failed runs in the table to re-run them."
    return False, f"{n} run{'s' if n != 1 else ''} selected."


def bulk_action(svc: Services, selected: list[dict[str, Any]] | None, token: str | None) -> Any:
    """Check the role, re-run every selected run, and say per run what happened."""
    run_ids = [str(r["run_id"]) for r in selected or [] if r.get("run_id")]
    try:
        identity = require(Role.operator, "bulk_rerun", target=",".join(run_ids)[:1024])
    except Forbidden as e:
        return notice(str(e), "danger", "lock")
    try:
        outcomes = jobcontrol.bulk_rerun(
            svc.sessions,
            svc.aws.client("glue"),
            identity,
            run_ids,
            token=token or uuid.uuid4().hex,
            now=svc.clock.now(),
            remote_addr=remote_addr(),
        )
    except SQLAlchemyError as e:
        return database_refused(e, "started")
    return fl.results(outcomes)


def register(app: Dash) -> None:
    register_time_range(app, fl.PAGE)
    rid = range_ids(fl.PAGE)
    register_url_state(app, fl.URL_STATE)

    @app.callback(
        Output(fl.GRID, "rowData"),
        Output(fl.STATUS, "children"),
        Output(fl.JOB, "options"),
        Input(rid.value, "data"),
        Input(fl.JOB, "value"),
        Input(fl.REFRESH, "n_clicks"),
        Input(fl.RESULTS, "children"),
    )
    def _grid(range_value: str | None, job: str | None, _n: Any, _results: Any) -> Any:
        return grid_view(services(), range_value, payload.text(job))

    @app.callback(
        Output(fl.RERUN, "disabled"),
        Output(fl.RERUN_HINT, "children"),
        Input(fl.GRID, "selectedRows"),
    )
    def _selection(selected: list[dict[str, Any]] | None) -> Any:
        return selection_state(selected_runs(selected), current_identity().can(Role.operator))

    @app.callback(
        Output(fl.MODAL, "is_open"),
        Output(fl.MODAL_BODY, "children"),
        Output(fl.TOKEN, "data"),
        Input(fl.RERUN, "n_clicks"),
        Input(fl.CANCEL, "n_clicks"),
        State(fl.GRID, "selectedRows"),
        prevent_initial_call=True,
    )
    def _open(_open: Any, _cancel: Any, selected: list[dict[str, Any]] | None) -> Any:
        selected = selected_runs(selected)
        if ctx.triggered_id != fl.RERUN or not selected:
            return False, no_update, None
        return True, fl.confirmation(selected), uuid.uuid4().hex

    @app.callback(
        Output(fl.RESULTS, "children"),
        Output(fl.MODAL, "is_open", allow_duplicate=True),
        Output(fl.GRID, "deselectAll"),
        Input(fl.CONFIRM, "n_clicks"),
        State(fl.GRID, "selectedRows"),
        State(fl.TOKEN, "data"),
        prevent_initial_call=True,
    )
    def _confirm(n: Any, selected: list[dict[str, Any]] | None, token: str | None) -> Any:
        selected = selected_runs(selected)
        if not n or not selected:
            return no_update, False, no_update
        return bulk_action(services(), selected, payload.text(token)), False, True
