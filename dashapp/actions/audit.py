"""The audit log: every user action and every denial, written in the action's own transaction."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dashapp.identity import Identity
from dashapp.models import AuditEntry
from dashapp.storable import storable_text

OUTCOMES = ("ok", "denied", "error", "rejected")

# Keys whose values never reach the log (run arguments often carry credentials).
SECRET_KEY = re.compile(
    r"pass(word|wd|phrase)?|secret|token|credential|api[_-]?key|private[_-]?key|auth",
    re.IGNORECASE,
)
REDACTED = "[redacted]"


def redacted(detail: Mapping[str, Any]) -> dict[str, Any]:
    """The detail with the value of every secret-looking key replaced, at any depth.

    The audit log is kept for a long time and read by every admin; what a user passed
    as `--db_password=` must not be copied into it.
    """
    out: dict[str, Any] = {}
    for key, value in detail.items():
        if SECRET_KEY.search(str(key)):
            out[key] = REDACTED
        elif isinstance(value, Mapping):
            out[key] = redacted(value)
        else:
            out[key] = value
    return out


def storable(value: Any) -> Any:
    """`value` with every string made storable (`storable_text`): targets and details quote
    what users typed, and a refusal must be recorded even when what they typed is garbage."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, Mapping):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value


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
    return record_event(
        session,
        actor=identity.user,
        role=identity.role.name,
        action=action,
        target=target,
        outcome=outcome,
        at=at,
        detail=detail,
        remote_addr=remote_addr,
    )


def record_event(
    session: Session,
    *,
    actor: str,
    role: str,
    action: str,
    target: str = "",
    outcome: str,
    at: datetime,
    detail: dict[str, Any] | None = None,
    remote_addr: str | None = None,
) -> AuditEntry:
    """An entry whose actor has no role of ours yet: a sign-in under way, a refused request
    (`role` is then "none"), or a wall screen's token."""
    if outcome not in OUTCOMES:
        raise ValueError(f"audit outcome must be one of {OUTCOMES}, not {outcome!r}")
    entry = AuditEntry(
        at=at,
        actor=actor[:255],
        role=role[:16],
        action=action,
        target=storable(target)[:1024],
        outcome=outcome,
        detail=storable(redacted(detail or {})),
        remote_addr=remote_addr,
    )
    session.add(entry)
    return entry
