"""Logs: following running runs, final lines of finished runs, Lambda streams with new events."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collectors.context import CollectorContext
from collectors.logs import (
    FollowTurns,
    StreamTarget,
    collect_logs,
    follow_logs,
    follow_order,
)
from collectors.runs import store_runs
from dashapp.models import JobRun, LogEvent, LogStream, LogWatch
from tests.collectors.conftest import MakeCtx, fail_calls, watch_calls
from tests.collectors.log_support import lambda_function, lambda_lines, put_lines
from tests.reliability.figure_report import report

OUT, ERR = "/aws-glue/jobs/output", "/aws-glue/jobs/error"
RUN = "jr_7f3a9c2e5b1d4f6a8c0e2b4d6f8a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a"


def _run_row(run_id: str, started: datetime, state: str = "RUNNING") -> dict[str, Any]:
    return {
        "run_id": run_id,
        "job_name": "ingest",
        "state": state,
        "started_at": started,
        "completed_at": None if state == "RUNNING" else started + timedelta(minutes=5),
        "last_modified_at": None,
        "duration_s": None,
        "dpu_seconds": None,
        "max_capacity": 2.0,
        "worker_type": "G.1X",
        "number_of_workers": 2,
        "attempt": 0,
        "previous_run_id": None,
        "trigger_name": None,
        "arguments": {},
        "error_message": None,
        "observed_at": started,
    }


def _set_state(ctx: CollectorContext, run_id: str, state: str) -> None:
    with ctx.sessions.begin() as s:
        run = s.get(JobRun, run_id)
        assert run is not None
        run.state = state
        run.completed_at = ctx.clock.now()


def _events(ctx: CollectorContext, group: str | None = None) -> list[tuple[str, str, str]]:
    with ctx.sessions() as s:
        q = select(LogEvent).order_by(LogEvent.ts, LogEvent.id)
        if group:
            q = q.where(LogEvent.log_group == group)
        return [(e.log_stream, e.level, e.message) for e in s.scalars(q)]


def _stream(session: Session, group: str, stream: str) -> LogStream | None:
    return session.scalar(
        select(LogStream).where(LogStream.log_group == group, LogStream.log_stream == stream)
    )


def test_following_stores_each_line_once_while_lines_are_appended(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    ctx = make_ctx("log_follow")
    with ctx.sessions.begin() as s:
        store_runs(s, [_run_row(RUN, t0 - timedelta(minutes=10))])
    t = t0 - timedelta(minutes=9)
    put_lines(
        OUT,
        RUN,
        [
            (t, "26/11/25 18:30:04 INFO GlueContext: GlueMetrics configured and enabled"),
            (t + timedelta(seconds=1), "26/11/25 18:30:05 WARN HadoopDataSource: no files"),
            (t + timedelta(seconds=2), "processed batch"),
            (t + timedelta(seconds=2), "processed batch"),  # the same line twice, same ms
        ],
    )
    # The error stream does not exist yet: that is not a failure.
    result = follow_logs(ctx)
    assert result.failures == [] and result.items == 4
    assert [(lvl, msg) for _, lvl, msg in _events(ctx)] == [
        ("INFO", "26/11/25 18:30:04 INFO GlueContext: GlueMetrics configured and enabled"),
        ("WARN", "26/11/25 18:30:05 WARN HadoopDataSource: no files"),
        ("INFO", "processed batch"),
        ("INFO", "processed batch"),
    ]
    with ctx.sessions() as s:
        out = _stream(s, OUT, RUN)
        assert out is not None
        first_token = out.next_token
        assert first_token and out.following and out.run_id == RUN
        assert (out.resource_type, out.resource_name, out.events_stored) == (
            "glue_job",
            "ingest",
            4,
        )
        # The missing error stream is remembered as looked at (nothing stored, no cursor),
        # so the follower's budget goes to it only in its turn.
        missing = _stream(s, ERR, RUN)
        assert missing is not None
        assert (missing.events_stored, missing.next_token) == (0, None)
        assert missing.last_read_at is not None

    reads = watch_calls(ctx.aws.client("logs"), "GetLogEvents")
    put_lines(OUT, RUN, [(t + timedelta(seconds=3), "processed batch")])  # a third, later one
    put_lines(ERR, RUN, [(t + timedelta(seconds=4), "ERROR:root:could not parse row 17")])
    ctx.clock.advance(1)
    result = follow_logs(ctx)
    assert result.failures == [] and result.items == 2
    assert {r["logGroupName"]: r.get("nextToken") for r in reads} == {OUT: first_token, ERR: None}
    assert [m for _, _, m in _events(ctx)].count("processed batch") == 3
    assert _events(ctx, ERR) == [(RUN, "ERROR", "ERROR:root:could not parse row 17")]

    # Nothing new: one call per stream, nothing stored.
    reads.clear()
    ctx.clock.advance(1)
    assert follow_logs(ctx).items == 0
    assert len(reads) == 2
    assert len(_events(ctx)) == 6
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(LogEvent)) == 6


def test_a_finished_runs_last_lines_are_read_once_and_following_stops(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    follow = make_ctx("log_follow")
    logs_ctx = make_ctx("logs")
    with follow.sessions.begin() as s:
        store_runs(s, [_run_row(RUN, t0 - timedelta(minutes=10))])
    t = t0 - timedelta(minutes=9)
    put_lines(OUT, RUN, [(t, "starting")])
    put_lines(ERR, RUN, [])
    follow_logs(follow)

    # The run ends; its last lines land after the last follow.
    put_lines(OUT, RUN, [(t + timedelta(minutes=5), "wrote 1200 rows")])
    put_lines(ERR, RUN, [(t + timedelta(minutes=5), "26/11/25 ERROR Executor: lost task 3.0")])
    _set_state(follow, RUN, "SUCCEEDED")
    follow.aws.counter.reset()
    follow.clock.advance(1)
    assert follow_logs(follow).items == 0
    assert follow.aws.counter.snapshot() == {}  # nothing running: nothing polled

    result = collect_logs(logs_ctx)
    assert result.failures == [] and result.items == 2
    assert [m for _, _, m in _events(logs_ctx)] == [
        "starting",
        "wrote 1200 rows",
        "26/11/25 ERROR Executor: lost task 3.0",
    ]
    with logs_ctx.sessions() as s:
        assert not _stream(s, OUT, RUN).following  # type: ignore[union-attr]
        assert not _stream(s, ERR, RUN).following  # type: ignore[union-attr]

    put_lines(OUT, RUN, [(t + timedelta(minutes=6), "never read: the run is over")])
    logs_ctx.aws.counter.reset()
    logs_ctx.clock.advance(30)
    assert collect_logs(logs_ctx).items == 0
    assert "logs:GetLogEvents" not in logs_ctx.aws.counter.snapshot()
    assert len(_events(logs_ctx)) == 3


def test_finished_runs_never_followed_are_read_from_the_backlog_once(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    ctx = make_ctx("logs")
    other = RUN[:-4] + "0000"
    no_logs = RUN[:-4] + "1111"
    with ctx.sessions.begin() as s:
        store_runs(
            s,
            [
                _run_row(RUN, t0 - timedelta(hours=2), "FAILED"),
                _run_row(other, t0 - timedelta(hours=1), "SUCCEEDED"),
                _run_row(no_logs, t0 - timedelta(hours=1), "SUCCEEDED"),
            ],
        )
    put_lines(ERR, RUN, [(t0 - timedelta(hours=2), "Traceback (most recent call last):")])
    put_lines(OUT, other, [(t0 - timedelta(hours=1), "done")])

    result = collect_logs(ctx)

    assert result.failures == []  # the run without streams is not an error
    assert sorted(_events(ctx)) == [
        (other, "INFO", "done"),
        (RUN, "ERROR", "Traceback (most recent call last):"),
    ]
    ctx.clock.advance(30)
    collect_logs(ctx)
    assert len(_events(ctx)) == 2


def test_lambda_streams_are_read_only_for_invoked_functions(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    ctx = make_ctx("logs")
    lambda_function(ctx, "busy", invocations=3)
    lambda_function(ctx, "idle", invocations=0)
    lambda_function(ctx, "never", invocations=None)
    t = t0 - timedelta(minutes=2)
    stream = "2026/11/25/[$LATEST]8d2f5a0c9b1e4d7a8f3c6b2e0d9a1f47"
    for name in ("busy", "idle", "never"):
        put_lines(
            f"/aws/lambda/{name}",
            stream,
            [
                (t, "START RequestId: 8f3c6b2e Version: $LATEST"),
                (t + timedelta(seconds=1), "[ERROR]\t2026-11-25T18:30:06.123Z\t8f3c6b2e\tboom"),
                (t + timedelta(seconds=2), "REPORT RequestId: 8f3c6b2e\tDuration: 812.40 ms"),
            ],
        )
    described = watch_calls(ctx.aws.client("logs"), "DescribeLogStreams")

    result = collect_logs(ctx)

    assert result.failures == []
    assert [g["logGroupName"] for g in described] == ["/aws/lambda/busy"]
    assert {g for g, *_ in lambda_lines(ctx)} == {"/aws/lambda/busy"}
    assert [lvl for _, lvl, _ in lambda_lines(ctx)] == ["INFO", "ERROR", "INFO"]
    with ctx.sessions() as s:
        st = _stream(s, "/aws/lambda/busy", stream)
        assert st is not None
        assert (st.resource_type, st.resource_name, st.run_id) == ("lambda_function", "busy", None)

    # Nothing new: the stream is not read again. New lines: only they are stored.
    ctx.aws.counter.reset()
    ctx.clock.advance(30)
    collect_logs(ctx)
    assert "logs:GetLogEvents" not in ctx.aws.counter.snapshot()
    put_lines("/aws/lambda/busy", stream, [(t + timedelta(seconds=30), "END RequestId: 8f3c6b2e")])
    ctx.clock.advance(30)
    collect_logs(ctx)
    assert [m for *_, m in lambda_lines(ctx)][-1] == "END RequestId: 8f3c6b2e"
    assert len(lambda_lines(ctx)) == 4


def test_a_function_without_a_log_group_is_not_a_failure(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("logs")
    lambda_function(ctx, "fresh", invocations=1)
    result = collect_logs(ctx)
    assert result.failures == [] and result.items == 0


def _running_jobs(ctx: CollectorContext, n: int) -> list[str]:
    """`n` runs running for five minutes, each with a line in its output and error streams."""
    t = ctx.clock.now() - timedelta(minutes=5)
    runs = [f"jr_{i:064x}" for i in range(1, n + 1)]
    with ctx.sessions.begin() as s:
        store_runs(s, [_run_row(r, t) for r in runs])
    for r in runs:
        put_lines(OUT, r, [(t, f"start {r[-4:]}")])
        put_lines(ERR, r, [(t, "log4j init")])
    return runs


def test_the_follower_spends_at_most_its_call_budget_busy_streams_first(make_ctx: MakeCtx) -> None:
    """Hundreds of running jobs must not blow the GetLogEvents quota: a cycle reads at most
    its budget, a stream with fresh lines gets more turns than quiet ones, and the quiet
    ones still take theirs."""
    ctx = make_ctx(log_follow_max_calls_per_s=3, collect_log_follow_interval_s=1.0)
    runs = _running_jobs(ctx, 4)
    reads = watch_calls(ctx.aws.client("logs"), "GetLogEvents")
    # Every stream gets read once, at most three per cycle.
    for _ in range(3):
        follow_logs(ctx)
    assert len(reads) == 8 + 1  # 3 + 3 + 3 calls; the ninth re-reads the stalest stream
    assert len({(c["logGroupName"], c["logStreamName"]) for c in reads}) == 8
    # A busy stream (a new line every cycle) is read more often; every quiet one still gets
    # its turn within ceil(8/3) + 1 cycles.
    reads.clear()
    for i in range(8):
        put_lines(OUT, runs[0], [(ctx.clock.now(), f"busy {i}")])
        follow_logs(ctx)
    per_stream: dict[tuple[str, str], int] = {}
    for c in reads:
        per_stream[(c["logGroupName"], c["logStreamName"])] = (
            per_stream.get((c["logGroupName"], c["logStreamName"]), 0) + 1
        )
    busy_reads = per_stream.pop((OUT, runs[0]))
    assert len(reads) == 8 * 3
    assert len(per_stream) == 7 and busy_reads > max(per_stream.values())
    first_four = {(c["logGroupName"], c["logStreamName"]) for c in reads[: 4 * 3]}
    assert len(first_four) == 8
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).where(LogEvent.message.like("busy %"))) == 8


def test_a_watched_stream_is_read_every_cycle_ahead_of_the_budget(make_ctx: MakeCtx) -> None:
    """Someone has a Lambda stream open in the live view: the follower reads it each second
    even when running jobs would use the whole budget; when the watch lapses, it stops."""
    ctx = make_ctx(log_follow_max_calls_per_s=2, collect_log_follow_interval_s=1.0)
    t = ctx.clock.now() - timedelta(minutes=5)
    runs = [f"jr_{i:064x}" for i in range(1, 4)]
    with ctx.sessions.begin() as s:
        store_runs(s, [_run_row(r, t) for r in runs])
    for r in runs:
        put_lines(OUT, r, [(t, f"start {r[-4:]}")])
    group, stream = "/aws/lambda/orders-api", "2026/11/25/[$LATEST]abc"
    put_lines(group, stream, [(t, "START RequestId: 1")])
    with ctx.sessions.begin() as s:
        s.add(
            LogWatch(
                log_group=group,
                log_stream=stream,
                watched_until=ctx.clock.now() + timedelta(seconds=30),
            )
        )
    reads = watch_calls(ctx.aws.client("logs"), "GetLogEvents")
    for i in range(3):
        put_lines(group, stream, [(ctx.clock.now(), f"line {i}")])
        follow_logs(ctx)
    lambda_reads = [c for c in reads if c["logGroupName"] == group]
    assert len(reads) == 6 and len(lambda_reads) == 3
    with ctx.sessions() as s:
        lines = set(s.scalars(select(LogEvent.message).where(LogEvent.log_group == group)))
    assert lines == {"START RequestId: 1", "line 0", "line 1", "line 2"}
    reads.clear()
    ctx.clock.advance(60)  # the viewer left; the heartbeat stopped
    follow_logs(ctx)
    assert [c for c in reads if c["logGroupName"] == group] == []


def test_with_more_busy_streams_than_the_budget_every_stream_still_gets_its_turn(
    make_ctx: MakeCtx, request: pytest.FixtureRequest
) -> None:
    """40 streams of running jobs, 15 GetLogEvents a second: 20 output streams write all the
    time, 20 error streams are quiet. A line written to each must be stored within
    ceil(40/15) + 1 cycles: busy streams may go first, never for ever."""
    budget, interval = 15, 1.0
    ctx = make_ctx(log_follow_max_calls_per_s=budget, collect_log_follow_interval_s=interval)
    runs = _running_jobs(ctx, 20)
    streams = [(g, r) for r in runs for g in (OUT, ERR)]
    reads = watch_calls(ctx.aws.client("logs"), "GetLogEvents")

    def cycle(n: int) -> None:
        """One follower cycle a second, the output streams writing a line before each."""
        ctx.clock.advance(interval)
        for r in runs:
            put_lines(OUT, r, [(ctx.clock.now(), f"progress {n} {r[-4:]}")])
        follow_logs(ctx)

    for n in range(6):  # every stream read once; the output streams are now known to be busy
        cycle(n)
    assert {(c["logGroupName"], c["logStreamName"]) for c in reads} == set(streams)
    reads.clear()
    for g, r in streams:
        put_lines(g, r, [(ctx.clock.now(), f"marker {g} {r}")])
    bound = math.ceil(len(streams) / budget) + 1
    arrived_at: dict[str, int] = {}
    for n in range(1, 3 * bound + 1):
        cycle(100 + n)
        with ctx.sessions() as s:
            for message in s.scalars(
                select(LogEvent.message).where(LogEvent.message.like("marker %"))
            ):
                arrived_at.setdefault(message, n)
        if len(arrived_at) == len(streams):
            break
    report(
        request,
        "log_follow",
        [
            f"{len(streams)} streams ({len(runs)} busy), budget {budget} calls/s: "
            f"{len(arrived_at)} of {len(streams)} lines stored, every one within "
            f"{max(arrived_at.values(), default=0)} cycles (bound {bound})"
        ],
    )
    assert len(reads) <= budget * n, "never more calls than the budget"
    missing = sorted({f"marker {g} {r}" for g, r in streams} - set(arrived_at))
    assert missing == [], f"{len(missing)} streams never read in {n} cycles"
    assert max(arrived_at.values()) <= bound


@pytest.mark.parametrize(("n_streams", "n_busy"), [(40, 20), (400, 100), (400, 399), (100, 0)])
def test_follow_order_reads_every_stream_within_a_rotation_and_one_cycle(
    n_streams: int, n_busy: int
) -> None:
    """The follower's order over 200 cycles of 15 calls: each stream waits at most
    ceil(N/15) + 1 cycles between reads, and busy streams are read at least as often."""
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    targets = [StreamTarget(OUT, f"jr_{i:04d}", "glue_job", "ingest") for i in range(n_streams)]
    rows = {
        (t.group, t.stream): LogStream(
            log_group=t.group,
            log_stream=t.stream,
            last_event_at=now - timedelta(seconds=5 if i < n_busy else 600),
        )
        for i, t in enumerate(targets)
    }
    turns = FollowTurns()
    last_read: dict[str, int] = {}
    longest_wait: dict[str, int] = {}
    reads: dict[str, int] = {}
    for cycle in range(200):
        chosen = follow_order(targets, turns.last, rows, set(), now)[:15]
        turns.took(chosen, keep=targets)
        for t in chosen:
            if t.stream in last_read:
                wait = cycle - last_read[t.stream]
                longest_wait[t.stream] = max(longest_wait.get(t.stream, 0), wait)
            last_read[t.stream] = cycle
            reads[t.stream] = reads.get(t.stream, 0) + 1
    assert len(reads) == n_streams
    assert max(longest_wait.values()) <= math.ceil(n_streams / 15) + 1
    busy, quiet = (
        [reads[t.stream] for t in targets[:n_busy]],
        [reads[t.stream] for t in targets[n_busy:]],
    )
    if busy and quiet:
        assert min(busy) >= max(quiet)


def test_a_lambda_stream_that_failed_is_read_again_though_nothing_new_arrived(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    """The function's "looked up to" mark moves only with its lines: a stream whose read
    failed is read next cycle even when the function logged nothing since."""
    ctx = make_ctx("logs")
    lambda_function(ctx, "busy", invocations=3)
    t = t0 - timedelta(minutes=2)
    stream = "2026/11/25/[$LATEST]0b9e4c1d7a2f4e8c9d3a5b6f1e2c7d8a"
    put_lines(
        "/aws/lambda/busy", stream, [(t, "START RequestId: 1c2d"), (t, "END RequestId: 1c2d")]
    )
    fault = fail_calls(ctx.aws.client("logs"), "GetLogEvents", code="ThrottlingException")
    assert len(collect_logs(ctx).failures) == 1
    fault.remove()
    ctx.clock.advance(30)
    assert collect_logs(ctx).failures == []
    assert [m for *_, m in lambda_lines(ctx)] == ["START RequestId: 1c2d", "END RequestId: 1c2d"]
