"""The Athena workbench: queries run, their result page tokens, saved queries, the
Glue Data Catalog cache.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from dashapp.models.base import Base, BigId, JSONType


class AthenaQuery(Base):
    """An Athena query a user ran: what, who, and what it cost."""

    __tablename__ = "athena_queries"
    __table_args__ = (
        Index("ix_athena_queries_submitted", "submitted_at"),
        Index("ix_athena_queries_state", "state"),
    )

    execution_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sql: Mapped[str] = mapped_column(Text)
    database: Mapped[str | None] = mapped_column(String(255))
    workgroup: Mapped[str | None] = mapped_column(String(128))
    submitted_by: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))
    state_reason: Mapped[str | None] = mapped_column(Text)
    data_scanned_bytes: Mapped[int | None] = mapped_column(BigInteger)
    engine_ms: Mapped[int | None] = mapped_column(BigInteger)
    output_location: Mapped[str | None] = mapped_column(String(2048))
    saved_query_id: Mapped[int | None] = mapped_column(ForeignKey("saved_queries.id"))
    submitted_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    # The typed values sent as ExecutionParameters, in the order of the query's `?`.
    parameters: Mapped[list[Any]] = mapped_column(JSONType, default=list, server_default="[]")
    reuse_minutes: Mapped[int | None] = mapped_column(Integer)
    reused_result: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # ResultSetMetadata's columns ({name, type}), recorded when the first page is read.
    columns: Mapped[list[Any]] = mapped_column(JSONType, default=list, server_default="[]")
    forked_from: Mapped[str | None] = mapped_column(String(64))
    checked_at: Mapped[datetime | None]


class AthenaResultToken(Base):
    """The NextToken that starts page `page` (1-based; page 0 needs none) of a query's result.

    GetQueryResults only pages forward; keeping every token server-side lets the grid
    open any block it scrolls to without re-reading the pages before it, and no token
    ever reaches the browser.
    """

    __tablename__ = "athena_result_tokens"

    execution_id: Mapped[str] = mapped_column(
        ForeignKey("athena_queries.execution_id", ondelete="CASCADE"), primary_key=True
    )
    page: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(Text)


class CatalogTable(Base):
    """A Glue Data Catalog table as the collector last read it (the schema browser's source)."""

    __tablename__ = "catalog_tables"

    database: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    table_type: Mapped[str | None] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(String(2048))
    columns: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    partition_keys: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    updated_at: Mapped[datetime | None]
    seen_at: Mapped[datetime]


class SavedQuery(Base):
    """A named Athena query, private or shared with the team."""

    __tablename__ = "saved_queries"
    __table_args__ = (UniqueConstraint("owner", "name", name="uq_saved_queries_owner_name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    sql: Mapped[str] = mapped_column(Text)
    database: Mapped[str | None] = mapped_column(String(255))
    owner: Mapped[str] = mapped_column(String(255))
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
