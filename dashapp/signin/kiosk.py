"""`GET /kiosk/enrol?t=…`: a wall screen trades its one-time token for a device session.

The admin mints the link on the Access page and opens it once on the screen. The
token is used up here, a device session (viewer at most, held to the token's page
when it names one) is started, and the screen is sent on to its page without the
token in the address bar or in any Referer. Enrolment counts against the same
shared rate limit as sign-in.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request

from dashapp.actions import audit
from dashapp.services import services
from dashapp.signin import cookies, html_pages, sessions, tokens
from dashapp.signin.routes import rate_limited

DEFAULT_PAGE = "/wall"


def enrol() -> Response:
    svc = services()
    if svc.settings.auth_mode == "none":
        return redirect(DEFAULT_PAGE)
    limited = rate_limited(svc)
    if limited is not None:
        return limited
    now = svc.clock.now()
    with svc.sessions.begin() as session:
        try:
            row = tokens.enrol(session, request.args.get("t", ""), now)
        except tokens.TokenRefused as e:
            audit.record_event(
                session,
                actor="anonymous",
                role="none",
                action="screen_enrol",
                target=request.path,
                outcome="denied",
                at=now,
                detail={"reason": str(e)},
                remote_addr=request.remote_addr,
            )
            reason = f"This enrolment link cannot be used ({e})."
            refused = html_pages.failed(reason, 403)
            refused.headers["Referrer-Policy"] = "no-referrer"
            return refused
        identity = tokens.identity_of(row)
        raw, device = sessions.create(
            session,
            identity=identity,
            subject=tokens.device_subject(row),
            kind="device",
            now=now,
            lifetime_s=svc.settings.auth_device_session_max_s,
            remote_addr=request.remote_addr,
            user_agent=request.user_agent.string,
            page_limit=row.page_limit,
        )
        audit.record(
            session,
            identity,
            action="screen_enrol",
            target=row.label,
            outcome="ok",
            at=now,
            detail={"session": device.id, "page": row.page_limit or "any", "minted_by": row.owner},
            remote_addr=request.remote_addr,
        )
    response = redirect(row.page_limit or DEFAULT_PAGE, code=302)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    cookies.set_cookie(response, cookies.SESSION, raw, svc.settings.auth_device_session_max_s)
    return response


def kiosk_blueprint() -> Blueprint:
    bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")
    bp.add_url_rule("/enrol", view_func=enrol, methods=["GET"])
    return bp
