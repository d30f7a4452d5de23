"""Job control: start a job, stop a run, re-run failed runs (one or many), auto-retry.

Callers check the role at the edge (`require(Role.operator, ...)` in the callback)
and pass the identity in; this module validates, claims, calls Glue and records.

Every launch is claimed first (a `job_actions` row keyed by a request token) in its
own committed transaction, then Glue is called, then the outcome, the new run (state
STARTING, so pages show it before the collector sees it) and the audit entry are
written in one transaction. A double click or a retried request carries the same
token and finds the claim: it never starts a second run. A process dying between
the claim and Glue leaves the claim "claimed": nothing is started twice, at worst
once too few (the user sees it and starts it again with a new token).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from dashapp.actions import audit
from dashapp.aws import glue_actions
from dashapp.aws.glue import ACTIVE_STATES
from dashapp.config import RetryPolicy
from dashapp.identity import Identity, Role
from dashapp.models import GlueJob, JobAction, JobRun

# Glue run states a user may stop, and states a run may be re-run from.
STOPPABLE_STATES = frozenset({"STARTING", "RUNNING", "WAITING"})
RERUNNABLE_STATES = frozenset({"FAILED", "TIMEOUT", "ERROR", "STOPPED"})
# States the auto-retry considers (a user's STOP is a decision, never retried).
RETRYABLE_STATES = frozenset({"FAILED", "TIMEOUT", "ERROR"})
# Glue's answer when the job already has MaxConcurrentRuns unfinished runs.
JOB_BUSY_ERROR = "ConcurrentRunsExceededException"

# Arguments Glue sets itself or forbids (AWS Glue "special parameters" docs).
RESERVED_KEYS = frozenset(
    {
        "--JOB_NAME",
        "--JOB_ID",
        "--JOB_RUN_ID",
        "--conf",
        "--debug",
        "--mode",
        "--SECURITY_CONFIGURATION",
    }
)
_KEY_RE = re.compile(r"^--[A-Za-z0-9][A-Za-z0-9_.-]*$")
MAX_ARGUMENTS = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 4096
MAX_BULK = 100
AUTO_RETRY_ACTOR = Identity(
    user="collector/auto-retry", role=Role.operator, display_name="Auto-retry"
)


class ArgumentError(ValueError):
    """User-supplied arguments are invalid; `problems` holds one message per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def validate_arguments(arguments: Mapping[str, Any]) -> dict[str, str]:
    """Glue run arguments as Glue accepts them, or ArgumentError naming every problem."""
    problems: list[str] = []
    if len(arguments) > MAX_ARGUMENTS:
        problems.append(f"at most {MAX_ARGUMENTS} arguments, not {len(arguments)}")
    out: dict[str, str] = {}
    for key, value in arguments.items():
        if not isinstance(key, str) or not _KEY_RE.match(key):
            problems.append(
                f"{key!r}: keys start with -- followed by letters, digits, '_', '.' or '-'"
            )
            continue
        if len(key) > MAX_KEY_LENGTH:
            problems.append(f"{key[:20]}…: keys are at most {MAX_KEY_LENGTH} characters")
            continue
        if key in RESERVED_KEYS:
            problems.append(f"{key} is set by Glue itself and cannot be passed")
            continue
        if not isinstance(value, str):
            problems.append(f"{key}: the value must be text")
            continue
        if len(value) > MAX_VALUE_LENGTH:
            problems.append(f"{key}: values are at most {MAX_VALUE_LENGTH} characters")
            continue
        out[key] = value
    if problems:
        raise ArgumentError(problems)
    return out


def parse_arguments(text: str | None) -> dict[str, str]:
    """`--key=value` lines (blank lines ignored) into validated arguments."""
    parsed: dict[str, str] = {}
    problems: list[str] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep:
            problems.append(f"line {number}: write --key=value")
            continue
        if key in parsed:
            problems.append(f"line {number}: {key} is given twice")
            continue
        parsed[key] = value.strip()
    try:
        arguments = validate_arguments(parsed)
    except ArgumentError as e:
        problems.extend(e.problems)
    if problems:
        raise ArgumentError(problems)
    return arguments


def format_arguments(arguments: Mapping[str, str]) -> str:
    """The inverse of `parse_arguments`, for prefilling the editor."""
    return "\n".join(f"{k}={v}" for k, v in arguments.items())


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
    with sessions.begin() as session:
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
    return ActionResult(True, f"Started {job_name} run {run_id}.", job_name, run_id, source_run_id)


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
    with sessions.begin() as session:
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
    if error is not None:
        return ActionResult(False, f"Glue did not stop run {run_id}: {error}", job_name, run_id)
    return ActionResult(True, f"Stopping run {run_id} of {job_name}.", job_name, run_id)


# --- automatic retry ------------------------------------------------------------


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


AUTO_RETRY_LOOKBACK = timedelta(days=2)
# Glue may refuse the re-run itself (throttling, an internal error): the start is tried
# again after the back-off, at most this many times per failed run. A job that is still
# running (ConcurrentRunsExceeded) is no such refusal: the retry waits, using no try.
MAX_START_TRIES = 3


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
