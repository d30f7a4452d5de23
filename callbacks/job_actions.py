"""Callbacks of the job-control components (`layouts/job_actions.py`), on any page.

MATCH callbacks answer every toolbar and run row by its own id. Opening a modal
mints a request token; the confirm button sends it, so a double click or a
browser re-sending the request finds the claim and never starts a second run.
The role is checked here, at the edge, before anything else happens.
"""

from __future__ import annotations

import uuid
from typing import Any

from dash import MATCH, Dash, Input, Output, State, ctx, html, no_update
from flask import has_request_context, request
from sqlalchemy.exc import SQLAlchemyError

from callbacks import payload
from dashapp.actions import jobcontrol, run_arguments
from dashapp.actions.auth import require
from dashapp.db import database_unavailable, db_error_line
from dashapp.identity import Forbidden, Role
from dashapp.services import Services, services
from layouts import job_actions as ja
from layouts.components import notice


def remote_addr() -> str | None:
    return request.remote_addr if has_request_context() else None


def result_notice(result: jobcontrol.ActionResult) -> html.Div:
    """The outcome of one action as an alert: what happened, in the user's words."""
    if result.ok:
        return notice(result.message, "success", "check-circle-fill")
    return notice(result.message, "danger", "x-octagon-fill")


def database_refused(err: SQLAlchemyError, nothing_was: str) -> html.Div:
    """An action the database refused before AWS was asked (down, read-only, full): why, and
    that nothing happened. After AWS acted, the action itself says so (`unrecorded`)."""
    if not database_unavailable(err):
        raise err
    return notice(
        f"The database is unavailable ({db_error_line(err)}): nothing was {nothing_was}.",
        "danger",
        "x-octagon-fill",
    )


def start_action(svc: Services, job_name: str, args_text: str | None, token: str | None) -> Any:
    """Validate, check the role, start the run. Returns (feedback, result, keep modal open)."""
    try:
        run_arguments.parse_arguments(args_text)
    except run_arguments.ArgumentError as e:
        problems = html.Ul([html.Li(p) for p in e.problems], className="mb-0")
        return (
            notice(["Fix the arguments first:", problems], "danger", "x-octagon-fill"),
            None,
            True,
        )
    try:
        identity = require(Role.operator, "start_job_run", target=job_name)
    except Forbidden as e:
        return notice(str(e), "danger", "lock"), None, True
    try:
        result = jobcontrol.start_job(
            svc.sessions,
            svc.aws.client("glue"),
            identity,
            job_name,
            args_text,
            token=token or uuid.uuid4().hex,
            now=svc.clock.now(),
            remote_addr=remote_addr(),
        )
    except SQLAlchemyError as e:
        return database_refused(e, "started"), None, True
    if not result.ok and not result.duplicate:
        return result_notice(result), None, True
    return None, result_notice(result), False


def confirm_text(action: str, run_id: str, job_name: str) -> html.P:
    """What the confirmation modal says an action will do."""
    if action == "stop":
        return html.P(
            ["Stop run ", html.Code(run_id), f" of {job_name}? Work in progress is lost."]
        )
    return html.P(
        [
            f"Start {job_name} again with the arguments of run ",
            html.Code(run_id),
            "? This is a new Glue run and is billed as one.",
        ]
    )


def run_action(svc: Services, action: str, run_id: str, token: str | None) -> html.Div:
    """Stop or re-run one run after the role check; the outcome as an alert."""
    name = "stop_job_run" if action == "stop" else "rerun_job_run"
    try:
        identity = require(Role.operator, name, target=run_id)
    except Forbidden as e:
        return notice(str(e), "danger", "lock")
    glue = svc.aws.client("glue")
    now = svc.clock.now()
    try:
        if action == "stop":
            result = jobcontrol.stop_run(
                svc.sessions, glue, identity, run_id, now=now, remote_addr=remote_addr()
            )
        else:
            result = jobcontrol.rerun(
                svc.sessions,
                glue,
                identity,
                run_id,
                token=token or uuid.uuid4().hex,
                now=now,
                remote_addr=remote_addr(),
            )
    except SQLAlchemyError as e:
        return database_refused(e, "stopped" if action == "stop" else "started")
    return result_notice(result)


