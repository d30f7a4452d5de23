"""Job control: start a job, stop a run, re-run failed runs (one or many).

Callers check the role at the edge (`require(Role.operator, ...)` in the callback)
and pass the identity in; this module validates, claims, calls Glue and records.

Every launch is claimed first (a `job_actions` row keyed by a request token) in its
own committed transaction, then Glue is called, then the outcome, the new run (state
STARTING, so pages show it before the collector sees it) and the audit entry are
written in one transaction. A double click or a retried request carries the same
token and finds the claim: it never starts a second run. A process dying between
the claim and Glue leaves the claim "claimed": nothing is started twice, at worst
once too few (the user sees it and starts it again with a new token). A database that
refuses the last transaction (gone, read-only, full) leaves none of it written, and the
user reads that Glue started the run all the same (`dashapp.actions.unrecorded`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from dashapp.actions import audit
from dashapp.actions.run_arguments import ArgumentError, parse_arguments
from dashapp.actions.unrecorded import record_or_report
from dashapp.aws import glue_actions
from dashapp.identity import Identity
from dashapp.models import GlueJob, JobAction, JobRun
from dashapp.queries.retries import RERUNNABLE_STATES

# Glue run states a user may stop (re-runnable states: dashapp.queries.retries).
STOPPABLE_STATES = frozenset({"STARTING", "RUNNING", "WAITING"})
# Glue's answer when the job already has MaxConcurrentRuns unfinished runs.
JOB_BUSY_ERROR = "ConcurrentRunsExceededException"

MAX_BULK = 100


@dataclass
class ActionResult:
    """What happened to one request, as the user reads it."""

    ok: bool
    message: str
    job_name: str = ""
    run_id: str | None = None  # the run started (or stopped)
    source_run_id: str | None = None
    duplicate: bool = False  # an earlier identical request already did it
    deferred: bool = False  # Glue had no room for the run; the claim waits to be tried again


# --- launching runs -------------------------------------------------------------


def _claim(session: Session, row: dict[str, Any]) -> bool:
    """Insert the claim unless the token exists; True when this request owns it.

    A deferred claim (Glue had no room for the run) is taken over by the next request
    with its token, in the same statement, so two cycles never both own it.
    """
    dialect = session.get_bind().dialect.name
    insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = JobAction.__table__
    stmt = insert_fn(table).values(row)
    retake = {"status": stmt.excluded.status, "error": None, "updated_at": stmt.excluded.updated_at}
    stmt = stmt.on_conflict_do_update(
        index_elements=["request_token"], set_=retake, where=table.c.status == "deferred"
    ).returning(table.c.request_token)
    # RETURNING, not rowcount: psycopg reports -1 for INSERT … ON CONFLICT; a conflict
    # the WHERE leaves alone returns no row.
    return session.execute(stmt).scalar() is not None


def _duplicate(claim: JobAction) -> ActionResult:
    common = {"job_name": claim.job_name, "source_run_id": claim.source_run_id, "duplicate": True}
    if claim.status == "started":
        return ActionResult(
            True, f"Already started as run {claim.new_run_id}.", run_id=claim.new_run_id, **common
        )
    if claim.status == "failed":
        return ActionResult(False, f"This request already failed: {claim.error}", **common)
    return ActionResult(False, "This request is already being started.", **common)


def _record_run(
    session: Session,
    *,
    run_id: str,
    job_name: str,
    now: datetime,
    attempt: int,
    retry_of: str | None,
    arguments: dict[str, str],
) -> None:
    """The new run, STARTING, unless the collector got there first (then only our fields)."""
    dialect = session.get_bind().dialect.name
    insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_fn(JobRun.__table__).values(
        run_id=run_id,
        job_name=job_name,
        state="STARTING",
        started_at=now,
        attempt=attempt,
        retry_of_run_id=retry_of,
        arguments=arguments,
        observed_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["run_id"],
        set_={"attempt": stmt.excluded.attempt, "retry_of_run_id": stmt.excluded.retry_of_run_id},
    )
    session.execute(stmt)


def launch(
    sessions: sessionmaker[Session],
    glue_client: Any,
    identity: Identity,
    *,
    kind: str,
    job_name: str,
    arguments: dict[str, str],
    token: str,
    now: datetime,
    source_run_id: str | None = None,
    attempt: int = 0,
    remote_addr: str | None = None,
    defer_when_busy: bool = False,
) -> ActionResult:
    """Claim `token`, start the run in Glue, record run + claim + audit; once per token.

    With `defer_when_busy` (the auto-retry), Glue answering that the job already runs
    is no failure: the claim is marked deferred for a later try with the same token, and
    nothing is audited, since nothing was started or refused for good.
    """
    action = {"start": "start_job_run", "rerun": "rerun_job_run", "auto_retry": "auto_retry"}[kind]
    target = source_run_id or job_name
    with sessions.begin() as session:
        owned = _claim(
            session,
            {
                "request_token": token[:128],
                "kind": kind,
                "job_name": job_name,
                "source_run_id": source_run_id,
                "attempt": attempt,
                "arguments": arguments,
                "actor": identity.user,
                "status": "claimed",
                "created_at": now,
                "updated_at": now,
            },
        )
        if not owned:
            claim = session.get(JobAction, token[:128])
            assert claim is not None
            return _duplicate(claim)
    detail: dict[str, Any] = {"job": job_name, "arguments": arguments, "attempt": attempt}
    if source_run_id:
        detail["retry_of"] = source_run_id
    try:
        run_id = glue_actions.start_job_run(glue_client, job_name, arguments)
    except glue_actions.GlueActionError as e:
        if defer_when_busy and e.code == JOB_BUSY_ERROR:
            with sessions.begin() as session:
                claim = session.get(JobAction, token[:128])
                assert claim is not None
                claim.status, claim.error, claim.updated_at = "deferred", str(e), now
            return ActionResult(
                False,
                f"{job_name} already has a run in Glue; the start waits.",
                job_name,
                None,
                source_run_id,
                deferred=True,
            )
        with sessions.begin() as session:
            claim = session.get(JobAction, token[:128])
            assert claim is not None
            claim.status, claim.error, claim.updated_at = "failed", str(e), now
            audit.record(
                session,
                identity,
                action=action,
                target=target,
                outcome="error",
                at=now,
                detail={**detail, "error": str(e)},
                remote_addr=remote_addr,
            )
        return ActionResult(
            False, f"Glue did not start {job_name}: {e}", job_name, None, source_run_id
        )

    def record(session: Session) -> None:
        claim = session.get(JobAction, token[:128])
        assert claim is not None
        claim.status, claim.new_run_id, claim.updated_at = "started", run_id, now
        _record_run(
            session,
            run_id=run_id,
            job_name=job_name,
            now=now,
            attempt=attempt,
            retry_of=source_run_id,
            arguments=arguments,
        )
        audit.record(
            session,
            identity,
            action=action,
            target=target,
            outcome="ok",
            at=now,
            detail={**detail, "run_id": run_id},
            remote_addr=remote_addr,
        )

    done = f"Started {job_name} run {run_id}"
    unrecorded = record_or_report(sessions, record, done=done, actor=identity.user)
    if unrecorded is not None:
        return ActionResult(True, unrecorded, job_name, run_id, source_run_id)
    return ActionResult(True, f"{done}.", job_name, run_id, source_run_id)


def _reject(
    sessions: sessionmaker[Session],
    identity: Identity,
    *,
    action: str,
    target: str,
    message: str,
    now: datetime,
    remote_addr: str | None,
    job_name: str = "",
    source_run_id: str | None = None,
) -> ActionResult:
    """Refuse a request with a reason, and keep the refusal in the audit log."""
    with sessions.begin() as session:
        audit.record(
            session,
            identity,
            action=action,
            target=target,
            outcome="rejected",
            at=now,
            detail={"reason": message},
            remote_addr=remote_addr,
        )
    return ActionResult(False, message, job_name, None, source_run_id)


def start_job(
    sessions: sessionmaker[Session],
    glue_client: Any,
    identity: Identity,
    job_name: str,
    arguments_text: str | None,
    *,
    token: str,
    now: datetime,
    remote_addr: str | None = None,
) -> ActionResult:
    """Start `job_name` with the user's `--key=value` lines, once per `token`."""
    try:
        arguments = parse_arguments(arguments_text)
    except ArgumentError as e:
        return _reject(
            sessions,
            identity,
            action="start_job_run",
            target=job_name,
            message=str(e),
            now=now,
            remote_addr=remote_addr,
            job_name=job_name,
        )
    with sessions() as session:
        job = session.get(GlueJob, job_name)
    if job is None or job.gone_at is not None:
        return _reject(
            sessions,
            identity,
            action="start_job_run",
            target=job_name,
            message=f"No Glue job named {job_name!r} is known.",
            now=now,
            remote_addr=remote_addr,
            job_name=job_name,
        )
    return launch(
        sessions,
        glue_client,
        identity,
        kind="start",
        job_name=job_name,
        arguments=arguments,
        token=f"start:{token}",
        now=now,
        remote_addr=remote_addr,
    )


