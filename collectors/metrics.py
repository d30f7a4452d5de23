"""CloudWatch metrics into metric_points: Lambda per function, Glue per run.

Every query of a cycle that fits one time window goes into the same
GetMetricData calls (500 queries each, ids mapped back by index), so N queries
cost ⌈N/500⌉ calls, a few in flight at once, each batch stored as it arrives.
The window starts at the last read end minus a re-read margin (late datapoints
land) and is aligned to the period; upserts make the re-read harmless. A batch
that cannot be read or stored is reported and the others land; the window then
stays where it was, so the next cycle reads that batch's minutes again. Runs
never read since the window's start (after a restart) are read in their own
windows, a batch of runs at a time; a Lambda function found since the last cycle has
its history before the window read once (the cursor lists the functions it covered).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from collectors.context import CollectorContext, CycleResult
from collectors.metric_writes import PointColumns, store_run_totals, upsert_points
from dashapp.aws import cloudwatch as cw
from dashapp.aws import glue
from dashapp.models import CollectorCursor, JobRun, LambdaFunction

PERIOD_S = 60
CLOUDWATCH_MINUTE_RETENTION = timedelta(days=15)  # 1-minute datapoints are kept 15 days
RUNS_PER_BATCH = 100  # 5 queries a run: one GetMetricData call per batch
CURSOR = "metrics:window_end"
WRITE_CHUNK = 5000  # points a transaction (SQLite: one writer at a time)
READ_WORKERS = 4  # GetMetricData calls in flight (AWS allows 50 a second)


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
        # Functions the windows so far covered (a cursor from before this list: all of them).
        covered = set(cursor.value.get("functions", functions)) if cursor else set(functions)
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
    recent = [r for r in runs if _read_up_to(r, start)]
    older = [r for r in runs if not _read_up_to(r, start)]
    queries += [
        q
        for r in recent
        for q in cw.glue_run_queries(r.job_name, r.run_id, s.ingestion_metric_namespace, PERIOD_S)
    ]
    client = ctx.aws.client("cloudwatch")
    # Found since the last window (the first cycle can run before the inventory's): their
    # history before this window is read once, as far back as a first start reads.
    newcomers = [q for f in functions if f not in covered for q in cw.lambda_queries(f, PERIOD_S)]
    history_start = cw.align_down(end - timedelta(seconds=s.metrics_backfill_s), PERIOD_S)
    covered_now = functions
    if newcomers and history_start < start:
        history = _read_and_store(ctx, client, newcomers, history_start, start)
        for what, error in history.errors:
            result.failed(f"history of new functions, {what}", error)
        result.items += history.items
        if history.errors:
            covered_now = [f for f in functions if f in covered]  # read again next cycle
    read = _read_and_store(ctx, client, queries, start, end)
    if read.errors and len(read.errors) == read.batches:
        raise read.errors[0][1]  # nothing was read: the cycle failed, the window stays
    for what, error in read.errors:
        result.failed(what, error)
    result.items += read.items
    if read.newest is not None:
        # How far the newest datapoint's bucket ends behind now.
        newest = read.newest + timedelta(seconds=PERIOD_S)
        result.observe_lag(max(0.0, (now - newest).total_seconds()))
    read_runs = [r for r in recent if r.run_id not in read.failed_runs]
    with ctx.sessions.begin() as session:
        store_run_totals(session, [(r.job_name, r.run_id) for r in read_runs], now)
    if not read.errors:
        # A failed batch leaves the window where it was: the next cycle reads it again.
        with ctx.sessions.begin() as session:
            row = session.get(CollectorCursor, CURSOR) or CollectorCursor(name=CURSOR)
            row.value = {"end": end.isoformat(), "functions": sorted(covered_now)}
            row.updated_at = now
            session.add(row)
    for batch in _batches_by_time(older, RUNS_PER_BATCH):
        try:
            result.items += fetch_run_metrics(ctx, batch, now)
        except Exception as e:  # noqa: BLE001 - a failed backfill batch is retried next cycle
            result.failed(f"metrics of {len(batch)} finished runs", e)
    return result


def _read_up_to(run: JobRun, start: datetime) -> bool:
    """Whether the window from `start` holds every point of `run` not stored yet: it started
    in the window, or a read since `start` stored all it had until then (a long-running
    job is then read a window at a time, not from its start every cycle)."""
    return run.started_at >= start or (
        run.metrics_collected_at is not None and run.metrics_collected_at >= start
    )


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
    read = _read_and_store(ctx, ctx.aws.client("cloudwatch"), queries, start, end, workers=1)
    if read.errors:
        raise read.errors[0][1]
    with ctx.sessions.begin() as session:
        store_run_totals(session, [(r.job_name, r.run_id) for r in runs], now)
    return read.items


@dataclass
class _Read:
    """What reading and storing a cycle's queries did."""

    batches: int = 0
    items: int = 0
    newest: datetime | None = None
    errors: list[tuple[str, BaseException]] = field(default_factory=list)
    failed_runs: set[str] = field(default_factory=set)


