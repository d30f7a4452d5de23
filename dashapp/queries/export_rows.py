"""The database reads behind the CSV exports: existence checks and streamed row sets.

Kept apart from `queries.py` (the pages' read side) because exports have different
needs: result sets of any size, read with `yield_per` so SQLAlchemy fetches a batch
at a time (a server-side cursor on PostgreSQL, SQLite's lazy stepping) and memory
never grows with the export; rows are plain column tuples, never ORM objects with
identity-map bookkeeping. Each `*_rows` function returns an iterator that is only
valid while its session is open: the caller (a streaming response) owns the session.

Existence checks answer "is this name known at all", whatever the time window, so a
typo gives a 404 while a real job that did not run in the window gives an empty file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from dashapp.models import (
    AthenaQuery,
    GlueJob,
    JobRun,
    LambdaFunction,
    LogEvent,
    LogStream,
    MetricPoint,
)
from dashapp.queries.filters import (
    KNOWN_METRICS,
    JobRunsRequest,
    LogEventsRequest,
    MetricsRequest,
)
from dashapp.queries.runs import RUN_COLUMNS
from dashapp.queries.sql import any_row, contains, stream

# --- is it known? ------------------------------------------------------------------------


def glue_job_known(session: Session, name: str) -> bool:
    """A job the inventory saw (deleted ones included) or that has stored runs."""
    return any_row(session, GlueJob.name == name) or any_row(session, JobRun.job_name == name)


def lambda_function_known(session: Session, name: str) -> bool:
    """A function the inventory saw (deleted ones included)."""
    return any_row(session, LambdaFunction.name == name)


def resource_known(session: Session, resource_type: str | None, name: str) -> bool:
    """A Glue job or Lambda function by that name (of that type when given), or metrics of one.

    Datapoints count: the metrics collector may store them before the inventory
    collector has recorded the resource.
    """
    if resource_type in (None, "glue_job") and glue_job_known(session, name):
        return True
    if resource_type in (None, "lambda_function") and lambda_function_known(session, name):
        return True
    criteria = [MetricPoint.resource_name == name]
    if resource_type is not None:
        criteria.append(MetricPoint.resource_type == resource_type)
    return any_row(session, *criteria)


def metric_known(session: Session, resource_type: str | None, metric: str) -> bool:
    """A metric the collector stores for that resource type, or one found in the database."""
    types = (resource_type,) if resource_type else tuple(KNOWN_METRICS)
    if any(metric in KNOWN_METRICS.get(t, ()) for t in types):
        return True
    criteria = [MetricPoint.metric == metric]
    if resource_type is not None:
        criteria.append(MetricPoint.resource_type == resource_type)
    return any_row(session, *criteria)


def log_group_known(session: Session, group: str) -> bool:
    """A log group with a known stream or a stored event."""
    return any_row(session, LogStream.log_group == group) or any_row(
        session, LogEvent.log_group == group
    )


def log_stream_known(session: Session, group: str | None, stream: str) -> bool:
    """A log stream (in `group` when given) that is known or has a stored event."""
    stream_criteria = [LogStream.log_stream == stream]
    event_criteria = [LogEvent.log_stream == stream]
    if group is not None:
        stream_criteria.append(LogStream.log_group == group)
        event_criteria.append(LogEvent.log_group == group)
    return any_row(session, *stream_criteria) or any_row(session, *event_criteria)


def athena_query(session: Session, execution_id: str) -> AthenaQuery | None:
    """The recorded Athena query with that execution id, if any."""
    return session.get(AthenaQuery, execution_id)


# --- the rows ------------------------------------------------------------------------------


def job_run_rows(session: Session, request: JobRunsRequest) -> Iterator[Row[Any]]:
    """Runs started in [since, until), newest first (run id breaks ties, so order is stable)."""
    stmt = (
        select(JobRun.job_name, *RUN_COLUMNS.values())
        .where(JobRun.started_at >= request.window.since, JobRun.started_at < request.window.until)
        .order_by(JobRun.started_at.desc(), JobRun.run_id.desc())
    )
    if request.job is not None:
        stmt = stmt.where(JobRun.job_name == request.job)
    if request.state is not None:
        stmt = stmt.where(JobRun.state == request.state)
    return stream(session, stmt)


def metric_rows(session: Session, request: MetricsRequest) -> Iterator[Row[Any]]:
    """Datapoints in [since, until), one series after another, each oldest first.

    Series are ordered by type, resource, metric and stat; Glue rows of two runs of one
    job at the same minute (dimension = run id) follow each other in run-id order.
    """
    stmt = (
        select(
            MetricPoint.resource_type,
            MetricPoint.resource_name,
            MetricPoint.metric,
            MetricPoint.stat,
            MetricPoint.ts,
            MetricPoint.value,
        )
        .where(MetricPoint.ts >= request.window.since, MetricPoint.ts < request.window.until)
        .order_by(
            MetricPoint.resource_type,
            MetricPoint.resource_name,
            MetricPoint.metric,
            MetricPoint.stat,
            MetricPoint.ts,
            MetricPoint.dimension,
        )
    )
    if request.resource_type is not None:
        stmt = stmt.where(MetricPoint.resource_type == request.resource_type)
    if request.name is not None:
        stmt = stmt.where(MetricPoint.resource_name == request.name)
    if request.metric is not None:
        stmt = stmt.where(MetricPoint.metric == request.metric)
    return stream(session, stmt)


def log_event_rows(session: Session, request: LogEventsRequest) -> Iterator[Row[Any]]:
    """Log lines in [since, until), oldest first; `q` is a case-insensitive substring.

    `q` is matched literally (`%` and `_` are not wildcards) on both databases.
    """
    stmt = (
        select(LogEvent.log_group, LogEvent.log_stream, LogEvent.ts, LogEvent.message)
        .where(LogEvent.ts >= request.window.since, LogEvent.ts < request.window.until)
        .order_by(LogEvent.ts, LogEvent.id)
    )
    if request.group is not None:
        stmt = stmt.where(LogEvent.log_group == request.group)
    if request.stream is not None:
        stmt = stmt.where(LogEvent.log_stream == request.stream)
    if request.levels is not None:
        stmt = stmt.where(LogEvent.level.in_(request.levels))
    if request.q is not None:
        stmt = stmt.where(contains(session, LogEvent.message, request.q))
    return stream(session, stmt)
