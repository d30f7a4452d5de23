"""The auto-retry collector: transient failures re-run after their back-off, once each.

Runs fail in moto through the fidelity layer, reach the database through the
real reconciliation collector, and the retries collector re-runs them; the clock
moves by hand, so back-off is checked to the second.
"""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from collectors.glue_runs import collect_glue_runs
from collectors.retries import collect_retries
from dashapp.models import AuditEntry, JobRun
from sandbox.fidelity import glue as fglue
from tests.collectors.conftest import add_run, client, finish, store_inventory
from tests.jobcontrol.conftest import create_job

JOB = "ingest-orders"
POLICIES = {JOB: {"attempts": 2, "backoff_s": 60, "backoff_factor": 2}}


@pytest.fixture
def account(aws, make_ctx):
    create_job(JOB, ExecutionProperty={"MaxConcurrentRuns": 10})
    store_inventory(make_ctx)


def reconcile(make_ctx):
    assert collect_glue_runs(make_ctx("glue_runs")).failures == []


def retry_cycle(make_ctx):
    result = collect_retries(make_ctx("retries", retry_policies=POLICIES))
    assert result.failures == []
    return result.items


def runs(sessions):
    with sessions() as s:
        return {
            r.run_id: (r.state, r.attempt, r.retry_of_run_id)
            for r in s.scalars(select(JobRun).order_by(JobRun.started_at))
        }


def fail_in_glue(run_id, clock, error):
    """Fail a run moto started (at the wall clock); the test clock moves to its failure."""
    [run] = [r for r in fglue.glue_backend().get_job(JOB).job_runs if r.job_run_id == run_id]
    started = run.started_on.replace(tzinfo=UTC)
    at = max(clock.now(), started + timedelta(seconds=10))
    if run.status == "STARTING":
        fglue.transition(run, "RUNNING", at=started + timedelta(seconds=5))
    finish(run, "FAILED", at, error)
    clock.set(at)


def test_transient_failures_are_retried_after_backoff_until_attempts_run_out(
    account, make_ctx, sessions, clock, t0
):
    first = add_run(
        JOB,
        t0 - timedelta(minutes=3),
        "FAILED",
        finished=t0 - timedelta(seconds=30),
        error="ThrottlingException: Rate exceeded",
        arguments={"--input_path": "s3://r/o/a.csv"},
    )
    reconcile(make_ctx)
    assert retry_cycle(make_ctx) == 0  # 30 s into a 60 s back-off
    clock.advance(29)
    assert retry_cycle(make_ctx) == 0
    clock.advance(1)
    assert retry_cycle(make_ctx) == 1
    [second] = [k for k, v in runs(sessions).items() if v[2] == first.job_run_id]
    assert runs(sessions)[second] == ("STARTING", 1, first.job_run_id)
    args = client("glue").get_job_run(JobName=JOB, RunId=second)["JobRun"]["Arguments"]
    assert args == {"--input_path": "s3://r/o/a.csv"}
    # Repeated cycles (and a reconciliation in between) start nothing more.
    reconcile(make_ctx)
    assert retry_cycle(make_ctx) == 0
    assert retry_cycle(make_ctx) == 0

    # The retry fails transiently too: attempt 2 after 120 s (60 × 2¹).
    fail_in_glue(second, clock, "java.net.SocketException: Connection reset")
    reconcile(make_ctx)
    assert runs(sessions)[second][:2] == ("FAILED", 1)
    clock.advance(119)
    assert retry_cycle(make_ctx) == 0
    clock.advance(1)
    assert retry_cycle(make_ctx) == 1
    [third] = [k for k, v in runs(sessions).items() if v[2] == second]
    assert runs(sessions)[third][1] == 2

    # Attempts exhausted: a third failure stays failed.
    fail_in_glue(third, clock, "ThrottlingException: Rate exceeded")
    reconcile(make_ctx)
    clock.advance(3600)
    assert retry_cycle(make_ctx) == 0
    assert len(runs(sessions)) == 3

    with sessions() as s:
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.actor, e.action, e.target, e.outcome) for e in entries] == [
        ("collector/auto-retry", "auto_retry", first.job_run_id, "ok"),
        ("collector/auto-retry", "auto_retry", second, "ok"),
    ]
    assert entries[0].detail["run_id"] == second and entries[0].detail["attempt"] == 1


