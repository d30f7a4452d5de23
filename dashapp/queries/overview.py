"""The Overview and wall's reads: every job with its latest run, range stats, medians, sparks.

Every aggregate is computed in the database (counts, sums, time buckets, latest run,
last success) with indexed, bounded queries, so a page costs the same at 1,000 jobs
and 1,000,000 runs as at ten: per-job seeks ride `job_runs(job_name, state,
started_at)`, range aggregates ride `job_runs(started_at)`, and medians cover at most
`MEDIAN_RUNS` runs a job. The same SQL runs on PostgreSQL and SQLite, except epoch
seconds for bucketing (`epoch`) and two places where PostgreSQL gets a cheaper form
of the same answer: the jobs with their latest run in one LATERAL statement, and
medians as `percentile_cont` (tests run both forms).

Callbacks call `job_overviews` + `runs_synced` → `cards.build_cards` →
`cards.filter_cards` / `order_cards` / `totals`, then `card_details` /
`with_details` for the cards drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    case,
    cast,
    func,
    select,
    true,
)
from sqlalchemy.orm import Session

from dashapp.clock import as_utc
from dashapp.models import (
    FIRST_FULL_SYNC_KEY,
    GLUE_RUNS_HISTORY_CURSOR,
    CollectorCursor,
    GlueJob,
    JobRun,
)
from dashapp.queries.cards import JobCard, JobOverview, LastRun, RangeStats, SparkBucket
from dashapp.queries.runs import FAILED_STATES, RUN_COLUMNS, SUCCEEDED
from dashapp.queries.sla import median

MEDIAN_RUNS = 50  # the median duration is over at most this many latest successful runs
MEDIAN_LOOKBACK = timedelta(days=7)  # ...within at least this far back from the range end
SPARK_BUCKETS = 12


def _epoch(session: Session, column: Any) -> ColumnElement[float]:
    """Seconds since 1970 of a UTC timestamp column, in the session's SQL dialect."""
    if session.get_bind().dialect.name == "sqlite":
        # Stored as naive UTC text; julianday keeps fractions of a second.
        return (func.julianday(column) - 2440587.5) * 86400.0
    return func.extract("epoch", column)


def _bucket_index(session: Session, column: Any, since: datetime, step_s: float) -> Any:
    offset = (_epoch(session, column) - as_utc(since).timestamp()) / step_s
    if session.get_bind().dialect.name == "sqlite":
        return cast(offset, Integer)  # non-negative in the window: truncation is floor
    return cast(func.floor(offset), Integer)


JOB_COLUMNS = (GlueJob.name, GlueJob.description, GlueJob.tags, GlueJob.schedule, GlueJob.gone_at)

# Only what a card shows: loading whole ORM rows (arguments JSON and all) for every
# job costs more than the query itself.
LAST_RUN_COLUMNS = tuple(RUN_COLUMNS[name] for name in LastRun._fields)
_JOB_WIDTH = len(JOB_COLUMNS)
_RUN_END = _JOB_WIDTH + len(LAST_RUN_COLUMNS)


def _success_at() -> ColumnElement[datetime]:
    return func.coalesce(JobRun.completed_at, JobRun.started_at)


def _newest_of_job(column: Any, *conditions: ColumnElement[bool]) -> Any:
    """`column` of the newest run (matching `conditions`) of the job in the enclosing row:
    one backward seek on (job_name, started_at) or (job_name, state, started_at)."""
    return (
        select(column)
        .where(JobRun.job_name == GlueJob.name, *conditions)
        .order_by(JobRun.started_at.desc())
        .limit(1)
        .correlate(GlueJob)
        .scalar_subquery()
    )


def _last_success_of_job() -> Any:
    return _newest_of_job(_success_at(), JobRun.state == SUCCEEDED)


def _jobs_with_latest_pg(session: Session) -> list[Any]:
    """PostgreSQL: every job with its latest run and last success in one statement.

    The latest run is a LATERAL seek on (job_name, started_at); the last success is
    that run when it succeeded, so the second seek runs only for jobs whose latest
    run did not succeed (a CASE branch's subquery is evaluated only when taken).
    """
    run = (
        select(*LAST_RUN_COLUMNS)
        .where(JobRun.job_name == GlueJob.name)
        .order_by(JobRun.started_at.desc())
        .limit(1)
        .lateral("latest_run")
    )
    success_at = case(
        (run.c.state == SUCCEEDED, func.coalesce(run.c.completed_at, run.c.started_at)),
        else_=_last_success_of_job(),
    )
    stmt = (
        select(*JOB_COLUMNS, *run.c, success_at)
        .select_from(GlueJob)
        .outerjoin(run, true())
        .order_by(GlueJob.name)
    )
    return list(session.execute(stmt))