def rerun(
    sessions: sessionmaker[Session],
    glue_client: Any,
    identity: Identity,
    run_id: str,
    *,
    token: str,
    now: datetime,
    remote_addr: str | None = None,
) -> ActionResult:
    """Start the job of a failed (or stopped) run again, with that run's arguments."""
    with sessions() as session:
        run = session.get(JobRun, run_id)
        source = (
            None
            if run is None
            else (run.job_name, run.state, run.attempt, dict(run.arguments or {}))
        )
    if source is None:
        return _reject(
            sessions,
            identity,
            action="rerun_job_run",
            target=run_id,
            message=f"No run {run_id!r} is known.",
            now=now,
            remote_addr=remote_addr,
        )
    job_name, state, attempt, arguments = source
    if state not in RERUNNABLE_STATES:
        return _reject(
            sessions,
            identity,
            action="rerun_job_run",
            target=run_id,
            message=f"Run {run_id} is {state}; only failed, timed-out or stopped runs are re-run.",
            now=now,
            remote_addr=remote_addr,
            job_name=job_name,
            source_run_id=run_id,
        )
    return launch(
        sessions,
        glue_client,
        identity,
        kind="rerun",
        job_name=job_name,
        arguments=arguments,
        token=f"rerun:{token}:{run_id}",
        now=now,
        source_run_id=run_id,
        attempt=attempt + 1,
        remote_addr=remote_addr,
    )


