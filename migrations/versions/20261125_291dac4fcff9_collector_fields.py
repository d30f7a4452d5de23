"""Collector fields: outcome of a collector cycle, and when a run's metrics were read

Revision ID: 291dac4fcff9
Revises: 87b81f524de4
Create Date: 2026-11-25 19:39:22.794135
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dashapp.models

revision: str = "291dac4fcff9"
down_revision: str | None = "87b81f524de4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("collector_status", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_outcome", sa.String(length=8), nullable=True))

    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "metrics_collected_at", dashapp.models.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_column("metrics_collected_at")

    with op.batch_alter_table("collector_status", schema=None) as batch_op:
        batch_op.drop_column("last_outcome")