def register(app: Dash) -> None:
    """Start toolbar and run-row callbacks, pattern-matched so any page may hold many."""

    @app.callback(
        Output({"type": ja.START_MODAL, "job": MATCH}, "is_open"),
        Output({"type": ja.START_TOKEN, "job": MATCH}, "data"),
        Output({"type": ja.START_FEEDBACK, "job": MATCH}, "children"),
        Input({"type": ja.START_OPEN, "job": MATCH}, "n_clicks"),
        Input({"type": ja.START_CANCEL, "job": MATCH}, "n_clicks"),
        prevent_initial_call=True,
    )
    def _open_start(_open: int | None, _cancel: int | None) -> Any:
        trigger = payload.mapping(ctx.triggered_id) or {}
        if trigger.get("type") == ja.START_OPEN:
            return True, uuid.uuid4().hex, None
        return False, None, None

    @app.callback(
        Output({"type": ja.START_FEEDBACK, "job": MATCH}, "children", allow_duplicate=True),
        Output({"type": ja.START_RESULT, "job": MATCH}, "children"),
        Output({"type": ja.START_MODAL, "job": MATCH}, "is_open", allow_duplicate=True),
        Input({"type": ja.START_CONFIRM, "job": MATCH}, "n_clicks"),
        State({"type": ja.START_ARGS, "job": MATCH}, "value"),
        State({"type": ja.START_TOKEN, "job": MATCH}, "data"),
        prevent_initial_call=True,
    )
    def _confirm_start(n: int | None, args_text: str | None, token: str | None) -> Any:
        if not n:
            return no_update, no_update, no_update
        job_name = payload.text((payload.mapping(ctx.triggered_id) or {}).get("job")) or ""
        feedback, result, keep_open = start_action(
            services(), job_name, payload.text(args_text), payload.text(token)
        )
        return feedback, result if result is not None else no_update, keep_open

    @app.callback(
        Output({"type": ja.RUN_MODAL, "run": MATCH}, "is_open"),
        Output({"type": ja.RUN_MODAL_BODY, "run": MATCH}, "children"),
        Output({"type": ja.RUN_PENDING, "run": MATCH}, "data"),
        Input({"type": ja.RUN_STOP, "run": MATCH}, "n_clicks"),
        Input({"type": ja.RUN_RERUN, "run": MATCH}, "n_clicks"),
        Input({"type": ja.RUN_CANCEL, "run": MATCH}, "n_clicks"),
        State({"type": ja.RUN_PENDING, "run": MATCH}, "data"),
        prevent_initial_call=True,
    )
    def _open_run(_s: Any, _r: Any, _c: Any, pending: dict[str, Any] | None) -> Any:
        trigger = payload.mapping(ctx.triggered_id) or {}
        pending = dict(payload.mapping(pending) or {})
        kind = trigger.get("type")
        if kind not in (ja.RUN_STOP, ja.RUN_RERUN) or not ctx.triggered[0].get("value"):
            return False, no_update, {**pending, "action": None}
        action = "stop" if kind == ja.RUN_STOP else "rerun"
        run_id, job = payload.text(trigger.get("run")) or "", payload.text(pending.get("job")) or ""
        body = confirm_text(action, run_id, job)
        return True, body, {**pending, "action": action, "token": uuid.uuid4().hex}

    @app.callback(
        Output({"type": ja.RUN_RESULT, "run": MATCH}, "children"),
        Output({"type": ja.RUN_MODAL, "run": MATCH}, "is_open", allow_duplicate=True),
        Input({"type": ja.RUN_CONFIRM, "run": MATCH}, "n_clicks"),
        State({"type": ja.RUN_PENDING, "run": MATCH}, "data"),
        prevent_initial_call=True,
    )
    def _confirm_run(n: int | None, pending: dict[str, Any] | None) -> Any:
        pending = payload.mapping(pending) or {}
        if not n or pending.get("action") not in ("stop", "rerun"):
            return no_update, False
        run_id = payload.text((payload.mapping(ctx.triggered_id) or {}).get("run")) or ""
        token = payload.text(pending.get("token"))
        return run_action(services(), pending["action"], run_id, token), False
