"""Wall-screen enrolment tokens and API tokens: minted by admins, shown once, stored hashed.

- A **screen** token carries the viewer role at most and, optionally, the one page the
  screen may show. `/kiosk/enrol?t=…` accepts it once, before it expires, and swaps it
  for a device session (revocable on the Access page), so the screen keeps running
  whatever happens to anyone's sign-in.
- An **API** token is sent as `Authorization: Bearer …` (never a cookie or a query
  parameter) to the CSV exports (`export` scope) or `/metrics` (`metrics` scope); its
  role never exceeds its owner's at minting time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashapp.identity import Identity, Role
from dashapp.models import AccessToken
from dashapp.signin.sessions import new_secret, secret_hash

SCREEN, API = "screen", "api"
SCOPES = ("export", "metrics")
PREFIX = {SCREEN: "smd_s_", API: "smd_a_"}  # recognisable in logs and by secret scanners
# last_used_at (and its audit entry) is written at most this often per token.
TOUCH_EVERY_S = 300


class TokenRefused(Exception):
    """Why a token was not accepted; the message is safe to show and to audit."""


@dataclass(frozen=True)
class Used:
    token_id: int
    identity: Identity
    touched: bool  # last_used_at was written by this use (audit it)


def mint(
    session: Session,
    *,
    kind: str,
    label: str,
    owner: Identity,
    role: Role,
    now: datetime,
    lifetime_s: float,
    scopes: tuple[str, ...] = (),
    page_limit: str | None = None,
) -> tuple[str, AccessToken]:
    """A new token; returns (the secret, shown once; its row). The role is capped: a screen
    is a viewer, and no token outranks the admin minting it."""
    if kind not in PREFIX:
        raise ValueError(f"token kind must be screen or api, not {kind!r}")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r}; scopes are {', '.join(SCOPES)}")
    capped = min(role, owner.role, Role.viewer if kind == SCREEN else Role.admin)
    raw = PREFIX[kind] + new_secret()
    row = AccessToken(
        kind=kind,
        label=label.strip()[:255] or kind,
        token_hash=secret_hash(raw),
        owner=owner.user,
        role=capped.name,
        scopes={"scopes": list(scopes)},
        page_limit=page_limit,
        created_at=now,
        expires_at=now + timedelta(seconds=lifetime_s),
    )
    session.add(row)
    session.flush()
    return raw, row


def _live(session: Session, raw: str, kind: str, now: datetime) -> AccessToken:
    if not raw.startswith(PREFIX[kind]) or len(raw) > 128:
        raise TokenRefused("not a token of this kind")
    row = session.scalars(
        select(AccessToken).where(AccessToken.token_hash == secret_hash(raw))
    ).one_or_none()
    if row is None or row.kind != kind:
        raise TokenRefused("unknown token")
    if row.revoked_at is not None:
        raise TokenRefused("token revoked")
    if now >= row.expires_at:
        raise TokenRefused("token expired")
    return row


def identity_of(row: AccessToken) -> Identity:
    if row.kind == SCREEN:
        return Identity(
            user=f"screen:{row.label}", role=Role.parse(row.role), display_name=row.label
        )
    return Identity(
        user=row.owner,
        role=Role.parse(row.role),
        display_name=f"{row.owner} (API token {row.label})",
    )


def enrol(session: Session, raw: str, now: datetime) -> AccessToken:
    """Use up a screen token (once); raises TokenRefused otherwise."""
    row = _live(session, raw, SCREEN, now)
    if row.used_at is not None:
        raise TokenRefused("enrolment link already used")
    row.used_at = now
    row.last_used_at = now
    return row


def use_api_token(session: Session, raw: str, scope: str, now: datetime) -> Used:
    """The identity an API token stands for on a request needing `scope`."""
    row = _live(session, raw, API, now)
    if scope not in row.scopes.get("scopes", []):
        raise TokenRefused(f"token lacks the {scope!r} scope")
    touched = row.last_used_at is None or (now - row.last_used_at).total_seconds() >= TOUCH_EVERY_S
    if touched:
        row.last_used_at = now
    return Used(row.id, identity_of(row), touched)


def revoke(session: Session, token_id: int, *, by: str, now: datetime) -> AccessToken | None:
    row = session.get(AccessToken, token_id)
    if row is None or row.revoked_at is not None:
        return None
    row.revoked_at = now
    row.revoked_by = by[:255]
    return row


def listed(session: Session, now: datetime, kind: str) -> list[AccessToken]:
    """Tokens of a kind not yet revoked or expired, newest first (the Access page's tables)."""
    return list(
        session.scalars(
            select(AccessToken)
            .where(
                AccessToken.kind == kind,
                AccessToken.revoked_at.is_(None),
                AccessToken.expires_at > now,
            )
            .order_by(AccessToken.created_at.desc(), AccessToken.id.desc())
        )
    )


def device_subject(row: AccessToken) -> str:
    """The subject of the device sessions enrolled with this token (revoked with it)."""
    return f"screen-token:{row.id}"
