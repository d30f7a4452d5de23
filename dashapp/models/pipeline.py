"""What the collector observed in AWS (jobs, runs, functions, metrics, logs, uploads) and
the records of user actions, collector status and cursors.

Natural keys carry unique constraints so every collector write is an idempotent upsert.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dashapp.models.base import Base, BigId, JSONType


class GlueJob(Base):
    """A Glue job as last seen in the account; kept (marked gone) when deleted in AWS."""

    __tablename__ = "glue_jobs"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    role: Mapped[str | None] = mapped_column(String(2048))
    command: Mapped[str | None] = mapped_column(String(64))
    glue_version: Mapped[str | None] = mapped_column(String(16))
    worker_type: Mapped[str | None] = mapped_column(String(32))
    number_of_workers: Mapped[int | None]
    max_capacity: Mapped[float | None] = mapped_column(Float)
    timeout_minutes: Mapped[int | None]
    max_retries: Mapped[int | None]
    max_concurrent_runs: Mapped[int | None]
    schedule: Mapped[str | None] = mapped_column(String(256))
    default_arguments: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    tags: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_on: Mapped[datetime | None]
    last_modified_on: Mapped[datetime | None]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    gone_at: Mapped[datetime | None]


class JobRun(Base):
    """One Glue job run, kept beyond Glue's 90 days."""

    __tablename__ = "job_runs"
    __table_args__ = (
        Index("ix_job_runs_job_started", "job_name", "started_at"),
        # The monitoring pages' "last success of each job": one seek per job.
        Index("ix_job_runs_job_state_started", "job_name", "state", "started_at"),
        Index("ix_job_runs_state_started", "state", "started_at"),
        Index("ix_job_runs_started", "started_at"),
    )

    run_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    job_name: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    last_modified_at: Mapped[datetime | None]
    duration_s: Mapped[float | None] = mapped_column(Float)
    dpu_seconds: Mapped[float | None] = mapped_column(Float)
    max_capacity: Mapped[float | None] = mapped_column(Float)
    worker_type: Mapped[str | None] = mapped_column(String(32))
    number_of_workers: Mapped[int | None]
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    previous_run_id: Mapped[str | None] = mapped_column(String(255))
    trigger_name: Mapped[str | None] = mapped_column(String(255))
    arguments: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    error_message: Mapped[str | None] = mapped_column(Text)
    rows_read: Mapped[int | None] = mapped_column(BigInteger)
    rows_written: Mapped[int | None] = mapped_column(BigInteger)
    bytes_read: Mapped[int | None] = mapped_column(BigInteger)
    failed_tasks: Mapped[int | None]
    upload_id: Mapped[str | None] = mapped_column(String(36), index=True)
    retry_of_run_id: Mapped[str | None] = mapped_column(String(255))
    observed_at: Mapped[datetime]
    # When the run's CloudWatch metrics were last read (None: never); final once that is
    # later than completion plus the re-read window.
    metrics_collected_at: Mapped[datetime | None]


class LambdaFunction(Base):
    """A Lambda function as last seen; kept (marked gone) when deleted in AWS."""

    __tablename__ = "lambda_functions"

    name: Mapped[str] = mapped_column(String(170), primary_key=True)
    arn: Mapped[str] = mapped_column(String(2048))
    runtime: Mapped[str | None] = mapped_column(String(32))
    handler: Mapped[str | None] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="")
    memory_mb: Mapped[int | None]
    timeout_s: Mapped[int | None]
    architecture: Mapped[str | None] = mapped_column(String(16))
    code_size: Mapped[int | None] = mapped_column(BigInteger)
    last_modified: Mapped[datetime | None]
    tags: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    gone_at: Mapped[datetime | None]


