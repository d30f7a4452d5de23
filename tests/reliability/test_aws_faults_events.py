"""The event consumer under AWS faults: no message lost, none applied twice.

Why: the event consumer is how a run's state reaches the screen in about a second, and
SQS is its only record of what happened: a message it drops is a run nobody sees finish,
a message it applies twice is a run or an upload counted twice. The queue is fed as in
production (S3 "Object Created" through EventBridge; Glue state changes as EventBridge
delivers them), faults are scripted on ReceiveMessage, GetJobRun(s) and DeleteMessageBatch,
and after each cycle the database is held against what Glue and S3 say.

SQS redelivers a message that was received but not deleted once its visibility timeout
(30 s) runs out; the tests let that time pass at once (`_visibility_expires`), exactly
as the collector tests of the consumer do.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.sqs.models import sqs_backends
from sqlalchemy import select

from collectors.context import CollectorContext
from collectors.events import consume_events
from dashapp.models import JobRun, Upload
from tests.collectors.conftest import MakeCtx, add_run, client, create_job

# The collector tests' fixtures, used here by name (the `as` form marks them re-exported).
from tests.collectors.conftest import aws as aws
from tests.collectors.conftest import boto_session as boto_session
from tests.collectors.conftest import clock as clock
from tests.collectors.conftest import make_ctx as make_ctx
from tests.collectors.conftest import t0 as t0

# The consumer tests' account: raw bucket → EventBridge → queue, and how events are sent.
from tests.collectors.test_events import BUCKET, JOB, QUEUE, _queue_depth, _state_change
from tests.collectors.test_events import pipeline as pipeline
from tests.reliability.aws_faults_support import (
    ATTEMPTS,
    CYCLE_BOUND_S,
    check_faulted,
    count_distinct,
    describe,
    run_cycle,
)
from tests.reliability.aws_faults_support import ClientFaults as FaultScript
from tests.reliability.aws_faults_support import figures as figures
from tests.reliability.aws_faults_support import retrying_ctx as retrying_ctx
from tests.reliability.aws_faults_support import seeded_jitter as seeded_jitter

OTHER_JOB = "finance-ledger-daily-rollup"


def _visibility_expires() -> None:
    for message in sqs_backends["123456789012"]["us-east-1"].queues[QUEUE]._messages:
        message.visible_at = 0


def _stored_runs(ctx: CollectorContext) -> dict[str, tuple[Any, ...]]:
    with ctx.sessions() as s:
        return {
            r.run_id: (r.state, r.completed_at, r.error_message) for r in s.scalars(select(JobRun))
        }


def _glue_truth(runs: dict[str, str]) -> dict[str, tuple[Any, ...]]:
    glue = client("glue")
    truth = {}
    for run_id, job in runs.items():
        raw = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
        truth[run_id] = (raw["JobRunState"], raw.get("CompletedOn"), raw.get("ErrorMessage"))
    return truth


def _stored_uploads(ctx: CollectorContext) -> list[tuple[str, str, Any]]:
    with ctx.sessions() as s:
        return sorted((u.object_key, u.id, u.created_at) for u in s.scalars(select(Upload)))


def test_events_lose_no_message_and_apply_none_twice(
    pipeline: str, retrying_ctx: MakeCtx, t0: datetime, figures: list[str]
) -> None:
    url = pipeline
    # Two runs of one job (read together with GetJobRuns) and one of another (GetJobRun).
    create_job(OTHER_JOB)
    jobs = (JOB, OTHER_JOB, JOB)
    runs = [
        add_run(JOB, t0 - timedelta(minutes=9), "SUCCEEDED", finished=t0 - timedelta(minutes=4)),
        add_run(OTHER_JOB, t0 - timedelta(minutes=8), "FAILED", finished=t0 - timedelta(minutes=3)),
        add_run(JOB, t0 - timedelta(minutes=7), "RUNNING"),
    ]
    run_ids = [r.job_run_id for r in runs]
    for run, job, state in zip(runs, jobs, ("SUCCEEDED", "FAILED", "RUNNING"), strict=True):
        _state_change(run.job_run_id, state, t0 - timedelta(minutes=1), job=job)
    keys = []
    for name in ("orders-a.csv", "orders-b.csv"):
        keys.append(f"sales/orders/2026/11/25/{uuid.uuid4()}-{name}")
        client("s3").put_object(Bucket=BUCKET, Key=keys[-1], Body=b"order_id,amount\n1,9.5\n")
    assert _queue_depth(url) == (5, 0)
    ctx = retrying_ctx("events", once=True)
    sqs, glue = ctx.aws.client("sqs"), ctx.aws.client("glue")

    # 1. SQS unavailable: the cycle fails having received nothing, so nothing is in flight.
    down = FaultScript(sqs, "ReceiveMessage", ["unavailable"] * ATTEMPTS)
    with pytest.raises(ClientError) as raised:
        consume_events(ctx)
    down.remove()
    assert raised.value.response["Error"]["Code"] == "ServiceUnavailable" and not down.pending
    assert _queue_depth(url) == (5, 0) and _stored_runs(ctx) == {}

    # 2. Every operation faulted; one run's GetJobRun stays broken: only its message stays.
    scripts = [
        FaultScript(sqs, "ReceiveMessage", ["throttle", "timeout"]),
        FaultScript(glue, "GetJobRun", ["unavailable"] * ATTEMPTS, match=run_ids[1]),
        FaultScript(glue, "GetJobRuns", ["server_error", "slow"], match=JOB),
        FaultScript(sqs, "DeleteMessageBatch", ["throttle", "slow"]),
    ]
    faulted = run_cycle(consume_events, ctx, scripts)
    for script in scripts:
        script.remove()
    check_faulted(faulted, broken=[f"run {run_ids[1]} of {OTHER_JOB}"])
    assert set(_stored_runs(ctx)) == {run_ids[0], run_ids[2]}
    assert [k for k, _, _ in _stored_uploads(ctx)] == sorted(keys)
    assert _queue_depth(url) == (0, 1), "the broken run's message waits to come back"

    # 3. It comes back and is applied, but its delete fails: SQS will deliver it again.
    _visibility_expires()
    lost_delete = FaultScript(sqs, "DeleteMessageBatch", ["unavailable"] * ATTEMPTS)
    with pytest.raises(ClientError):
        consume_events(ctx)
    lost_delete.remove()
    assert not lost_delete.pending
    assert set(_stored_runs(ctx)) == set(run_ids)
    assert _queue_depth(url) == (0, 1)
    uploads_before = _stored_uploads(ctx)

    # 4. Delivered a second time: applied again to the same rows, then deleted.
    _visibility_expires()
    clean = run_cycle(consume_events, ctx)
    assert clean.result.failures == [] and clean.retries == 0
    assert clean.seconds < CYCLE_BOUND_S
    assert _queue_depth(url) == (0, 0), "every message consumed"
    assert _stored_runs(ctx) == _glue_truth(dict(zip(run_ids, jobs, strict=True)))
    assert _stored_uploads(ctx) == uploads_before, "an upload recorded once, never recreated"
    assert count_distinct(ctx, JobRun, JobRun.run_id) == (3, 3)
    assert count_distinct(ctx, Upload, Upload.bucket, Upload.object_key) == (2, 2)
    figures.extend([describe("faulted", faulted), describe("clean", clean)])
