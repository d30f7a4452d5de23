"""SQL pieces every read shares: streaming, the one LIKE escape, Unicode case folding.

One definition each, so a search box on any page and the matching CSV export agree
on what "contains" means: literal (`%` and `_` are not wildcards), case-insensitive
across all of Unicode on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, exists, func, literal, select
from sqlalchemy.orm import Session

# Rows fetched per round trip: enough to amortise it, few enough to keep memory flat.
YIELD_PER = 1000

# SQLite's lower() folds ASCII only; PostgreSQL's (UTF-8 database) folds all of Unicode.
# On SQLite this function, registered per connection, gives the same answers.
_SQLITE_LOWER = "smd_lower"


def stream(session: Session, stmt: Select[Any]) -> Iterator[Row[Any]]:
    """Rows of `stmt` a batch at a time (a server-side cursor on PostgreSQL)."""
    return iter(session.execute(stmt.execution_options(yield_per=YIELD_PER)))


def any_row(session: Session, *criteria: ColumnElement[bool]) -> bool:
    """Whether any row matches: an EXISTS, never a count."""
    return bool(session.scalar(select(exists().where(*criteria))))


def escape_like(text: str) -> str:
    """`text` as a LIKE pattern that matches itself only (use with `escape="\\\\"`)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def lower(session: Session, expr: ColumnElement[str]) -> ColumnElement[str]:
    """lower() that folds Unicode on both backends (see _SQLITE_LOWER)."""
    if session.get_bind().dialect.name != "sqlite":
        return func.lower(expr)
    driver = session.connection().connection.driver_connection
    driver.create_function(  # type: ignore[union-attr]
        _SQLITE_LOWER, 1, lambda s: s.lower() if isinstance(s, str) else s, deterministic=True
    )
    return getattr(func, _SQLITE_LOWER)(expr)


def like_pattern(text: str, *, start: bool = True, end: bool = True) -> str:
    """A literal, lower-cased LIKE pattern: `%text%`, `text%` (start=False) or `%text`."""
    return ("%" if start else "") + escape_like(text.lower()) + ("%" if end else "")


def contains(session: Session, column: ColumnElement[str], text: str) -> ColumnElement[bool]:
    """`column` contains `text` literally, ignoring case (all of Unicode, both backends)."""
    pattern = literal("%" + escape_like(text) + "%")
    return lower(session, column).like(lower(session, pattern), escape="\\")
