"""Server-side sessions on PostgreSQL and SQLite: opaque ids, timeouts on the injected clock,
revocation, and the request gate honouring all three."""

from __future__ import annotations

import json

from sqlalchemy import select

from dashapp.identity import Identity, Role
from dashapp.models import AuditEntry, AuthSession
from dashapp.signin import cookies, sessions
from tests.signin.conftest import ORIGIN, client_as, mint_session

VIEWER = Identity(user="vera@example.com", role=Role.viewer, display_name="Vera")


def _create(svc, **kw):
    with svc.sessions.begin() as session:
        return sessions.create(
            session,
            identity=VIEWER,
            subject="sub-vera",
            kind="user",
            now=svc.clock.now(),
            lifetime_s=kw.pop("lifetime_s", 3600),
            **kw,
        )


def test_the_cookie_value_is_random_and_only_its_hash_is_stored(oidc_svc):
    raw1, _ = _create(oidc_svc)
    raw2, _ = _create(oidc_svc)
    assert raw1 != raw2 and len(raw1) >= 43
    with oidc_svc.sessions() as session:
        stored = session.scalars(select(AuthSession.token_hash)).all()
    assert sorted(stored) == sorted([sessions.secret_hash(raw1), sessions.secret_hash(raw2)])
    assert raw1 not in stored and raw2 not in stored


def test_idle_and_absolute_timeouts_follow_the_injected_clock(oidc_svc, clock):
    idle = oidc_svc.settings.auth_session_idle_s
    raw, _ = _create(oidc_svc, lifetime_s=idle * 2)

    def find():
        with oidc_svc.sessions.begin() as session:
            return sessions.find(session, raw, clock.now(), idle)

    assert find().identity == VIEWER
    clock.advance(idle - 1)
    assert find() is not None  # used just in time: the idle clock starts again
    clock.advance(idle - 1)
    assert find() is not None
    clock.advance(idle - 1)
    assert find() is None, "past the absolute limit although never idle"

    raw, _ = _create(oidc_svc, lifetime_s=idle * 2)
    clock.advance(idle)
    assert find() is None, "idle for the whole idle timeout"


def test_revoked_sessions_are_refused(oidc_svc, clock):
    raw, row = _create(oidc_svc)
    with oidc_svc.sessions.begin() as session:
        assert sessions.revoke(session, row.id, by="admin", now=clock.now()) is not None
    with oidc_svc.sessions.begin() as session:
        assert sessions.find(session, raw, clock.now(), 3600) is None
        assert sessions.revoke(session, row.id, by="admin", now=clock.now()) is None


def test_a_page_needs_a_session_and_is_redirected_to_sign_in_with_its_address(oidc_app, oidc_svc):
    anonymous = client_as(oidc_app, None)
    r = anonymous.get("/jobs/sales-orders-ingest?range=6h")
    assert r.status_code == 302
    assert r.headers["Location"] == "/auth/login?next=/jobs/sales-orders-ingest%3Frange%3D6h"
    signed_in = client_as(oidc_app, mint_session(oidc_svc, Role.viewer))
    assert signed_in.get("/jobs/sales-orders-ingest?range=6h").status_code == 200


def test_a_callback_without_a_session_answers_401_json(oidc_app):
    r = client_as(oidc_app, None).post("/_dash-update-component", json={}, headers=ORIGIN)
    assert r.status_code == 401
    assert r.json == {"error": "Sign in to continue.", "signin": "/auth/login"}
    assert r.headers["X-SMD-Signin"] == "required"


def test_an_idle_session_is_refused_and_its_cookie_cleared(oidc_app, oidc_svc, clock):
    client = client_as(oidc_app, mint_session(oidc_svc, Role.viewer))
    assert client.get("/_dash-layout").status_code == 200
    clock.advance(oidc_svc.settings.auth_session_idle_s)
    r = client.get("/_dash-layout")
    assert r.status_code == 401
    cleared = [h for h in r.headers.getlist("Set-Cookie") if h.startswith(cookies.SESSION)]
    assert cleared and "Max-Age=0" in cleared[0] and "Secure" in cleared[0]


def test_a_session_revoked_elsewhere_is_refused_on_its_next_request(oidc_app, oidc_svc, clock):
    raw = mint_session(oidc_svc, Role.operator)
    client = client_as(oidc_app, raw)
    assert client.get("/_dash-layout").status_code == 200
    with oidc_svc.sessions.begin() as session:
        row = sessions.row_by_secret(session, raw)
        sessions.revoke(session, row.id, by="admin", now=clock.now())
    assert client.get("/_dash-layout").status_code == 401


def test_posts_from_another_origin_are_refused_and_audited(oidc_app, oidc_svc):
    client = client_as(oidc_app, mint_session(oidc_svc, Role.admin))
    r = client.post("/_dash-update-component", json={}, headers={"Origin": "https://evil.test"})
    assert r.status_code == 403
    assert r.json["error"] == "Refused: requests from https://evil.test are not accepted."
    r = client.post("/api/uploads", headers={"Sec-Fetch-Site": "cross-site", **ORIGIN})
    assert r.status_code == 403
    with oidc_svc.sessions() as session:
        entries = session.scalars(select(AuditEntry)).all()
    assert [(e.action, e.outcome) for e in entries] == [("request_refused", "denied")] * 2
    assert json.dumps(entries[0].detail).count("evil.test") == 1


def test_health_probes_and_static_files_stay_public(oidc_app):
    client = client_as(oidc_app, None)
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code in (200, 503)  # public either way: no 401
    assert client.get("/assets/smd-shell.css").status_code == 200
