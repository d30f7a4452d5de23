"""Callbacks of the Upload page: the chosen dataset's description, and the live trail.

The trail re-reads the database on the shared refresh timer and whenever the
page's script reports a step of its own (`upload-refresh`), so a file's status
moves on screen as the collector moves it (uploaded → … → succeeded).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dash import Dash, Input, Output
from sqlalchemy.exc import SQLAlchemyError

from callbacks import payload
from dashapp.actions.auth import current_identity
from dashapp.db import db_error_line
from dashapp.identity import Role
from dashapp.queries import uploads as upload_queries
from dashapp.services import Services, services
from layouts import shell
from layouts.components import database_unreachable
from pages.upload import layout as upload


def upload_trail(svc: Services, user: str) -> Any:
    """The user's uploads of the last day, each with its trail."""
    now = svc.clock.now()
    since = now - timedelta(hours=upload.TRAIL_WINDOW_H)
    try:
        with svc.sessions() as session:
            views = upload_queries.recent_uploads(session, user=user, since=since)
    except SQLAlchemyError as e:
        return database_unreachable(db_error_line(e))
    labels = {d.name: d.label for d in svc.settings.datasets}
    return upload.trail_list(views, labels, now)


def form_view(svc: Services) -> tuple[Any, bool, list[dict[str, str]], str | None]:
    """The form for an operator (with the datasets), or why there is none."""
    can_upload = current_identity().can(Role.operator)
    return upload.form_state(svc.settings.datasets, can_upload)


def dataset_description(svc: Services, name: str | None) -> list[Any]:
    dataset = svc.settings.datasets_by_name.get(name or "")
    return upload.dataset_info(dataset) if dataset else []


def register(app: Dash) -> None:
    @app.callback(
        Output(upload.FORM_STATUS, "children"),
        Output(upload.FORM, "hidden"),
        Output(upload.DATASET, "options"),
        Output(upload.DATASET, "value"),
        Input(shell.URL, "pathname"),
    )
    def _form(_pathname: str | None) -> tuple[Any, bool, list[dict[str, str]], str | None]:
        return form_view(services())

    @app.callback(Output(upload.DATASET_INFO, "children"), Input(upload.DATASET, "value"))
    def _info(name: str | None) -> list[Any]:
        return dataset_description(services(), payload.text(name))

    @app.callback(
        Output(upload.TRAIL, "children"),
        Input(shell.REFRESH, "n_intervals"),
        Input(upload.REFRESH, "data"),
    )
    def _trail(_n: int | None, _changed: Any) -> Any:
        return upload_trail(services(), current_identity().user)
