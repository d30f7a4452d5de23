"""The two outcomes a parser may have: a value, or the refusal it documents; and what a
refused request may leave behind (nothing).

Fuzz tests check each outcome separately; anything else raised is the defect they
look for, so it propagates with its traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")


def attempt(
    call: Callable[[], T], refusal: type[Exception] | tuple[type[Exception], ...]
) -> tuple[T | None, Exception | None]:
    """(value, None) when `call` returns, (None, error) when it raises `refusal`."""
    try:
        return call(), None
    except refusal as e:
        return None, e


def row_counts(sessions: sessionmaker[Session], *models: type) -> dict[str, int]:
    """Rows per table: compared before and after a refused request, nothing half-written
    shows as equal counts (an audit of the refusal, where that is the design, aside)."""
    with sessions() as session:
        return {
            m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0
            for m in models
        }
