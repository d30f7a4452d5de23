"""Job control components any page can embed: start a job, stop or re-run one run.

Ids are pattern-matching dicts (`{"type": <one of the constants>, "job"|"run": ...}`)
so a page may hold several toolbars and run rows at once; `callbacks/job_actions.py`
answers them all with MATCH callbacks. Every action asks for confirmation in a
modal, because it costs money (a Glue run) or loses work (a stop). When the user's
role cannot act, the buttons stay visible but disabled, with the reason in words
next to them, so nobody wonders why nothing happens.
"""

from __future__ import annotations

import json
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts.components import icon

# --- id types (pattern-matching) ---------------------------------------------
START_OPEN = "ja-start-open"
START_MODAL = "ja-start-modal"
START_ARGS = "ja-start-args"
START_FEEDBACK = "ja-start-feedback"
START_CONFIRM = "ja-start-confirm"
START_CANCEL = "ja-start-cancel"
START_RESULT = "ja-start-result"
START_TOKEN = "ja-start-token"

RUN_STOP = "ja-run-stop"
RUN_RERUN = "ja-run-rerun"
RUN_MODAL = "ja-run-modal"
RUN_MODAL_BODY = "ja-run-modal-body"
RUN_CONFIRM = "ja-run-confirm"
RUN_CANCEL = "ja-run-cancel"
RUN_RESULT = "ja-run-result"
RUN_PENDING = "ja-run-pending"

# Glue run states in which a run can be stopped, and in which it may be re-run.
STOPPABLE_STATES = frozenset({"STARTING", "RUNNING", "WAITING"})
RERUNNABLE_STATES = frozenset({"FAILED", "TIMEOUT", "ERROR", "STOPPED"})

NEEDS_OPERATOR = "Needs the operator role."

ARGS_HELP = (
    "One argument a line as --key=value. Keys start with --; these override the "
    "job's default arguments for this run only."
)


def dom_id(component_id: dict[str, str]) -> str:
    """The DOM id Dash renders for a dict id (sorted keys, compact JSON), for `html_for`."""
    return json.dumps(dict(sorted(component_id.items())), separators=(",", ":"), ensure_ascii=False)


def operator_allowed(can_operate: bool | None) -> bool:
    """Whether the current user may act; asked of `dashapp.auth` when not given."""
    if can_operate is not None:
        return can_operate
    from flask import has_app_context

    if not has_app_context():
        return False  # no request, no identity: render the controls disabled (deny by default)
    from dashapp.actions.auth import current_identity
    from dashapp.identity import Role

    return current_identity().can(Role.operator)


def _denied_hint(allowed: bool) -> list[Any]:
    return (
        []
        if allowed
        else [html.Small([icon("lock", "me-1"), NEEDS_OPERATOR], className="text-body-secondary")]
    )


def _button(
    icon_name: str, label: str, component_id: dict[str, str], tone: str, allowed: bool, aria: str
) -> html.Button:
    """A small Bootstrap button whose accessible name says which run it acts on."""
    return html.Button(
        [icon(icon_name, "me-1"), label],
        id=component_id,
        className=f"btn btn-sm {tone}",
        type="button",
        disabled=not allowed,
        title=aria if allowed else f"{aria} — {NEEDS_OPERATOR}",
        **{"aria-label": aria},
    )


