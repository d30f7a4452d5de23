"""Server-side sessions: a random id in the cookie, its hash and everything else in the database.

Nothing about the user travels in the cookie, so revoking a row signs the browser out
on its next request, on every worker. A session ends when it is revoked, when it has
been idle for `idle_s`, or at `expires_at` (the absolute limit set at sign-in); all
three are judged against the injected clock.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dashapp.identity import Identity, Role
from dashapp.models import AuthSession

KINDS = ("user", "device")
# last_seen_at is written at most this often per session (a wall screen polls every few
# seconds); the idle limit is therefore honoured to within this many seconds.
TOUCH_EVERY_S = 30


def new_secret() -> str:
    """An unguessable cookie value (256 bits)."""
    return secrets.token_urlsafe(32)


def secret_hash(raw: str) -> str:
    """What is stored instead of the cookie value."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Found:
    """A valid session: who it is, and what it may reach (a device may be held to one page)."""

    id: int
    kind: str
    identity: Identity
    page_limit: str | None
    expires_at: datetime


def create(
    session: Session,
    *,
    identity: Identity,
    subject: str,
    kind: str,
    now: datetime,
    lifetime_s: float,
    remote_addr: str | None = None,
    user_agent: str = "",
    id_token: str | None = None,
    page_limit: str | None = None,
) -> tuple[str, AuthSession]:
    """A fresh session row; returns (cookie value, row). Never reuses an earlier id."""
    if kind not in KINDS:
        raise ValueError(f"session kind must be one of {KINDS}, not {kind!r}")
    raw = new_secret()
    row = AuthSession(
        token_hash=secret_hash(raw),
        kind=kind,
        subject=subject[:255],
        user=identity.user[:255],
        display_name=identity.display_name[:255],
        role=identity.role.name,
        groups={"groups": list(identity.groups)},
        page_limit=page_limit,
        id_token=id_token,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=lifetime_s),
        remote_addr=(remote_addr or "")[:64] or None,
        user_agent=(user_agent or "")[:255],
    )
    session.add(row)
    session.flush()
    return raw, row


def ended_reason(row: AuthSession, now: datetime, idle_s: float) -> str | None:
    """Why a session no longer counts ('revoked', 'expired', 'idle'), or None while valid."""
    if row.revoked_at is not None:
        return "revoked"
    if now >= row.expires_at:
        return "expired"
    if (now - row.last_seen_at).total_seconds() >= idle_s:
        return "idle"
    return None


def identity_of(row: AuthSession) -> Identity:
    groups = row.groups.get("groups", []) if isinstance(row.groups, dict) else []
    return Identity(
        user=row.user,
        role=Role.parse(row.role),
        display_name=row.display_name,
        groups=tuple(str(g) for g in groups),
    )


def _idle(row: AuthSession, idle_s: float, device_idle_s: float | None) -> float:
    """A wall screen switched off overnight is not idle in the sense a browser is."""
    return device_idle_s if row.kind == "device" and device_idle_s is not None else idle_s


def find(
    session: Session, raw: str, now: datetime, idle_s: float, device_idle_s: float | None = None
) -> Found | None:
    """The valid session behind a cookie value, its last use recorded; None otherwise."""
    row = row_by_secret(session, raw)
    if row is None or ended_reason(row, now, _idle(row, idle_s, device_idle_s)) is not None:
        return None
    if (now - row.last_seen_at).total_seconds() >= TOUCH_EVERY_S:
        row.last_seen_at = now
    return Found(row.id, row.kind, identity_of(row), row.page_limit, row.expires_at)


def row_by_secret(session: Session, raw: str) -> AuthSession | None:
    """The row behind a cookie value, valid or not (sign-out revokes even an idle one)."""
    if not raw or len(raw) > 128:
        return None
    return session.scalars(
        select(AuthSession).where(AuthSession.token_hash == secret_hash(raw))
    ).one_or_none()


def revoke(session: Session, session_id: int, *, by: str, now: datetime) -> AuthSession | None:
    """Revoke one session; returns the row when it was still unrevoked, else None."""
    row = session.get(AuthSession, session_id)
    if row is None or row.revoked_at is not None:
        return None
    row.revoked_at = now
    row.revoked_by = by[:255]
    return row


def revoke_subject(session: Session, subject: str, *, by: str, now: datetime) -> int:
    """Revoke every session of one subject (e.g. a device whose token was revoked)."""
    result = session.execute(
        update(AuthSession)
        .where(AuthSession.subject == subject, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by=by[:255])
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def active(
    session: Session,
    now: datetime,
    idle_s: float,
    device_idle_s: float | None = None,
    limit: int = 500,
) -> list[AuthSession]:
    """Sessions still valid now, most recently used first (what admins review and revoke)."""
    rows = session.scalars(
        select(AuthSession)
        .where(AuthSession.revoked_at.is_(None), AuthSession.expires_at > now)
        .order_by(AuthSession.last_seen_at.desc(), AuthSession.id.desc())
    ).all()
    valid = [r for r in rows if ended_reason(r, now, _idle(r, idle_s, device_idle_s)) is None]
    return valid[:limit]


def previous_role(session: Session, subject: str, kind: str = "user") -> str | None:
    """The role this subject had at its last sign-in (to audit a change), or None."""
    return session.scalars(
        select(AuthSession.role)
        .where(AuthSession.subject == subject, AuthSession.kind == kind)
        .order_by(AuthSession.created_at.desc(), AuthSession.id.desc())
        .limit(1)
    ).first()
