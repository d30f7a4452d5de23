"""The request gate: every request is checked here, once, before any view or callback runs.

One Flask `before_request` hook classifies the path and resolves the identity:

- public: the health probes, static code and styles (no data), and the sign-in
  endpoints themselves;
- everything else needs an identity. Without one, a page GET is redirected to
  sign-in with its address as `next`; a Dash callback, export, upload or `/metrics`
  request answers 401 JSON, which `assets/smd-signin.js` turns into a reload (so a
  wall screen never sits on stale data).

No route or callback is exempted by name (unlike dash-auth's `public_routes`, which an
anonymous callback relabelled as `pathname` slips past). Any non-GET request whose
browser says it comes from another origin is refused with 403 before that. The
identity is left on `flask.g` for `current_identity()`; what it may do is still
decided only by `require`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlsplit

from flask import Flask, Response, current_app, g, jsonify, redirect, request

from dashapp.actions import audit
from dashapp.actions.auth import local_identity
from dashapp.identity import REQUEST_IDENTITY, Identity
from dashapp.services import Services, services
from dashapp.signin import bearer, cookies, device_scope, html_pages, proxy, sessions

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_PATHS = frozenset(
    {
        "/healthz",
        "/readyz",
        "/_favicon.ico",
        "/auth/login",
        "/auth/callback",
        "/auth/logout",
        "/auth/signed-out",
        "/kiosk/enrol",
    }
)
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
API_PREFIXES = ("/_dash-", "/_reload-hash", "/api/", "/export/", "/metrics")
SIGNIN_PATH = "/auth/login"
SIGNIN_HEADER = "X-SMD-Signin"  # "required" on every 401, for scripts that cannot read JSON

Kind = Literal["public", "api", "page"]


def classify(path: str) -> Kind:
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
        return "public"
    if path.startswith(API_PREFIXES):
        return "api"
    return "page"


@dataclass(frozen=True)
class Resolved:
    """Who a request comes from, and through what (a session row, the local user)."""

    identity: Identity
    via: str  # local | session
    session_id: int | None = None
    page_limit: str | None = None


REQUEST_RESOLVED = "smd_resolved"
PROXY_KEY = "smd_proxy_identity"  # the ProxyIdentity of auth mode proxy
PAGE_IDS_KEY = "smd_page_component_ids"  # {page path: component ids}, for device page limits
_CLEAR_SESSION = "smd_clear_session"
_TOKEN_REFUSED = "smd_token_refused"


def expected_origin(public_url: str | None) -> str:
    """The scheme://host[:port] browsers send as Origin for this dashboard."""
    parts = urlsplit(public_url or request.host_url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def foreign_origin(public_url: str | None) -> str | None:
    """Why a state-changing request looks cross-site, or None when it is from this origin."""
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/").lower() != expected_origin(public_url):
        return f"requests from {origin} are not accepted"
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return "cross-site requests are not accepted"
    return None


def next_of_request() -> str:
    """This request's path and query, as the `next` a sign-in returns to."""
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


def signin_url(next_path: str) -> str:
    return f"{SIGNIN_PATH}?next={quote(next_path, safe='/')}"


def resolve(svc: Services) -> Resolved | None:
    """The identity behind this request in the configured mode, or None."""
    settings = svc.settings
    if settings.auth_mode == "none":
        return Resolved(local_identity(settings.local_role), via="local")
    scope = bearer.scope_for(request.path)
    secret = bearer.presented()
    if scope is not None and secret is not None:
        # A request that presents a token stands or falls by it: no fallback to a cookie.
        found_token = bearer.authenticate(svc, secret, scope)
        if isinstance(found_token, str):
            g.setdefault(_TOKEN_REFUSED, found_token)
            return None
        return Resolved(found_token, via="token")
    if settings.auth_mode == "proxy":
        return _from_proxy(svc)
    raw = cookies.read(request, cookies.SESSION)
    if not raw:
        return None
    with svc.sessions.begin() as session:
        found = sessions.find(
            session,
            raw,
            svc.clock.now(),
            settings.auth_session_idle_s,
            settings.auth_device_idle_s,
        )
    if found is None:
        g.setdefault(_CLEAR_SESSION, True)
        return None
    return Resolved(found.identity, "session", found.id, found.page_limit)


def _from_proxy(svc: Services) -> Resolved | None:
    """The identity a trusted proxy vouches for; refusals are audited."""
    identifier: proxy.ProxyIdentity = current_app.extensions[PROXY_KEY]
    now = svc.clock.now()
    try:
        identity = identifier.identify(request.headers, request.remote_addr, now)
    except proxy.ProxyRefused as e:
        with svc.sessions.begin() as session:
            audit.record_event(
                session,
                actor="anonymous",
                role="none",
                action="request_refused",
                target=request.path,
                outcome="denied",
                at=now,
                detail={"reason": str(e)[:500]},
                remote_addr=request.remote_addr,
            )
        return None
    return None if identity is None else Resolved(identity, via="proxy")


def _json(status: int, body: dict[str, str], **headers: str) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response.headers[name] = value
    return response


def _refuse_origin(svc: Services, problem: str) -> Response:
    with svc.sessions.begin() as session:
        audit.record_event(
            session,
            actor="anonymous",
            role="none",
            action="request_refused",
            target=request.path,
            outcome="denied",
            at=svc.clock.now(),
            detail={"reason": problem, "method": request.method},
            remote_addr=request.remote_addr,
        )
    return _json(403, {"error": f"Refused: {problem}."})


def unauthenticated(kind: Kind, mode: str) -> Response:
    """A page is sent to sign-in; anything a script asked for gets 401 it can act on.

    In auth mode proxy sign-in happens at the proxy, so a page without an identity is
    a misrouted request: it is told so rather than sent round a redirect loop."""
    refused = g.get(_TOKEN_REFUSED)
    if refused:
        return _json(
            401,
            {"error": f"API token refused: {refused}."},
            **{"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    here = next_of_request()
    if kind == "page" and mode == "proxy":
        return html_pages.page(
            401,
            "Not signed in",
            [
                "No identity reached the dashboard from its sign-in proxy. Open it through the "
                "proxy's address."
            ],
            None,
        )
    if kind == "page" and request.method in ("GET", "HEAD"):
        response = redirect(signin_url(here), code=302)
        response.headers["Cache-Control"] = "no-store"
        return response
    return _json(
        401, {"error": "Sign in to continue.", "signin": SIGNIN_PATH}, **{SIGNIN_HEADER: "required"}
    )


def check_request() -> Response | None:
    """The `before_request` hook: refuse, redirect, or let through with an identity."""
    svc = services()
    if request.method not in SAFE_METHODS:
        problem = foreign_origin(svc.settings.public_url)
        if problem:
            return _refuse_origin(svc, problem)
    kind = classify(request.path)
    if kind == "public":
        return None
    resolved = resolve(svc)
    if resolved is None:
        return unauthenticated(kind, svc.settings.auth_mode)
    if resolved.page_limit and not device_scope.allowed(
        request.path,
        request.method,
        resolved.page_limit,
        current_app.extensions.get(PAGE_IDS_KEY, {}),
        request.get_json(silent=True) if request.path == device_scope.UPDATE else None,
    ):
        message = f"This wall screen may show only {resolved.page_limit}."
        if kind == "page":
            return html_pages.page(
                403, "Not on this screen", [message], (resolved.page_limit, "Back")
            )
        return _json(403, {"error": message})
    g.setdefault(REQUEST_IDENTITY, resolved.identity)
    g.setdefault(REQUEST_RESOLVED, resolved)
    return None


def finish_response(response: Response) -> Response:
    """Drop a session cookie that no longer names a valid session."""
    if g.get(_CLEAR_SESSION):
        cookies.clear_cookie(response, cookies.SESSION)
    return response


def install(server: Flask, page_ids: dict[str, frozenset[str]] | None = None) -> None:
    """Put the gate in front of every route of `server` (call before any other hook).

    `page_ids` maps each page a wall screen may be held to onto its component ids."""
    server.extensions[PAGE_IDS_KEY] = page_ids or {}
    settings = services(server).settings
    if settings.auth_mode == "proxy":
        server.extensions[PROXY_KEY] = proxy.ProxyIdentity(settings)
    server.before_request(check_request)
    server.after_request(finish_response)
