"""Index job_runs (job_name, state, started_at) for the monitoring pages' per-job seeks

The Overview and wall screen ask, for every job, "when did it last succeed": with
this index that is one backward seek per job instead of a scan of its runs.

Revision ID: d4e8f0a2c6b1
Revises: c3d9e7a1b2f4
Create Date: 2026-11-25 22:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "d4e8f0a2c6b1"
# brief: fa5ab11c76fd; chained after the other helpers' revisions to keep one head.
down_revision: str | None = "c3d9e7a1b2f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_job_runs_job_state_started", ["job_name", "state", "started_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_job_runs_job_state_started")
