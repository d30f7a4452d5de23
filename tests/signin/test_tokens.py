"""Wall-screen enrolment and API tokens: minted by admins, stored hashed, shown once;
a screen enrols once and is held to its page; a Bearer token works only where and as
far as it should."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from dashapp.identity import Identity, Role
from dashapp.models import AccessToken, AuditEntry
from dashapp.services import services
from dashapp.signin import cookies, tokens
from pages.access import tokens_layout as tl
from tests.signin.conftest import ORIGIN, client_as, mint_session
from tests.signin.dash_calls import body

ADMIN = Identity(user="ada@example.com", role=Role.admin)
SCREENS = f"..{tl.SCREEN_TABLE}.children...{tl.SCREEN_NEW}.children.."


def _audit(svc, action):
    with svc.sessions() as session:
        return [
            (e.actor, e.outcome, e.detail)
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        ]


def _mint(svc, kind, **kw):
    with svc.sessions.begin() as session:
        raw, row = tokens.mint(
            session,
            kind=kind,
            label=kw.pop("label", "t"),
            owner=kw.pop("owner", ADMIN),
            role=kw.pop("role", Role.viewer),
            now=svc.clock.now(),
            lifetime_s=kw.pop("lifetime_s", 86400),
            **kw,
        )
        return raw, row.id


def test_an_admin_mints_an_enrolment_link_shown_once_and_stored_hashed(oidc_app, oidc_svc):
    admin = client_as(oidc_app, mint_session(oidc_svc, Role.admin, "ada@example.com"))
    admin.get("/")
    values = {
        "smd-url.pathname": "/access",
        f"{tl.SCREEN_CREATE}.n_clicks": 1,
        f"{tl.SCREEN_LABEL}.value": "ops-room-tv",
        f"{tl.SCREEN_PAGE}.value": "/wall",
        f"{tl.SCREEN_DAYS}.value": "7",
    }
    r = admin.post(
        "/_dash-update-component",
        json=body(oidc_app, SCREENS, values, trigger=f"{tl.SCREEN_CREATE}.n_clicks"),
        headers=ORIGIN,
    )
    assert r.status_code == 200
    shown = json.dumps(r.json["response"])  # the wire escapes "/" as \u002f
    (link,) = re.findall(r"https://dash\.test/kiosk/enrol\?t=(smd_s_[\w-]+)", shown)
    assert "ops-room-tv" in json.dumps(r.json["response"][tl.SCREEN_TABLE])
    with oidc_svc.sessions() as session:
        row = session.scalars(select(AccessToken)).one()
    assert (row.kind, row.role, row.page_limit, row.owner) == (
        "screen",
        "viewer",
        "/wall",
        "ada@example.com",
    )
    assert link not in (row.token_hash, row.label) and len(row.token_hash) == 64
    # Listing again never shows the secret.
    again = admin.post(
        "/_dash-update-component",
        json=body(oidc_app, SCREENS, {"smd-url.pathname": "/access"}),
        headers=ORIGIN,
    )
    assert link not in json.dumps(again.json)
    assert [a for a, o, _ in _audit(oidc_svc, "mint_screen_token")] == ["ada@example.com"]
    assert link not in json.dumps(_audit(oidc_svc, "mint_screen_token"))


def test_a_screen_enrols_once_and_is_held_to_its_page(oidc_app, oidc_svc):
    raw, token_id = _mint(
        oidc_svc, tokens.SCREEN, label="lobby", page_limit="/wall", role=Role.admin
    )
    screen = client_as(oidc_app, None)
    r = screen.get(f"/kiosk/enrol?t={raw}")
    assert r.status_code == 302 and r.headers["Location"] == "/wall"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    device_cookie = screen.get_cookie(cookies.SESSION, domain="dash.test")
    assert device_cookie is not None and device_cookie.secure and device_cookie.http_only

    assert client_as(oidc_app, None).get(f"/kiosk/enrol?t={raw}").status_code == 403  # used up
    assert screen.get("/wall").status_code == 200
    assert screen.get("/_dash-layout").status_code == 200
    wall_cb = next(k for k in oidc_app.callback_map if k.startswith("..wall-clock.children"))
    ok = screen.post(
        "/_dash-update-component",
        json=body(oidc_app, wall_cb, {"smd-url.pathname": "/wall"}),
        headers=ORIGIN,
    )
    assert ok.status_code == 200
    # Anything else is refused, whatever a viewer could see.
    assert screen.get("/logs").status_code == 403
    assert screen.get("/export/job-runs.csv").status_code == 403
    logs_cb = next(k for k in oidc_app.callback_map if k.startswith("..logs-lines.children"))
    crafted = screen.post("/_dash-update-component", json=body(oidc_app, logs_cb), headers=ORIGIN)
    assert (
        crafted.status_code == 403
        and crafted.json["error"] == "This wall screen may show only /wall."
    )
    ident = next(k for k in oidc_app.callback_map if k == "smd-identity.children")
    who = screen.post(
        "/_dash-update-component",
        json=body(oidc_app, ident, {"smd-url.pathname": "/wall"}),
        headers=ORIGIN,
    )
    assert "lobby" in who.text and '"viewer"' in who.text  # minted as admin, capped at viewer

    ((actor, outcome, detail),) = _audit(oidc_svc, "screen_enrol")[:1]
    assert (actor, outcome, detail["page"]) == ("screen:lobby", "ok", "/wall")
    assert [o for _, o, d in _audit(oidc_svc, "screen_enrol")] == ["ok", "denied"]

    with oidc_svc.sessions.begin() as session:
        row = session.get(AccessToken, token_id)
        tokens.revoke(session, token_id, by="ada", now=oidc_svc.clock.now())
        from dashapp.signin import sessions

        sessions.revoke_subject(
            session, tokens.device_subject(row), by="ada", now=oidc_svc.clock.now()
        )
    assert screen.get("/_dash-layout").status_code == 401


def test_an_enrolled_screen_outlives_the_user_idle_timeout(oidc_app, oidc_svc, clock):
    raw, _ = _mint(oidc_svc, tokens.SCREEN, label="tv")
    screen = client_as(oidc_app, None)
    assert screen.get(f"/kiosk/enrol?t={raw}").status_code == 302
    clock.advance(timedelta(hours=10))  # overnight: far past a browser's idle limit
    assert screen.get("/_dash-layout").status_code == 200
    assert screen.get("/").status_code == 200  # no page limit: any page a viewer may see


def test_an_expired_or_forged_enrolment_link_is_refused(oidc_app, oidc_svc, clock):
    raw, _ = _mint(oidc_svc, tokens.SCREEN, lifetime_s=3600)
    clock.advance(3601)
    r = client_as(oidc_app, None).get(f"/kiosk/enrol?t={raw}")
    assert r.status_code == 403 and "token expired" in r.text
    assert client_as(oidc_app, None).get("/kiosk/enrol?t=" + raw[:-2] + "xx").status_code == 403


def test_an_api_token_reads_metrics_and_exports_by_bearer_only(oidc_app, oidc_svc, clock):
    raw, token_id = _mint(oidc_svc, tokens.API, label="prometheus", scopes=("metrics",))
    anon = client_as(oidc_app, None)
    bearer = {"Authorization": f"Bearer {raw}"}
    assert anon.get("/metrics", headers=bearer).status_code == 200
    assert anon.get("/metrics", headers=bearer).status_code == 200
    r = anon.get("/export/job-runs.csv", headers=bearer)
    assert (
        r.status_code == 401
        and r.json["error"] == "API token refused: token lacks the 'export' scope."
    )
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    # Never from a query string or a cookie, and never on pages or callbacks.
    assert anon.get(f"/metrics?access_token={raw}").status_code == 401
    anon.set_cookie("Authorization", f"Bearer {raw}", domain="dash.test")
    assert anon.get("/metrics").status_code == 401
    assert client_as(oidc_app, None).get("/", headers=bearer).status_code == 302
    with oidc_svc.sessions() as session:
        row = session.get(AccessToken, token_id)
    assert row.last_used_at == clock.now()
    uses = _audit(oidc_svc, "token_use")
    assert [(a, o) for a, o, _ in uses] == [("ada@example.com", "ok"), ("anonymous", "denied")]
    clock.advance(tokens.TOUCH_EVERY_S)
    assert anon.get("/metrics", headers=bearer).status_code == 200
    assert len(_audit(oidc_svc, "token_use")) == 3


@pytest.mark.parametrize(
    ("owner", "asked", "got"),
    [(Role.operator, Role.admin, "operator"), (Role.admin, Role.viewer, "viewer")],
)
def test_a_token_never_outranks_its_owner(oidc_svc, owner, asked, got):
    with oidc_svc.sessions.begin() as session:
        _, row = tokens.mint(
            session,
            kind=tokens.API,
            label="x",
            owner=Identity(user="o", role=owner),
            role=asked,
            now=oidc_svc.clock.now(),
            lifetime_s=60,
            scopes=("export",),
        )
        assert row.role == got


def test_revoked_and_expired_api_tokens_are_refused(oidc_app, oidc_svc, clock):
    raw, _ = _mint(oidc_svc, tokens.API, scopes=("export",), lifetime_s=600)
    client = client_as(oidc_app, None)
    bearer = {"Authorization": f"Bearer {raw}"}
    assert client.get("/export/lambda-summary.csv", headers=bearer).status_code == 200
    clock.advance(600)
    assert (
        client.get("/export/lambda-summary.csv", headers=bearer).json["error"]
        == "API token refused: token expired."
    )
    raw2, id2 = _mint(oidc_svc, tokens.API, scopes=("export",))
    with services(oidc_app.server).sessions.begin() as session:
        tokens.revoke(session, id2, by="ada", now=clock.now())
    r = client.get("/export/lambda-summary.csv", headers={"Authorization": f"Bearer {raw2}"})
    assert r.json["error"] == "API token refused: token revoked."
