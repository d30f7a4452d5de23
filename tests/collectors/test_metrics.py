"""Metrics: GetMetricData batching and cost, stored values, re-reads, per-run totals."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collectors.context import CollectorContext
from collectors.metrics import collect_metrics, runs_needing_metrics
from collectors.runs import store_runs
from dashapp.aws.cloudwatch import align_down
from dashapp.db import upsert
from dashapp.models import JobRun, LambdaFunction, MetricPoint
from tests.collectors.conftest import (
    MakeCtx,
    fail_calls,
    put_metric,
    put_run_metrics,
    watch_calls,
)

REREAD = timedelta(seconds=600)


def _functions(ctx: CollectorContext, names: list[str]) -> None:
    now = ctx.clock.now()
    rows = [
        {
            "name": n,
            "arn": f"arn:aws:lambda:us-east-1:123456789012:function:{n}",
            "tags": {},
            "first_seen_at": now,
            "last_seen_at": now,
        }
        for n in names
    ]
    with ctx.sessions.begin() as s:
        upsert(s, LambdaFunction, rows, conflict=["name"])


def _run(
    run_id: str,
    started: datetime,
    state: str = "SUCCEEDED",
    completed: datetime | None = None,
    job: str = "ingest",
) -> dict[str, Any]:
    finished = state not in ("RUNNING", "STARTING", "STOPPING", "WAITING")
    return {
        "run_id": run_id,
        "job_name": job,
        "state": state,
        "started_at": started,
        "completed_at": (completed or started + timedelta(minutes=3)) if finished else None,
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


def _store_runs(ctx: CollectorContext, rows: list[dict[str, Any]]) -> None:
    with ctx.sessions.begin() as s:
        store_runs(s, rows)


def _points(ctx: CollectorContext, **where: Any) -> dict[tuple[str, str, datetime], float]:
    with ctx.sessions() as s:
        q = select(MetricPoint)
        for k, v in where.items():
            q = q.where(getattr(MetricPoint, k) == v)
        return {(p.metric, p.stat, p.ts): p.value for p in s.scalars(q)}


def _get(ctx: CollectorContext, run_id: str) -> JobRun:
    with ctx.sessions() as s:
        run = s.get(JobRun, run_id)
        assert run is not None
        return run


def test_n_queries_cost_ceil_n_over_500_calls(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("metrics")
    _functions(ctx, [f"fn-{i:03d}" for i in range(130)])  # 130 x 8 = 1,040 queries
    collect_metrics(ctx)
    assert ctx.aws.counter.snapshot() == {"cloudwatch:GetMetricData": math.ceil(1040 / 500)}


def test_values_stored_equal_what_was_put(make_ctx: MakeCtx, t0: datetime) -> None:
    ctx = make_ctx("metrics")
    _functions(ctx, ["smd-upload-validator", "quiet"])
    minute = align_down(t0, 60) - timedelta(minutes=5)
    dims = {"FunctionName": "smd-upload-validator"}
    put_metric("AWS/Lambda", "Invocations", dims, minute + timedelta(seconds=5), 5)
    put_metric("AWS/Lambda", "Invocations", dims, minute + timedelta(seconds=40), 7)
    put_metric("AWS/Lambda", "Errors", dims, minute + timedelta(seconds=40), 1)
    durations = [float(v) for v in range(1, 101)]  # 1..100 ms, known percentiles
    put_metric("AWS/Lambda", "Duration", dims, minute + timedelta(seconds=30), values=durations)
    put_metric("AWS/Lambda", "Invocations", dims, minute + timedelta(minutes=2), 3)

    result = collect_metrics(ctx)

    assert result.failures == []
    got = _points(ctx, resource_name="smd-upload-validator")
    assert got == {
        ("Invocations", "Sum", minute): 12.0,
        ("Invocations", "Sum", minute + timedelta(minutes=2)): 3.0,
        ("Errors", "Sum", minute): 1.0,
        ("Duration", "Average", minute): 50.5,
        ("Duration", "p95", minute): 95.0,
        ("Duration", "p99", minute): 99.0,
        ("Duration", "Maximum", minute): 100.0,
    }
    assert _points(ctx, resource_name="quiet") == {}
    with ctx.sessions() as s:
        p = s.scalar(select(MetricPoint).where(MetricPoint.stat == "p99"))
        assert p is not None
        assert (p.resource_type, p.dimension, p.period_s) == ("lambda_function", "", 60)
    # Lag: how far behind now the newest bucket read ends.
    assert result.lag_s == (t0 - (minute + timedelta(minutes=3))).total_seconds()


def test_rereading_writes_no_duplicates_and_converges_on_late_datapoints(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    ctx = make_ctx("metrics")
    _functions(ctx, ["f"])
    minute = align_down(t0, 60) - timedelta(minutes=2)
    dims = {"FunctionName": "f"}
    put_metric("AWS/Lambda", "Invocations", dims, minute, 4)
    collect_metrics(ctx)
    assert _points(ctx, metric="Invocations") == {("Invocations", "Sum", minute): 4.0}

    # A datapoint for the minute already read arrives late.
    put_metric("AWS/Lambda", "Invocations", dims, minute + timedelta(seconds=50), 6)
    ctx.clock.advance(60)
    collect_metrics(ctx)
    ctx.clock.advance(60)
    collect_metrics(ctx)

    assert _points(ctx, metric="Invocations") == {("Invocations", "Sum", minute): 10.0}
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(MetricPoint)) == len(_points(ctx))


def test_per_run_totals_land_on_job_runs(make_ctx: MakeCtx, t0: datetime) -> None:
    ctx = make_ctx("metrics")
    start = align_down(t0, 60) - timedelta(minutes=20)
    running = _run("jr_running", start, "RUNNING")
    finished = _run("jr_done", start, "SUCCEEDED", completed=start + timedelta(minutes=4))
    # Finished long before the metrics window (read in its own window).
    old_start = align_down(t0, 60) - timedelta(days=2)
    old = _run("jr_old", old_start, "FAILED", completed=old_start + timedelta(minutes=6))
    _store_runs(ctx, [running, finished, old])
    for run_id, begin in (("jr_running", start), ("jr_done", start), ("jr_old", old_start)):
        put_run_metrics(
            "ingest",
            run_id,
            begin + timedelta(minutes=1),
            rows_read=1000,
            rows_written=990,
            bytes_read=4096,
            failed_tasks=1,
        )
        put_run_metrics(
            "ingest",
            run_id,
            begin + timedelta(minutes=2),
            rows_read=250,
            rows_written=240,
            bytes_read=1024,
            failed_tasks=0,
        )

    result = collect_metrics(ctx)

    assert result.failures == []
    for run_id in ("jr_running", "jr_done", "jr_old"):
        run = _get(ctx, run_id)
        assert (run.rows_read, run.rows_written) == (1250, 1230), run_id
        assert (run.bytes_read, run.failed_tasks) == (5120, 1), run_id
        assert run.metrics_collected_at == t0
    glue_points = _points(ctx, resource_type="glue_job", dimension="jr_done")
    assert (
        glue_points[("glue.driver.aggregate.recordsRead", "Sum", start + timedelta(minutes=1))]
        == 1000.0
    )


def test_run_totals_follow_late_points_of_a_running_run(make_ctx: MakeCtx, t0: datetime) -> None:
    ctx = make_ctx("metrics")
    start = align_down(t0, 60) - timedelta(minutes=5)
    _store_runs(ctx, [_run("jr_1", start, "RUNNING")])
    put_run_metrics("ingest", "jr_1", start + timedelta(minutes=1), rows_read=100, rows_written=90)
    collect_metrics(ctx)
    assert _get(ctx, "jr_1").rows_read == 100
    put_run_metrics("ingest", "jr_1", start + timedelta(minutes=5), rows_read=50, rows_written=50)
    ctx.clock.advance(60)
    collect_metrics(ctx)
    run = _get(ctx, "jr_1")
    assert (run.rows_read, run.rows_written) == (150, 140)


def _collected(session: Session, run_id: str, at: datetime | None) -> None:
    run = session.get(JobRun, run_id)
    assert run is not None
    run.metrics_collected_at = at


def test_runs_needing_metrics(make_ctx: MakeCtx, t0: datetime) -> None:
    ctx = make_ctx("metrics")
    h = timedelta(hours=1)
    rows = [
        _run("active", t0 - h, "RUNNING"),
        _run("never_read", t0 - 3 * h, "SUCCEEDED", completed=t0 - 2 * h),
        _run("finished_after_read", t0 - h, "FAILED", completed=t0 - timedelta(minutes=2)),
        _run("read_in_margin", t0 - h, "SUCCEEDED", completed=t0 - timedelta(minutes=4)),
        _run("final", t0 - 3 * h, "SUCCEEDED", completed=t0 - 2 * h),
        _run("too_old", t0 - timedelta(days=16), "SUCCEEDED"),
    ]
    _store_runs(ctx, rows)
    with ctx.sessions.begin() as s:
        _collected(s, "active", t0 - timedelta(minutes=1))
        _collected(s, "finished_after_read", t0 - timedelta(minutes=3))
        _collected(s, "read_in_margin", t0 - timedelta(minutes=1))  # < completion + re-read
        _collected(s, "final", t0 - 2 * h + REREAD + timedelta(minutes=1))
    with ctx.sessions() as s:
        needing = {r.run_id for r in runs_needing_metrics(s, t0, REREAD)}
    assert needing == {"active", "never_read", "finished_after_read", "read_in_margin"}


def test_a_run_finished_just_before_a_collector_outage_still_gets_its_late_points(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    ctx = make_ctx("metrics")
    start = align_down(t0, 60) - timedelta(minutes=10)
    _store_runs(ctx, [_run("jr_1", start, "SUCCEEDED", completed=t0 - timedelta(minutes=1))])
    put_run_metrics("ingest", "jr_1", start + timedelta(minutes=2), rows_read=100, rows_written=100)
    collect_metrics(ctx)
    assert _get(ctx, "jr_1").rows_read == 100

    # Glue publishes the last datapoint late; meanwhile the collector is down for an hour.
    put_run_metrics("ingest", "jr_1", start + timedelta(minutes=8), rows_read=20, rows_written=20)
    ctx.clock.advance(timedelta(hours=1))
    collect_metrics(ctx)

    run = _get(ctx, "jr_1")
    assert (run.rows_read, run.rows_written) == (120, 120)
    # Read once after completion + re-read: final, no more reads.
    with ctx.sessions() as s:
        assert "jr_1" not in {r.run_id for r in runs_needing_metrics(s, ctx.clock.now(), REREAD)}


def test_old_finished_runs_are_read_100_a_call(make_ctx: MakeCtx, t0: datetime) -> None:
    ctx = make_ctx("metrics")
    base = align_down(t0, 60) - timedelta(days=1)
    _store_runs(ctx, [_run(f"jr_{i:03d}", base + timedelta(minutes=i)) for i in range(150)])
    collect_metrics(ctx)
    # The window read (no Lambda functions, no recent run: no call) + ⌈150/100⌉ batches.
    assert ctx.aws.counter.snapshot() == {"cloudwatch:GetMetricData": 2}
    assert all(r.metrics_collected_at == t0 for r in _all_runs(ctx))


def _all_runs(ctx: CollectorContext) -> list[JobRun]:
    with ctx.sessions() as s:
        return list(s.scalars(select(JobRun)))


def test_a_long_running_run_is_read_a_window_at_a_time_not_from_its_start(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    """A job running for hours: once its metrics were read, each cycle reads only the
    recent window, in the same calls as the Lambda functions, and its totals still grow."""
    ctx = make_ctx("metrics")
    _functions(ctx, ["f"])
    start = align_down(t0, 60) - timedelta(hours=2)
    _store_runs(ctx, [_run("jr_long", start, "RUNNING")])
    put_run_metrics(
        "ingest", "jr_long", start + timedelta(minutes=1), rows_read=100, rows_written=90
    )
    collect_metrics(ctx)
    assert _get(ctx, "jr_long").rows_read == 100

    calls = watch_calls(ctx.aws.client("cloudwatch"), "GetMetricData")
    ctx.clock.advance(60)
    put_run_metrics(
        "ingest", "jr_long", ctx.clock.now() - timedelta(minutes=1), rows_read=7, rows_written=5
    )
    collect_metrics(ctx)

    assert len(calls) == 1, "the run's queries share the Lambda functions' call"
    assert len(calls[0]["MetricDataQueries"]) == 8 + 5
    read_from = datetime.fromtimestamp(calls[0]["StartTime"], UTC)
    assert read_from >= ctx.clock.now() - REREAD - timedelta(minutes=2)
    run = _get(ctx, "jr_long")
    assert (run.rows_read, run.rows_written) == (107, 95)


def test_a_batch_cloudwatch_refuses_is_reported_the_others_stored_and_it_is_read_later(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    ctx = make_ctx("metrics")
    _functions(ctx, [f"fn-{i:03d}" for i in range(130)])  # 1,040 queries: 3 calls
    minute = align_down(t0, 60) - timedelta(minutes=3)
    for name in ("fn-000", "fn-129"):  # fn-129 is in the third batch
        put_metric("AWS/Lambda", "Invocations", {"FunctionName": name}, minute, 2)

    def holds_fn_129(args: dict[str, Any]) -> bool:
        dims = [q["MetricStat"]["Metric"]["Dimensions"] for q in args["MetricDataQueries"]]
        return {"Name": "FunctionName", "Value": "fn-129"} in [d[0] for d in dims]

    fault = fail_calls(ctx.aws.client("cloudwatch"), "GetMetricData", when=holds_fn_129)
    result = collect_metrics(ctx)
    fault.remove()

    assert len(fault) == 1 and len(result.failures) == 1
    assert "metrics of 40 series: AccessDeniedException" in result.failures[0]
    assert _points(ctx, resource_name="fn-000") == {("Invocations", "Sum", minute): 2.0}
    assert _points(ctx, resource_name="fn-129") == {}
    # Much later than the re-read margin, the failed batch's window is still read.
    ctx.clock.advance(timedelta(minutes=30))
    assert collect_metrics(ctx).failures == []
    assert _points(ctx, resource_name="fn-129") == {("Invocations", "Sum", minute): 2.0}


def test_a_function_found_after_the_first_cycle_still_gets_its_backfill(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    """On a first start the scheduler runs this collector beside the inventory: its first
    cycle may know no function yet and still move the window on. A function known only
    from the next cycle must be read back `metrics_backfill_s`, not only the re-read
    margin (the ground-truth comparison of test_db_restart_collectors found it lost)."""
    ctx = make_ctx("metrics")
    an_hour_ago = align_down(t0, 60) - timedelta(hours=1)
    put_metric("AWS/Lambda", "Invocations", {"FunctionName": "late"}, an_hour_ago, 3)
    collect_metrics(ctx)  # the inventory has not stored any function yet
    _functions(ctx, ["late"])
    ctx.clock.advance(30)
    collect_metrics(ctx)
    ctx.clock.advance(60)
    collect_metrics(ctx)  # known by now: not read back again
    assert _points(ctx, metric="Invocations") == {("Invocations", "Sum", an_hour_ago): 3.0}
    # The two windows, plus one call for the newcomer's history.
    assert ctx.aws.counter.snapshot() == {"cloudwatch:GetMetricData": 2 + 1}


def test_the_points_remembered_stay_those_of_the_reread_window(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    """Why: the collector runs for months and remembers what it wrote (to skip rewriting
    unchanged points); what it remembers must stay the re-read window, not pile up
    until some size is reached (the soak saw its memory climb)."""
    ctx = make_ctx("metrics")
    _functions(ctx, ["f"])
    minute = align_down(t0, 60) - timedelta(minutes=2)
    put_metric("AWS/Lambda", "Invocations", {"FunctionName": "f"}, minute, 4)
    collect_metrics(ctx)
    remembered = ctx.memory["written_points"]
    assert [k[1] for k in remembered] == [minute]

    ctx.clock.advance(timedelta(hours=2))
    collect_metrics(ctx)

    oldest_reread = ctx.clock.now() - REREAD - timedelta(minutes=3)
    assert [k for k in ctx.memory["written_points"] if k[1] < oldest_reread] == []