class MetricPoint(Base):
    """One CloudWatch datapoint. `dimension` narrows a resource (a Glue run id), '' when none."""

    __tablename__ = "metric_points"
    __table_args__ = (
        UniqueConstraint(
            "resource_type",
            "resource_name",
            "dimension",
            "metric",
            "stat",
            "ts",
            name="uq_metric_points_key",
        ),
        Index("ix_metric_points_series", "resource_type", "metric", "stat", "ts"),
        Index("ix_metric_points_ts", "ts"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_name: Mapped[str] = mapped_column(String(255))
    dimension: Mapped[str] = mapped_column(String(255), default="")
    metric: Mapped[str] = mapped_column(String(255))
    stat: Mapped[str] = mapped_column(String(16))
    ts: Mapped[datetime]
    period_s: Mapped[int] = mapped_column(Integer, default=60)
    value: Mapped[float] = mapped_column(Float)


class LogStream(Base):
    """A CloudWatch log stream we read, with the cursor that makes reading incremental."""

    __tablename__ = "log_streams"
    __table_args__ = (UniqueConstraint("log_group", "log_stream", name="uq_log_streams_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    log_group: Mapped[str] = mapped_column(String(512))
    log_stream: Mapped[str] = mapped_column(String(512))
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_name: Mapped[str] = mapped_column(String(255))
    run_id: Mapped[str | None] = mapped_column(String(255), index=True)
    next_token: Mapped[str | None] = mapped_column(Text)
    first_event_at: Mapped[datetime | None]
    last_event_at: Mapped[datetime | None]
    last_read_at: Mapped[datetime | None]
    events_stored: Mapped[int] = mapped_column(BigInteger, default=0)
    following: Mapped[bool] = mapped_column(Boolean, default=False)


class LogEvent(Base):
    """One log line. `event_key` is unique, so re-reading a stream never duplicates a line."""

    __tablename__ = "log_events"
    __table_args__ = (
        Index("ix_log_events_stream_ts", "log_group", "log_stream", "ts"),
        Index("ix_log_events_ts", "ts"),
        # The live viewer's tail: new rows of one group since the last id it saw.
        Index("ix_log_events_group_id", "log_group", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_key: Mapped[str] = mapped_column(String(64), unique=True)
    log_group: Mapped[str] = mapped_column(String(512))
    log_stream: Mapped[str] = mapped_column(String(512))
    ts: Mapped[datetime]
    ingested_at: Mapped[datetime | None]
    level: Mapped[str] = mapped_column(String(8), default="INFO")
    message: Mapped[str] = mapped_column(Text)


class LogWatch(Base):
    """Someone has this stream open in the live log view, until `watched_until`.

    Written by the web tier (a heartbeat while the view is open), read by the log
    follower: watched streams are read every second, ahead of quiet ones.
    """

    __tablename__ = "log_watches"

    log_group: Mapped[str] = mapped_column(String(512), primary_key=True)
    log_stream: Mapped[str] = mapped_column(String(512), primary_key=True)
    watched_until: Mapped[datetime] = mapped_column(index=True)


class Upload(Base):
    """A file a user uploaded, and its trail to the run that ingested it."""

    __tablename__ = "uploads"
    __table_args__ = (
        UniqueConstraint("bucket", "object_key", name="uq_uploads_object"),
        Index("ix_uploads_created", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(64))
    bucket: Mapped[str] = mapped_column(String(63))
    object_key: Mapped[str] = mapped_column(String(1024))
    original_name: Mapped[str] = mapped_column(String(1024))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    content_type: Mapped[str | None] = mapped_column(String(128))
    detected_format: Mapped[str | None] = mapped_column(String(16))
    etag: Mapped[str | None] = mapped_column(String(128))
    uploaded_by: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    job_name: Mapped[str | None] = mapped_column(String(255))
    run_id: Mapped[str | None] = mapped_column(String(255), index=True)
    rows_read: Mapped[int | None] = mapped_column(BigInteger)
    rows_written: Mapped[int | None] = mapped_column(BigInteger)
    processed_key: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime]
    uploaded_at: Mapped[datetime | None]
    triggered_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Who did what to which target, and how it ended. Append-only."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(1024), default="")
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    remote_addr: Mapped[str | None] = mapped_column(String(64))


class JobAction(Base):
    """A claim on one job-control request (start, re-run, auto-retry), keyed by its token.

    Claimed before Glue is called, so a double click, a retried request or a second
    collector cycle finds the claim and never starts a second run. Auto-retries use
    the token `auto-retry:<failed run id>` (`:2`, `:3` for the next tries when Glue
    refused the start): at most one re-run per failed run, ever.
    """

    __tablename__ = "job_actions"
    __table_args__ = (Index("ix_job_actions_created", "created_at"),)

    request_token: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # start | rerun | auto_retry
    job_name: Mapped[str] = mapped_column(String(255))
    source_run_id: Mapped[str | None] = mapped_column(String(255), index=True)
    new_run_id: Mapped[str | None] = mapped_column(String(255))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    arguments: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    actor: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))  # claimed | started | failed | deferred
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CollectorStatus(Base):
    """Health of one collector job: the source of /metrics, /readyz and the freshness badge."""

    __tablename__ = "collector_status"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    interval_s: Mapped[float | None] = mapped_column(Float)
    last_started_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # ok | partial (some resources failed, the rest stored) | failed
    last_outcome: Mapped[str | None] = mapped_column(String(8))
    last_duration_s: Mapped[float | None] = mapped_column(Float)
    last_api_calls: Mapped[int] = mapped_column(Integer, default=0)
    last_items: Mapped[int] = mapped_column(Integer, default=0)
    lag_s: Mapped[float | None] = mapped_column(Float)
    api_calls_total: Mapped[int] = mapped_column(BigInteger, default=0)
    cycles_total: Mapped[int] = mapped_column(BigInteger, default=0)
    errors_total: Mapped[int] = mapped_column(BigInteger, default=0)
    leader: Mapped[str | None] = mapped_column(String(255))
    api_calls_by_operation: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


# The runs collector's cursor: {"jobs": [jobs whose history was read whole],
# "first_full_at": ISO time its first full reconciliation ended}. Until that time a job
# without stored runs may just not be read yet, so the pages say "syncing", not "never ran".
GLUE_RUNS_HISTORY_CURSOR = "glue_runs:history_read"
FIRST_FULL_SYNC_KEY = "first_full_at"


class CollectorCursor(Base):
    """Small named positions collectors resume from (e.g. the last metrics window read)."""

    __tablename__ = "collector_cursors"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime]
