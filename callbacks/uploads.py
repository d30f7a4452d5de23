"""Callbacks of the Uploads history page: filter, fill the grid, keep the export link in step."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output
from sqlalchemy.exc import SQLAlchemyError

from dashapp import upload_queries
from dashapp.clock import iso_z
from dashapp.services import Services, services
from dashapp.upload_queries import UploadFilter
from dashapp.web.health import db_error_line
from layouts import shell, uploads


def history(
    svc: Services, dataset: str | None, status: str | None, user: str | None, range_: str | None
) -> tuple[list[dict[str, Any]], str, str]:
    """Grid rows, the summary line and the export link for the chosen filters."""
    now = svc.clock.now()
    label, span = uploads.RANGES.get(range_ or "", uploads.RANGES[uploads.DEFAULT_RANGE])
    f = UploadFilter(
        since=now - span,
        until=now,
        dataset=None if dataset in (None, "", uploads.ANY) else dataset,
        status=None if status in (None, "", uploads.ANY) else status,
        user=(user or "").strip() or None,
    )
    href = uploads.export_href(
        f.dataset or "", f.status or "", f.user or "", iso_z(f.since), iso_z(f.until)
    )
    try:
        with svc.sessions() as session:
            views = upload_queries.uploads(session, f)
            total = upload_queries.count_uploads(session, f)
    except SQLAlchemyError as e:
        return [], f"Database unreachable: {db_error_line(e)}", href
    labels = {d.name: d.label for d in svc.settings.datasets}
    return uploads.grid_rows(views, labels), uploads.summary(len(views), total, label), href


def register(app: Dash) -> None:
    @app.callback(Output(uploads.DATASET, "options"), Input(shell.URL, "pathname"))
    def _datasets(_pathname: str | None) -> list[dict[str, str]]:
        return uploads.dataset_options(services().settings.datasets)

    @app.callback(
        Output(uploads.GRID, "rowData"),
        Output(uploads.SUMMARY, "children"),
        Output(uploads.EXPORT, "href"),
        Input(uploads.DATASET, "value"),
        Input(uploads.STATUS, "value"),
        Input(uploads.USER, "value"),
        Input(uploads.RANGE, "value"),
        Input(shell.REFRESH, "n_intervals"),
    )
    def _history(
        dataset: str | None, status: str | None, user: str | None, range_: str | None, _n: Any
    ) -> tuple[list[dict[str, Any]], str, str]:
        return history(services(), dataset, status, user, range_)
