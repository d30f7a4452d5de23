"""Writing Glue runs, and the trail between uploads and the runs they triggered.

Shared by the reconciliation (GetJobRuns) and the event consumer (state-change
events), so a run looks the same whichever path stored it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashapp.aws import glue
from dashapp.config import Settings
from dashapp.db import upsert
from dashapp.models import JobRun, Upload

UPLOAD_STATUS_BY_STATE = {
    "STARTING": "triggered",
    "WAITING": "triggered",
    "RUNNING": "running",
    "STOPPING": "running",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "TIMEOUT": "failed",
    "STOPPED": "failed",
    "ERROR": "failed",
    "EXPIRED": "failed",
}
# Keys written by our upload path and by partner drops: "<prefix>/yyyy/mm/dd/<uuid>-<name>".
_UUID_PREFIX = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-")


def store_runs(session: Session, rows: list[dict[str, Any]]) -> int:
    """Upsert runs by run id, touching only the columns the Glue API owns."""
    if not rows:
        return 0
    # `attempt` is written once: Glue's Attempt of a run never changes, and a re-run
    # started by job control (dashapp/actions/jobcontrol.py) stores its own attempt number first.
    update = [c for c in glue.RUN_API_COLUMNS if c != "attempt"]
    # Rows locked in run-id order, as every writer of many runs in one transaction must:
    # two writers taking the same rows in different orders deadlock on PostgreSQL.
    rows = sorted(rows, key=lambda r: r["run_id"])
    n = upsert(session, JobRun, rows, conflict=["run_id"], update=update)
    link_uploads(session, rows)
    return n


def upload_id_for(bucket: str, key: str) -> str:
    """A stable id per object, so the event consumer and the upload page agree on the row."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"s3://{bucket}/{key}"))


def original_name(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    return _UUID_PREFIX.sub("", name) or name


def dataset_of(settings: Settings, bucket: str, key: str) -> str | None:
    matches = [
        d
        for d in settings.datasets
        if settings.dataset_bucket(d) == bucket and key.startswith(d.prefix)
    ]
    return max(matches, key=lambda d: len(d.prefix)).name if matches else None


def link_uploads(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """Point each run at the upload it ingests (its `--input_path`) and move the upload's
    status along with the run: triggered → running → succeeded / failed."""
    for row in rows:
        target = glue.input_object(row.get("arguments") or {})
        if target is None:
            continue
        bucket, key = target
        upload = session.scalar(
            select(Upload).where(Upload.bucket == bucket, Upload.object_key == key)
        )
        if upload is None:
            continue
        session.execute(
            JobRun.__table__.update()
            .where(JobRun.run_id == row["run_id"])
            .values(upload_id=upload.id)
        )
        # The newest run of an upload speaks for it (a re-run replaces a failed attempt).
        if upload.run_id not in (None, row["run_id"]):
            current = session.get(JobRun, upload.run_id)
            if current is not None and current.started_at > row["started_at"]:
                continue
        upload.run_id = row["run_id"]
        upload.job_name = row["job_name"]
        upload.status = UPLOAD_STATUS_BY_STATE.get(row["state"], upload.status)
        upload.triggered_at = upload.triggered_at or row["started_at"]
        if row["state"] in glue.TERMINAL_STATES:
            upload.completed_at = row.get("completed_at")
            upload.error = row.get("error_message") if upload.status == "failed" else None


def record_object(
    session: Session,
    settings: Settings,
    *,
    bucket: str,
    key: str,
    size: int | None,
    etag: str | None,
    uploaded_by: str | None,
    at: datetime,
) -> Upload | None:
    """An object landed in a dataset's raw prefix: make sure the upload trail knows it."""
    dataset = dataset_of(settings, bucket, key)
    if dataset is None:
        return None
    upload = session.scalar(select(Upload).where(Upload.bucket == bucket, Upload.object_key == key))
    if upload is None:
        upload = Upload(
            id=upload_id_for(bucket, key),
            dataset=dataset,
            bucket=bucket,
            object_key=key,
            original_name=original_name(key)[:1024],
            uploaded_by=uploaded_by or "unknown",
            status="uploaded",
            created_at=at,
        )
        session.add(upload)
    upload.size_bytes = size if size is not None else upload.size_bytes
    upload.etag = etag or upload.etag
    upload.uploaded_at = upload.uploaded_at or at
    if upload.status == "validated":
        upload.status = "uploaded"
    # The run may have been stored before the object's event arrived (events race).
    run = None
    job = settings.datasets_by_name[dataset].glue_job
    for candidate in session.scalars(
        select(JobRun)
        .where(
            JobRun.job_name == job,
            JobRun.started_at >= at.replace(microsecond=0),
            JobRun.upload_id.is_(None),
        )
        .order_by(JobRun.started_at)
        .limit(200)
    ):
        if glue.input_object(candidate.arguments or {}) == (bucket, key):
            run = candidate
            break
    if run is not None:
        session.flush()
        link_uploads(
            session,
            [
                {
                    "run_id": run.run_id,
                    "job_name": run.job_name,
                    "state": run.state,
                    "started_at": run.started_at,
                    "completed_at": run.completed_at,
                    "error_message": run.error_message,
                    "arguments": run.arguments,
                }
            ],
        )
    return upload
