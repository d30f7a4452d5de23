"""API tokens on the wire: `Authorization: Bearer …` on the CSV exports and `/metrics` only.

A token is never read from a cookie or a query string (both end up in logs, histories
and Referer headers). A use is audited when it moves the token's `last_used_at`
(at most every few minutes per token, so a Prometheus scrape does not flood the
log); every refusal is audited.
"""

from __future__ import annotations

from flask import request

from dashapp.actions import audit
from dashapp.identity import Identity
from dashapp.services import Services
from dashapp.signin import tokens

SCOPE_OF_PREFIX = (("/export/", "export"), ("/metrics", "metrics"))


def scope_for(path: str) -> str | None:
    """The scope a request to `path` needs, or None where tokens are not accepted."""
    for prefix, scope in SCOPE_OF_PREFIX:
        if path == prefix.rstrip("/") or path.startswith(prefix):
            return scope
    return None


def presented() -> str | None:
    """The bearer secret of this request's Authorization header, if it has one."""
    header = request.headers.get("Authorization", "")
    kind, _, value = header.partition(" ")
    if kind.lower() != "bearer":
        return None
    return value.strip()


def authenticate(svc: Services, raw: str, scope: str) -> Identity | str:
    """The token's identity, or why it was refused (audited either way, see above)."""
    now = svc.clock.now()
    with svc.sessions.begin() as session:
        try:
            used = tokens.use_api_token(session, raw, scope, now)
        except tokens.TokenRefused as e:
            audit.record_event(
                session,
                actor="anonymous",
                role="none",
                action="token_use",
                target=request.path,
                outcome="denied",
                at=now,
                detail={"reason": str(e), "scope": scope},
                remote_addr=request.remote_addr,
            )
            return str(e)
        if used.touched:
            audit.record(
                session,
                used.identity,
                action="token_use",
                target=request.path,
                outcome="ok",
                at=now,
                detail={"scope": scope, "id": used.token_id},
                remote_addr=request.remote_addr,
            )
    return used.identity
