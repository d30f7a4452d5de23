"""Callbacks of the Uploads history page: filter, fill the grid, keep the export link in step."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, no_update
from sqlalchemy.exc import SQLAlchemyError

from callbacks import payload
from callbacks.timerange import register_time_range
from callbacks.url_state import register_url_state
from dashapp.clock import iso_z
from dashapp.db import db_error_line
from dashapp.queries import uploads as upload_queries
from dashapp.queries.uploads import UploadFilter
from dashapp.services import Services, services
from dashapp.timerange import resolve_range
from layouts import shell
from layouts.timerange import range_ids
from pages import links
from pages.uploads import layout as uploads


def history(
    svc: Services,
    dataset: str | None,
    status: str | None,
    user: str | None,
    range_: str | None,
    upload: str | None = None,
) -> tuple[list[dict[str, Any]], str, str]:
    """Grid rows, the summary line and the export link for the chosen filters."""
    now = svc.clock.now()
    window, _ = resolve_range(range_, now, uploads.DEFAULT_RANGE)
    since, until = window.bounds
    f = UploadFilter(
        since=since,
        until=until,
        dataset=None if dataset in (None, "", uploads.ANY) else dataset,
        status=None if status in (None, "", uploads.ANY) else status,
        user=(user or "").strip() or None,
        upload_id=(upload or "").strip() or None,
    )
    href = links.uploads_export(
        dataset=f.dataset or "",
        status=f.status or "",
        user=f.user or "",
        since=iso_z(f.since),
        until=iso_z(f.until),
        upload=f.upload_id or "",
    )
    try:
        with svc.sessions() as session:
            views = upload_queries.uploads(session, f)
            total = upload_queries.count_uploads(session, f)
    except SQLAlchemyError as e:
        return [], f"Database unreachable: {db_error_line(e)}", href
    labels = {d.name: d.label for d in svc.settings.datasets}
    scope = f"upload {f.upload_id}" if f.upload_id else window.label
    return uploads.grid_rows(views, labels), uploads.summary(len(views), total, scope), href


def register(app: Dash) -> None:
    register_time_range(app, uploads.PAGE)
    rid = range_ids(uploads.PAGE)
    register_url_state(app, uploads.URL_STATE)

    @app.callback(Output(uploads.DATASET, "options"), Input(shell.URL, "pathname"))
    def _datasets(_pathname: str | None) -> list[dict[str, str]]:
        return uploads.dataset_options(services().settings.datasets)

    @app.callback(
        Output(uploads.UPLOAD, "data"),
        Output(uploads.UPLOAD_NOTE, "hidden"),
        Input(uploads.UPLOAD_CLEAR, "n_clicks"),
        prevent_initial_call=True,
    )
    def _clear_upload(n: int | None) -> tuple[Any, Any]:
        return (None, True) if n else (no_update, no_update)

    @app.callback(
        Output(uploads.GRID, "rowData"),
        Output(uploads.SUMMARY, "children"),
        Output(uploads.EXPORT, "href"),
        Input(uploads.DATASET, "value"),
        Input(uploads.STATUS, "value"),
        Input(uploads.USER, "value"),
        Input(rid.value, "data"),
        Input(uploads.UPLOAD, "data"),
        Input(shell.REFRESH, "n_intervals"),
    )
    def _history(
        dataset: str | None,
        status: str | None,
        user: str | None,
        range_: str | None,
        upload: str | None,
        _n: Any,
    ) -> tuple[list[dict[str, Any]], str, str]:
        text = payload.text
        return history(services(), text(dataset), text(status), text(user), range_, text(upload))
