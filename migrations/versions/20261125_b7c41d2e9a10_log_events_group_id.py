"""Index log_events (log_group, id) for the live log viewer's incremental tail

Revision ID: b7c41d2e9a10
Revises: fa5ab11c76fd
Create Date: 2026-11-25 22:05:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b7c41d2e9a10"
down_revision: str | None = "fa5ab11c76fd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("log_events", schema=None) as batch_op:
        batch_op.create_index("ix_log_events_group_id", ["log_group", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("log_events", schema=None) as batch_op:
        batch_op.drop_index("ix_log_events_group_id")
