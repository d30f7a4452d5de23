"""`/export/uploads.csv`: parameters and cells, by the rules of every other export
(`dashapp.exports`: unknown or repeated parameters are a 400, ISO 8601 windows defaulting
to the last 24 h, UTC times ending in Z, spreadsheet formulas neutralised)."""

from __future__ import annotations

from datetime import datetime

from dashapp.export.cells import number_cell, text_cell, time_cell
from dashapp.export.params import WINDOW_PARAMS, BadParameter, _Args, parse_window, single_values
from dashapp.queries.uploads import STATUSES, UploadFilter, UploadView

UPLOADS_PARAMS = ("dataset", "status", "user", "upload", *WINDOW_PARAMS)
UPLOADS_HEADER = (
    "upload_id",
    "dataset",
    "file_name",
    "bucket",
    "object_key",
    "size_bytes",
    "format",
    "uploaded_by",
    "status",
    "created_at",
    "uploaded_at",
    "triggered_at",
    "completed_at",
    "job_name",
    "run_id",
    "rows_read",
    "rows_written",
    "error",
)


def parse_uploads_args(args: _Args, now: datetime, datasets: tuple[str, ...]) -> UploadFilter:
    """`dataset` (a configured one), `status` (one of STATUSES, any case), `user`, window;
    `upload` (an id) narrows to that one upload whatever the window."""
    values = single_values(args, UPLOADS_PARAMS)
    dataset = values.get("dataset")
    if dataset is not None and dataset not in datasets:
        raise BadParameter(
            "dataset", f"unknown dataset {dataset!r}; one of {', '.join(datasets) or 'none'}"
        )
    status = values.get("status")
    if status is not None:
        status = status.lower()
        if status not in STATUSES:
            raise BadParameter(
                "status", f"unknown status {values['status']!r}; one of {', '.join(STATUSES)}"
            )
    window = parse_window(values, now)
    return UploadFilter(
        since=window.since,
        until=window.until,
        dataset=dataset,
        status=status,
        user=values.get("user"),
        upload_id=values.get("upload"),
    )


def upload_cells(u: UploadView) -> list[str]:
    """One row of uploads.csv, in UPLOADS_HEADER order."""
    return [
        text_cell(u.id),
        text_cell(u.dataset),
        text_cell(u.original_name),
        text_cell(u.bucket),
        text_cell(u.object_key),
        number_cell(u.size_bytes),
        text_cell(u.detected_format),
        text_cell(u.uploaded_by),
        text_cell(u.status),
        time_cell(u.created_at),
        time_cell(u.uploaded_at),
        time_cell(u.triggered_at),
        time_cell(u.completed_at),
        text_cell(u.job_name),
        text_cell(u.run_id),
        number_cell(u.rows_read),
        number_cell(u.rows_written),
        text_cell(u.error),
    ]
