"""Athena workbench: result page tokens, the Glue catalog cache, what a query was run with

Result tokens keep GetQueryResults' forward-only NextTokens server-side, so the grid
opens any block; the catalog cache feeds the schema browser; the new query fields hold
its parameters, result reuse and result columns, and `state` is indexed because the
collector looks for unfinished queries every second.

Revision ID: e5f1a9c3d7b2
Revises: d4e8f0a2c6b1
Create Date: 2026-12-04 19:01:29.960381
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import dashapp.models

revision: str = "e5f1a9c3d7b2"
down_revision: str | None = "d4e8f0a2c6b1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "catalog_tables",
        sa.Column("database", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("table_type", sa.String(length=64), nullable=True),
        sa.Column("location", sa.String(length=2048), nullable=True),
        sa.Column("columns", JSON, nullable=False),
        sa.Column("partition_keys", JSON, nullable=False),
        sa.Column("updated_at", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("seen_at", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("database", "name", name=op.f("pk_catalog_tables")),
    )
    op.create_table(
        "athena_result_tokens",
        sa.Column("execution_id", sa.String(length=64), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["athena_queries.execution_id"],
            name=op.f("fk_athena_result_tokens_execution_id_athena_queries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("execution_id", "page", name=op.f("pk_athena_result_tokens")),
    )
    with op.batch_alter_table("athena_queries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parameters", JSON, nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("reuse_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("reused_result", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("columns", JSON, nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("forked_from", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("checked_at", dashapp.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_athena_queries_state", ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("athena_queries", schema=None) as batch_op:
        batch_op.drop_index("ix_athena_queries_state")
        batch_op.drop_column("checked_at")
        batch_op.drop_column("forked_from")
        batch_op.drop_column("columns")
        batch_op.drop_column("reused_result")
        batch_op.drop_column("reuse_minutes")
        batch_op.drop_column("parameters")
    op.drop_table("athena_result_tokens")
    op.drop_table("catalog_tables")