def _jobs_with_latest_portable(session: Session) -> list[Any]:
    """Other databases: the same rows from the job list, its last successes and a join
    of the latest run ids (one seek per job each)."""
    jobs = list(
        session.execute(select(*JOB_COLUMNS, _last_success_of_job()).order_by(GlueJob.name))
    )
    latest_id = _newest_of_job(JobRun.run_id)
    ids = select(latest_id.label("rid")).select_from(GlueJob).subquery()
    runs = {
        r[0]: tuple(r[1:])
        for r in session.execute(
            select(JobRun.job_name, *LAST_RUN_COLUMNS).join(ids, JobRun.run_id == ids.c.rid)
        )
    }
    blank = (None,) * len(LAST_RUN_COLUMNS)
    return [(*j[:_JOB_WIDTH], *runs.get(j[0], blank), j[-1]) for j in jobs]


def _jobs_with_latest(session: Session) -> list[Any]:
    """Every job (name order): job columns, then its latest run's, then its last success."""
    if session.get_bind().dialect.name == "postgresql":
        return _jobs_with_latest_pg(session)
    return _jobs_with_latest_portable(session)


def job_range_stats(
    session: Session, since: datetime, until: datetime, job: str | None = None
) -> dict[str, RangeStats]:
    failed = case((JobRun.state.in_(FAILED_STATES), 1), else_=0)
    ok = case((JobRun.state == SUCCEEDED, 1), else_=0)
    stmt = (
        select(
            JobRun.job_name,
            func.count(),
            func.sum(ok),
            func.sum(failed),
            func.sum(func.coalesce(JobRun.dpu_seconds, 0.0)),
            func.sum(func.coalesce(JobRun.rows_read, 0)),
            func.sum(func.coalesce(JobRun.rows_written, 0)),
        )
        .where(JobRun.started_at >= since, JobRun.started_at < until)
        .group_by(JobRun.job_name)
    )
    if job is not None:
        stmt = stmt.where(JobRun.job_name == job)
    return {
        name: RangeStats(n, int(s or 0), int(f or 0), float(d or 0), int(rr or 0), int(rw or 0))
        for name, n, s, f, d, rr, rw in session.execute(stmt)
    }


def _last_failures(session: Session, since: datetime, until: datetime) -> dict[str, LastRun]:
    """Each job's latest failed run in the range (failures are few: a window over them)."""
    ranked = (
        select(
            JobRun.job_name,
            *LAST_RUN_COLUMNS,
            func.row_number()
            .over(
                partition_by=JobRun.job_name,
                order_by=(JobRun.started_at.desc(), JobRun.run_id.desc()),
            )
            .label("rn"),
        )
        .where(
            JobRun.state.in_(FAILED_STATES),
            JobRun.started_at >= since,
            JobRun.started_at < until,
        )
        .subquery()
    )
    found = session.execute(select(ranked).where(ranked.c.rn == 1))
    return {r[0]: LastRun._make(r[1:-1]) for r in found}


@dataclass(frozen=True)
class CardDetails:
    """What only a drawn card needs: the median duration and the sparkline."""

    medians: Mapping[str, float]
    sparks: Mapping[str, tuple[SparkBucket, ...]]
    empty_spark: tuple[SparkBucket, ...]


def card_details(
    session: Session,
    names: Sequence[str],
    since: datetime,
    until: datetime,
    spark_buckets: int = SPARK_BUCKETS,
) -> CardDetails:
    """Medians and sparklines of just these jobs: the Overview asks only for the cards it
    draws, which keeps the page's cost flat however many jobs the account holds."""
    empty = _empty_spark(since, until, spark_buckets)
    if not names:
        return CardDetails({}, {}, empty)
    return CardDetails(
        _medians(session, since, until, names),
        _sparks(session, since, until, spark_buckets, names),
        empty,
    )


def with_details(cards: Sequence[JobCard], details: CardDetails) -> list[JobCard]:
    """The cards with their jobs' median durations and sparklines filled in."""
    return [
        replace(
            c,
            job=replace(
                c.job,
                median_duration_s=details.medians.get(c.name),
                spark=details.sparks.get(c.name, details.empty_spark),
            ),
        )
        for c in cards
    ]


