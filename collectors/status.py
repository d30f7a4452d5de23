"""collector_status rows: what /metrics, /readyz and the freshness badge report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from dashapp.models import CollectorStatus

MAX_ERROR_CHARS = 4000


def record_start(
    sessions: sessionmaker[Session], name: str, *, interval_s: float, leader: str, at: datetime
) -> None:
    with sessions.begin() as session:
        row = session.get(CollectorStatus, name) or CollectorStatus(name=name)
        row.interval_s = interval_s
        row.leader = leader
        row.last_started_at = at
        session.add(row)


def record_end(
    sessions: sessionmaker[Session],
    name: str,
    *,
    started_at: datetime,
    ended_at: datetime,
    outcome: str,
    error: str | None,
    api_calls: dict[str, int],
    items: int,
    lag_s: float | None,
) -> None:
    """Close a cycle. A partial cycle (some resources failed) still counts as a success of the
    collector — the rest was stored — but its error is kept for the status page."""
    with sessions.begin() as session:
        row = session.get(CollectorStatus, name) or CollectorStatus(name=name)
        row.last_outcome = outcome
        row.last_duration_s = (ended_at - started_at).total_seconds()
        row.last_api_calls = sum(api_calls.values())
        row.last_items = items
        row.api_calls_total = (row.api_calls_total or 0) + row.last_api_calls
        row.cycles_total = (row.cycles_total or 0) + 1
        merged: dict[str, Any] = dict(row.api_calls_by_operation or {})
        for op, n in api_calls.items():
            merged[op] = int(merged.get(op, 0)) + n
        row.api_calls_by_operation = merged
        if outcome in ("ok", "partial"):
            row.last_success_at = ended_at
            if lag_s is not None:
                row.lag_s = lag_s
        if outcome != "ok":
            row.errors_total = (row.errors_total or 0) + 1
            row.last_error_at = ended_at
            row.last_error = (error or outcome)[:MAX_ERROR_CHARS]
        session.add(row)
