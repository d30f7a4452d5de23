"""The read side of job control: failed runs across jobs, with attempts and auto-retry status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from dashapp.actions.jobcontrol import RERUNNABLE_STATES, busy_jobs, retry_decision
from dashapp.config import RetryPolicy
from dashapp.models import JobAction, JobRun

MAX_FAILED_ROWS = 1000


@dataclass(frozen=True)
class FailedRun:
    run_id: str
    job_name: str
    state: str
    started_at: datetime
    completed_at: datetime | None
    attempt: int
    retry_of_run_id: str | None
    error_message: str | None
    retried_by: str | None  # the run that re-ran this one (by hand or automatically)
    auto_retry: str  # what the auto-retry did or will do, in words


def _auto_retry_status(
    run: JobRun,
    claim: JobAction | None,
    retried_by: str | None,
    policy: RetryPolicy | None,
    now: datetime,
    busy_run: str | None,
) -> str:
    if claim is not None and claim.status != "deferred":
        if claim.status == "started":
            return f"Retried automatically as {claim.new_run_id}"
        if claim.status == "failed":
            return f"Automatic retry failed: {claim.error}"
        return "Automatic retry starting"
    if retried_by is not None:
        return "Re-run by hand"
    decision = retry_decision(
        state=run.state,
        error_message=run.error_message,
        attempt=run.attempt,
        finished_at=run.completed_at or run.last_modified_at or run.started_at,
        policy=policy,
        now=now,
        busy_run=busy_run,
    )
    if decision.status == "due" and claim is not None and policy is not None:
        # Deferred: Glue still had a run the collectors had not seen when the retry started.
        return (
            f"Attempt {run.attempt + 1} of {policy.attempts} waits: Glue still runs the job; "
            "it is tried again next cycle."
        )
    if decision.status == "waiting" and decision.due_at is not None:
        return f"{decision.reason} Due {decision.due_at:%Y-%m-%d %H:%M:%S} UTC."
    return decision.reason


def failed_runs(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    policy_for: Callable[[str], RetryPolicy | None],
    job: str | None = None,
    limit: int = MAX_FAILED_ROWS,
) -> list[FailedRun]:
    """Runs that ended FAILED, TIMEOUT, ERROR or STOPPED in [since, until), newest first."""
    child = aliased(JobRun)
    retried_by = (
        select(child.run_id)
        .where(child.retry_of_run_id == JobRun.run_id)
        .order_by(child.started_at.desc())
        .limit(1)
        .correlate(JobRun)
        .scalar_subquery()
    )
    stmt = (
        select(JobRun, retried_by.label("retried_by"))
        .where(
            JobRun.state.in_(RERUNNABLE_STATES),
            JobRun.started_at >= since,
            JobRun.started_at < until,
        )
        .order_by(JobRun.started_at.desc(), JobRun.run_id)
        .limit(limit)
    )
    if job:
        stmt = stmt.where(JobRun.job_name == job)
    found = session.execute(stmt).all()
    claims = _latest_auto_retry_claims(session, [run.run_id for run, _ in found])
    busy = busy_jobs(session, [run.job_name for run, _ in found])
    return [
        FailedRun(
            run_id=run.run_id,
            job_name=run.job_name,
            state=run.state,
            started_at=run.started_at,
            completed_at=run.completed_at,
            attempt=run.attempt,
            retry_of_run_id=run.retry_of_run_id,
            error_message=run.error_message,
            retried_by=child_id,
            auto_retry=_auto_retry_status(
                run,
                claims.get(run.run_id),
                child_id,
                policy_for(run.job_name),
                now,
                busy.get(run.job_name),
            ),
        )
        for run, child_id in found
    ]


def _latest_auto_retry_claims(session: Session, run_ids: list[str]) -> dict[str, JobAction]:
    """Each run's newest auto-retry claim (a refused start leaves one per try)."""
    latest: dict[str, JobAction] = {}
    for start in range(0, len(run_ids), 500):
        for claim in session.scalars(
            select(JobAction).where(
                JobAction.kind == "auto_retry",
                JobAction.source_run_id.in_(run_ids[start : start + 500]),
            )
        ):
            key = claim.source_run_id or ""
            if key not in latest or claim.updated_at > latest[key].updated_at:
                latest[key] = claim
    return latest


def failed_job_names(session: Session, *, since: datetime) -> list[str]:
    """Jobs with failed runs since `since`, for the page's job filter."""
    return list(
        session.scalars(
            select(JobRun.job_name)
            .where(JobRun.state.in_(RERUNNABLE_STATES), JobRun.started_at >= since)
            .distinct()
            .order_by(JobRun.job_name)
        )
    )
