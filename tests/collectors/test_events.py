"""The event consumer: EventBridge → SQS → database (Glue state changes, S3 uploads)."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto.sqs.models import sqs_backends
from sqlalchemy import select

from collectors.context import CollectorContext
from collectors.events import consume_events
from collectors.glue_runs import collect_glue_runs
from collectors.runs import upload_id_for
from dashapp.aws import glue
from dashapp.models import JobRun, Upload
from tests.collectors.conftest import (
    MakeCtx,
    add_run,
    client,
    create_job,
    fail_calls,
    finish,
    put_run_metrics,
    store_inventory,
)
from tests.fixtures.aws import load

QUEUE = "smd-collector-events"
BUCKET = "smd-raw"
JOB = "sales-orders-ingest"  # the "orders" dataset's job (prefix sales/orders/)


@pytest.fixture
def pipeline(make_ctx: MakeCtx) -> str:
    """Raw bucket → EventBridge (Object Created) → SQS queue the collector reads."""
    sqs, s3, events = client("sqs"), client("s3"), client("events")
    url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    pattern = {"source": ["aws.s3"], "detail-type": ["Object Created"]}
    events.put_rule(Name="uploads", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="uploads", Targets=[{"Id": "q", "Arn": arn}])
    create_job(JOB, ExecutionProperty={"MaxConcurrentRuns": 10})
    store_inventory(make_ctx)
    return url


def _state_change(run_id: str, state: str, at: datetime, job: str = JOB) -> None:
    """What EventBridge delivers for a Glue state change (moto emits none: sent by hand)."""
    doc = load("event_glue_job_state_change_succeeded")
    doc["id"] = str(uuid.uuid4())
    doc["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    doc["detail"].update(jobName=job, jobRunId=run_id, state=state)
    _send(json.dumps(doc))


def _send(body: str) -> None:
    sqs = client("sqs")
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"], MessageBody=body)


def _queue_depth(url: str) -> tuple[int, int]:
    attrs = client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attrs["ApproximateNumberOfMessages"]),
        int(attrs["ApproximateNumberOfMessagesNotVisible"]),
    )


def _upload_object(name: str, user: str | None = "alice@example.com") -> str:
    key = f"sales/orders/2026/11/25/{uuid.uuid4()}-{name}"
    extra: dict[str, Any] = {"Metadata": {"uploaded-by": user}} if user else {}
    client("s3").put_object(Bucket=BUCKET, Key=key, Body=b"order_id,amount\n1,9.5\n", **extra)
    return key


def _after_now() -> datetime:
    """A run start just after the object landed (Glue reports times to the millisecond)."""
    return (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0)


def _run(ctx: CollectorContext, run_id: str) -> JobRun | None:
    with ctx.sessions() as s:
        return s.get(JobRun, run_id)


def _upload(ctx: CollectorContext, key: str) -> Upload | None:
    with ctx.sessions() as s:
        return s.scalar(select(Upload).where(Upload.bucket == BUCKET, Upload.object_key == key))


def test_state_change_stores_the_run_with_its_metrics_and_deletes_the_message(
    make_ctx: MakeCtx, pipeline: str, t0: datetime
) -> None:
    run = add_run(
        JOB,
        t0 - timedelta(minutes=10),
        "FAILED",
        finished=t0 - timedelta(minutes=1),
        error="AnalysisException: cannot resolve `amount`",
    )
    put_run_metrics(
        JOB,
        run.job_run_id,
        t0 - timedelta(minutes=5),
        rows_read=1200,
        rows_written=0,
        bytes_read=48213,
        failed_tasks=3,
    )
    _state_change(run.job_run_id, "FAILED", t0 - timedelta(seconds=59))
    ctx = make_ctx("events", once=True)

    result = consume_events(ctx)

    assert result.failures == [] and result.items == 1
    stored = _run(ctx, run.job_run_id)
    assert stored is not None
    assert stored.state == "FAILED"
    assert stored.error_message == "AnalysisException: cannot resolve `amount`"
    assert stored.completed_at == t0 - timedelta(minutes=1)
    # Its metrics came with it: the failed-run view shows rows and failed tasks at once.
    assert (stored.rows_read, stored.rows_written) == (1200, 0)
    assert (stored.bytes_read, stored.failed_tasks) == (48213, 3)
    assert stored.metrics_collected_at == ctx.clock.now()
    assert result.lag_s == pytest.approx(59.0)
    assert _queue_depth(pipeline) == (0, 0)
    calls = ctx.aws.counter.snapshot()
    assert calls["glue:GetJobRun"] == 1 and calls["cloudwatch:GetMetricData"] == 1


def test_several_events_of_one_run_cost_one_get_job_run(
    make_ctx: MakeCtx, pipeline: str, t0: datetime
) -> None:
    run = add_run(JOB, t0 - timedelta(minutes=10), "SUCCEEDED", finished=t0)
    _state_change(run.job_run_id, "SUCCEEDED", t0)
    _state_change(run.job_run_id, "SUCCEEDED", t0)  # EventBridge delivers at least once
    ctx = make_ctx("events", once=True)
    consume_events(ctx)
    assert ctx.aws.counter.snapshot()["glue:GetJobRun"] == 1
    assert _queue_depth(pipeline) == (0, 0)


def test_object_created_under_a_dataset_prefix_records_the_upload(
    make_ctx: MakeCtx, pipeline: str
) -> None:
    key = _upload_object("orders.csv")
    elsewhere = "scratch/notes.csv"
    client("s3").put_object(Bucket=BUCKET, Key=elsewhere, Body=b"x")
    ctx = make_ctx("events", once=True)

    result = consume_events(ctx)

    assert result.failures == []
    upload = _upload(ctx, key)
    assert upload is not None
    assert upload.id == upload_id_for(BUCKET, key)  # the upload page computes the same id
    assert upload.dataset == "orders"
    assert upload.original_name == "orders.csv"  # without the uuid the upload path adds
    assert upload.uploaded_by == "alice@example.com"
    assert upload.size_bytes == len(b"order_id,amount\n1,9.5\n")
    assert upload.etag
    assert upload.status == "uploaded"
    assert upload.uploaded_at is not None and upload.run_id is None
    assert _upload(ctx, elsewhere) is None  # not a dataset's prefix: not an upload
    assert _queue_depth(pipeline) == (0, 0)


def test_a_repeated_object_event_keeps_one_upload(make_ctx: MakeCtx, pipeline: str) -> None:
    key = _upload_object("orders.csv")
    ctx = make_ctx("events", once=True)
    consume_events(ctx)
    client("s3").put_object(Bucket=BUCKET, Key=key, Body=b"order_id,amount\n1,9.5\n2,3\n")
    consume_events(ctx)
    with ctx.sessions() as s:
        uploads = list(s.scalars(select(Upload)))
    assert [u.object_key for u in uploads] == [key]
    assert uploads[0].size_bytes == len(b"order_id,amount\n1,9.5\n2,3\n")


def test_upload_then_run_links_and_follows_the_run(
    make_ctx: MakeCtx, pipeline: str, t0: datetime
) -> None:
    key = _upload_object("orders.csv")
    events_ctx = make_ctx("events", once=True)
    consume_events(events_ctx)
    # EventBridge started the job for that object.
    started = _after_now()
    run = add_run(JOB, started, "RUNNING", arguments={"--input_path": f"s3://{BUCKET}/{key}"})
    runs_ctx = make_ctx("glue_runs", glue_full_reconcile_every=1)
    collect_glue_runs(runs_ctx)

    upload = _upload(events_ctx, key)
    assert upload is not None
    assert (upload.run_id, upload.job_name, upload.status) == (run.job_run_id, JOB, "running")
    assert upload.triggered_at == started
    assert _run(events_ctx, run.job_run_id).upload_id == upload.id  # type: ignore[union-attr]

    done = started + timedelta(minutes=2)
    finish(run, "SUCCEEDED", done)
    _state_change(run.job_run_id, "SUCCEEDED", done)
    consume_events(events_ctx)
    upload = _upload(events_ctx, key)
    assert upload is not None
    assert (upload.status, upload.completed_at, upload.error) == ("succeeded", done, None)


def test_run_then_upload_event_links_too(make_ctx: MakeCtx, pipeline: str) -> None:
    key = _upload_object("orders.csv", user="bob@example.com")
    # The run was reconciled before the object's event was consumed (events race).
    started = _after_now()
    run = add_run(
        JOB,
        started,
        "FAILED",
        finished=started + timedelta(seconds=40),
        error="ValueError: amount is not a number",
        arguments={"--input_path": f"s3://{BUCKET}/{key}"},
    )
    collect_glue_runs(make_ctx("glue_runs", glue_full_reconcile_every=1))
    ctx = make_ctx("events", once=True)

    consume_events(ctx)

    upload = _upload(ctx, key)
    assert upload is not None
    assert upload.uploaded_by == "bob@example.com"
    assert (upload.run_id, upload.status) == (run.job_run_id, "failed")
    assert upload.error == "ValueError: amount is not a number"
    assert upload.completed_at == started + timedelta(seconds=40)
    assert _run(ctx, run.job_run_id).upload_id == upload.id  # type: ignore[union-attr]


def test_a_rerun_replaces_the_failed_attempt_on_the_upload(
    make_ctx: MakeCtx, pipeline: str
) -> None:
    key = _upload_object("orders.csv")
    consume_events(make_ctx("events", once=True))
    args = {"--input_path": f"s3://{BUCKET}/{key}"}
    first_start = _after_now()
    first = add_run(
        JOB,
        first_start,
        "FAILED",
        finished=first_start + timedelta(seconds=30),
        error="boom",
        arguments=args,
    )
    retry = add_run(
        JOB,
        first_start + timedelta(minutes=1),
        "SUCCEEDED",
        finished=first_start + timedelta(minutes=2),
        arguments=args,
        attempt=1,
        previous_run_id=first.job_run_id,
    )
    ctx = make_ctx("glue_runs", glue_full_reconcile_every=1)
    collect_glue_runs(ctx)
    upload = _upload(ctx, key)
    assert upload is not None
    assert (upload.run_id, upload.status, upload.error) == (retry.job_run_id, "succeeded", None)
    # The older attempt arriving again (another event) does not take the upload back.
    _state_change(first.job_run_id, "FAILED", first_start + timedelta(seconds=30))
    consume_events(make_ctx("events", once=True))
    upload = _upload(ctx, key)
    assert upload is not None and upload.run_id == retry.job_run_id


def test_junk_messages_are_deleted(make_ctx: MakeCtx, pipeline: str) -> None:
    _send("not json")
    _send(json.dumps({"source": "aws.ec2", "detail-type": "EC2 Instance State-change"}))
    _send(json.dumps(load("event_s3_object_created") | {"detail": "???"}))
    ctx = make_ctx("events", once=True)
    result = consume_events(ctx)
    assert result.failures == [] and result.items == 0
    assert _queue_depth(pipeline) == (0, 0)
    with ctx.sessions() as s:
        assert s.scalar(select(JobRun)) is None and s.scalar(select(Upload)) is None


def test_get_job_run_failure_leaves_the_message_to_come_back(
    make_ctx: MakeCtx, pipeline: str, t0: datetime
) -> None:
    run = add_run(JOB, t0 - timedelta(minutes=5), "SUCCEEDED", finished=t0)
    _state_change(run.job_run_id, "SUCCEEDED", t0)
    ctx = make_ctx("events", once=True)
    fault = fail_calls(ctx.aws.client("glue"), "GetJobRun", code="ThrottlingException")

    result = consume_events(ctx)

    assert len(fault) == 1
    assert [f.split(":")[0] for f in result.failures] == [f"run {run.job_run_id} of {JOB}"]
    assert "ThrottlingException" in result.failures[0]
    assert _run(ctx, run.job_run_id) is None
    assert _queue_depth(pipeline) == (0, 1)  # not deleted: in flight until it times out

    # Its visibility timeout expires; the API works again; it is received and applied.
    for message in sqs_backends["123456789012"]["us-east-1"].queues[QUEUE]._messages:
        message.visible_at = 0
    fault.remove()
    result = consume_events(ctx)
    assert result.failures == []
    stored = _run(ctx, run.job_run_id)
    assert stored is not None and stored.state == "SUCCEEDED"
    assert _queue_depth(pipeline) == (0, 0)


def test_object_event_failure_keeps_the_message(
    make_ctx: MakeCtx, pipeline: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _upload_object("orders.csv")
    ctx = make_ctx("events", once=True)

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("database is locked")

    monkeypatch.setattr("collectors.events.record_object", broken)
    result = consume_events(ctx)
    assert len(result.failures) == 1 and "database is locked" in result.failures[0]
    assert _queue_depth(pipeline) == (0, 1)


def _stored_as_glue_has_it(ctx: CollectorContext, runs: list[Any]) -> None:
    """Each run's row holds what GetJobRun says of it (state, times, DPU-seconds, error)."""
    for run in runs:
        raw = client("glue").get_job_run(JobName=run.job_name, RunId=run.job_run_id)["JobRun"]
        want = glue.parse_run(raw, ctx.clock.now())
        stored = _run(ctx, run.job_run_id)
        assert stored is not None, run.job_run_id
        got = {k: getattr(stored, k) for k in glue.RUN_API_COLUMNS}
        assert got == {k: want[k] for k in glue.RUN_API_COLUMNS}


