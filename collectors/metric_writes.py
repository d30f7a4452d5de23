"""Bulk writes of the metrics collector: datapoints and per-run totals, one statement a batch.

Why its own module: at 5,000 Lambda functions a cycle stores a few hundred thousand
datapoints and the totals of a thousand runs. A multi-row VALUES insert has SQLAlchemy
compile a fresh statement with eight bound parameters a row, and one UPDATE a run is a
round trip a run: both cost more than reading CloudWatch. On PostgreSQL each batch is
one statement over arrays (`unnest`), compiled once; elsewhere (SQLite) one cached
statement executed for many rows. Both upsert, so writing a batch again changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from dashapp.aws.cloudwatch import ROWS_WRITTEN
from dashapp.models import JobRun, MetricPoint


def _unique_key(name: str) -> tuple[str, ...]:
    (constraint,) = [c for c in MetricPoint.__table__.constraints if c.name == name]
    return tuple(column.name for column in constraint.columns)  # type: ignore[attr-defined]


# A point's unique key (what an upsert conflicts on), then what it stores.
KEY_COLUMNS = _unique_key("uq_metric_points_key")
POINT_COLUMNS = (*KEY_COLUMNS, "period_s", "value")


@dataclass
class PointColumns:
    """Datapoints to store, column by column (one list per column of metric_points)."""

    resource_type: list[str] = field(default_factory=list)
    resource_name: list[str] = field(default_factory=list)
    dimension: list[str] = field(default_factory=list)
    metric: list[str] = field(default_factory=list)
    stat: list[str] = field(default_factory=list)
    ts: list[datetime] = field(default_factory=list)
    period_s: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ts)


# A re-read returns mostly what is stored: rewriting an equal row would only add a dead
# tuple (PostgreSQL) and write-ahead log, so the update happens only when a value changed.
# Parameters are sent in psycopg's binary format (`%(name)b`): as text, every element of
# the arrays would be quoted and escaped one by one.
_PG_UPSERT_POINTS = """
    INSERT INTO metric_points (resource_type, resource_name, dimension, metric, stat, ts,
                               period_s, value)
    SELECT * FROM unnest(
        %(resource_type)b::text[], %(resource_name)b::text[], %(dimension)b::text[],
        %(metric)b::text[], %(stat)b::text[], %(ts)b::timestamptz[], %(period_s)b::int[],
        %(value)b::float8[])
    ON CONFLICT ON CONSTRAINT uq_metric_points_key DO UPDATE
    SET value = EXCLUDED.value, period_s = EXCLUDED.period_s
    WHERE metric_points.value IS DISTINCT FROM EXCLUDED.value
       OR metric_points.period_s IS DISTINCT FROM EXCLUDED.period_s
"""


def upsert_points(session: Session, points: PointColumns) -> None:
    """Insert the points, updating value and period of those already stored."""
    if not points:
        return
    if session.get_bind().dialect.name == "postgresql":
        params = {c: getattr(points, c) for c in POINT_COLUMNS}
        session.connection().exec_driver_sql(_PG_UPSERT_POINTS, params)
        return
    stmt = sqlite.insert(MetricPoint.__table__)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(KEY_COLUMNS),
        set_={"value": stmt.excluded.value, "period_s": stmt.excluded.period_s},
        where=(MetricPoint.value != stmt.excluded.value)
        | (MetricPoint.period_s != stmt.excluded.period_s),
    )
    columns = [getattr(points, c) for c in POINT_COLUMNS]
    rows = zip(*columns, strict=True)
    session.execute(stmt, [dict(zip(POINT_COLUMNS, row, strict=True)) for row in rows])


TOTALS = {
    "glue.driver.aggregate.recordsRead": "rows_read",
    "glue.driver.aggregate.bytesRead": "bytes_read",
    "glue.driver.aggregate.numFailedTasks": "failed_tasks",
    ROWS_WRITTEN: "rows_written",
}
TOTAL_COLUMNS = ("rows_read", "bytes_read", "failed_tasks", "rows_written")

# A total no point was stored for keeps the value the run had (COALESCE).
_PG_UPDATE_TOTALS = """
    UPDATE job_runs SET
        metrics_collected_at = %(now)s,
        rows_read = COALESCE(t.rows_read, job_runs.rows_read),
        bytes_read = COALESCE(t.bytes_read, job_runs.bytes_read),
        failed_tasks = COALESCE(t.failed_tasks, job_runs.failed_tasks),
        rows_written = COALESCE(t.rows_written, job_runs.rows_written)
    FROM unnest(%(run_id)b::text[], %(rows_read)b::bigint[], %(bytes_read)b::bigint[],
                %(failed_tasks)b::bigint[], %(rows_written)b::bigint[])
         AS t(run_id, rows_read, bytes_read, failed_tasks, rows_written)
    WHERE job_runs.run_id = t.run_id
"""
# An UPDATE ... FROM locks rows in its join's order; taking the locks in run-id order first
# (as store_runs writes) keeps it from deadlocking with the run collectors' upserts.
_PG_LOCK_RUNS = """
    SELECT 1 FROM job_runs WHERE run_id = ANY(%(run_id)b::text[]) ORDER BY run_id FOR UPDATE
"""


def run_totals(session: Session, runs: Sequence[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """Per-run totals (rows read and written, bytes, failed tasks) of every stored point of
    `runs` ((job, run id) pairs), summed by the database."""
    totals: dict[str, dict[str, int]] = defaultdict(dict)
    by_job: dict[str, list[str]] = defaultdict(list)
    for job, run_id in runs:
        by_job[job].append(run_id)
    for job, run_ids in by_job.items():
        for start in range(0, len(run_ids), 500):
            part = run_ids[start : start + 500]
            for run_id, metric, total in session.execute(
                select(MetricPoint.dimension, MetricPoint.metric, func.sum(MetricPoint.value))
                .where(
                    MetricPoint.resource_type == "glue_job",
                    MetricPoint.resource_name == job,
                    MetricPoint.dimension.in_(part),
                    MetricPoint.metric.in_(list(TOTALS)),
                    MetricPoint.stat == "Sum",
                )
                .group_by(MetricPoint.dimension, MetricPoint.metric)
            ):
                totals[run_id][TOTALS[metric]] = round(total)
    return totals


def store_run_totals(session: Session, runs: Sequence[tuple[str, str]], now: datetime) -> None:
    """Per-run totals from every stored point (not just this read), so re-reads converge;
    `metrics_collected_at` says when the run's metrics were last read."""
    if not runs:
        return
    totals = run_totals(session, runs)
    run_ids = sorted({run_id for _, run_id in runs})
    columns: dict[str, Any] = {
        c: [totals.get(r, {}).get(c) for r in run_ids] for c in TOTAL_COLUMNS
    }
    if session.get_bind().dialect.name == "postgresql":
        params = {"now": now, "run_id": run_ids, **columns}
        session.connection().exec_driver_sql(_PG_LOCK_RUNS, {"run_id": run_ids})
        session.connection().exec_driver_sql(_PG_UPDATE_TOTALS, params)
        return
    stmt = (
        update(JobRun)
        .where(JobRun.run_id == bindparam("b_run_id"))
        .values(
            metrics_collected_at=now,
            **{c: func.coalesce(bindparam(f"b_{c}"), getattr(JobRun, c)) for c in TOTAL_COLUMNS},
        )
        .execution_options(synchronize_session=False)
    )
    rows = [
        {"b_run_id": r, **{f"b_{c}": columns[c][i] for c in TOTAL_COLUMNS}}
        for i, r in enumerate(run_ids)
    ]
    session.connection().execute(stmt, rows)
