"""CloudWatch metrics into metric_points: Lambda per function, Glue per run.

Every query of a cycle that fits one time window goes into the same
GetMetricData calls (500 queries each, ids mapped back by index), so N queries
cost ⌈N/500⌉ calls. The window starts at the last read end minus a re-read
margin (late datapoints land) and is aligned to the period; upserts make the
re-read harmless. Runs finished long ago (after a restart) are read in their own
windows, a batch of runs at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from collectors.context import CollectorContext, CycleResult
from dashapp.aws import cloudwatch as cw
from dashapp.aws import glue
from dashapp.db import upsert
from dashapp.models import CollectorCursor, JobRun, LambdaFunction, MetricPoint

PERIOD_S = 60
CLOUDWATCH_MINUTE_RETENTION = timedelta(days=15)  # 1-minute datapoints are kept 15 days
RUNS_PER_BATCH = 100  # 5 queries a run: one GetMetricData call per batch
CURSOR = "metrics:window_end"
WRITE_CHUNK = 5000


def collect_metrics(ctx: CollectorContext) -> CycleResult:
    result = CycleResult()
    now = ctx.clock.now()
    s = ctx.settings
    with ctx.sessions() as session:
        functions = list(
            session.scalars(select(LambdaFunction.name).where(LambdaFunction.gone_at.is_(None)))
        )
        cursor = session.get(CollectorCursor, CURSOR)
        since = datetime.fromisoformat(cursor.value["end"]) if cursor else None
        runs = runs_needing_metrics(
            session, now, timedelta(seconds=s.metrics_reread_s), since=since
        )
    start, end = cw.window(
        now,
        PERIOD_S,
        since=since,
        reread=timedelta(seconds=s.metrics_reread_s),
        backfill=timedelta(seconds=s.metrics_backfill_s),
    )
    queries: list[cw.MetricQuery] = [q for f in functions for q in cw.lambda_queries(f, PERIOD_S)]
    recent = [r for r in runs if r.started_at >= start]
    older = [r for r in runs if r.started_at < start]
    queries += [
        q
        for r in recent
        for q in cw.glue_run_queries(r.job_name, r.run_id, s.ingestion_metric_namespace, PERIOD_S)
    ]
    client = ctx.aws.client("cloudwatch")
    if queries:
        points = cw.get_metric_data(client, queries, start, end)
        result.items += _store(ctx, points, recent, now)
        if points:
            # How far the newest datapoint's bucket ends behind now.
            newest = max(p.ts for p in points) + timedelta(seconds=PERIOD_S)
            result.observe_lag(max(0.0, (now - newest).total_seconds()))
    with ctx.sessions.begin() as session:
        row = session.get(CollectorCursor, CURSOR) or CollectorCursor(name=CURSOR)
        row.value = {"end": end.isoformat()}
        row.updated_at = now
        session.add(row)
    for batch in _batches_by_time(older, RUNS_PER_BATCH):
        try:
            result.items += fetch_run_metrics(ctx, batch, now)
        except Exception as e:  # noqa: BLE001 - a failed backfill batch is retried next cycle
            result.failed(f"metrics of {len(batch)} finished runs", e)
    return result


def runs_needing_metrics(
    session: Any, now: datetime, reread: timedelta, *, since: datetime | None = None
) -> list[JobRun]:
    """Runs still going, never read, or finished and not read since (plus the re-read margin).

    `since` is where the previous cycle's window ended: runs that finished shortly before it
    still need their final re-read, however long the collector was stopped since.
    """
    oldest = now - CLOUDWATCH_MINUTE_RETENTION
    anchor = min(now, since) if since is not None else now
    candidates = session.scalars(
        select(JobRun)
        .where(JobRun.started_at >= oldest)
        .where(
            or_(
                JobRun.state.in_(glue.ACTIVE_STATES),
                JobRun.metrics_collected_at.is_(None),
                JobRun.metrics_collected_at < JobRun.completed_at,
                # Portable pre-filter (no interval arithmetic in SQL); exact test below.
                JobRun.completed_at >= anchor - reread - timedelta(minutes=5),
            )
        )
        .order_by(JobRun.started_at)
    )
    return [
        r
        for r in candidates
        if r.state in glue.ACTIVE_STATES
        or r.metrics_collected_at is None
        or (r.completed_at is not None and r.metrics_collected_at < r.completed_at + reread)
    ]


def fetch_run_metrics(ctx: CollectorContext, runs: Sequence[JobRun], now: datetime) -> int:
    """Read the metrics of a few runs in one window spanning them (used for finished runs)."""
    if not runs:
        return 0
    s = ctx.settings
    start = cw.align_down(min(r.started_at for r in runs), PERIOD_S)
    last = max((r.completed_at or now) for r in runs)
    end = min(cw.align_down(now, PERIOD_S), cw.align_down(last, PERIOD_S)) + timedelta(
        seconds=2 * PERIOD_S
    )
    queries = [
        q
        for r in runs
        for q in cw.glue_run_queries(r.job_name, r.run_id, s.ingestion_metric_namespace, PERIOD_S)
    ]
    points = cw.get_metric_data(ctx.aws.client("cloudwatch"), queries, start, end)
    return _store(ctx, points, runs, now)


def _store(
    ctx: CollectorContext, points: Iterable[cw.Datapoint], runs: Sequence[JobRun], now: datetime
) -> int:
    rows = [
        {
            "resource_type": p.query.resource_type,
            "resource_name": p.query.resource_name,
            "dimension": p.query.dimension,
            "metric": p.query.metric,
            "stat": p.query.stat,
            "ts": p.ts,
            "period_s": p.query.period_s,
            "value": p.value,
        }
        for p in points
    ]
    # The re-read window returns mostly what we already stored: write only what changed.
    written: dict[tuple[Any, ...], float] = ctx.memory.setdefault("written_points", {})
    changed = [r for r in rows if written.get(_point_key(r)) != r["value"]]
    run_ids = [r.run_id for r in runs]
    n = 0
    # Short transactions: a backfill of a million points must not hold SQLite's single write
    # lock for a minute while the event consumer waits to store a state change.
    for start in range(0, len(changed), WRITE_CHUNK):
        part = changed[start : start + WRITE_CHUNK]
        with ctx.sessions.begin() as session:
            n += upsert(
                session,
                MetricPoint,
                part,
                conflict=["resource_type", "resource_name", "dimension", "metric", "stat", "ts"],
                update=["value", "period_s"],
            )
        for r in part:
            written[_point_key(r)] = r["value"]
    if run_ids:
        with ctx.sessions.begin() as session:
            _update_run_totals(session, run_ids, now)
    _forget_old(written, now - timedelta(seconds=ctx.settings.metrics_reread_s + 3 * PERIOD_S))
    return n


def _point_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["resource_type"],
        row["resource_name"],
        row["dimension"],
        row["metric"],
        row["stat"],
        row["ts"],
    )


def _forget_old(written: dict[tuple[Any, ...], float], before: datetime) -> None:
    """Keep the cache to the re-read window (older points are never read again), every
    cycle: waiting for it to reach some size would let a small account's collector grow
    for hours first. A pass costs one look at each point of the window."""
    for key in [k for k in written if k[5] < before]:
        del written[key]


_TOTALS = {
    "glue.driver.aggregate.recordsRead": "rows_read",
    "glue.driver.aggregate.bytesRead": "bytes_read",
    "glue.driver.aggregate.numFailedTasks": "failed_tasks",
    cw.ROWS_WRITTEN: "rows_written",
}


def _update_run_totals(session: Any, run_ids: list[str], now: datetime) -> None:
    """Per-run totals from every stored point (not just this read), so re-reads converge."""
    totals: dict[str, dict[str, float]] = defaultdict(dict)
    for start in range(0, len(run_ids), 500):
        part = run_ids[start : start + 500]
        for run_id, metric, value in session.execute(
            select(MetricPoint.dimension, MetricPoint.metric, MetricPoint.value).where(
                MetricPoint.resource_type == "glue_job",
                MetricPoint.dimension.in_(part),
                MetricPoint.metric.in_(list(_TOTALS)),
                MetricPoint.stat == "Sum",
            )
        ):
            column = _TOTALS[metric]
            totals[run_id][column] = totals[run_id].get(column, 0.0) + value
    for run_id in run_ids:
        values: dict[str, Any] = {"metrics_collected_at": now}
        values.update({k: round(v) for k, v in totals.get(run_id, {}).items()})
        session.execute(
            update(JobRun)
            .where(JobRun.run_id == run_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _batches_by_time(runs: Sequence[JobRun], size: int) -> Iterable[list[JobRun]]:
    ordered = sorted(runs, key=lambda r: r.started_at)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]