def test_non_transient_failures_and_stops_are_left_to_people(
    account, make_ctx, sessions, clock, t0
):
    add_run(JOB, t0 - timedelta(hours=1), "FAILED", error="AnalysisException: no column 'amount'")
    stopped = add_run(JOB, t0 - timedelta(hours=1), "RUNNING")
    fglue.transition(stopped, "STOPPING", at=t0 - timedelta(minutes=50))
    fglue.transition(stopped, "STOPPED", at=t0 - timedelta(minutes=49))
    reconcile(make_ctx)
    clock.advance(3600)
    assert retry_cycle(make_ctx) == 0
    assert len(runs(sessions)) == 2


def test_no_policy_no_retry_and_a_timeout_counts_as_transient(account, make_ctx, sessions, t0):
    timed_out = add_run(JOB, t0 - timedelta(hours=1), "TIMEOUT")
    reconcile(make_ctx)
    assert collect_retries(make_ctx("retries")).items == 0  # SMD_RETRY_POLICIES unset
    assert retry_cycle(make_ctx) == 1
    assert any(v[2] == timed_out.job_run_id for v in runs(sessions).values())


def test_a_run_someone_reran_by_hand_is_not_retried_again(account, make_ctx, sessions, t0):
    from dashapp.actions import jobcontrol
    from dashapp.identity import Identity, Role

    failed = add_run(JOB, t0 - timedelta(hours=1), "FAILED", error="Rate exceeded")
    reconcile(make_ctx)
    manual = jobcontrol.rerun(
        sessions,
        client("glue"),
        Identity("olga", Role.operator),
        failed.job_run_id,
        token="m",
        now=t0,
    )
    assert manual.ok
    assert retry_cycle(make_ctx) == 0
    assert len(runs(sessions)) == 2


