"""Sign-in end to end against a real OIDC provider (in a thread): PKCE, groups → role,
a deep link that survives, role changes audited, refusals, rate limit, logout."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from dashapp.models import AuditEntry, AuthSession
from dashapp.signin import cookies
from tests.signin.conftest import BASE_URL, ORIGIN, USERS, client_as
from tests.signin.oidc_provider import authorize_as, query_of, set_claims


def sign_in(app, client, sub: str, next_path: str = "/"):
    """Start at /auth/login, let the provider authorize `sub`, come back; the last response."""
    start = client.get("/auth/login", query_string={"next": next_path})
    assert start.status_code == 302, start.text
    back = authorize_as(start.headers["Location"], sub)
    assert back.startswith(f"{BASE_URL}/auth/callback?")
    parts = urlsplit(back)
    return client.get(parts.path, query_string=parts.query)


def audit_rows(app):
    from dashapp.services import services

    with services(app.server).sessions() as session:
        return [
            (e.actor, e.action, e.outcome, e.detail)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def test_sign_in_uses_pkce_and_lands_on_the_deep_link_with_the_mapped_role(make_app):
    app = make_app()
    client = client_as(app, None)
    deep = "/jobs/sales-orders-ingest?range=6h"
    assert (
        client.get(deep).headers["Location"]
        == "/auth/login?next=/jobs/sales-orders-ingest%3Frange%3D6h"
    )
    start = client.get("/auth/login", query_string={"next": deep})
    asked = query_of(start.headers["Location"])
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["state"] and asked["nonce"] and asked["client_id"] == "smd-dashboard"
    login_cookie = [h for h in start.headers.getlist("Set-Cookie") if h.startswith(cookies.SIGNIN)]
    assert login_cookie and all(
        a in login_cookie[0] for a in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/")
    )

    back = urlsplit(authorize_as(start.headers["Location"], "ada"))
    done = client.get(back.path, query_string=back.query)
    assert done.status_code == 302 and done.headers["Location"] == deep
    set_cookie = [h for h in done.headers.getlist("Set-Cookie") if h.startswith(cookies.SESSION)]
    assert set_cookie and all(
        a in set_cookie[0] for a in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/")
    )
    assert "Domain" not in set_cookie[0]

    assert client.get(deep).status_code == 200
    r = client.post(
        "/_dash-update-component",
        json={
            "output": "smd-identity.children",
            "outputs": {"id": "smd-identity", "property": "children"},
            "inputs": [{"id": "smd-url", "property": "pathname", "value": "/"}],
            "state": [],
            "changedPropIds": ["smd-url.pathname"],
        },
        headers=ORIGIN,
    )
    assert r.status_code == 200
    assert "Ada Admin" in r.text and '"admin"' in r.text and "Sign out" in r.text
    (row,) = [(a, act, o) for a, act, o, _ in audit_rows(app) if act == "signin"]
    assert row == ("ada@example.com", "signin", "ok")


def test_a_second_sign_in_gets_a_fresh_session_and_a_changed_role_is_audited(make_app, idp):
    app = make_app()
    first = client_as(app, None)
    sign_in(app, first, "otto")
    set_claims(idp, "otto", {"email": "otto@example.com", "groups": ["staff"]})
    try:
        second = client_as(app, None)
        sign_in(app, second, "otto")
    finally:
        set_claims(idp, "otto", USERS["otto"])
    from dashapp.services import services

    with services(app.server).sessions() as session:
        rows = session.scalars(select(AuthSession).order_by(AuthSession.id)).all()
    assert [r.role for r in rows] == ["operator", "viewer"]
    assert rows[0].token_hash != rows[1].token_hash
    changes = [d for _, act, _, d in audit_rows(app) if act == "role_changed"]
    assert changes == [{"from_role": "operator", "to_role": "viewer", "groups": ["staff"]}]


def test_a_user_in_no_mapped_group_is_refused_and_audited(make_app):
    app = make_app()
    client = client_as(app, None)
    r = sign_in(app, client, "nina")
    assert r.status_code == 403 and "none of your groups" in r.text and "contractors" in r.text
    assert not [
        h
        for h in r.headers.getlist("Set-Cookie")
        if h.startswith(cookies.SESSION + "=") and "Max-Age=0" not in h
    ]
    assert client.get("/").status_code == 302
    (denied,) = [
        (a, d["reason"]) for a, act, o, d in audit_rows(app) if act == "signin" and o == "denied"
    ]
    assert denied == ("nina@example.com", "no role")


def test_a_default_role_admits_users_in_no_group(make_app):
    app = make_app(auth_default_role="viewer")
    client = client_as(app, None)
    assert sign_in(app, client, "nina").status_code == 302
    assert client.get("/").status_code == 200


def test_an_answer_for_another_browser_or_a_forged_state_is_refused(make_app):
    app = make_app()
    alice = client_as(app, None)
    start = alice.get("/auth/login")
    back = urlsplit(authorize_as(start.headers["Location"], "ada"))
    mallory = client_as(app, None)  # has no sign-in cookie: login CSRF fails
    r = mallory.get(back.path, query_string=back.query)
    assert r.status_code == 400 and mallory.get("/").status_code == 302

    forged = back.query.replace("state=", "state=x")
    assert alice.get(back.path, query_string=forged).status_code == 400
    # The attempt was used up by the refusal: the genuine answer no longer works either.
    assert alice.get(back.path, query_string=back.query).status_code == 400


def test_logout_revokes_then_ends_the_provider_session_with_the_id_token_hint(make_app, idp):
    app = make_app()
    client = client_as(app, None)
    sign_in(app, client, "vera")
    old_cookie = client.get_cookie(cookies.SESSION, domain="dash.test").value
    assert client.get("/_dash-layout").status_code == 200
    r = client.post("/auth/logout", headers=ORIGIN)
    assert r.status_code == 303
    end = urlsplit(r.headers["Location"])
    assert f"{end.scheme}://{end.netloc}{end.path}" == f"{idp}/oauth2/end_session"
    params = query_of(r.headers["Location"])
    assert params["post_logout_redirect_uri"] == f"{BASE_URL}/auth/signed-out"
    assert params["id_token_hint"].count(".") == 2
    replay = client_as(app, old_cookie)
    assert replay.get("/_dash-layout").status_code == 401
    assert replay.get("/").status_code == 302
    assert [act for _, act, o, _ in audit_rows(app) if o == "ok"] == ["signin", "logout"]


def test_logout_from_another_origin_is_refused(make_app):
    app = make_app()
    client = client_as(app, None)
    sign_in(app, client, "vera")
    r = client.post("/auth/logout", headers={"Origin": "https://evil.test"})
    assert r.status_code == 403
    assert client.get("/_dash-layout").status_code == 200


def test_sign_in_attempts_are_rate_limited_per_address(make_app):
    app = make_app(auth_signin_limit=3)
    client = client_as(app, None)
    assert [client.get("/auth/login").status_code for _ in range(5)] == [302, 302, 302, 429, 429]
    limited = [d for _, act, o, d in audit_rows(app) if act == "signin" and o == "denied"]
    assert limited == [{"reason": "rate_limited", "attempts": 4}]
