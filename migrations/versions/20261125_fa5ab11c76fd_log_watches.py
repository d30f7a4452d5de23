"""Log watches: streams someone has open in the live log view (read first by the follower)

Revision ID: fa5ab11c76fd
Revises: 291dac4fcff9
Create Date: 2026-11-25 21:11:18.927001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dashapp.models

revision: str = "fa5ab11c76fd"
down_revision: str | None = "291dac4fcff9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "log_watches",
        sa.Column("log_group", sa.String(length=512), nullable=False),
        sa.Column("log_stream", sa.String(length=512), nullable=False),
        sa.Column("watched_until", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("log_group", "log_stream", name=op.f("pk_log_watches")),
    )
    with op.batch_alter_table("log_watches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_log_watches_watched_until"), ["watched_until"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("log_watches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_log_watches_watched_until"))

    op.drop_table("log_watches")
