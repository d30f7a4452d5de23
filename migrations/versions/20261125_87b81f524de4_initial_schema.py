"""Initial schema: every table of the data model (ARCHITECTURE §5)

Revision ID: 87b81f524de4
Revises: (none)
Create Date: 2026-11-25 18:37:39.750977
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import dashapp.models

revision: str = "87b81f524de4"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=1024), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("remote_addr", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_at", ["at"], unique=False)

    op.create_table(
        "collector_cursors",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_collector_cursors")),
    )
    op.create_table(
        "collector_status",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("interval_s", sa.Float(), nullable=True),
        sa.Column("last_started_at", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error_at", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_duration_s", sa.Float(), nullable=True),
        sa.Column("last_api_calls", sa.Integer(), nullable=False),
        sa.Column("last_items", sa.Integer(), nullable=False),
        sa.Column("lag_s", sa.Float(), nullable=True),
        sa.Column("api_calls_total", sa.BigInteger(), nullable=False),
        sa.Column("cycles_total", sa.BigInteger(), nullable=False),
        sa.Column("errors_total", sa.BigInteger(), nullable=False),
        sa.Column("leader", sa.String(length=255), nullable=True),
        sa.Column(
            "api_calls_by_operation",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_collector_status")),
    )
    op.create_table(
        "glue_jobs",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=2048), nullable=True),
        sa.Column("command", sa.String(length=64), nullable=True),
        sa.Column("glue_version", sa.String(length=16), nullable=True),
        sa.Column("worker_type", sa.String(length=32), nullable=True),
        sa.Column("number_of_workers", sa.Integer(), nullable=True),
        sa.Column("max_capacity", sa.Float(), nullable=True),
        sa.Column("timeout_minutes", sa.Integer(), nullable=True),
        sa.Column("max_retries", sa.Integer(), nullable=True),
        sa.Column("max_concurrent_runs", sa.Integer(), nullable=True),
        sa.Column("schedule", sa.String(length=256), nullable=True),
        sa.Column(
            "default_arguments",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_on", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_modified_on", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_seen_at", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("gone_at", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_glue_jobs")),
    )
    op.create_table(
        "job_runs",
        sa.Column("run_id", sa.String(length=255), nullable=False),
        sa.Column("job_name", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_modified_at", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("dpu_seconds", sa.Float(), nullable=True),
        sa.Column("max_capacity", sa.Float(), nullable=True),
        sa.Column("worker_type", sa.String(length=32), nullable=True),
        sa.Column("number_of_workers", sa.Integer(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("previous_run_id", sa.String(length=255), nullable=True),
        sa.Column("trigger_name", sa.String(length=255), nullable=True),
        sa.Column(
            "arguments",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("rows_read", sa.BigInteger(), nullable=True),
        sa.Column("rows_written", sa.BigInteger(), nullable=True),
        sa.Column("bytes_read", sa.BigInteger(), nullable=True),
        sa.Column("failed_tasks", sa.Integer(), nullable=True),
        sa.Column("upload_id", sa.String(length=36), nullable=True),
        sa.Column("retry_of_run_id", sa.String(length=255), nullable=True),
        sa.Column("observed_at", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_job_runs")),
    )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index("ix_job_runs_job_started", ["job_name", "started_at"], unique=False)
        batch_op.create_index("ix_job_runs_started", ["started_at"], unique=False)
        batch_op.create_index("ix_job_runs_state_started", ["state", "started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_job_runs_upload_id"), ["upload_id"], unique=False)

    op.create_table(
        "lambda_functions",
        sa.Column("name", sa.String(length=170), nullable=False),
        sa.Column("arn", sa.String(length=2048), nullable=False),
        sa.Column("runtime", sa.String(length=32), nullable=True),
        sa.Column("handler", sa.String(length=256), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("memory_mb", sa.Integer(), nullable=True),
        sa.Column("timeout_s", sa.Integer(), nullable=True),
        sa.Column("architecture", sa.String(length=16), nullable=True),
        sa.Column("code_size", sa.BigInteger(), nullable=True),
        sa.Column("last_modified", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("first_seen_at", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("gone_at", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_lambda_functions")),
    )
    op.create_table(
        "log_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_key", sa.String(length=64), nullable=False),
        sa.Column("log_group", sa.String(length=512), nullable=False),
        sa.Column("log_stream", sa.String(length=512), nullable=False),
        sa.Column("ts", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ingested_at", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_events")),
        sa.UniqueConstraint("event_key", name=op.f("uq_log_events_event_key")),
    )
    with op.batch_alter_table("log_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_log_events_stream_ts", ["log_group", "log_stream", "ts"], unique=False
        )
        batch_op.create_index("ix_log_events_ts", ["ts"], unique=False)

    op.create_table(
        "log_streams",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("log_group", sa.String(length=512), nullable=False),
        sa.Column("log_stream", sa.String(length=512), nullable=False),
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("resource_name", sa.String(length=255), nullable=False),
        sa.Column("run_id", sa.String(length=255), nullable=True),
        sa.Column("next_token", sa.Text(), nullable=True),
        sa.Column("first_event_at", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_event_at", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_read_at", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("events_stored", sa.BigInteger(), nullable=False),
        sa.Column("following", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_streams")),
        sa.UniqueConstraint("log_group", "log_stream", name="uq_log_streams_key"),
    )
    with op.batch_alter_table("log_streams", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_log_streams_run_id"), ["run_id"], unique=False)

    op.create_table(
        "metric_points",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("resource_name", sa.String(length=255), nullable=False),
        sa.Column("dimension", sa.String(length=255), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=False),
        sa.Column("stat", sa.String(length=16), nullable=False),
        sa.Column("ts", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_s", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_points")),
        sa.UniqueConstraint(
            "resource_type",
            "resource_name",
            "dimension",
            "metric",
            "stat",
            "ts",
            name="uq_metric_points_key",
        ),
    )
    with op.batch_alter_table("metric_points", schema=None) as batch_op:
        batch_op.create_index(
            "ix_metric_points_series",
            ["resource_type", "metric", "stat", "ts"],
            unique=False,
        )
        batch_op.create_index("ix_metric_points_ts", ["ts"], unique=False)

    op.create_table(
        "saved_queries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("sql", sa.Text(), nullable=False),
        sa.Column("database", sa.String(length=255), nullable=True),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("created_at", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_queries")),
        sa.UniqueConstraint("owner", "name", name="uq_saved_queries_owner_name"),
    )
    op.create_table(
        "uploads",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("bucket", sa.String(length=63), nullable=False),
        sa.Column("object_key", sa.String(length=1024), nullable=False),
        sa.Column("original_name", sa.String(length=1024), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("content_type", sa.String(length=128), nullable=True),
        sa.Column("detected_format", sa.String(length=16), nullable=True),
        sa.Column("etag", sa.String(length=128), nullable=True),
        sa.Column("uploaded_by", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("job_name", sa.String(length=255), nullable=True),
        sa.Column("run_id", sa.String(length=255), nullable=True),
        sa.Column("rows_read", sa.BigInteger(), nullable=True),
        sa.Column("rows_written", sa.BigInteger(), nullable=True),
        sa.Column("processed_key", sa.String(length=1024), nullable=True),
        sa.Column("created_at", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("uploaded_at", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("triggered_at", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
        sa.UniqueConstraint("bucket", "object_key", name="uq_uploads_object"),
    )
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.create_index("ix_uploads_created", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_uploads_run_id"), ["run_id"], unique=False)

    op.create_table(
        "athena_queries",
        sa.Column("execution_id", sa.String(length=64), nullable=False),
        sa.Column("sql", sa.Text(), nullable=False),
        sa.Column("database", sa.String(length=255), nullable=True),
        sa.Column("workgroup", sa.String(length=128), nullable=True),
        sa.Column("submitted_by", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("data_scanned_bytes", sa.BigInteger(), nullable=True),
        sa.Column("engine_ms", sa.BigInteger(), nullable=True),
        sa.Column("output_location", sa.String(length=2048), nullable=True),
        sa.Column(
            "saved_query_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("submitted_at", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["saved_query_id"],
            ["saved_queries.id"],
            name=op.f("fk_athena_queries_saved_query_id_saved_queries"),
        ),
        sa.PrimaryKeyConstraint("execution_id", name=op.f("pk_athena_queries")),
    )
    with op.batch_alter_table("athena_queries", schema=None) as batch_op:
        batch_op.create_index("ix_athena_queries_submitted", ["submitted_at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("athena_queries", schema=None) as batch_op:
        batch_op.drop_index("ix_athena_queries_submitted")

    op.drop_table("athena_queries")
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_uploads_run_id"))
        batch_op.drop_index("ix_uploads_created")

    op.drop_table("uploads")
    op.drop_table("saved_queries")
    with op.batch_alter_table("metric_points", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_points_ts")
        batch_op.drop_index("ix_metric_points_series")

    op.drop_table("metric_points")
    with op.batch_alter_table("log_streams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_log_streams_run_id"))

    op.drop_table("log_streams")
    with op.batch_alter_table("log_events", schema=None) as batch_op:
        batch_op.drop_index("ix_log_events_ts")
        batch_op.drop_index("ix_log_events_stream_ts")

    op.drop_table("log_events")
    op.drop_table("lambda_functions")
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_runs_upload_id"))
        batch_op.drop_index("ix_job_runs_state_started")
        batch_op.drop_index("ix_job_runs_started")
        batch_op.drop_index("ix_job_runs_job_started")

    op.drop_table("job_runs")
    op.drop_table("glue_jobs")
    op.drop_table("collector_status")
    op.drop_table("collector_cursors")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_at")

    op.drop_table("audit_log")
