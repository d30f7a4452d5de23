"""The audit log: every user action and every denial, written in the action's own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from dashapp.models import AuditEntry

if TYPE_CHECKING:
    from dashapp.auth import Identity

OUTCOMES = ("ok", "denied", "error", "rejected")


def record(
    session: Session,
    identity: Identity,
    *,
    action: str,
    target: str = "",
    outcome: str,
    at: datetime,
    detail: dict[str, Any] | None = None,
    remote_addr: str | None = None,
) -> AuditEntry:
    if outcome not in OUTCOMES:
        raise ValueError(f"audit outcome must be one of {OUTCOMES}, not {outcome!r}")
    entry = AuditEntry(
        at=at,
        actor=identity.user,
        role=identity.role.name,
        action=action,
        target=target[:1024],
        outcome=outcome,
        detail=detail or {},
        remote_addr=remote_addr,
    )
    session.add(entry)
    return entry
