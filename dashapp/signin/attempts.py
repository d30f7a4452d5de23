"""Sign-ins under way and the sign-in rate limit, both in the database so every worker agrees.

A sign-in started on one worker may come back from the provider to another, and an
address hammering the sign-in endpoints is counted once whichever worker it reaches;
process memory would get both wrong as soon as there are two workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dashapp.models import SigninAttempt, SigninThrottle
from dashapp.signin.sessions import new_secret, secret_hash

ATTEMPT_TTL_S = 600  # as long as the sign-in cookie lives


@dataclass(frozen=True)
class Attempt:
    state: str
    nonce: str
    code_verifier: str
    next_path: str


def start(
    session: Session, *, state: str, nonce: str, code_verifier: str, next_path: str, now: datetime
) -> str:
    """Record a sign-in under way; returns the cookie value that alone can finish it.

    Attempts older than the TTL are deleted on the way (abandoned sign-ins)."""
    session.execute(
        delete(SigninAttempt).where(
            SigninAttempt.created_at < now - timedelta(seconds=ATTEMPT_TTL_S)
        )
    )
    raw = new_secret()
    session.add(
        SigninAttempt(
            token_hash=secret_hash(raw),
            state=state,
            nonce=nonce,
            code_verifier=code_verifier,
            next_path=next_path,
            created_at=now,
        )
    )
    return raw


def take(session: Session, raw: str, now: datetime) -> Attempt | None:
    """The attempt behind a sign-in cookie, removed so it cannot be finished twice."""
    if not raw or len(raw) > 128:
        return None
    row = session.get(SigninAttempt, secret_hash(raw))
    if row is None:
        return None
    session.delete(row)
    if (now - row.created_at).total_seconds() > ATTEMPT_TTL_S:
        return None
    return Attempt(row.state, row.nonce, row.code_verifier, row.next_path)


def hit(session: Session, key: str, now: datetime, window_s: float) -> int:
    """Count one attempt for `key`; returns how many it made in the current window.

    One statement (insert, or on conflict restart or increment the window), so
    concurrent workers never lose a count.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(SigninThrottle).values(key=key[:128], window_start=now, count=1)
    expired = SigninThrottle.window_start <= now - timedelta(seconds=window_s)
    stmt = stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={
            "count": case((expired, 1), else_=SigninThrottle.count + 1),
            "window_start": case(
                (expired, stmt.excluded.window_start), else_=SigninThrottle.window_start
            ),
        },
    )
    session.execute(stmt)
    return int(
        session.scalar(select(SigninThrottle.count).where(SigninThrottle.key == key[:128])) or 0
    )
