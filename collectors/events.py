"""The event consumer: EventBridge → SQS → database within about a second.

Long-polls the queue, applies "Glue Job State Change" events at once (GetJobRun
for the run's full record, then its metrics so rows read/written show with the
state) and records "Object Created" uploads. A message is deleted only after
what it says is stored: a failure leaves it in the queue to come back.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from collectors.context import CollectorContext, CycleResult
from collectors.metrics import fetch_run_metrics
from collectors.runs import record_object, store_runs
from dashapp.aws import eventbridge, glue, sqs
from dashapp.models import JobRun


def consume_events(ctx: CollectorContext) -> CycleResult:
    """Handle messages as they arrive for up to `collect_events_wait_s` seconds."""
    result = CycleResult()
    client = ctx.aws.client("sqs")
    url = ctx.memory.get("queue_url")
    if url is None:
        url = ctx.memory["queue_url"] = sqs.queue_url(client, ctx.settings.events_queue)
    budget = 0.0 if ctx.once else float(ctx.settings.collect_events_wait_s)
    deadline = time.monotonic() + budget
    while True:
        # A long poll returns as soon as a message arrives; waiting costs no latency.
        idle = not ctx.memory.get("metrics_due")
        wait = 0 if ctx.once or not idle else max(1, min(5, round(deadline - time.monotonic())))
        ctx.in_long_poll = wait > 0
        try:
            messages = sqs.receive(client, url, wait_s=wait)
        finally:
            ctx.in_long_poll = False
        if messages:
            handled = handle_messages(ctx, messages, result)
            failed = sqs.delete(client, url, handled)
            if failed:
                result.failures.append(f"{len(failed)} handled messages could not be deleted")
        else:
            _fetch_due_metrics(ctx, result)  # the queue is quiet: now the runs' metrics
        if ctx.stop.is_set() or (not messages and time.monotonic() >= deadline):
            _fetch_due_metrics(ctx, result)
            return result
        if ctx.once and not messages:
            return result


def _fetch_due_metrics(ctx: CollectorContext, result: CycleResult) -> None:
    """Rows read/written of runs that just finished, read while no event is waiting, so a
    burst of state changes is stored first and the metrics follow."""
    due: set[str] = ctx.memory.pop("metrics_due", set())
    if not due:
        return
    with ctx.sessions() as session:
        runs = list(session.scalars(select(JobRun).where(JobRun.run_id.in_(sorted(due)))))
    try:
        fetch_run_metrics(ctx, runs, ctx.clock.now())
    except Exception as e:  # noqa: BLE001 - the metrics collector reads them next cycle
        result.failed("metrics of finished runs", e)


def handle_messages(
    ctx: CollectorContext, messages: list[dict[str, Any]], result: CycleResult
) -> list[str]:
    """Store what the messages say; return the receipt handles that are done."""
    now = ctx.clock.now()
    done: list[str] = []
    state_changes: dict[tuple[str, str], tuple[str, eventbridge.GlueStateChange]] = {}
    uploads: list[tuple[str, eventbridge.ObjectCreated]] = []
    for msg in messages:
        event = eventbridge.parse_event(msg.get("Body", ""))
        handle = msg["ReceiptHandle"]
        if isinstance(event, eventbridge.GlueStateChange):
            # Several events for one run in a batch: one GetJobRun covers them all.
            key = (event.job, event.run_id)
            if key in state_changes:
                done.append(state_changes[key][0])
            state_changes[key] = (handle, event)
        elif isinstance(event, eventbridge.ObjectCreated):
            uploads.append((handle, event))
        else:
            done.append(handle)  # not ours (or malformed): dropping it is all we can do
    # Run states first: they are what people watch; the upload trail can take a moment more.
    if state_changes:
        done += _state_changes(ctx, list(state_changes.values()), result, now)
    for handle, event in uploads:
        try:
            _object_created(ctx, event, now)
            done.append(handle)
            result.items += 1
            result.observe_lag((now - event.at).total_seconds())
        except Exception as e:  # noqa: BLE001 - the message stays queued and comes back
            result.failed(f"upload s3://{event.bucket}/{event.key}", e)
    return done


def _object_created(ctx: CollectorContext, event: eventbridge.ObjectCreated, now: Any) -> None:
    uploaded_by = None
    try:
        head = ctx.aws.client("s3").head_object(Bucket=event.bucket, Key=event.key)
        uploaded_by = (head.get("Metadata") or {}).get("uploaded-by")
    except Exception:  # noqa: BLE001 - the object may be gone again; the event still counts
        pass
    with ctx.sessions.begin() as session:
        record_object(
            session,
            ctx.settings,
            bucket=event.bucket,
            key=event.key,
            size=event.size,
            etag=event.etag,
            uploaded_by=uploaded_by or event.requester,
            at=event.at,
        )


def _state_changes(
    ctx: CollectorContext,
    items: list[tuple[str, eventbridge.GlueStateChange]],
    result: CycleResult,
    now: Any,
) -> list[str]:
    client = ctx.aws.client("glue")
    rows: list[dict[str, Any]] = []
    done: list[str] = []
    for handle, event in items:
        try:
            rows.append(glue.parse_run(glue.get_job_run(client, event.job, event.run_id), now))
            done.append(handle)
            result.observe_lag((now - event.at).total_seconds())
        except Exception as e:  # noqa: BLE001 - stays queued; reconciliation is the safety net
            result.failed(f"run {event.run_id} of {event.job}", e)
    if rows:
        with ctx.sessions.begin() as session:
            result.items += store_runs(session, rows)
        finished = {r["run_id"] for r in rows if r["state"] in glue.TERMINAL_STATES}
        ctx.memory.setdefault("metrics_due", set()).update(finished)
    return done
