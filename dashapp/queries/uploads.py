"""The read side of uploads: the live trail on the upload page, the history page, the export.

An upload's figures come from its run when the upload row has none of its own:
the collector stores rows read/written and the error on the run (`job_runs`,
from the job's metrics and Glue), and links the run to the upload
(`collectors.runs.link_uploads`), so one LEFT JOIN shows the whole trail.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from dashapp.models import GlueJob, JobRun, Upload

MAX_ROWS = 2_000  # the history grid; the CSV export streams everything

# An upload's life as the uploads page and its export name it, in order.
STATUSES = ("validated", "uploaded", "triggered", "running", "succeeded", "failed")


@dataclass(frozen=True)
class UploadFilter:
    """What the history page and the export narrow by; None means any."""

    since: datetime
    until: datetime
    dataset: str | None = None
    status: str | None = None
    user: str | None = None
    upload_id: str | None = None  # one upload, whenever it was made (a link from its run)


@dataclass(frozen=True)
class UploadView:
    """One upload and where its trail stands."""

    id: str
    dataset: str
    original_name: str
    bucket: str
    object_key: str
    size_bytes: int | None
    detected_format: str | None
    uploaded_by: str
    status: str
    created_at: datetime
    uploaded_at: datetime | None
    triggered_at: datetime | None
    completed_at: datetime | None
    job_name: str | None
    run_id: str | None
    run_state: str | None
    rows_read: int | None
    rows_written: int | None
    error: str | None
    output_path: str | None

    @property
    def s3_uri(self) -> str:
        return f"s3://{self.bucket}/{self.object_key}"


def _base() -> Select[Any]:
    return (
        select(
            Upload,
            JobRun.state,
            JobRun.rows_read,
            JobRun.rows_written,
            JobRun.error_message,
            JobRun.arguments,
            GlueJob.default_arguments,
        )
        .outerjoin(JobRun, JobRun.run_id == Upload.run_id)
        .outerjoin(GlueJob, GlueJob.name == Upload.job_name)
    )


def _view(row: Any) -> UploadView:
    upload: Upload = row[0]
    state, rows_read, rows_written, run_error, arguments, defaults = row[1:]
    # Where the job writes: the run's own argument, else the job's default argument.
    output = (
        upload.processed_key
        or (arguments or {}).get("--output_path")
        or (defaults or {}).get("--output_path")
    )
    return UploadView(
        id=upload.id,
        dataset=upload.dataset,
        original_name=upload.original_name,
        bucket=upload.bucket,
        object_key=upload.object_key,
        size_bytes=upload.size_bytes,
        detected_format=upload.detected_format,
        uploaded_by=upload.uploaded_by,
        status=upload.status,
        created_at=upload.created_at,
        uploaded_at=upload.uploaded_at,
        triggered_at=upload.triggered_at,
        completed_at=upload.completed_at,
        job_name=upload.job_name,
        run_id=upload.run_id,
        run_state=state,
        rows_read=upload.rows_read if upload.rows_read is not None else rows_read,
        rows_written=upload.rows_written if upload.rows_written is not None else rows_written,
        error=upload.error or (run_error if upload.status == "failed" else None),
        output_path=output,
    )


def recent_uploads(
    session: Session, *, user: str, since: datetime, limit: int = 20
) -> list[UploadView]:
    """The user's uploads since `since`, newest first (the upload page's live trail)."""
    stmt = (
        _base()
        .where(Upload.uploaded_by == user, Upload.created_at >= since)
        .order_by(Upload.created_at.desc(), Upload.id)
        .limit(limit)
    )
    return [_view(r) for r in session.execute(stmt)]


def _filtered(f: UploadFilter) -> Select[Any]:
    if f.upload_id is not None:
        stmt = _base().where(Upload.id == f.upload_id)
    else:
        stmt = _base().where(Upload.created_at >= f.since, Upload.created_at < f.until)
    if f.dataset:
        stmt = stmt.where(Upload.dataset == f.dataset)
    if f.status:
        stmt = stmt.where(Upload.status == f.status)
    if f.user:
        stmt = stmt.where(func.lower(Upload.uploaded_by) == f.user.lower())
    return stmt.order_by(Upload.created_at.desc(), Upload.id)


def uploads(session: Session, f: UploadFilter, *, limit: int = MAX_ROWS) -> list[UploadView]:
    """The history page: newest first, at most `limit`."""
    return [_view(r) for r in session.execute(_filtered(f).limit(limit))]


def count_uploads(session: Session, f: UploadFilter) -> int:
    """How many uploads match (the grid says when it shows only the newest)."""
    sub = _filtered(f).order_by(None).subquery()
    return int(session.scalar(select(func.count()).select_from(sub)) or 0)


def iter_uploads(session: Session, f: UploadFilter, *, batch: int = 1000) -> Iterator[UploadView]:
    """Every matching upload, read in batches (the CSV export)."""
    for row in session.execute(_filtered(f).execution_options(yield_per=batch)):
        yield _view(row)


def upload_users(session: Session) -> list[str]:
    """Everyone who uploaded something (the user filter's choices)."""
    return list(session.scalars(select(Upload.uploaded_by).distinct().order_by(Upload.uploaded_by)))


def uploads_by_id(session: Session, ids: Sequence[str]) -> list[UploadView]:
    """Given uploads (those started in this browser tab), newest first."""
    if not ids:
        return []
    stmt = _base().where(Upload.id.in_(list(ids))).order_by(Upload.created_at.desc(), Upload.id)
    return [_view(r) for r in session.execute(stmt)]