def test_a_start_glue_refuses_is_tried_again_after_the_backoff(
    account, make_ctx, sessions, clock, t0
):
    from dashapp.actions.auto_retry import MAX_START_TRIES
    from tests.collectors.conftest import fail_calls

    failed = add_run(
        JOB,
        t0 - timedelta(minutes=5),
        "FAILED",
        finished=t0 - timedelta(minutes=2),
        error="ThrottlingException: Rate exceeded",
    )
    reconcile(make_ctx)
    ctx = make_ctx("retries", retry_policies=POLICIES)
    fault = fail_calls(ctx.aws.client("glue"), "StartJobRun", code="InternalServiceException")
    first = collect_retries(ctx)
    assert first.items == 0 and "InternalServiceException" in first.failures[0]
    assert collect_retries(ctx).failures == []  # within the back-off: no second call
    assert len(fault) == 1
    for _ in range(MAX_START_TRIES - 1):
        clock.advance(60)
        assert collect_retries(ctx).failures
    clock.advance(3600)
    assert collect_retries(ctx).failures == []  # tries used up: left to people
    assert len(fault) == MAX_START_TRIES
    fault.remove()
    assert [v for v in runs(sessions).values() if v[2] == failed.job_run_id] == []

    other = add_run(
        JOB,
        clock.now() - timedelta(minutes=5),
        "FAILED",
        finished=clock.now() - timedelta(minutes=2),
        error="Rate exceeded",
    )
    reconcile(make_ctx)
    fault = fail_calls(ctx.aws.client("glue"), "StartJobRun", code="ThrottlingException")
    assert collect_retries(ctx).failures
    fault.remove()
    clock.advance(60)
    assert collect_retries(ctx).items == 1
    assert [v[1] for v in runs(sessions).values() if v[2] == other.job_run_id] == [1]
    with sessions() as s:
        outcomes = [
            (e.target, e.outcome) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
    assert outcomes[-2:] == [(other.job_run_id, "error"), (other.job_run_id, "ok")]


@pytest.fixture
def one_run_at_a_time(aws, make_ctx):
    """The job as most are: Glue refuses a second concurrent run (MaxConcurrentRuns 1)."""
    create_job(JOB, ExecutionProperty={"MaxConcurrentRuns": 1})
    store_inventory(make_ctx)


def failures_page_status(make_ctx, sessions, clock, run_id):
    """The Auto-retry column of the Failed runs page for `run_id`."""
    from dashapp.queries.retries import failed_runs

    settings = make_ctx("web", retry_policies=POLICIES).settings
    with sessions() as s:
        found = failed_runs(
            s,
            since=clock.now() - timedelta(days=1),
            until=clock.now() + timedelta(seconds=1),
            now=clock.now(),
            policy_for=settings.retry_policy,
        )
    return {r.run_id: r.auto_retry for r in found}[run_id]


def audit(sessions):
    with sessions() as s:
        return [
            (e.action, e.target, e.outcome)
            for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def succeed_in_glue(run_id, clock):
    """Let a run moto started succeed; the test clock moves to its end."""
    [run] = [r for r in fglue.glue_backend().get_job(JOB).job_runs if r.job_run_id == run_id]
    started = run.started_on.replace(tzinfo=UTC)
    at = max(clock.now(), started + timedelta(seconds=10))
    fglue.transition(run, "RUNNING", at=started + timedelta(seconds=5))
    finish(run, "SUCCEEDED", at)
    clock.set(at)


def test_a_retry_waits_while_the_job_runs_and_starts_once_it_is_idle(
    one_run_at_a_time, make_ctx, sessions, clock, t0
):
    failed, earlier = (
        add_run(
            JOB,
            t0 - timedelta(minutes=minutes),
            "FAILED",
            finished=t0 - timedelta(minutes=minutes - 2),
            error="ThrottlingException: Rate exceeded",
        )
        for minutes in (10, 20)
    )
    scheduled = add_run(JOB, t0 - timedelta(minutes=1), "RUNNING", trigger_name="nightly")
    reconcile(make_ctx)
    for _ in range(8):  # four minutes of cycles while the scheduled run works
        assert retry_cycle(make_ctx) == 0
        clock.advance(30)
    assert len(runs(sessions)) == 3
    assert audit(sessions) == []
    status = failures_page_status(make_ctx, sessions, clock, failed.job_run_id)
    assert status == f"Attempt 1 of 2 waits for run {scheduled.job_run_id} of the job to finish."

    finish(scheduled, "SUCCEEDED", clock.now())
    reconcile(make_ctx)
    assert retry_cycle(make_ctx) == 1  # one retry: the job runs one run at a time
    assert retry_cycle(make_ctx) == 0  # a second cycle starts nothing more
    [retry] = [k for k, v in runs(sessions).items() if v[2] == failed.job_run_id]
    assert runs(sessions)[retry] == ("STARTING", 1, failed.job_run_id)
    assert failures_page_status(make_ctx, sessions, clock, failed.job_run_id) == (
        f"Retried automatically as {retry}"
    )
    assert failures_page_status(make_ctx, sessions, clock, earlier.job_run_id) == (
        f"Attempt 1 of 2 waits for run {retry} of the job to finish."
    )

    succeed_in_glue(retry, clock)
    reconcile(make_ctx)
    assert retry_cycle(make_ctx) == 1
    assert retry_cycle(make_ctx) == 0
    assert [v[1] for v in runs(sessions).values() if v[2] == earlier.job_run_id] == [1]
    assert audit(sessions) == [
        ("auto_retry", failed.job_run_id, "ok"),
        ("auto_retry", earlier.job_run_id, "ok"),
    ]


def test_glue_refusing_a_concurrent_run_defers_the_retry_without_using_a_try(
    one_run_at_a_time, make_ctx, sessions, clock, t0
):
    from dashapp.actions.auto_retry import MAX_START_TRIES

    failed = add_run(
        JOB,
        t0 - timedelta(minutes=10),
        "FAILED",
        finished=t0 - timedelta(minutes=8),
        error="ThrottlingException: Rate exceeded",
    )
    reconcile(make_ctx)
    # An upload starts the job; the collectors have not seen that run yet, Glue has.
    upload = add_run(JOB, t0 - timedelta(seconds=5), "RUNNING")
    ctx = make_ctx("retries", retry_policies=POLICIES)
    for _ in range(MAX_START_TRIES + 2):
        cycle = collect_retries(ctx)
        assert (cycle.items, cycle.failures) == (0, [])
        clock.advance(30)
    assert audit(sessions) == []
    status = failures_page_status(make_ctx, sessions, clock, failed.job_run_id)
    assert status == "Attempt 1 of 2 waits: Glue still runs the job; it is tried again next cycle."

    finish(upload, "SUCCEEDED", clock.now())
    assert collect_retries(ctx).items == 1
    assert collect_retries(ctx).items == 0
    [retry] = [k for k, v in runs(sessions).items() if v[2] == failed.job_run_id]
    assert runs(sessions)[retry][1] == 1
    assert audit(sessions) == [("auto_retry", failed.job_run_id, "ok")]