def _medians(
    session: Session, since: datetime, until: datetime, names: Sequence[str] | None = None
) -> dict[str, float]:
    """Median duration of each job's latest `MEDIAN_RUNS` successes (window function)."""
    lookback = min(as_utc(since), as_utc(until) - MEDIAN_LOOKBACK)
    ranked = (
        select(
            JobRun.job_name,
            JobRun.duration_s,
            func.row_number()
            .over(partition_by=JobRun.job_name, order_by=JobRun.started_at.desc())
            .label("rn"),
        )
        .where(
            JobRun.state == SUCCEEDED,
            JobRun.duration_s.is_not(None),
            JobRun.started_at >= lookback,
            JobRun.started_at < until,
            *([JobRun.job_name.in_(names)] if names is not None else []),
        )
        .subquery()
    )
    latest = select(ranked.c.job_name, ranked.c.duration_s).where(ranked.c.rn <= MEDIAN_RUNS)
    if session.get_bind().dialect.name == "postgresql":
        top = latest.subquery()
        middle = func.percentile_cont(0.5).within_group(top.c.duration_s)
        rows = session.execute(select(top.c.job_name, middle).group_by(top.c.job_name))
        return {name: float(m) for name, m in rows if m is not None}
    durations: dict[str, list[float]] = {}
    for name, d in session.execute(latest):
        durations.setdefault(name, []).append(float(d))
    return {name: m for name, values in durations.items() if (m := median(values)) is not None}


def _sparks(
    session: Session,
    since: datetime,
    until: datetime,
    buckets: int,
    names: Sequence[str] | None = None,
) -> dict[str, tuple[SparkBucket, ...]]:
    step = (as_utc(until) - as_utc(since)).total_seconds() / buckets
    index = _bucket_index(session, JobRun.started_at, since, step).label("b")
    ok = func.sum(case((JobRun.state == SUCCEEDED, 1), else_=0))
    bad = func.sum(case((JobRun.state.in_(FAILED_STATES), 1), else_=0))
    rows = session.execute(
        select(JobRun.job_name, index, ok, bad)
        .where(
            JobRun.started_at >= since,
            JobRun.started_at < until,
            *([JobRun.job_name.in_(names)] if names is not None else []),
        )
        .group_by(JobRun.job_name, index)
    )
    counts: dict[str, dict[int, tuple[int, int]]] = {}
    for name, b, s, f in rows:
        counts.setdefault(name, {})[min(max(int(b), 0), buckets - 1)] = (int(s or 0), int(f or 0))
    start = as_utc(since)
    starts = [start + timedelta(seconds=i * step) for i in range(buckets)]
    return {
        name: tuple(
            SparkBucket(at, *by_bucket[i]) if i in by_bucket else SparkBucket(at, 0, 0)
            for i, at in enumerate(starts)
        )
        for name, by_bucket in counts.items()
    }


def job_overviews(
    session: Session,
    since: datetime,
    until: datetime,
    *,
    spark_buckets: int = SPARK_BUCKETS,
    details: bool = True,
) -> list[JobOverview]:
    """Every Glue job the inventory knows, with its latest run, last success and range figures.

    Three queries on PostgreSQL (four elsewhere) whatever the number of jobs, two more
    with details; jobs deleted from AWS are included only when they ran within the range.
    """
    stats = job_range_stats(session, since, until)
    rows = [r for r in _jobs_with_latest(session) if r[4] is None or r[0] in stats]
    if not rows:
        return []
    # Without details, `card_details` fills them in later for the cards actually drawn.
    durations = _medians(session, since, until) if details else {}
    sparks = _sparks(session, since, until, spark_buckets) if details else {}
    failures = _last_failures(session, since, until)
    empty_spark = _empty_spark(since, until, spark_buckets)
    no_stats = RangeStats()
    out = []
    for r in rows:
        name, run_id, success_at = r[0], r[_JOB_WIDTH], r[_RUN_END]
        out.append(
            JobOverview(
                name=name,
                description=r[1] or "",
                tags={str(k): str(v) for k, v in r[2].items()} if r[2] else {},
                schedule=r[3],
                gone_at=r[4],
                last_run=None if run_id is None else LastRun._make(r[_JOB_WIDTH:_RUN_END]),
                last_success_at=None if success_at is None else as_utc(success_at),
                stats=stats.get(name, no_stats),
                median_duration_s=durations.get(name),
                spark=sparks.get(name, empty_spark),
                last_failure=failures.get(name),
            )
        )
    return out


def runs_synced(session: Session) -> bool:
    """Whether the runs collector has finished its first full reconciliation.

    Before it, a job without a stored run or success may simply not be read yet (the
    first minute of a fresh install), so "never ran" and "late" would be false alarms.
    """
    cursor = session.get(CollectorCursor, GLUE_RUNS_HISTORY_CURSOR)
    return cursor is not None and bool((cursor.value or {}).get(FIRST_FULL_SYNC_KEY))


def _empty_spark(since: datetime, until: datetime, buckets: int) -> tuple[SparkBucket, ...]:
    step = (as_utc(until) - as_utc(since)).total_seconds() / buckets
    return tuple(SparkBucket(as_utc(since) + timedelta(seconds=i * step)) for i in range(buckets))
