"""Every registered route and every Dash callback, asked as anonymous, viewer, operator and
admin, with the answer each must get.

A route added without an entry in ROUTES fails this test: whoever adds one says who
may reach it. Anonymous gets 401 (or the redirect to sign-in) everywhere but the
public paths; a signed-in user is never sent to sign-in; what a role may *do* is
refused server-side by `require` (403, or the callback's Forbidden message).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from dashapp.identity import Role
from dashapp.models import AuditEntry
from dashapp.services import services
from tests.signin.conftest import ORIGIN, client_as, mint_session
from tests.signin.dash_calls import body

WHO = ("anonymous", "viewer", "operator", "admin")
LOGIN = "login"  # a 302 to /auth/login?next=…


def _all(status: Any) -> dict[str, Any]:
    return dict.fromkeys(WHO, status)


def _signed_in(status: Any) -> dict[str, Any]:
    return {"anonymous": 401, "viewer": status, "operator": status, "admin": status}


def _operator(refused: int, allowed: int) -> dict[str, Any]:
    return {"anonymous": 401, "viewer": refused, "operator": allowed, "admin": allowed}


# (rule, method) → (path to request, expected status per caller).
ROUTES: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {
    ("/healthz", "GET"): ("/healthz", _all(200)),
    ("/readyz", "GET"): ("/readyz", _all(503)),  # public; no collector has reported
    ("/_favicon.ico", "GET"): ("/_favicon.ico", _all(200)),
    ("/assets/<path:filename>", "GET"): ("/assets/smd-shell.css", _all(200)),
    ("/auth/login", "GET"): ("/auth/login?next=/wall", _all(302)),  # to the provider
    ("/auth/callback", "GET"): ("/auth/callback?code=x&state=y", _all(400)),
    ("/auth/logout", "POST"): ("/auth/logout", _all(303)),
    ("/auth/signed-out", "GET"): ("/auth/signed-out", _all(200)),
    ("/kiosk/enrol", "GET"): ("/kiosk/enrol?t=smd_s_forged", _all(403)),
    ("/export/job-runs.csv", "GET"): ("/export/job-runs.csv", _signed_in(200)),
    ("/export/metrics.csv", "GET"): ("/export/metrics.csv", _signed_in(200)),
    ("/export/lambda-summary.csv", "GET"): ("/export/lambda-summary.csv", _signed_in(200)),
    ("/export/log-events.csv", "GET"): ("/export/log-events.csv", _signed_in(200)),
    ("/export/uploads.csv", "GET"): ("/export/uploads.csv", _signed_in(200)),
    ("/export/job-summary.csv", "GET"): ("/export/job-summary.csv", _signed_in(200)),
    ("/export/athena/<query_execution_id>.csv", "GET"): (
        "/export/athena/q-1.csv",
        _signed_in(404),
    ),
    ("/metrics", "GET"): ("/metrics", _signed_in(200)),
    ("/api/uploads", "POST"): ("/api/uploads", _operator(403, 400)),
    ("/api/uploads/<upload_id>/complete", "POST"): (
        "/api/uploads/u-1/complete",
        _operator(403, 404),
    ),
    ("/api/uploads/<upload_id>/abort", "POST"): ("/api/uploads/u-1/abort", _operator(403, 404)),
    ("/api/uploads/<upload_id>/parts", "POST"): ("/api/uploads/u-1/parts", _operator(403, 400)),
    ("/_dash-layout", "GET"): ("/_dash-layout", _signed_in(200)),
    ("/_dash-dependencies", "GET"): ("/_dash-dependencies", _signed_in(200)),
    ("/_reload-hash", "GET"): ("/_reload-hash", _signed_in(200)),
    ("/_dash-update-component", "POST"): ("/_dash-update-component", _signed_in(415)),
    ("/", "GET"): ("/", {"anonymous": LOGIN, **dict.fromkeys(WHO[1:], 200)}),
    ("/<path:path>", "GET"): ("/wall", {"anonymous": LOGIN, **dict.fromkeys(WHO[1:], 200)}),
}
# Served files whose URL is fingerprinted: public code, asked by the exact name Dash links.
SUITES = "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>"


def fresh_clients(app) -> dict[str, Any]:
    """A test client per caller, each signed-in one with a session of its own."""
    svc = services(app.server)
    clients = {"anonymous": client_as(app, None)}
    for role in WHO[1:]:
        clients[role] = client_as(app, mint_session(svc, Role.parse(role)))
    return clients


@pytest.fixture
def matrix_app(make_app):
    app = make_app()
    clients = fresh_clients(app)
    assert clients["admin"].get("/").status_code == 200  # Dash registers its router callback
    return app, clients


PAGE_VALUES = {
    "smd-url.pathname": "/",
    "_pages_location.pathname": "/",
    "_pages_location.search": "",
}


def _answer(client, method: str, path: str) -> Any:
    headers = {**ORIGIN, "X-SMD-Upload": "1"}
    r = client.open(path, method=method, headers=headers)
    if r.status_code == 302 and r.headers["Location"].startswith("/auth/login?next="):
        return LOGIN
    return r.status_code


def test_every_route_answers_each_caller_as_declared(matrix_app):
    app, clients = matrix_app
    page = clients["admin"].get("/").text
    suite = next(s for s in page.split('"') if s.startswith("/_dash-component-suites/"))
    seen: dict[str, dict[str, Any]] = {}
    expected_all: dict[str, dict[str, Any]] = {}
    undeclared = []
    for rule in app.server.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if rule.rule == SUITES:
                path, expected = suite, _all(200)
            elif (rule.rule, method) in ROUTES:
                path, expected = ROUTES[(rule.rule, method)]
            else:
                undeclared.append(f"{method} {rule.rule}")
                continue
            name = f"{method} {rule.rule}"
            expected_all[name] = expected
            # Signing out would end the shared sessions: it gets sessions of its own.
            asking = fresh_clients(app) if rule.rule == "/auth/logout" else clients
            seen[name] = {who: _answer(asking[who], method, path) for who in WHO}
    assert not undeclared, f"routes nobody declared the access of: {undeclared}"
    assert seen == expected_all


def test_every_dash_callback_refuses_anonymous_and_answers_each_role(matrix_app):
    app, clients = matrix_app
    # Clientside callbacks run in the browser only; the server has no function for them.
    keys = sorted(k for k, spec in app.callback_map.items() if "callback" in spec)
    assert len(keys) > 50
    failures = {}
    for key in keys:
        payload = body(app, key, PAGE_VALUES)
        for who in WHO:
            r = clients[who].post("/_dash-update-component", json=payload, headers=ORIGIN)
            wanted = {401} if who == "anonymous" else {200, 204}
            if r.status_code not in wanted:
                failures[(key, who)] = (r.status_code, r.text[:200])
    assert not failures


def test_an_anonymous_callback_relabelled_as_pathname_is_refused(matrix_app):
    """With dash-auth's public_routes, a callback whose input claims to be the URL's
    `pathname` ran anonymously and returned protected data. The gate looks at no label."""
    app, clients = matrix_app
    protected = next(k for k in app.callback_map if k.startswith("..audit-grid.rowData"))
    payload = body(app, protected)
    payload["inputs"] = [{"id": "smd-url", "property": "pathname", "value": "/audit"}]
    payload["changedPropIds"] = ["smd-url.pathname"]
    r = clients["anonymous"].post("/_dash-update-component", json=payload, headers=ORIGIN)
    assert r.status_code == 401 and "rowData" not in r.text
    shell_layout = clients["anonymous"].get("/_dash-layout")
    assert shell_layout.status_code == 401


ACTIONS = {
    # callback key prefix → (input values, the action name require() audits)
    '..{"job":["MATCH"],"type":"ja-start-feedback"}.children@': (
        {'{"job":["MATCH"],"type":"ja-start-confirm"}.n_clicks': 1},
        "start_job_run",
    ),
    '..{"run":["MATCH"],"type":"ja-run-result"}.children': (
        {
            '{"run":["MATCH"],"type":"ja-run-confirm"}.n_clicks': 1,
            '{"run":["MATCH"],"type":"ja-run-pending"}.data': {"action": "stop", "token": "t1"},
        },
        "stop_job_run",
    ),
    "..failures-results.children": (
        {"failures-confirm.n_clicks": 1, "failures-grid.selectedRows": [{"run_id": "jr_1"}]},
        "bulk_rerun",
    ),
}


@pytest.mark.parametrize("prefix", list(ACTIONS), ids=["start", "stop", "bulk-rerun"])
def test_a_viewer_is_refused_every_action_server_side_and_the_refusal_is_audited(
    matrix_app, prefix
):
    app, clients = matrix_app
    key = next(k for k in app.callback_map if k.startswith(prefix))
    values, action = ACTIONS[prefix]
    payload = body(app, key, values)
    answers = {}
    for who in ("viewer", "operator"):
        r = clients[who].post("/_dash-update-component", json=payload, headers=ORIGIN)
        answers[who] = (r.status_code, "needs operator" in r.text)
    svc = services(app.server)
    with svc.sessions() as session:
        denied = session.scalars(
            select(AuditEntry.actor).where(
                AuditEntry.action == action, AuditEntry.outcome == "denied"
            )
        ).all()
    assert answers["viewer"] == (200, True), json.dumps(payload)[:300]
    assert answers["operator"][1] is False
    assert denied == ["viewer@example.com"]
