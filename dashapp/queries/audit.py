"""The read side of the audit log: who did what, filtered, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashapp.models import AuditEntry
from dashapp.queries.sql import contains

MAX_AUDIT_ROWS = 2000


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    target: str
    outcome: str
    detail: dict[str, Any]
    remote_addr: str | None


def audit_entries(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    actor: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    limit: int = MAX_AUDIT_ROWS,
) -> list[AuditRow]:
    """Entries in [since, until), optionally of one actor (substring), action and outcome."""
    stmt = select(AuditEntry).where(AuditEntry.at >= since, AuditEntry.at < until)
    if actor:
        stmt = stmt.where(contains(session, AuditEntry.actor, actor))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if outcome:
        stmt = stmt.where(AuditEntry.outcome == outcome)
    stmt = stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    return [
        AuditRow(
            id=e.id,
            at=e.at,
            actor=e.actor,
            role=e.role,
            action=e.action,
            target=e.target,
            outcome=e.outcome,
            detail=dict(e.detail or {}),
            remote_addr=e.remote_addr,
        )
        for e in session.scalars(stmt)
    ]


def audit_actions(session: Session) -> list[str]:
    """Every action name the log holds, for the filter."""
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