def job_toolbar(job_name: str, *, can_operate: bool | None = None) -> html.Div:
    """A "Start run…" button and its modal: edit arguments, see what is wrong, confirm.

    `can_operate` defaults to the current request's identity (operator or admin).
    """
    allowed = operator_allowed(can_operate)
    key = {"job": job_name}
    title_id = f"ja-start-title-{job_name}"
    args_id = {"type": START_ARGS, **key}
    return html.Div(
        [
            html.Div(
                [
                    dbc.Button(
                        [icon("play-fill", "me-1"), "Start run…"],
                        id={"type": START_OPEN, **key},
                        color="primary",
                        size="sm",
                        disabled=not allowed,
                        title=None if allowed else NEEDS_OPERATOR,
                    ),
                    *_denied_hint(allowed),
                ],
                className="d-flex align-items-center gap-2",
            ),
            html.Div(id={"type": START_RESULT, **key}, className="mt-2", role="status"),
            dcc.Store(id={"type": START_TOKEN, **key}),
            dbc.Modal(
                [
                    dbc.ModalHeader(dbc.ModalTitle(f"Start {job_name}", id=title_id)),
                    dbc.ModalBody(
                        [
                            dbc.Label(
                                "Arguments (one --key=value a line)", html_for=dom_id(args_id)
                            ),
                            dbc.Textarea(
                                id=args_id,
                                placeholder="--input_path=s3://bucket/raw/file.csv\n--verbose=true",
                                rows=5,
                                spellCheck=False,
                                className="font-monospace",
                            ),
                            dbc.FormText(ARGS_HELP),
                            html.Div(
                                id={"type": START_FEEDBACK, **key}, className="mt-2", role="alert"
                            ),
                        ]
                    ),
                    dbc.ModalFooter(
                        [
                            dbc.Button(
                                "Cancel", id={"type": START_CANCEL, **key}, color="secondary"
                            ),
                            dbc.Button(
                                [icon("play-fill", "me-1"), "Start run"],
                                id={"type": START_CONFIRM, **key},
                                color="primary",
                                disabled=not allowed,
                            ),
                        ]
                    ),
                ],
                id={"type": START_MODAL, **key},
                is_open=False,
                labelledby=title_id,
            ),
        ],
        className="smd-job-toolbar",
    )


def run_actions(
    run_id: str, job_name: str, state: str, *, can_operate: bool | None = None
) -> html.Div:
    """Stop (while the run is active) or Re-run (once it failed or was stopped), confirmed.

    States where neither applies (e.g. SUCCEEDED) get an empty container, so a table
    of runs can call this for every row.
    """
    allowed = operator_allowed(can_operate)
    state = state.upper()
    key = {"run": run_id}
    stoppable, rerunnable = state in STOPPABLE_STATES, state in RERUNNABLE_STATES
    if not (stoppable or rerunnable):
        return html.Div(className="smd-run-actions")
    # Both buttons always exist (MATCH callbacks need every input); the one that does
    # not apply to the state is hidden, which also hides it from assistive technology.
    stop = _button(
        "stop-fill",
        "Stop",
        {"type": RUN_STOP, **key},
        "btn-outline-danger",
        allowed,
        f"Stop run {run_id} of {job_name}",
    )
    stop.hidden = not stoppable
    rerun = _button(
        "arrow-clockwise",
        "Re-run",
        {"type": RUN_RERUN, **key},
        "btn-outline-primary",
        allowed,
        f"Re-run {run_id} of {job_name} with its arguments",
    )
    rerun.hidden = not rerunnable
    buttons = [stop, rerun]
    title_id = f"ja-run-title-{run_id}"
    return html.Div(
        [
            html.Div(
                [*buttons, *_denied_hint(allowed)], className="d-flex align-items-center gap-2"
            ),
            html.Div(id={"type": RUN_RESULT, **key}, className="mt-1", role="status"),
            dcc.Store(id={"type": RUN_PENDING, **key}, data={"job": job_name}),
            dbc.Modal(
                [
                    dbc.ModalHeader(dbc.ModalTitle("Confirm", id=title_id)),
                    dbc.ModalBody(id={"type": RUN_MODAL_BODY, **key}),
                    dbc.ModalFooter(
                        [
                            dbc.Button("Cancel", id={"type": RUN_CANCEL, **key}, color="secondary"),
                            dbc.Button(
                                "Confirm",
                                id={"type": RUN_CONFIRM, **key},
                                color="primary",
                                disabled=not allowed,
                            ),
                        ]
                    ),
                ],
                id={"type": RUN_MODAL, **key},
                is_open=False,
                labelledby=title_id,
            ),
        ],
        className="smd-run-actions",
    )
