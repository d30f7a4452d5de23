"""One Glue job's page: its facts, its runs over time (charts) and one run's details.

Chart series are capped at `SERIES_LIMIT` latest runs, so a job with a million runs
draws as fast as one with a hundred; the run history grid is `run_grid`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from dashapp.models import (
    GlueJob,
    JobRun,
    Upload,
)
from dashapp.queries.cards import RangeStats
from dashapp.queries.overview import job_range_stats

SERIES_LIMIT = 2000  # at most this many runs in the job detail charts (latest ones)


@dataclass(frozen=True)
class JobInfo:
    """A job's configuration as the inventory last saw it."""

    name: str
    description: str
    worker_type: str | None
    number_of_workers: int | None
    max_capacity: float | None
    schedule: str | None
    tags: dict[str, str]
    gone_at: datetime | None
    last_seen_at: datetime


def job_info(session: Session, job_name: str) -> JobInfo | None:
    """The job's row, or None when the inventory never saw it (or no name was given)."""
    j = session.get(GlueJob, job_name) if job_name else None
    if j is None:
        return None
    return JobInfo(
        name=j.name,
        description=j.description or "",
        worker_type=j.worker_type,
        number_of_workers=j.number_of_workers,
        max_capacity=j.max_capacity,
        schedule=j.schedule,
        tags={str(k): str(v) for k, v in (j.tags or {}).items()},
        gone_at=j.gone_at,
        last_seen_at=j.last_seen_at,
    )


def job_has_runs(session: Session, job_name: str) -> bool:
    """Whether any run of the job is stored (a job may have runs before inventory)."""
    found = select(JobRun.run_id).where(JobRun.job_name == job_name).limit(1)
    return session.scalar(found) is not None


@dataclass(frozen=True)
class SeriesPoint:
    """One run as a point of the job detail charts."""

    run_id: str
    state: str
    started_at: datetime
    duration_s: float | None
    rows_read: int | None
    rows_written: int | None
    dpu_seconds: float | None


def run_series(
    session: Session, job_name: str, since: datetime, until: datetime, limit: int = SERIES_LIMIT
) -> tuple[list[SeriesPoint], bool]:
    """The job's runs started in the range, oldest first (latest `limit`); and if cut short."""
    rows = list(
        session.execute(
            select(
                JobRun.run_id,
                JobRun.state,
                JobRun.started_at,
                JobRun.duration_s,
                JobRun.rows_read,
                JobRun.rows_written,
                JobRun.dpu_seconds,
            )
            .where(
                JobRun.job_name == job_name, JobRun.started_at >= since, JobRun.started_at < until
            )
            .order_by(JobRun.started_at.desc(), JobRun.run_id.desc())
            .limit(limit + 1)
        )
    )
    truncated = len(rows) > limit
    points = [SeriesPoint(*r) for r in rows[:limit]]
    points.reverse()
    return points, truncated


def range_stats(session: Session, job_name: str, since: datetime, until: datetime) -> RangeStats:
    """One job's figures over the range."""
    return job_range_stats(session, since, until, job_name).get(job_name, RangeStats())


@dataclass(frozen=True)
class RunDetail:
    """Everything the run panel shows, with the upload that caused the run when known."""

    run: dict[str, Any]
    upload_id: str | None
    upload_name: str | None


def run_detail(session: Session, job_name: str, run_id: str) -> RunDetail | None:
    """One run of the job (None when the id is not a run of that job)."""
    run = session.get(JobRun, run_id)
    if run is None or run.job_name != job_name:
        return None
    upload = None
    if run.upload_id:
        upload = session.get(Upload, run.upload_id)
    if upload is None:
        upload = session.scalar(select(Upload).where(Upload.run_id == run_id).limit(1))
    values = {c.key: getattr(run, c.key) for c in JobRun.__table__.columns}
    return RunDetail(
        run=values,
        upload_id=upload.id if upload else run.upload_id,
        upload_name=upload.original_name if upload else None,
    )
