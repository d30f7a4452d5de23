"""Sign-in: sessions (browsers and enrolled screens), sign-ins under way, the shared
sign-in rate limit, and screen and API tokens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dashapp.models.base import Base, BigId, JSONType


class AuthSession(Base):
    """A signed-in browser (kind `user`) or an enrolled wall screen (kind `device`).

    The cookie holds a random id; only its SHA-256 is stored, so a copy of this table
    signs nobody in. A row is valid until revoked, idle too long or past `expires_at`.
    """

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_subject", "subject"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # user | device
    subject: Mapped[str] = mapped_column(String(255))  # the provider's `sub` (stable)
    user: Mapped[str] = mapped_column(String(255))  # what the audit log shows
    display_name: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(16))
    groups: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # {"groups": [...]}
    page_limit: Mapped[str | None] = mapped_column(String(255))  # device: the one page allowed
    id_token: Mapped[str | None] = mapped_column(Text)  # for the provider's end-session hint
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(255))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(255), default="")


class SigninAttempt(Base):
    """A sign-in under way: what the provider's answer must match (state, nonce, PKCE).

    Keyed by the hash of a random id in a short-lived cookie, so the answer is only
    accepted in the browser that started the sign-in; used once, then deleted.
    """

    __tablename__ = "signin_attempts"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_path: Mapped[str] = mapped_column(String(2048), default="/")
    created_at: Mapped[datetime] = mapped_column(index=True)


class SigninThrottle(Base):
    """Sign-in attempts per client address in the current window, shared by every worker."""

    __tablename__ = "signin_throttle"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer, default=0)


class AccessToken(Base):
    """A wall screen's one-time enrolment token (kind `screen`) or an API token (kind `api`).

    Shown once when minted; only its SHA-256 is kept. A screen token is used up by its
    enrolment (`used_at`), which starts a device session; an API token is sent as
    `Authorization: Bearer …` for the scopes it names, never more than its role allows.
    """

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # screen | api
    label: Mapped[str] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    owner: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # {"scopes": [...]}
    page_limit: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(255))
