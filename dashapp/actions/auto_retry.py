"""Automatic retry: re-run failed runs whose error is transient, once per attempt, ever.

Run by the collectors (`collectors/retries.py`); the verdict on each run comes from
`dashapp.queries.retries.retry_decision`, the same one the Failed runs page shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dashapp.actions.jobcontrol import launch
from dashapp.config import RetryPolicy
from dashapp.identity import Identity, Role
from dashapp.models import JobAction, JobRun
from dashapp.queries.retries import RETRYABLE_STATES, backoff_delay, busy_jobs, retry_decision

AUTO_RETRY_ACTOR = Identity(
    user="collector/auto-retry", role=Role.operator, display_name="Auto-retry"
)


AUTO_RETRY_LOOKBACK = timedelta(days=2)
# Glue may refuse the re-run itself (throttling, an internal error): the start is tried
# again after the back-off, at most this many times per failed run. A job that is still
# running (ConcurrentRunsExceeded) is no such refusal: the retry waits, using no try.
MAX_START_TRIES = 3


@dataclass
class RetryCycle:
    started: list[str] = field(default_factory=list)  # new run ids
    failed: dict[str, str] = field(default_factory=dict)  # source run id → error


def retry_token(run_id: str, previous_tries: int) -> str:
    """The claim of the n-th try at re-running `run_id` (one claim per try, ever)."""
    return f"auto-retry:{run_id}" + (f":{previous_tries + 1}" if previous_tries else "")


def auto_retry(
    sessions: sessionmaker[Session],
    glue_client: Any,
    policy_for: Callable[[str], RetryPolicy | None],
    *,
    now: datetime,
    limit: int = 1000,
) -> RetryCycle:
    """Re-run every failed run whose retry is due, once per failed run.

    Each try is claimed by its own token, so concurrent or repeated cycles never start
    a run twice. Runs someone already re-run by hand (a run points at them with
    retry_of_run_id) are left alone; so are runs older than two days (an outage
    backlog needs a human). A start Glue refused is tried again after the back-off,
    up to MAX_START_TRIES times. A job with no room for another run (as the database
    knows it, or as Glue answers) makes its retries wait for a later cycle, and gets
    at most one retry per cycle.
    """
    cycle = RetryCycle()
    with sessions() as session:
        retried = select(JobRun.retry_of_run_id).where(JobRun.retry_of_run_id.is_not(None))
        settled = select(JobAction.source_run_id).where(
            JobAction.kind == "auto_retry",
            JobAction.source_run_id.is_not(None),
            JobAction.status.not_in(("failed", "deferred")),
        )
        rows = session.execute(
            select(
                JobRun.run_id,
                JobRun.job_name,
                JobRun.state,
                JobRun.error_message,
                JobRun.attempt,
                JobRun.completed_at,
                JobRun.last_modified_at,
                JobRun.started_at,
                JobRun.arguments,
            )
            .where(
                JobRun.state.in_(RETRYABLE_STATES),
                JobRun.started_at >= now - AUTO_RETRY_LOOKBACK,
                JobRun.run_id.not_in(retried),
                JobRun.run_id.not_in(settled),
            )
            .order_by(JobRun.started_at.desc())
            .limit(limit)
        ).all()
        refused: dict[str, list[datetime]] = {}
        ids = [r.run_id for r in rows]
        for start in range(0, len(ids), 500):
            for source, updated in session.execute(
                select(JobAction.source_run_id, JobAction.updated_at).where(
                    JobAction.kind == "auto_retry",
                    JobAction.status == "failed",
                    JobAction.source_run_id.in_(ids[start : start + 500]),
                )
            ):
                refused.setdefault(source, []).append(updated)
        busy = busy_jobs(session, [r.job_name for r in rows])
    handled: set[str] = set()  # jobs this cycle already started (or deferred) a retry of
    for r in rows:
        policy = policy_for(r.job_name)
        decision = retry_decision(
            state=r.state,
            error_message=r.error_message,
            attempt=r.attempt,
            finished_at=r.completed_at or r.last_modified_at or r.started_at,
            policy=policy,
            now=now,
            busy_run=busy.get(r.job_name),
        )
        if decision.status != "due" or policy is None or r.job_name in handled:
            continue
        tries = refused.get(r.run_id, [])
        if len(tries) >= MAX_START_TRIES:
            continue
        if tries and max(tries) + backoff_delay(policy, r.attempt) > now:
            continue
        result = launch(
            sessions,
            glue_client,
            AUTO_RETRY_ACTOR,
            kind="auto_retry",
            job_name=r.job_name,
            arguments=dict(r.arguments or {}),
            token=retry_token(r.run_id, len(tries)),
            now=now,
            source_run_id=r.run_id,
            attempt=r.attempt + 1,
            defer_when_busy=True,
        )
        if result.ok or result.deferred or result.duplicate:
            handled.add(r.job_name)
        if result.ok and result.run_id and not result.duplicate:
            cycle.started.append(result.run_id)
        elif not result.ok and not result.duplicate and not result.deferred:
            cycle.failed[r.run_id] = result.message
    return cycle
