"""The read side of the monitoring pages: Overview cards, job detail, wall screen.

Every aggregate is computed in the database (counts, sums, time buckets, latest run,
last success) with indexed, bounded queries, so a page costs the same at 1,000 jobs
and 1,000,000 runs as at ten: per-job seeks ride `job_runs(job_name, state,
started_at)`, range aggregates ride `job_runs(started_at)`, and nothing returns more
rows than the page shows (medians over at most `MEDIAN_RUNS` runs a job, chart series
capped at `SERIES_LIMIT`, grid pages at `MAX_PAGE`). The same SQL runs on PostgreSQL
and SQLite, except epoch seconds for bucketing (`_epoch`) and two places where
PostgreSQL gets a cheaper form of the same answer: the jobs with their latest run in
one LATERAL statement, and medians as `percentile_cont` (tests run both forms).

Interpretation that needs no database (median, success rate, SLA lateness, card
status, ordering, filtering, the grid's request → filter/sort mapping) is a set of
pure functions here, tested without one. Callbacks call, per page:

- Overview: `job_overviews` + `runs_synced` → `build_cards` → `filter_cards` /
  `order_cards` / `totals`, then `card_details` / `with_details` for the cards drawn
- Wall: `job_overviews` + `runs_synced` → `build_cards` → `order_cards` / `totals`
  (+ `queries.freshness`)
- Job detail: `job_info`, `run_series`, `run_page` (grid), `run_detail` (run panel)
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from dashapp.clock import as_utc
from dashapp.config import Dataset
from dashapp.models import (
    FIRST_FULL_SYNC_KEY,
    GLUE_RUNS_HISTORY_CURSOR,
    CollectorCursor,
    GlueJob,
    JobRun,
    Upload,
)

FAILED_STATES = ("FAILED", "ERROR", "TIMEOUT")
ACTIVE_STATES = ("STARTING", "RUNNING", "WAITING", "STOPPING")
SUCCEEDED = "SUCCEEDED"

MEDIAN_RUNS = 50  # the median duration is over at most this many latest successful runs
MEDIAN_LOOKBACK = timedelta(days=7)  # ...within at least this far back from the range end
SPARK_BUCKETS = 12
SERIES_LIMIT = 2000  # at most this many runs in the job detail charts (latest ones)
MAX_PAGE = 500  # grid rows per request

CardStatus = Literal["failed", "late", "running", "succeeded", "stopped", "syncing", "never"]
STATUS_ORDER: dict[str, int] = {
    "failed": 0,
    "late": 1,
    "running": 2,
    "stopped": 3,
    "succeeded": 4,
    "syncing": 5,
    "never": 6,
}


# --- pure helpers -------------------------------------------------------------------------


def median(values: Iterable[float]) -> float | None:
    """The median of the values (mean of the middle two when even); None when there are none."""
    ordered = sorted(v for v in values if v is not None and not math.isnan(v))
    if not ordered:
        return None
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def success_rate(succeeded: int, failed: int) -> float | None:
    """Succeeded over finished-with-an-outcome runs (stopped and running runs don't count)."""
    finished = succeeded + failed
    return succeeded / finished if finished else None


def cost(dpu_seconds: float | None, dpu_hour_price: float) -> float | None:
    """What DPU-seconds cost at the configured price of a DPU-hour."""
    return None if dpu_seconds is None else dpu_seconds / 3600.0 * dpu_hour_price


_RATE_RE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$", re.I)
_CRON_RE = re.compile(r"^cron\((.+)\)$", re.I)


@functools.lru_cache(maxsize=4096)
def schedule_interval_s(schedule: str | None) -> int | None:
    """How often a Glue schedule (`rate(...)` or 6-field `cron(...)`) fires; None if unclear.

    Only regular schedules map: every N units, hourly (fixed minute), daily (fixed
    minute and hour), weekly (one weekday). Anything else has no SLA badge.
    """
    if not schedule:
        return None
    text = schedule.strip()
    rate = _RATE_RE.match(text)
    if rate:
        n, unit = int(rate.group(1)), rate.group(2).lower().rstrip("s")
        return n * {"minute": 60, "hour": 3600, "day": 86400}[unit] if n > 0 else None
    cron = _CRON_RE.match(text)
    if not cron:
        return None
    fields = cron.group(1).split()
    if len(fields) != 6:
        return None
    minute, hour, dom, month, dow, _year = fields
    if not minute.isdigit() or month != "*":
        return None
    if hour == "*" and dom in ("*", "?") and dow in ("*", "?"):
        return 3600
    if not hour.isdigit():
        return None
    if dom in ("*", "?") and dow in ("*", "?"):
        return 86400
    if dom in ("*", "?") and re.fullmatch(r"[A-Za-z]{3}|\d", dow):
        return 7 * 86400
    return None


SCHEDULE_GRACE = 1.25  # a scheduled job is late after 1.25 of its period without success


@dataclass(frozen=True)
class Sla:
    """The freshness expectation of a job and whether it is met at `now`."""

    interval_s: int
    source: Literal["dataset", "schedule"]
    late: bool
    age_s: float | None  # since the last success; None when never succeeded


def expected_interval(
    job_name: str, schedule: str | None, datasets: Sequence[Dataset]
) -> tuple[int, Literal["dataset", "schedule"]] | None:
    """The job's SLA: its dataset's `expected_interval_s` (tightest), else its schedule's."""
    intervals = [
        d.expected_interval_s for d in datasets if d.glue_job == job_name and d.expected_interval_s
    ]
    if intervals:
        return min(intervals), "dataset"
    period = schedule_interval_s(schedule)
    if period is not None:
        return int(period * SCHEDULE_GRACE), "schedule"
    return None


def sla_status(
    job_name: str,
    schedule: str | None,
    last_success_at: datetime | None,
    datasets: Sequence[Dataset],
    now: datetime,
) -> Sla | None:
    """Late when the job has not succeeded within its expected interval; None: no SLA."""
    expected = expected_interval(job_name, schedule, datasets)
    if expected is None:
        return None
    interval, source = expected
    age = (now - last_success_at).total_seconds() if last_success_at is not None else None
    return Sla(interval, source, late=age is None or age > interval, age_s=age)


# --- overview: per-job data ---------------------------------------------------------------


class LastRun(NamedTuple):
    """The latest run of a job, whatever the time range (a tuple: a page builds a
    thousand of these per refresh, straight from result rows)."""

    run_id: str
    state: str
    started_at: datetime
    completed_at: datetime | None
    duration_s: float | None
    dpu_seconds: float | None
    rows_read: int | None
    rows_written: int | None
    error_message: str | None


class RangeStats(NamedTuple):
    """What a job did within the time range (a tuple, like `LastRun`)."""

    runs: int = 0
    succeeded: int = 0
    failed: int = 0
    dpu_seconds: float = 0.0
    rows_read: int = 0
    rows_written: int = 0

    @property
    def success_rate(self) -> float | None:
        return success_rate(self.succeeded, self.failed)


@dataclass(frozen=True)
class SparkBucket:
    """Runs started within one slice of the range, for the success-rate sparkline."""

    start: datetime
    succeeded: int = 0
    failed: int = 0

    @property
    def rate(self) -> float | None:
        return success_rate(self.succeeded, self.failed)


@dataclass(frozen=True)
class JobOverview:
    """Everything the database says about one Glue job for an Overview card."""

    name: str
    description: str
    tags: dict[str, str]
    schedule: str | None
    gone_at: datetime | None
    last_run: LastRun | None
    last_success_at: datetime | None
    stats: RangeStats
    median_duration_s: float | None
    spark: tuple[SparkBucket, ...] = ()
    last_failure: LastRun | None = None  # the latest failed run within the range


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
LAST_RUN_COLUMNS = (
    JobRun.run_id,
    JobRun.state,
    JobRun.started_at,
    JobRun.completed_at,
    JobRun.duration_s,
    JobRun.dpu_seconds,
    JobRun.rows_read,
    JobRun.rows_written,
    JobRun.error_message,
)
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


def _range_stats(
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
    stats = _range_stats(session, since, until)
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


# --- overview: cards, filters, ordering, totals (pure) ------------------------------------


@dataclass(frozen=True)
class JobCard:
    """A job as the Overview shows it: data plus the derived status, SLA, datasets and cost."""

    job: JobOverview
    status: CardStatus
    sla: Sla | None
    datasets: tuple[str, ...]
    last_cost: float | None
    range_cost: float

    @property
    def name(self) -> str:
        return self.job.name


def card_status(job: JobOverview, sla: Sla | None, synced: bool) -> CardStatus:
    """Failed (latest run failed) beats late (SLA missed) beats running, stopped, succeeded;
    a job without runs is "never" run once the runs are `synced`, "syncing" until then."""
    run = job.last_run
    if run is not None and run.state in FAILED_STATES:
        return "failed"
    if sla is not None and sla.late:
        return "late"
    if run is None:
        return "never" if synced else "syncing"
    if run.state in ACTIVE_STATES:
        return "running"
    if run.state == SUCCEEDED:
        return "succeeded"
    return "stopped"


def build_cards(
    jobs: Sequence[JobOverview],
    datasets: Sequence[Dataset],
    now: datetime,
    dpu_hour_price: float,
    *,
    synced: bool,
) -> list[JobCard]:
    """Derive status, SLA, datasets and costs for each job (same order as given).

    `synced` is `runs_synced`: before the first full read of the runs, a job with no
    stored success has no SLA verdict (its last success may be in the unread history)
    and a job with no stored run is "syncing". What the stored runs do show stays: the
    runs the event consumer brings first are the newest, so a failure among them is real.
    """
    by_job: dict[str, list[Dataset]] = {}
    for d in datasets:
        by_job.setdefault(d.glue_job, []).append(d)
    cards = []
    for job in jobs:
        own = by_job.get(job.name, [])
        sla = None
        if synced or job.last_success_at is not None:
            sla = sla_status(job.name, job.schedule, job.last_success_at, own, now)
        cards.append(
            JobCard(
                job=job,
                status=card_status(job, sla, synced),
                sla=sla,
                datasets=tuple(d.name for d in own),
                last_cost=cost(job.last_run.dpu_seconds, dpu_hour_price) if job.last_run else None,
                range_cost=cost(job.stats.dpu_seconds, dpu_hour_price) or 0.0,
            )
        )
    return cards


def order_cards(cards: Iterable[JobCard]) -> list[JobCard]:
    """Failed first, then late, running, stopped, succeeded, syncing, never run; recent first,
    then name."""

    def key(card: JobCard) -> tuple[int, float, str]:
        started = card.job.last_run.started_at.timestamp() if card.job.last_run else 0.0
        return (STATUS_ORDER[card.status], -started, card.name)

    return sorted(cards, key=key)


def tag_labels(tags: Mapping[str, str]) -> list[str]:
    """'key=value' for each tag, as the tag filter offers and matches them."""
    return sorted(f"{k}={v}" for k, v in tags.items())


@dataclass(frozen=True)
class CardFilter:
    """The Overview's filters as they appear in the URL (None: not filtering on it)."""

    status: str | None = None
    tag: str | None = None
    dataset: str | None = None
    q: str | None = None


def filter_cards(cards: Iterable[JobCard], flt: CardFilter) -> list[JobCard]:
    """The cards matching every given filter; `q` searches name, description and tags."""
    needle = (flt.q or "").strip().casefold()
    kept = []
    for card in cards:
        if flt.status and card.status != flt.status:
            continue
        if flt.tag and flt.tag not in tag_labels(card.job.tags):
            continue
        if flt.dataset and flt.dataset not in card.datasets:
            continue
        if needle:
            haystack = " ".join(
                [card.name, card.job.description, *tag_labels(card.job.tags), *card.datasets]
            ).casefold()
            if needle not in haystack:
                continue
        kept.append(card)
    return kept


@dataclass(frozen=True)
class Totals:
    """The summary tiles: job counts by status and the range's runs, success rate and cost."""

    jobs: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    late: int = 0
    runs: int = 0
    runs_succeeded: int = 0
    runs_failed: int = 0
    dpu_seconds: float = 0.0
    cost: float = 0.0
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def success_rate(self) -> float | None:
        return success_rate(self.runs_succeeded, self.runs_failed)

    @property
    def dpu_hours(self) -> float:
        return self.dpu_seconds / 3600.0


def totals(cards: Sequence[JobCard]) -> Totals:
    """Sum the cards (pass the filtered ones to describe what is on screen)."""
    by_status: dict[str, int] = {}
    for c in cards:
        by_status[c.status] = by_status.get(c.status, 0) + 1
    return Totals(
        jobs=len(cards),
        running=by_status.get("running", 0),
        succeeded=by_status.get("succeeded", 0),
        failed=by_status.get("failed", 0),
        late=by_status.get("late", 0),
        runs=sum(c.job.stats.runs for c in cards),
        runs_succeeded=sum(c.job.stats.succeeded for c in cards),
        runs_failed=sum(c.job.stats.failed for c in cards),
        dpu_seconds=sum(c.job.stats.dpu_seconds for c in cards),
        cost=sum(c.range_cost for c in cards),
        by_status=by_status,
    )


# --- job detail ---------------------------------------------------------------------------


@dataclass(frozen=True)
class JobInfo:
    """A job's configuration as the inventory last saw it."""

    name: str
    description: str
    worker_type: str | None
    number_of_workers: int | None
    max_capacity: float | None
    schedule: str | None
    tags: dict[str, str]
    gone_at: datetime | None
    last_seen_at: datetime


def job_info(session: Session, job_name: str) -> JobInfo | None:
    """The job's row, or None when the inventory never saw it."""
    j = session.get(GlueJob, job_name)
    if j is None:
        return None
    return JobInfo(
        name=j.name,
        description=j.description or "",
        worker_type=j.worker_type,
        number_of_workers=j.number_of_workers,
        max_capacity=j.max_capacity,
        schedule=j.schedule,
        tags={str(k): str(v) for k, v in (j.tags or {}).items()},
        gone_at=j.gone_at,
        last_seen_at=j.last_seen_at,
    )


def job_has_runs(session: Session, job_name: str) -> bool:
    """Whether any run of the job is stored (a job may have runs before inventory)."""
    found = select(JobRun.run_id).where(JobRun.job_name == job_name).limit(1)
    return session.scalar(found) is not None


@dataclass(frozen=True)
class SeriesPoint:
    """One run as a point of the job detail charts."""

    run_id: str
    state: str
    started_at: datetime
    duration_s: float | None
    rows_read: int | None
    rows_written: int | None
    dpu_seconds: float | None


def run_series(
    session: Session, job_name: str, since: datetime, until: datetime, limit: int = SERIES_LIMIT
) -> tuple[list[SeriesPoint], bool]:
    """The job's runs started in the range, oldest first (latest `limit`); and if cut short."""
    rows = list(
        session.execute(
            select(
                JobRun.run_id,
                JobRun.state,
                JobRun.started_at,
                JobRun.duration_s,
                JobRun.rows_read,
                JobRun.rows_written,
                JobRun.dpu_seconds,
            )
            .where(
                JobRun.job_name == job_name, JobRun.started_at >= since, JobRun.started_at < until
            )
            .order_by(JobRun.started_at.desc(), JobRun.run_id.desc())
            .limit(limit + 1)
        )
    )
    truncated = len(rows) > limit
    points = [SeriesPoint(*r) for r in rows[:limit]]
    points.reverse()
    return points, truncated


def range_stats(session: Session, job_name: str, since: datetime, until: datetime) -> RangeStats:
    """One job's figures over the range."""
    return _range_stats(session, since, until, job_name).get(job_name, RangeStats())


@dataclass(frozen=True)
class RunDetail:
    """Everything the run panel shows, with the upload that caused the run when known."""

    run: dict[str, Any]
    upload_id: str | None
    upload_name: str | None


def run_detail(session: Session, job_name: str, run_id: str) -> RunDetail | None:
    """One run of the job (None when the id is not a run of that job)."""
    run = session.get(JobRun, run_id)
    if run is None or run.job_name != job_name:
        return None
    upload = None
    if run.upload_id:
        upload = session.get(Upload, run.upload_id)
    if upload is None:
        upload = session.scalar(select(Upload).where(Upload.run_id == run_id).limit(1))
    values = {c.key: getattr(run, c.key) for c in JobRun.__table__.columns}
    return RunDetail(
        run=values,
        upload_id=upload.id if upload else run.upload_id,
        upload_name=upload.original_name if upload else None,
    )


# --- the run history grid: AG Grid infinite row model → SQL -----------------------------


class GridRequestError(ValueError):
    """A grid request naming a column or operator we do not serve."""


# Grid column id → (model column, filter kind). Only these can be sorted or filtered.
GRID_COLUMNS: dict[str, tuple[Any, str]] = {
    "run_id": (JobRun.run_id, "text"),
    "state": (JobRun.state, "text"),
    "started_at": (JobRun.started_at, "date"),
    "completed_at": (JobRun.completed_at, "date"),
    "duration_s": (JobRun.duration_s, "number"),
    "dpu_seconds": (JobRun.dpu_seconds, "number"),
    "rows_read": (JobRun.rows_read, "number"),
    "rows_written": (JobRun.rows_written, "number"),
    "attempt": (JobRun.attempt, "number"),
    "trigger_name": (JobRun.trigger_name, "text"),
    "error_message": (JobRun.error_message, "text"),
}
GRID_FIELDS = tuple(GRID_COLUMNS)


@dataclass(frozen=True)
class GridRequest:
    """A validated block request: rows [start, end), sort keys and SQL filter criteria."""

    start: int
    end: int
    sort: tuple[tuple[str, bool], ...] = ()  # (column id, descending)
    filters: tuple[ColumnElement[bool], ...] = ()
    state_equals: str | None = None  # set when the only filter is state = X (export can say it)
    filtered: bool = False


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _grid_time(value: Any, col_id: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace(" ", "T", 1))
    except ValueError:
        raise GridRequestError(f"{col_id}: {value!r} is not a date") from None
    return as_utc(parsed)


def _number(value: Any, col_id: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GridRequestError(f"{col_id}: {value!r} is not a number") from None
    if math.isnan(number) or math.isinf(number):
        raise GridRequestError(f"{col_id}: {value!r} is not a finite number")
    return number


def _condition(col_id: str, column: Any, kind: str, cond: Mapping[str, Any]) -> ColumnElement[bool]:
    op = cond.get("type")
    if op == "blank":
        return column.is_(None) if kind != "text" else or_(column.is_(None), column == "")
    if op == "notBlank":
        return column.is_not(None) if kind != "text" else and_(column.is_not(None), column != "")
    if kind == "text":
        raw = cond.get("filter")
        if not isinstance(raw, str | int | float):
            raise GridRequestError(f"{col_id}: a text filter needs a value")
        value = str(raw)
        lowered = func.lower(column)
        pattern = _like_escape(value.lower())
        ops: dict[str, ColumnElement[bool]] = {
            "contains": lowered.like(f"%{pattern}%", escape="\\"),
            "notContains": or_(column.is_(None), not_(lowered.like(f"%{pattern}%", escape="\\"))),
            "equals": lowered == value.lower(),
            "notEqual": or_(column.is_(None), lowered != value.lower()),
            "startsWith": lowered.like(f"{pattern}%", escape="\\"),
            "endsWith": lowered.like(f"%{pattern}", escape="\\"),
        }
    elif kind == "number":
        value_n = _number(cond.get("filter"), col_id)
        ops = {
            "equals": column == value_n,
            "notEqual": or_(column.is_(None), column != value_n),
            "lessThan": column < value_n,
            "lessThanOrEqual": column <= value_n,
            "greaterThan": column > value_n,
            "greaterThanOrEqual": column >= value_n,
        }
        if op == "inRange":
            return and_(column >= value_n, column <= _number(cond.get("filterTo"), col_id))
    else:
        start = _grid_time(cond.get("dateFrom"), col_id)
        if op == "inRange":
            return and_(column >= start, column < _grid_time(cond.get("dateTo"), col_id))
        day_end = start + timedelta(days=1)
        ops = {
            # AG Grid's date filter compares whole days.
            "equals": and_(column >= start, column < day_end),
            "notEqual": or_(column.is_(None), column < start, column >= day_end),
            "lessThan": column < start,
            "greaterThan": column >= day_end,
        }
    if op not in ops:
        raise GridRequestError(f"{col_id}: the {kind} filter has no operator {op!r}")
    return ops[op]


def _column_filter(col_id: str, model: Mapping[str, Any]) -> ColumnElement[bool]:
    if col_id not in GRID_COLUMNS:
        raise GridRequestError(f"cannot filter on {col_id!r}")
    column, kind = GRID_COLUMNS[col_id]
    if "conditions" in model:
        parts = [_condition(col_id, column, kind, c) for c in model["conditions"]]
        if not parts:
            raise GridRequestError(f"{col_id}: empty condition list")
        return or_(*parts) if str(model.get("operator", "AND")).upper() == "OR" else and_(*parts)
    return _condition(col_id, column, kind, model)


def parse_grid_request(raw: Mapping[str, Any] | None, page_size: int = 100) -> GridRequest:
    """Validate AG Grid's `getRowsRequest` (startRow, endRow, sortModel, filterModel).

    Unknown columns and operators raise `GridRequestError`; blocks are capped at
    `MAX_PAGE` rows so no request can pull the whole table into the browser.
    """
    raw = raw or {}
    try:
        start = max(0, int(raw.get("startRow") or 0))
        end = int(raw.get("endRow") or start + page_size)
    except (TypeError, ValueError):
        raise GridRequestError("startRow and endRow must be integers") from None
    end = min(max(end, start + 1), start + MAX_PAGE)
    sort: list[tuple[str, bool]] = []
    for item in raw.get("sortModel") or []:
        col_id = item.get("colId")
        if col_id not in GRID_COLUMNS:
            raise GridRequestError(f"cannot sort on {col_id!r}")
        direction = item.get("sort")
        if direction not in ("asc", "desc"):
            raise GridRequestError(f"{col_id}: sort must be asc or desc")
        sort.append((col_id, direction == "desc"))
    model = raw.get("filterModel") or {}
    filters = tuple(_column_filter(col_id, m) for col_id, m in model.items())
    state_only = None
    if list(model) == ["state"] and model["state"].get("type") == "equals":
        state_only = str(model["state"].get("filter", "")).upper() or None
    return GridRequest(start, end, tuple(sort), filters, state_only, filtered=bool(model))


@dataclass(frozen=True)
class GridPage:
    """One block of rows; `last_row` is the total once the end is reached, else None."""

    rows: list[dict[str, Any]]
    last_row: int | None


def grid_statement(
    job_name: str, since: datetime, until: datetime, req: GridRequest
) -> Select[Any]:
    """The SELECT of one block: the job's runs in the range, filtered, sorted, paged."""
    columns = [GRID_COLUMNS[c][0] for c in GRID_FIELDS]
    stmt = select(*columns).where(
        JobRun.job_name == job_name,
        JobRun.started_at >= since,
        JobRun.started_at < until,
        *req.filters,
    )
    order: list[Any] = []
    for col_id, desc in req.sort:
        column = GRID_COLUMNS[col_id][0]
        # Nulls last both ways, the same on PostgreSQL and SQLite.
        order.extend([column.is_(None), column.desc() if desc else column.asc()])
    order.extend([JobRun.started_at.desc(), JobRun.run_id.desc()])
    # One row more than asked tells whether another block exists, without COUNT(*).
    return stmt.order_by(*order).offset(req.start).limit(req.end - req.start + 1)


def run_page(
    session: Session, job_name: str, since: datetime, until: datetime, req: GridRequest
) -> GridPage:
    """The rows AG Grid asked for, as JSON-ready dicts (ISO 8601 UTC times)."""
    fetched = list(session.execute(grid_statement(job_name, since, until, req)))
    wanted = req.end - req.start
    rows = [_grid_row(r) for r in fetched[:wanted]]
    last = req.start + len(rows) if len(fetched) <= wanted else None
    return GridPage(rows, last)


def _grid_row(row: Any) -> dict[str, Any]:
    values = dict(zip(GRID_FIELDS, row, strict=True))
    for key in ("started_at", "completed_at"):
        if values[key] is not None:
            v = as_utc(values[key])
            values[key] = v.strftime("%Y-%m-%dT%H:%M:%SZ")
    return values
