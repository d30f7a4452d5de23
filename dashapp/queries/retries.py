"""The read side of job control: failed runs across jobs, attempts and auto-retry verdicts.

The verdict (`retry_decision`) is pure and shared: the Failed runs page shows what the
auto-retry collector (`dashapp.actions.auto_retry`) will do, from the same function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from dashapp.aws.glue import ACTIVE_STATES
from dashapp.config import RetryPolicy
from dashapp.models import GlueJob, JobAction, JobRun

# Glue run states a run may be re-run from (by hand), and those auto-retry considers
# (a user's STOP is a decision, never retried).
RERUNNABLE_STATES = frozenset({"FAILED", "TIMEOUT", "ERROR", "STOPPED"})
RETRYABLE_STATES = frozenset({"FAILED", "TIMEOUT", "ERROR"})

MAX_FAILED_ROWS = 1000


@dataclass(frozen=True)
class RetryDecision:
    """Whether a failed run will be retried automatically, and when (for the UI and collector)."""

    status: str  # due | waiting | busy | not_transient | exhausted | no_policy | not_retryable
    reason: str
    due_at: datetime | None = None


def is_transient(state: str, error_message: str | None, policy: RetryPolicy) -> bool:
    """TIMEOUT (when the policy says so) or an error message matching a transient pattern."""
    if state == "TIMEOUT" and policy.retry_timeouts:
        return True
    text = error_message or ""
    return any(re.search(p, text) for p in policy.transient_patterns)


def backoff_delay(policy: RetryPolicy, attempt: int) -> timedelta:
    """Wait before re-running a run that was attempt `attempt` (0 = the first run)."""
    return timedelta(seconds=policy.backoff_s * policy.backoff_factor ** max(0, attempt))


def retry_decision(
    *,
    state: str,
    error_message: str | None,
    attempt: int,
    finished_at: datetime,
    policy: RetryPolicy | None,
    now: datetime,
    busy_run: str | None = None,
) -> RetryDecision:
    """The auto-retry verdict on one finished run (pure: the collector and pages share it).

    `busy_run` is an unfinished run of the job that leaves it no room (`busy_jobs`): Glue
    would refuse the retry, so a due retry waits for that run to finish.
    """
    if state not in RETRYABLE_STATES:
        return RetryDecision(
            "not_retryable", f"{state.title()} runs are not retried automatically."
        )
    if policy is None or policy.attempts == 0:
        return RetryDecision("no_policy", "No auto-retry policy covers this job.")
    if not is_transient(state, error_message, policy):
        return RetryDecision("not_transient", "The error is not a transient one.")
    if attempt >= policy.attempts:
        return RetryDecision("exhausted", f"All {policy.attempts} automatic attempts used.")
    due = finished_at + backoff_delay(policy, attempt)
    if due <= now and busy_run is not None:
        return RetryDecision(
            "busy",
            f"Attempt {attempt + 1} of {policy.attempts} waits for run {busy_run} of the job "
            "to finish.",
            due,
        )
    if due <= now:
        return RetryDecision("due", f"Attempt {attempt + 1} of {policy.attempts} is due.", due)
    return RetryDecision("waiting", f"Attempt {attempt + 1} of {policy.attempts} waits.", due)


def busy_jobs(session: Session, job_names: Sequence[str]) -> dict[str, str]:
    """Jobs whose unfinished runs fill their MaxConcurrentRuns, each with its oldest such run.

    As the database knows them: the inventory's MaxConcurrentRuns (Glue's default of 1
    when unknown) and the runs the collectors (or our own starts) recorded.
    """
    names = sorted(set(job_names))
    unfinished: dict[str, list[str]] = {}
    capacity: dict[str, int] = {}
    for start in range(0, len(names), 500):
        part = names[start : start + 500]
        for job_name, run_id in session.execute(
            select(JobRun.job_name, JobRun.run_id)
            .where(JobRun.job_name.in_(part), JobRun.state.in_(ACTIVE_STATES))
            .order_by(JobRun.started_at, JobRun.run_id)
        ):
            unfinished.setdefault(job_name, []).append(run_id)
        for job_name, limit in session.execute(
            select(GlueJob.name, GlueJob.max_concurrent_runs).where(GlueJob.name.in_(part))
        ):
            capacity[job_name] = limit or 1
    return {
        job: run_ids[0]
        for job, run_ids in unfinished.items()
        if len(run_ids) >= capacity.get(job, 1)
    }


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
