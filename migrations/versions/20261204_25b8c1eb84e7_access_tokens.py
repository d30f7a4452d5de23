"""Sign-in: wall-screen enrolment tokens and API tokens (stored hashed)

Revision ID: 25b8c1eb84e7
Revises: 86fe30a56d4e
Create Date: 2026-12-04 19:25:56.753658
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import dashapp.models

revision: str = "25b8c1eb84e7"
down_revision: str | None = "86fe30a56d4e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_tokens",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column(
            "scopes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("page_limit", sa.String(length=255), nullable=True),
        sa.Column("created_at", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", dashapp.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", dashapp.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_access_tokens_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("access_tokens")
