"""`/auth/…`: start a sign-in, take the provider's answer, sign out.

- `GET /auth/login?next=/path` starts an authorization-code sign-in with PKCE; what the
  answer must match (state, nonce, verifier, `next`) is stored server-side under a
  random id in a short-lived `__Host-` cookie, so only this browser can finish it.
- `GET /auth/callback` exchanges the code, verifies the ID token, maps the groups to a
  role (re-read at every sign-in; a change is audited), and starts a fresh session.
- `POST /auth/logout` revokes the session row, then sends the browser to the
  provider's end-session address (Cognito `/logout`, Auth0 `/v2/logout`, else
  `end_session_endpoint` with `id_token_hint`).

Both GET endpoints count against the sign-in rate limit per client address.
"""

from __future__ import annotations

import contextlib
import hmac
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, redirect, request

from dashapp.actions import audit
from dashapp.identity import Identity
from dashapp.services import Services, services
from dashapp.signin import attempts, cookies, html_pages, roles, sessions
from dashapp.signin.gate import resolve
from dashapp.signin.provider import Provider, ProviderError

PROVIDER_KEY = "smd_oidc_provider"
DEFAULT_NEXT = "/"


def safe_next(value: str | None) -> str:
    """`value` when it is a path on this site; otherwise '/'. Never another host:
    no scheme, no `//host`, no backslash (browsers read `/\\host` as `//host`)."""
    if not value or len(value) > 2048 or not value.startswith("/") or value.startswith("//"):
        return DEFAULT_NEXT
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return DEFAULT_NEXT
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path.startswith("/auth/"):
        return DEFAULT_NEXT
    return value


def provider(app: Flask | None = None) -> Provider:
    return (app or current_app).extensions[PROVIDER_KEY]


def _base_url(svc: Services) -> str:
    return (svc.settings.public_url or request.host_url).rstrip("/")


def _audit(
    svc: Services,
    action: str,
    outcome: str,
    *,
    actor: str = "anonymous",
    role: str = "none",
    target: str = "",
    **detail: object,
) -> None:
    with svc.sessions.begin() as session:
        audit.record_event(
            session,
            actor=actor,
            role=role,
            action=action,
            target=target,
            outcome=outcome,
            at=svc.clock.now(),
            detail=dict(detail),
            remote_addr=request.remote_addr,
        )


def rate_limited(svc: Services) -> Response | None:
    """A 429 page when this address made too many attempts in the window (shared store)."""
    settings = svc.settings
    key = f"signin:{request.remote_addr or 'unknown'}"
    with svc.sessions.begin() as session:
        count = attempts.hit(session, key, svc.clock.now(), settings.auth_signin_window_s)
    if count <= settings.auth_signin_limit:
        return None
    if count == settings.auth_signin_limit + 1:  # once per window, not once per request
        _audit(svc, "signin", "denied", reason="rate_limited", attempts=count)
    response = html_pages.failed(
        "Too many sign-in attempts from your address; wait a few minutes.", 429
    )
    response.headers["Retry-After"] = str(settings.auth_signin_window_s)
    return response


def login() -> Response:
    svc = services()
    next_path = safe_next(request.args.get("next"))
    if svc.settings.auth_mode != "oidc":
        return redirect(next_path)
    limited = rate_limited(svc)
    if limited is not None:
        return limited
    try:
        begun = provider().begin(_base_url(svc) + "/auth/callback")
    except ProviderError as e:
        _audit(svc, "signin", "error", reason=str(e))
        return html_pages.failed("The sign-in provider could not be reached.", 502)
    with svc.sessions.begin() as session:
        raw = attempts.start(
            session,
            state=begun.state,
            nonce=begun.nonce,
            code_verifier=begun.code_verifier,
            next_path=next_path,
            now=svc.clock.now(),
        )
    response = redirect(begun.url, code=302)
    response.headers["Cache-Control"] = "no-store"
    cookies.set_cookie(response, cookies.SIGNIN, raw, cookies.SIGNIN_MAX_AGE_S)
    return response


def _record_role_change(svc: Services, subject: str, identity: Identity) -> None:
    with svc.sessions() as session:
        before = sessions.previous_role(session, subject)
    if before is not None and before != identity.role.name:
        _audit(
            svc,
            "role_changed",
            "ok",
            actor=identity.user,
            role=identity.role.name,
            target=identity.user,
            from_role=before,
            to_role=identity.role.name,
            groups=list(identity.groups),
        )