def test_a_backlog_of_state_changes_is_drained_with_one_glue_read_per_job_not_per_event(
    make_ctx: MakeCtx, pipeline: str, t0: datetime
) -> None:
    """A restart or a burst leaves hundreds of events queued: one GetJobRun each, one after
    the other, took 42 s for 700. A batch reads each job's runs once (GetJobRuns), and the
    rows are exactly what GetJobRun would have given."""
    busy: list[Any] = []
    outcomes = ("SUCCEEDED", "FAILED", "TIMEOUT")
    for i in range(40):  # a busy ingest job: 40 uploads processed while we were away
        start = t0 - timedelta(minutes=50 - i)
        state = outcomes[i % 3]
        busy.append(
            add_run(
                JOB,
                start,
                state,
                finished=start + timedelta(seconds=30 + i),
                error=f"ValueError: row {i}" if state == "FAILED" else None,
                dpu_seconds=100.0 + i if i % 2 else None,
                arguments={"--input_path": f"s3://{BUCKET}/sales/orders/{i}.csv"},
            )
        )
    single = []
    for i in range(20):  # and twenty jobs that each finished one run
        create_job(f"nightly-{i:02d}")
        single.append(add_run(f"nightly-{i:02d}", t0 - timedelta(hours=1), "SUCCEEDED"))
    for run in busy + single:
        _state_change(run.job_run_id, run.status, t0 - timedelta(seconds=5), job=run.job_name)
    for run in busy[:5]:  # EventBridge delivers at least once
        _state_change(run.job_run_id, run.status, t0 - timedelta(seconds=5), job=run.job_name)
    ctx = make_ctx("events", once=True)

    result = consume_events(ctx)

    calls = ctx.aws.counter.snapshot()
    assert calls["glue:GetJobRuns"] == 1  # the busy job's 40 runs, all in one batch
    assert calls["glue:GetJobRun"] == 20  # one per job with a single run
    assert result.failures == [] and result.items == 60  # each duplicate stored once
    _stored_as_glue_has_it(ctx, busy + single)
    assert _queue_depth(pipeline) == (0, 0)


