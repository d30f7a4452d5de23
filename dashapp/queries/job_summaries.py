"""Per-job summaries for the pipelines page: is the job known, how did it last run.

One window query over `job_runs` (latest run per job) instead of one query per job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from dashapp.models import GlueJob, JobRun


@dataclass(frozen=True)
class RunSummary:
    """The facts about one run a card shows."""

    run_id: str
    state: str
    started_at: datetime
    completed_at: datetime | None
    duration_s: float | None
    error_message: str | None


@dataclass(frozen=True)
class JobSummary:
    """What the database knows about one Glue job: is it there, how did it last run."""

    job_name: str
    known: bool
    gone_at: datetime | None
    last_run: RunSummary | None
    last_success_at: datetime | None


def glue_jobs_collected(session: Session) -> bool:
    """Whether the collector has recorded any Glue job yet ("not collected" vs "not found")."""
    return session.scalar(select(GlueJob.name).limit(1)) is not None


def job_summaries(session: Session, job_names: Iterable[str]) -> dict[str, JobSummary]:
    """Latest run, last success and presence of each named job, in three queries.

    Every name asked for gets a summary, so callers never special-case absent jobs.
    """
    names = sorted(set(job_names))
    if not names:
        return {}
    jobs = {j.name: j for j in session.scalars(select(GlueJob).where(GlueJob.name.in_(names)))}
    ranked = (
        select(
            JobRun,
            func.row_number()
            .over(
                partition_by=JobRun.job_name,
                order_by=(JobRun.started_at.desc(), JobRun.run_id.desc()),
            )
            .label("rank"),
        )
        .where(JobRun.job_name.in_(names))
        .subquery()
    )
    latest_run = aliased(JobRun, ranked)
    latest = {r.job_name: r for r in session.scalars(select(latest_run).where(ranked.c.rank == 1))}
    success_rows = session.execute(
        select(JobRun.job_name, func.max(func.coalesce(JobRun.completed_at, JobRun.started_at)))
        .where(JobRun.job_name.in_(names), JobRun.state == "SUCCEEDED")
        .group_by(JobRun.job_name)
    )
    last_success: dict[str, datetime] = {name: at for name, at in success_rows}
    return {
        name: JobSummary(
            job_name=name,
            known=name in jobs,
            gone_at=jobs[name].gone_at if name in jobs else None,
            last_run=_run_summary(latest[name]) if name in latest else None,
            last_success_at=last_success.get(name),
        )
        for name in names
    }


def _run_summary(run: JobRun) -> RunSummary:
    return RunSummary(
        run_id=run.run_id,
        state=run.state,
        started_at=run.started_at,
        completed_at=run.completed_at,
        duration_s=run.duration_s,
        error_message=run.error_message,
    )