def bulk_rerun(
    sessions: sessionmaker[Session],
    glue_client: Any,
    identity: Identity,
    run_ids: Sequence[str],
    *,
    token: str,
    now: datetime,
    remote_addr: str | None = None,
) -> list[ActionResult]:
    """Re-run each selected run (one result per run); the same token re-sent is a no-op."""
    unique = list(dict.fromkeys(run_ids))
    if not unique:
        return [ActionResult(False, "Select at least one failed run.")]
    if len(unique) > MAX_BULK:
        return [
            _reject(
                sessions,
                identity,
                action="bulk_rerun",
                target=f"{len(unique)} runs",
                message=f"Re-run at most {MAX_BULK} runs at once, not {len(unique)}.",
                now=now,
                remote_addr=remote_addr,
            )
        ]
    return [
        rerun(sessions, glue_client, identity, rid, token=token, now=now, remote_addr=remote_addr)
        for rid in unique
    ]


def stop_run(
    sessions: sessionmaker[Session],
    glue_client: Any,
    identity: Identity,
    run_id: str,
    *,
    now: datetime,
    remote_addr: str | None = None,
) -> ActionResult:
    """Ask Glue to stop an active run; the run shows STOPPING until the collector sees more.

    Stopping is idempotent by nature: a second request finds the run STOPPING and
    is answered without calling Glue again.
    """
    with sessions() as session:
        run = session.get(JobRun, run_id)
        found = None if run is None else (run.job_name, run.state)
    if found is None:
        return _reject(
            sessions,
            identity,
            action="stop_job_run",
            target=run_id,
            message=f"No run {run_id!r} is known.",
            now=now,
            remote_addr=remote_addr,
        )
    job_name, state = found
    if state == "STOPPING":
        return ActionResult(
            True, f"Run {run_id} is already stopping.", job_name, run_id, duplicate=True
        )
    if state not in STOPPABLE_STATES:
        return _reject(
            sessions,
            identity,
            action="stop_job_run",
            target=run_id,
            message=f"Run {run_id} is {state}; only starting, running or waiting runs stop.",
            now=now,
            remote_addr=remote_addr,
            job_name=job_name,
        )
    detail: dict[str, Any] = {"job": job_name}
    try:
        result = glue_actions.stop_job_runs(glue_client, job_name, [run_id])
        error = result.errors.get(run_id)
    except glue_actions.GlueActionError as e:
        error = str(e)

    def record(session: Session) -> None:
        if error is None:
            session.execute(
                JobRun.__table__.update()
                .where(JobRun.run_id == run_id, JobRun.state.in_(STOPPABLE_STATES))
                .values(state="STOPPING", last_modified_at=now)
            )
        audit.record(
            session,
            identity,
            action="stop_job_run",
            target=run_id,
            outcome="ok" if error is None else "error",
            at=now,
            detail=detail if error is None else {**detail, "error": error},
            remote_addr=remote_addr,
        )

    done = f"Glue did not stop run {run_id}: {error}" if error else f"Stopping run {run_id}"
    unrecorded = record_or_report(sessions, record, done=done, actor=identity.user)
    if unrecorded is not None:
        return ActionResult(error is None, unrecorded, job_name, run_id)
    if error is not None:
        return ActionResult(False, f"Glue did not stop run {run_id}: {error}", job_name, run_id)
    return ActionResult(True, f"Stopping run {run_id} of {job_name}.", job_name, run_id)