def test_the_glue_reads_of_a_batch_go_out_together(
    make_ctx: MakeCtx, pipeline: str, t0: datetime
) -> None:
    """Two jobs' reads must be in flight at once: each waits (10 s at most) for the other."""
    runs = []
    for name in ("alpha", "beta"):
        create_job(name)
        runs.append(add_run(name, t0 - timedelta(minutes=5), "SUCCEEDED", finished=t0))
        _state_change(runs[-1].job_run_id, "SUCCEEDED", t0, job=name)
    ctx = make_ctx("events", once=True)
    both_in_flight = threading.Barrier(2, timeout=10)

    def wait_for_the_other(**_: Any) -> None:
        both_in_flight.wait()  # BrokenBarrierError (the read fails) if they went one by one

    ctx.aws.client("glue").meta.events.register("before-call.glue.GetJobRun", wait_for_the_other)

    result = consume_events(ctx)

    assert result.failures == []
    _stored_as_glue_has_it(ctx, runs)


def test_a_run_older_than_the_newest_page_is_read_by_its_id(
    make_ctx: MakeCtx, pipeline: str, t0: datetime
) -> None:
    runs = [
        add_run(
            JOB,
            t0 - timedelta(minutes=300 - i),
            "SUCCEEDED",
            finished=t0 - timedelta(minutes=299 - i),
        )
        for i in range(205)
    ]
    oldest, newest = runs[0], runs[-1]
    for run in (oldest, newest):
        _state_change(run.job_run_id, "SUCCEEDED", t0)
    ctx = make_ctx("events", once=True)

    assert consume_events(ctx).failures == []

    _stored_as_glue_has_it(ctx, [oldest, newest])
    calls = ctx.aws.counter.snapshot()
    assert (calls["glue:GetJobRuns"], calls["glue:GetJobRun"]) == (1, 1)
    assert _queue_depth(pipeline) == (0, 0)


def test_a_failed_read_of_one_job_keeps_its_messages_and_the_other_jobs_are_stored(
    make_ctx: MakeCtx, pipeline: str, t0: datetime
) -> None:
    create_job("other")
    mine = [add_run(JOB, t0 - timedelta(minutes=9 - i), "SUCCEEDED", finished=t0) for i in range(3)]
    theirs = add_run("other", t0 - timedelta(minutes=5), "SUCCEEDED", finished=t0)
    for run in [*mine, theirs]:
        _state_change(run.job_run_id, "SUCCEEDED", t0, job=run.job_name)
    ctx = make_ctx("events", once=True)
    fault = fail_calls(ctx.aws.client("glue"), "GetJobRuns", code="ThrottlingException")

    result = consume_events(ctx)

    assert len(fault) == 1
    assert sorted(f.split(":")[0] for f in result.failures) == sorted(
        f"run {r.job_run_id} of {JOB}" for r in mine
    )
    assert all(_run(ctx, r.job_run_id) is None for r in mine)
    _stored_as_glue_has_it(ctx, [theirs])
    assert _queue_depth(pipeline) == (0, 3)  # in flight until their visibility timeout
