"""Rows the web tests put in the database: collectors, Glue jobs and runs, as the collector would.

Kept in one place so unit, query and browser tests describe the same situations
(a fresh collector, a stale one, a failed run) the same way.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from dashapp.models import (
    FIRST_FULL_SYNC_KEY,
    GLUE_RUNS_HISTORY_CURSOR,
    AthenaQuery,
    CollectorCursor,
    CollectorStatus,
    GlueJob,
    JobRun,
    LambdaFunction,
    LogEvent,
    LogStream,
    MetricPoint,
)


def collector(name: str, now: datetime, *, ok_ago_s: float | None, **extra: Any) -> CollectorStatus:
    """A collector that last succeeded `ok_ago_s` seconds before `now` (None: never)."""
    values: dict[str, Any] = {
        "name": name,
        "interval_s": 60.0,
        "last_started_at": now - timedelta(seconds=(ok_ago_s or 0) + 2),
        "last_success_at": now - timedelta(seconds=ok_ago_s) if ok_ago_s is not None else None,
        "last_duration_s": 1.8,
        "last_api_calls": 12,
        "api_calls_total": 1200,
        "cycles_total": 100,
        "lag_s": 4.0,
    }
    values.update(extra)
    return CollectorStatus(**values)


def runs_synced(session: Session, now: datetime, jobs: list[str] | None = None) -> None:
    """Mark the runs collector's first full reconciliation done (an hour before `now`);
    merged, so seeding twice into one database keeps one cursor."""
    session.merge(
        CollectorCursor(
            name=GLUE_RUNS_HISTORY_CURSOR,
            value={"jobs": jobs or [], FIRST_FULL_SYNC_KEY: (now - timedelta(hours=1)).isoformat()},
            updated_at=now - timedelta(hours=1),
        )
    )


def glue_job(name: str, now: datetime, **extra: Any) -> GlueJob:
    values: dict[str, Any] = {
        "name": name,
        "first_seen_at": now - timedelta(days=7),
        "last_seen_at": now - timedelta(minutes=1),
    }
    values.update(extra)
    return GlueJob(**values)


def job_run(
    run_id: str,
    job: str,
    state: str,
    started: datetime,
    *,
    duration_s: float | None = 245.0,
    **extra: Any,
) -> JobRun:
    completed = started + timedelta(seconds=duration_s) if duration_s is not None else None
    values: dict[str, Any] = {
        "run_id": run_id,
        "job_name": job,
        "state": state,
        "started_at": started,
        "completed_at": completed,
        "duration_s": duration_s,
        "observed_at": completed or started,
    }
    values.update(extra)
    return JobRun(**values)


def seed_demo(session: Session, now: datetime) -> None:
    """A realistic picture for screenshots: fresh collectors, one failed job, one never run."""
    runs_synced(session, now)
    session.add_all(
        [
            collector("glue_runs", now, ok_ago_s=12, last_api_calls=3, lag_s=1.2),
            collector("glue_jobs", now, ok_ago_s=40, last_api_calls=1),
            collector(
                "metrics",
                now,
                ok_ago_s=25,
                last_api_calls=2,
                last_error_at=now - timedelta(hours=3),
                last_error="ThrottlingException: Rate exceeded (retried, recovered)",
            ),
            glue_job("sales-orders-ingest", now),
            glue_job("crm-customers-ingest", now),
            glue_job("web-clickstream-ingest", now),
            glue_job("ops-inventory-snapshot", now),
            job_run("jr_orders_1", "sales-orders-ingest", "SUCCEEDED", now - timedelta(hours=26)),
            job_run("jr_orders_2", "sales-orders-ingest", "SUCCEEDED", now - timedelta(hours=2)),
            job_run("jr_crm_1", "crm-customers-ingest", "SUCCEEDED", now - timedelta(hours=30)),
            job_run(
                "jr_crm_2",
                "crm-customers-ingest",
                "FAILED",
                now - timedelta(minutes=50),
                duration_s=61.0,
                error_message=(
                    "AnalysisException: cannot resolve 'customer_id' given input columns "
                    "[id, name, email, created_at]"
                ),
            ),
            job_run(
                "jr_click_1",
                "web-clickstream-ingest",
                "RUNNING",
                now - timedelta(minutes=3),
                duration_s=None,
            ),
            job_run(
                "jr_click_0",
                "web-clickstream-ingest",
                "SUCCEEDED",
                now - timedelta(minutes=65),
                duration_s=190.0,
            ),
        ]
    )


def lambda_function(name: str, now: datetime, **extra: Any) -> LambdaFunction:
    """A Lambda function the inventory collector saw a minute ago."""
    values: dict[str, Any] = {
        "name": name,
        "arn": f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        "first_seen_at": now - timedelta(days=7),
        "last_seen_at": now - timedelta(minutes=1),
    }
    values.update(extra)
    return LambdaFunction(**values)


def metric_point(
    resource_type: str,
    name: str,
    metric: str,
    stat: str,
    ts: datetime,
    value: float,
    *,
    dimension: str = "",
) -> MetricPoint:
    """One datapoint as the metrics collector stores it (Glue: dimension = run id)."""
    return MetricPoint(
        resource_type=resource_type,
        resource_name=name,
        dimension=dimension,
        metric=metric,
        stat=stat,
        ts=ts,
        period_s=60,
        value=value,
    )


def lambda_minute(
    name: str,
    ts: datetime,
    *,
    invocations: float,
    errors: float = 0,
    throttles: float = 0,
    avg: float | None = None,
    p95: float | None = None,
    p99: float | None = None,
) -> list[MetricPoint]:
    """The datapoints one Lambda function has for one minute."""
    series = [
        ("Invocations", "Sum", invocations),
        ("Errors", "Sum", errors),
        ("Throttles", "Sum", throttles),
        ("Duration", "Average", avg),
        ("Duration", "p95", p95),
        ("Duration", "p99", p99),
    ]
    return [
        metric_point("lambda_function", name, metric, stat, ts, value)
        for metric, stat, value in series
        if value is not None
    ]


def log_stream(group: str, stream: str, **extra: Any) -> LogStream:
    """A known log stream (the logs collector lists them before reading events)."""
    values: dict[str, Any] = {
        "log_group": group,
        "log_stream": stream,
        "resource_type": "glue_job",
        "resource_name": "job",
    }
    values.update(extra)
    return LogStream(**values)


def log_event(group: str, stream: str, ts: datetime, message: str, **extra: Any) -> LogEvent:
    """One stored log line (with a fresh unique event key)."""
    values: dict[str, Any] = {
        "event_key": uuid.uuid4().hex,
        "log_group": group,
        "log_stream": stream,
        "ts": ts,
        "message": message,
    }
    values.update(extra)
    return LogEvent(**values)


def athena_query(execution_id: str, now: datetime, **extra: Any) -> AthenaQuery:
    """A query a user ran, SUCCEEDED by default."""
    values: dict[str, Any] = {
        "execution_id": execution_id,
        "sql": "SELECT 1",
        "submitted_by": "local",
        "state": "SUCCEEDED",
        "submitted_at": now - timedelta(minutes=5),
        "completed_at": now - timedelta(minutes=4),
    }
    values.update(extra)
    return AthenaQuery(**values)