def callback() -> Response:
    svc = services()
    settings = svc.settings
    if settings.auth_mode != "oidc":
        return redirect(DEFAULT_NEXT)
    limited = rate_limited(svc)
    if limited is not None:
        return limited
    with svc.sessions.begin() as session:
        attempt = attempts.take(session, cookies.read(request, cookies.SIGNIN), svc.clock.now())
    if attempt is None:
        _audit(svc, "signin", "denied", reason="no sign-in under way in this browser")
        return _clear_signin(
            html_pages.failed("This sign-in was not started here, or it took too long.")
        )
    if not hmac.compare_digest(request.args.get("state", ""), attempt.state):
        _audit(svc, "signin", "denied", reason="state mismatch")
        return _clear_signin(html_pages.failed("The provider's answer did not match this sign-in."))
    if request.args.get("error"):
        error = request.args.get("error", "")[:200]
        _audit(svc, "signin", "denied", reason=f"provider: {error}")
        return _clear_signin(html_pages.failed(f"The provider refused the sign-in ({error})."))
    try:
        done = provider().finish(
            redirect_uri=_base_url(svc) + "/auth/callback",
            code=request.args.get("code", ""),
            code_verifier=attempt.code_verifier,
            nonce=attempt.nonce,
        )
    except ProviderError as e:
        _audit(svc, "signin", "error", reason=str(e)[:500])
        return _clear_signin(html_pages.failed("The provider's answer could not be verified.", 502))
    subject = str(done.claims.get("sub", ""))
    identity, groups = roles.identity_from_claims(
        done.claims,
        claim=settings.auth_role_claim,
        role_map=settings.auth_role_map,
        default_role=settings.auth_default_role,
    )
    if identity is None:
        user = roles.user_of(done.claims)
        _audit(
            svc, "signin", "denied", actor=user, target=user, reason="no role", groups=list(groups)
        )
        return _clear_signin(html_pages.no_role(user, groups))
    _record_role_change(svc, subject, identity)
    now = svc.clock.now()
    with svc.sessions.begin() as session:
        raw, row = sessions.create(
            session,
            identity=identity,
            subject=subject,
            kind="user",
            now=now,
            lifetime_s=settings.auth_session_max_s,
            remote_addr=request.remote_addr,
            user_agent=request.user_agent.string,
            id_token=done.id_token,
        )
        audit.record(
            session,
            identity,
            action="signin",
            target=identity.user,
            outcome="ok",
            at=now,
            detail={"groups": list(groups), "session": row.id},
            remote_addr=request.remote_addr,
        )
    response = _clear_signin(redirect(attempt.next_path, code=302))
    cookies.set_cookie(response, cookies.SESSION, raw, settings.auth_session_max_s)
    return response


def _clear_signin(response: Response) -> Response:
    cookies.clear_cookie(response, cookies.SIGNIN)
    response.headers["Cache-Control"] = "no-store"
    return response


def logout() -> Response:
    """Revoke this browser's session, then end the provider's (if it has an address for it)."""
    svc = services()
    raw = cookies.read(request, cookies.SESSION)
    id_token: str | None = None
    with svc.sessions.begin() as session:
        row = sessions.row_by_secret(session, raw)
        if row is not None and row.revoked_at is None:
            id_token = row.id_token
            sessions.revoke(session, row.id, by=row.user, now=svc.clock.now())
            audit.record_event(
                session,
                actor=row.user,
                role=row.role,
                action="logout",
                target=row.user,
                outcome="ok",
                at=svc.clock.now(),
                detail={"session": row.id},
                remote_addr=request.remote_addr,
            )
    signed_out = _base_url(svc) + "/auth/signed-out"
    target = "/auth/signed-out"
    if svc.settings.auth_mode == "proxy":
        return _proxy_logout(svc)
    if svc.settings.auth_mode == "oidc" and row is not None:
        # Ours is revoked either way; an unreachable provider's session ends on its own.
        with contextlib.suppress(ProviderError):
            target = provider().logout_url(id_token, signed_out) or target
    response = redirect(target, code=303)
    response.headers["Cache-Control"] = "no-store"
    cookies.clear_cookie(response, cookies.SESSION)
    return response


ALB_SESSION_COOKIES = tuple(f"AWSELBAuthSessionCookie-{i}" for i in range(4))


def _proxy_logout(svc: Services) -> Response:
    """The proxy holds the session: forget the ALB's cookies and send the browser to the
    proxy's (or the provider's) sign-out address."""
    resolved = resolve(svc)  # only what a trusted proxy vouches for names the user
    if resolved is not None:
        who = resolved.identity
        _audit(svc, "logout", "ok", actor=who.user, role=who.role.name, target=who.user)
    response = redirect(svc.settings.auth_proxy_logout_url or "/auth/signed-out", code=303)
    response.headers["Cache-Control"] = "no-store"
    for name in ALB_SESSION_COOKIES:
        response.delete_cookie(name, path="/", secure=True, httponly=True)
    return response


def signed_out() -> Response:
    return html_pages.signed_out()


def signin_blueprint() -> Blueprint:
    """A fresh blueprint per app; the gate lets these paths through (they check themselves)."""
    bp = Blueprint("signin", __name__, url_prefix="/auth")
    bp.add_url_rule("/login", view_func=login, methods=["GET"])
    bp.add_url_rule("/callback", view_func=callback, methods=["GET"])
    bp.add_url_rule("/logout", view_func=logout, methods=["POST"])
    bp.add_url_rule("/signed-out", view_func=signed_out, methods=["GET"])
    return bp


def install(server: Flask, svc: Services) -> None:
    """Register the endpoints, and the provider client in auth mode `oidc`."""
    if svc.settings.auth_mode == "oidc":
        server.extensions[PROVIDER_KEY] = Provider(svc.settings)
    server.register_blueprint(signin_blueprint())
    from dashapp.signin.kiosk import kiosk_blueprint  # it builds on this module's rate limit

    server.register_blueprint(kiosk_blueprint())
