"""The Access page: admins list every valid session and revoke one; nobody else can."""

from __future__ import annotations

import json

from sqlalchemy import select

from dashapp.identity import Role
from dashapp.models import AuditEntry
from pages.access import layout as al
from tests.signin.conftest import ORIGIN, client_as, mint_session
from tests.signin.dash_calls import body, prop_id

TABLE = f"..{al.SESSIONS}.children...{al.STATUS}.children.."


def _table(app, client, values=None, trigger=None):
    values = {"smd-url.pathname": al.PATH, **(values or {})}
    r = client.post(
        "/_dash-update-component", json=body(app, TABLE, values, trigger), headers=ORIGIN
    )
    assert r.status_code == 200, r.text
    return r.json["response"]


def test_an_admin_sees_every_session_and_revokes_one(oidc_app, oidc_svc):
    viewer_cookie = mint_session(oidc_svc, Role.viewer, "vera@example.com")
    mint_session(oidc_svc, Role.operator, "otto@example.com", kind="device")
    admin = client_as(oidc_app, mint_session(oidc_svc, Role.admin, "ada@example.com"))
    admin.get("/_dash-layout")  # Dash registers its page router on the first request

    shown = json.dumps(_table(oidc_app, admin))
    for user in ("vera@example.com", "otto@example.com", "ada@example.com"):
        assert user in shown
    assert "Wall screen" in shown and '"You"' in shown

    viewer = client_as(oidc_app, viewer_cookie)
    assert viewer.get("/_dash-layout").status_code == 200
    with oidc_svc.sessions() as session:
        from dashapp.signin import sessions

        vera = sessions.row_by_secret(session, viewer_cookie)
    revoke = {"type": al.REVOKE, "session": str(vera.id)}
    spec = oidc_app.callback_map[TABLE]
    all_input = next(i for i in spec["inputs"] if "ALL" in i["id"])
    payload = body(oidc_app, TABLE, {"smd-url.pathname": al.PATH})
    payload["inputs"][2] = [{"id": revoke, "property": "n_clicks", "value": 1}]
    payload["changedPropIds"] = [prop_id(json.dumps(revoke, sort_keys=True), "n_clicks")]
    assert all_input["property"] == "n_clicks"
    r = admin.post("/_dash-update-component", json=payload, headers=ORIGIN)
    assert r.status_code == 200
    after = json.dumps(r.json["response"])
    assert "Revoked the session of vera@example.com." in after
    assert "vera@example.com" not in after.replace("Revoked the session of vera@example.com.", "")

    assert viewer.get("/_dash-layout").status_code == 401
    with oidc_svc.sessions() as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "revoke_session"))
        (entry,) = audit.all()
    assert (entry.actor, entry.outcome) == ("ada@example.com", "ok")
    assert entry.target == f"vera@example.com (session {vera.id})"


def test_an_operator_is_refused_the_list_and_the_revocation(oidc_app, oidc_svc):
    target = mint_session(oidc_svc, Role.viewer, "vera@example.com")
    operator = client_as(oidc_app, mint_session(oidc_svc, Role.operator, "otto@example.com"))
    operator.get("/_dash-layout")
    assert "vera@example.com" not in json.dumps(_table(oidc_app, operator))

    with oidc_svc.sessions() as session:
        from dashapp.signin import sessions

        vera = sessions.row_by_secret(session, target)
    revoke = {"type": al.REVOKE, "session": str(vera.id)}
    payload = body(oidc_app, TABLE, {"smd-url.pathname": al.PATH})
    payload["inputs"][2] = [{"id": revoke, "property": "n_clicks", "value": 1}]
    payload["changedPropIds"] = [prop_id(json.dumps(revoke, sort_keys=True), "n_clicks")]
    r = operator.post("/_dash-update-component", json=payload, headers=ORIGIN)
    assert "needs admin" in r.text
    assert client_as(oidc_app, target).get("/_dash-layout").status_code == 200
    with oidc_svc.sessions() as session:
        denied = session.scalars(select(AuditEntry.action).where(AuditEntry.outcome == "denied"))
        assert denied.all() == ["revoke_session"]
