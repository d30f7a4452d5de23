"""Job actions: idempotency claims of job-control requests and automatic retries

Revision ID: c3d9e7a1b2f4
Revises: b7c41d2e9a10
Create Date: 2026-11-25 22:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import dashapp.models

revision: str = "c3d9e7a1b2f4"
down_revision: str | None = "b7c41d2e9a10"  # brief: fa5ab11c76fd; chained to keep one head
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_actions",
        sa.Column("request_token", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("job_name", sa.String(length=255), nullable=False),
        sa.Column("source_run_id", sa.String(length=255), nullable=True),
        sa.Column("new_run_id", sa.String(length=255), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column(
            "arguments",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("request_token", name=op.f("pk_job_actions")),
    )
    with op.batch_alter_table("job_actions", schema=None) as batch_op:
        batch_op.create_index("ix_job_actions_created", ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_job_actions_source_run_id"), ["source_run_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("job_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_actions_source_run_id"))
        batch_op.drop_index("ix_job_actions_created")

    op.drop_table("job_actions")