def _read_and_store(
    ctx: CollectorContext,
    client: Any,
    queries: Sequence[cw.MetricQuery],
    start: datetime,
    end: datetime,
    *,
    workers: int = READ_WORKERS,
) -> _Read:
    """Read the queries' datapoints and store each batch as it arrives; a batch that cannot
    be read or stored is reported with the runs it held, and the other batches still land."""
    read = _Read()
    for batch in cw.read_batches(client, queries, start, end, workers=workers):
        read.batches += 1
        error = batch.error
        if error is None:
            try:
                n, newest = _store(ctx, batch.series)
            except Exception as e:  # noqa: BLE001 - this batch only; the others are stored
                error = e
            else:
                read.items += n
                if newest is not None and (read.newest is None or newest > read.newest):
                    read.newest = newest
        if error is not None:
            read.errors.append((f"metrics of {len(batch.queries)} series", error))
            read.failed_runs |= {
                q.dimension for q in batch.queries if q.resource_type == "glue_job"
            }
    oldest = ctx.clock.now() - timedelta(seconds=ctx.settings.metrics_reread_s + 3 * PERIOD_S)
    _forget_old(ctx.memory.get("written_points", {}), oldest)
    return read


SeriesKey = tuple[str, str, str, str, str]


def _store(ctx: CollectorContext, series: Iterable[cw.Series]) -> tuple[int, datetime | None]:
    """Store what changed since this process last wrote it; the number of points written and
    the newest timestamp read."""
    # The re-read window returns mostly what we already stored: write only what changed.
    written: dict[tuple[SeriesKey, datetime], float] = ctx.memory.setdefault("written_points", {})
    changed: dict[tuple[SeriesKey, datetime], tuple[int, float]] = {}
    newest: datetime | None = None
    for s in series:
        q = s.query
        key: SeriesKey = (q.resource_type, q.resource_name, q.dimension, q.metric, q.stat)
        for ts, value in zip(s.timestamps, s.values, strict=True):
            if written.get((key, ts)) != value:
                changed[(key, ts)] = (q.period_s, value)
        latest = max(s.timestamps)
        if newest is None or latest > newest:
            newest = latest
    items = list(changed.items())
    # Short transactions: a backfill of a million points must not hold SQLite's single write
    # lock for a minute while the event consumer waits to store a state change.
    for begin in range(0, len(items), WRITE_CHUNK):
        part = items[begin : begin + WRITE_CHUNK]
        columns = PointColumns()
        for ((rtype, name, dim, metric, stat), ts), (period, value) in part:
            columns.resource_type.append(rtype)
            columns.resource_name.append(name)
            columns.dimension.append(dim)
            columns.metric.append(metric)
            columns.stat.append(stat)
            columns.ts.append(ts)
            columns.period_s.append(period)
            columns.value.append(value)
        with ctx.sessions.begin() as session:
            upsert_points(session, columns)
        written.update((k, v) for k, (_, v) in part)
    return len(items), newest


def _forget_old(written: dict[tuple[SeriesKey, datetime], float], before: datetime) -> None:
    """Keep the cache to the re-read window (older points are never read again), every
    cycle: waiting for it to reach some size would let a small account's collector grow
    for hours first. A pass costs one look at each point of the window."""
    for key in [k for k in written if k[1] < before]:
        del written[key]


def _batches_by_time(runs: Sequence[JobRun], size: int) -> Iterable[list[JobRun]]:
    ordered = sorted(runs, key=lambda r: r.started_at)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]
