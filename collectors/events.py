"""The event consumer: EventBridge → SQS → database within about a second.

Long-polls the queue, applies "Glue Job State Change" events at once (the run's
full record from Glue, then its metrics so rows read/written show with the state)
and records "Object Created" uploads. A message is deleted only after what it says
is stored: a failure leaves it in the queue to come back.

An event names the run and its new state, but not when it started, how long it ran,
its DPU-seconds or arguments (the upload it ingests): the row needs Glue's record.
A backlog (a restart, a burst of schedules) is therefore drained in batches of up to
`BATCH_MESSAGES`, received and deleted 10 a call, the calls at once; the records are
fetched per job in parallel, one GetJobRuns (newest
first, 200 a page) for a job with several runs in the batch and one GetJobRun per run
otherwise (or for a run older than that page), instead of one GetJobRun at a time.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select

from collectors.context import CollectorContext, CycleResult
from collectors.metrics import fetch_run_metrics
from collectors.runs import record_object, store_runs
from dashapp.aws import eventbridge, glue, sqs
from dashapp.aws.shape import MalformedResponse
from dashapp.models import JobRun

#: Messages handled together while the queue holds more (10 a ReceiveMessage).
BATCH_MESSAGES = 100
#: Glue reads in flight at once while applying a batch of state changes.
FETCH_WORKERS = 16


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
        if len(messages) == 10 and not ctx.stop.is_set():
            messages += _receive_more(client, url)
        if messages:
            handled = handle_messages(ctx, messages, result)
            failed = _delete(client, url, handled)
            if failed:
                result.failures.append(f"{len(failed)} handled messages could not be deleted")
        else:
            _fetch_due_metrics(ctx, result)  # the queue is quiet: now the runs' metrics
        if ctx.stop.is_set() or (not messages and time.monotonic() >= deadline):
            _fetch_due_metrics(ctx, result)
            return result
        if ctx.once and not messages:
            return result


def _receive_more(client: Any, url: str) -> list[dict[str, Any]]:
    """A full receive means a backlog: take the rest of a batch at once (SQS hands each
    message to one receive), so the Glue reads of a whole batch go out together. A trickle
    is handled as it comes."""
    calls = BATCH_MESSAGES // 10 - 1
    if calls < 1:
        return []
    with ThreadPoolExecutor(max_workers=calls, thread_name_prefix="events-sqs") as pool:
        batches = pool.map(lambda _: sqs.receive(client, url, wait_s=0), range(calls))
        return [m for batch in batches for m in batch]


def _delete(client: Any, url: str, handles: list[str]) -> list[str]:
    """Delete handled messages, the calls of 10 each at once; returns the ones that failed."""
    parts = [handles[i : i + 10] for i in range(0, len(handles), 10)]
    if len(parts) <= 1:
        return sqs.delete(client, url, handles)
    with ThreadPoolExecutor(max_workers=len(parts), thread_name_prefix="events-sqs") as pool:
        outcomes = pool.map(lambda part: sqs.delete(client, url, part), parts)
        return [handle for failed in outcomes for handle in failed]


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
    by_job: dict[str, list[tuple[str, eventbridge.GlueStateChange]]] = {}
    for handle, event in items:
        by_job.setdefault(event.job, []).append((handle, event))

    def fetch(job: str) -> tuple[dict[str, dict[str, Any]], dict[str, BaseException]]:
        return fetch_runs(client, job, [event.run_id for _, event in by_job[job]])

    workers = max(1, min(FETCH_WORKERS, len(by_job)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="events-glue") as pool:
        fetched = dict(zip(by_job, pool.map(fetch, by_job), strict=True))
    rows: list[dict[str, Any]] = []
    done: list[str] = []
    for job, events in by_job.items():
        found, errors = fetched[job]
        for handle, event in events:
            if event.run_id not in found:
                # Stays queued and comes back; the reconciliation is the safety net.
                result.failed(f"run {event.run_id} of {job}", errors[event.run_id])
                continue
            try:
                rows.append(glue.parse_run(found[event.run_id], now))
            except MalformedResponse as e:
                # Glue's own record is unreadable: asking again cannot help. Reported, and
                # the message goes (the reconciliation reports the run on every pass).
                result.failed(f"run {event.run_id} of {job}", e)
                done.append(handle)
                continue
            done.append(handle)
            result.observe_lag((now - event.at).total_seconds())
    if rows:
        with ctx.sessions.begin() as session:
            result.items += store_runs(session, rows)
        finished = {r["run_id"] for r in rows if r["state"] in glue.TERMINAL_STATES}
        ctx.memory.setdefault("metrics_due", set()).update(finished)
    return done


def fetch_runs(
    client: Any, job: str, run_ids: list[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, BaseException]]:
    """Glue's records of `run_ids` of `job` (found by id), and the error of each not read.

    Several runs: one GetJobRuns page (the newest 200, where a backlog's runs are), then
    GetJobRun for any not on it. If that page fails, every run fails with it: the queue
    brings them back, rather than a fallback adding a call per run to a throttled API.
    """
    wanted = set(run_ids)
    found: dict[str, dict[str, Any]] = {}
    if len(wanted) > 1:
        try:
            page, _ = glue.job_runs_page(client, job, max_results=200)
        except Exception as e:  # noqa: BLE001 - reported per run by the caller
            return {}, dict.fromkeys(wanted, e)
        found = {raw["Id"]: raw for raw in page if raw["Id"] in wanted}
    errors: dict[str, BaseException] = {}
    for run_id in sorted(wanted - set(found)):
        try:
            found[run_id] = glue.get_job_run(client, job, run_id)
        except Exception as e:  # noqa: BLE001 - reported per run by the caller
            errors[run_id] = e
    return found, errors
