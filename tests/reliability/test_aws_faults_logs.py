"""The log collectors under AWS faults: every line stored once, whatever failed on the way.

Why: logs are read forward from stored cursors, so a fault is dangerous twice over: a
cursor moved past lines that were never stored loses them for good, and a cursor not
saved re-reads lines that must not appear twice. Faults are scripted per stream on
GetLogEvents (one stream stays broken for the whole cycle) and per group on
DescribeLogStreams; afterwards the streams keep growing, as running jobs' logs do, and
the next clean cycle must hold exactly what CloudWatch Logs holds.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from collectors.context import CollectorContext
from collectors.logs import collect_logs, follow_logs
from collectors.runs import store_runs
from dashapp.models import LogEvent
from tests.collectors.conftest import MakeCtx, client

# The collector tests' fixtures, used here by name (the `as` form marks them re-exported).
from tests.collectors.conftest import aws as aws
from tests.collectors.conftest import boto_session as boto_session
from tests.collectors.conftest import clock as clock
from tests.collectors.conftest import make_ctx as make_ctx
from tests.collectors.conftest import t0 as t0
from tests.collectors.log_support import lambda_function
from tests.reliability.aws_faults_support import (
    ATTEMPTS,
    CycleFigures,
    check_faulted,
    count_distinct,
    describe,
    run_cycle,
)
from tests.reliability.aws_faults_support import ClientFaults as FaultScript
from tests.reliability.aws_faults_support import figures as figures
from tests.reliability.aws_faults_support import retrying_ctx as retrying_ctx
from tests.reliability.aws_faults_support import seeded_jitter as seeded_jitter

OUT, ERR = "/aws-glue/jobs/output", "/aws-glue/jobs/error"
Stream = tuple[str, str]


def _append(stream: Stream, at: datetime, n: int) -> None:
    """`n` more lines at the end of a stream (created on first use), as a job writes them."""
    logs = client("logs")
    group, name = stream
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=group)
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=group, logStreamName=name)
    ms = int(at.timestamp() * 1000)
    events = [{"timestamp": ms + i, "message": f"{name} line at {ms + i}"} for i in range(n)]
    logs.put_log_events(logGroupName=group, logStreamName=name, logEvents=events)


def _truth(streams: list[Stream]) -> Counter[tuple[str, str, str]]:
    """Every line CloudWatch Logs holds in these streams (the test's own reading)."""
    logs = client("logs")
    lines: Counter[tuple[str, str, str]] = Counter()
    for group, name in streams:
        events = logs.get_log_events(logGroupName=group, logStreamName=name, startFromHead=True)
        lines.update((group, name, e["message"]) for e in events["events"])
    return lines


def _stored(ctx: CollectorContext) -> Counter[tuple[str, str, str]]:
    with ctx.sessions() as s:
        return Counter((e.log_group, e.log_stream, e.message) for e in s.scalars(select(LogEvent)))


def _runs(ctx: CollectorContext, state: str, ids: list[str], started: datetime) -> None:
    rows: list[dict[str, Any]] = [
        {
            "run_id": run_id,
            "job_name": "ingest",
            "state": state,
            "started_at": started,
            "completed_at": None if state == "RUNNING" else started + timedelta(minutes=3),
            "attempt": 0,
            "arguments": {},
            "observed_at": started,
        }
        for run_id in ids
    ]
    with ctx.sessions.begin() as s:
        store_runs(s, rows)


def test_following_running_jobs_loses_and_repeats_no_line(
    retrying_ctx: MakeCtx, t0: datetime, figures: list[str]
) -> None:
    ids = [f"jr_follow_{i}" for i in range(3)]
    streams = [(group, run_id) for run_id in ids for group in (OUT, ERR)]
    ctx = retrying_ctx("log_follow")
    _runs(ctx, "RUNNING", ids, t0 - timedelta(minutes=10))
    for stream in streams:
        _append(stream, t0 - timedelta(minutes=5), 3)
    logs = ctx.aws.client("logs")
    scripts = [
        FaultScript(logs, "GetLogEvents", ["timeout"] * ATTEMPTS, match=[OUT, ids[1]]),
        FaultScript(logs, "GetLogEvents", ["throttle", "slow"], match=[OUT, ids[0]]),
        FaultScript(logs, "GetLogEvents", ["server_error"], match=[ERR, ids[0]]),
        FaultScript(logs, "GetLogEvents", ["unavailable", "timeout"], match=[ERR, ids[2]]),
    ]

    faulted = run_cycle(follow_logs, ctx, scripts)
    for script in scripts:
        script.remove()
    after_fault = _stored(ctx)
    readable = _truth([s for s in streams if s != (OUT, ids[1])])
    for stream in streams:  # the jobs go on writing
        _append(stream, t0 - timedelta(minutes=1), 2)
    ctx.clock.advance(1)
    clean = run_cycle(follow_logs, ctx)

    check_faulted(faulted, broken=[f"log stream {OUT}/{ids[1]}"])
    assert after_fault == readable, "the other streams were stored despite the broken one"
    assert clean.result.failures == [] and clean.retries == 0
    assert _stored(ctx) == _truth(streams), "every line once, the broken stream's included"
    rows, keys = count_distinct(ctx, LogEvent, LogEvent.event_key)
    assert rows == keys == 5 * len(streams)
    figures.extend([describe("faulted", faulted), describe("clean", clean)])


def test_logs_of_finished_runs_and_functions_lose_and_repeat_no_line(
    retrying_ctx: MakeCtx, t0: datetime, figures: list[str]
) -> None:
    ids = ["jr_done_a", "jr_done_b"]
    ctx = retrying_ctx("logs")
    _runs(ctx, "SUCCEEDED", ids, t0 - timedelta(minutes=30))
    streams = [(group, run_id) for run_id in ids for group in (OUT, ERR)]
    for name in ("fn-one", "fn-two"):
        lambda_function(ctx, name, invocations=4)  # invoked: its metrics say so
        streams += [(f"/aws/lambda/{name}", f"2026/11/25/[$LATEST]{name}-{i}") for i in (1, 2)]
    for stream in streams:
        _append(stream, t0 - timedelta(minutes=2), 3)
    logs = ctx.aws.client("logs")
    lambda_one = streams[4]
    scripts = [
        # A finished run's output stays unreadable; its error stream is read.
        FaultScript(logs, "GetLogEvents", ["timeout"] * ATTEMPTS, match=[OUT, ids[0]]),
        FaultScript(logs, "GetLogEvents", ["server_error", "slow"], match=[ERR, ids[1]]),
        # One function's stream stays unreadable; the other function's group cannot be listed.
        FaultScript(logs, "GetLogEvents", ["unavailable"] * ATTEMPTS, match=list(lambda_one)),
        FaultScript(logs, "DescribeLogStreams", ["unavailable"] * ATTEMPTS, match="fn-two"),
        FaultScript(logs, "DescribeLogStreams", ["throttle"], match="fn-one"),
    ]

    faulted = run_cycle(collect_logs, ctx, scripts)
    for script in scripts:
        script.remove()
    recovery: list[CycleFigures] = []
    while len(recovery) < 2:  # a function's streams are listed again one cycle later at most
        ctx.clock.advance(30)
        recovery.append(run_cycle(collect_logs, ctx))
        if _stored(ctx) == _truth(streams):
            break
    clean = recovery[-1]

    check_faulted(
        faulted,
        broken=[
            f"log stream {OUT}/{ids[0]}",
            f"log stream {lambda_one[0]}/{lambda_one[1]}",
            "log group /aws/lambda/fn-two",
        ],
    )
    assert all(c.result.failures == [] and c.retries == 0 for c in recovery)
    assert _stored(ctx) == _truth(streams), "every line once, the broken streams' included"
    rows, keys = count_distinct(ctx, LogEvent, LogEvent.event_key)
    assert rows == keys == 3 * len(streams)
    figures.append(f"every line stored {len(recovery)} clean cycle(s) after the fault")
    figures.extend([describe("faulted", faulted), describe("clean", clean)])
