"""The callback payloads the fuzz found answering 500, kept as fixed cases.

Each arrived through a place a text box's narrowing did not reach: a pattern-matching
id's value (MATCH/ALL buttons carry job names, run ids and row ids), a store the
server wrote and a crafted request rewrote, the Access page's mint form, the shape of
the request itself. Each case says what a user (or a crafted request) sees instead,
and that a refusal wrote nothing.
"""

from __future__ import annotations

import json
from typing import Any

import dash
import pytest
from dash._utils import stringify_id
from sqlalchemy import select

from dashapp.models import AccessToken, AthenaQuery, AuditEntry, AuthSession, JobRun, SavedQuery
from dashapp.services import Services
from layouts import job_actions as ja
from pages.access import layout as access_layout
from pages.access import tokens_layout as tl
from pages.athena import layout as athena_layout
from tests.reliability.outcomes import row_counts
from tests.signin.dash_calls import body
from tests.web.seed import athena_query, seed_demo

SCREENS = f"..{tl.SCREEN_TABLE}.children...{tl.SCREEN_NEW}.children.."
API = f"..{tl.API_TABLE}.children...{tl.API_NEW}.children.."
SESSIONS = f"..{access_layout.SESSIONS}.children...{access_layout.STATUS}.children.."
WRITTEN = (AccessToken, AuthSession, AuditEntry, JobRun)


def _key(app: dash.Dash, *fragments: str) -> str:
    (key,) = [k for k in app.callback_map if all(f in k for f in fragments)]
    return key


def _post(app: dash.Dash, payload: dict[str, Any]) -> Any:
    response = app.server.test_client().post("/_dash-update-component", json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.json["response"]


def _matched(app: dash.Dash, key: str, wildcard: str, value: Any, **values: Any) -> dict:
    """The callback's body with its MATCH ids holding `value`, its first input clicked."""
    payload = body(app, key, values)
    for group in ("outputs", "inputs", "state"):
        entries = payload[group] if isinstance(payload[group], list) else [payload[group]]
        for entry in entries:
            entry["id"][wildcard] = value
    payload["inputs"][0]["value"] = 1
    payload["changedPropIds"] = [f"{stringify_id(payload['inputs'][0]['id'])}.n_clicks"]
    return payload


def _revoke(app: dash.Dash, key: str, kind: str, wildcard: str, value: Any) -> dict:
    """A click on the Revoke button of row `value` of the Access page's table `key`."""
    payload = body(app, key, {"smd-url.pathname": access_layout.PATH})
    button = {"type": kind, wildcard: value}
    payload["inputs"][2] = [{"id": button, "property": "n_clicks", "value": 1}]
    payload["changedPropIds"] = [f"{stringify_id(button)}.n_clicks"]
    return payload


def test_a_start_button_whose_id_names_no_text_job_says_so(
    fuzz_app: dash.Dash, fuzz_svc: Services
) -> None:
    """A lone surrogate as the job in a Start button's id reached the job lookup (UTF-8
    cannot encode it: 500); a number or a boolean became the job "5" or "True"."""
    key = _key(fuzz_app, ja.START_RESULT)
    before = row_counts(fuzz_svc.sessions, JobRun)
    for job in ["\ud800", "\ud800" * 3, 5, True]:
        shown = json.dumps(_post(fuzz_app, _matched(fuzz_app, key, "job", job)))
        assert "No Glue job named" in shown, job
    assert row_counts(fuzz_svc.sessions, JobRun) == before


def test_a_run_button_whose_id_names_no_text_run_changes_nothing(
    fuzz_app: dash.Dash, fuzz_svc: Services
) -> None:
    """The same surrogate as the run of a Stop or Re-run button: 500 before."""
    with fuzz_svc.sessions.begin() as s:
        seed_demo(s, fuzz_svc.clock.now())
    key = _key(fuzz_app, ja.RUN_RESULT)
    before = row_counts(fuzz_svc.sessions, JobRun)
    for action in ("stop", "rerun"):
        payload = _matched(fuzz_app, key, "run", "\ud800")
        payload["state"][0]["value"] = {
            "action": action,
            "token": "t-1",
            "job": "sales-orders-ingest",
        }
        _post(fuzz_app, payload)
    assert row_counts(fuzz_svc.sessions, JobRun) == before


def test_a_run_dialog_opened_by_a_non_pattern_trigger_stays_closed(fuzz_app: dash.Dash) -> None:
    """`changedPropIds` naming a plain id made `ctx.triggered_id` a string, and
    `.get` on it raised: the dialog's callbacks read the trigger as an object or not at all."""
    key = _key(fuzz_app, ja.RUN_MODAL_BODY)
    payload = _matched(fuzz_app, key, "run", "jr_crm_2")
    payload["changedPropIds"] = ["smd-url.pathname"]
    response = fuzz_app.server.test_client().post("/_dash-update-component", json=payload)
    assert response.status_code in (200, 204), response.get_data(as_text=True)[:300]


@pytest.mark.parametrize(
    ("key", "kind", "wildcard"),
    [
        (SESSIONS, access_layout.REVOKE, "session"),
        (SCREENS, tl.TOKEN_REVOKE, "token"),
        (API, tl.TOKEN_REVOKE, "token"),
    ],
    ids=["session", "screen-token", "api-token"],
)
def test_a_revoke_button_naming_no_row_id_revokes_nothing(
    fuzz_app: dash.Dash, fuzz_svc: Services, key: str, kind: str, wildcard: str
) -> None:
    """'²' passed `str.isdigit` and failed `int()`; a 25-digit id overflowed the key
    column: both were 500s. Neither names a row, so nothing is revoked or audited.
    (The crafted list and object ids are refused before the callback, with a 400.)"""
    before = row_counts(fuzz_svc.sessions, *WRITTEN)
    client = fuzz_app.server.test_client()
    for value in ["²", "١٢", "9" * 25, "-1", 0, 10**30, True, [1], {"id": 1}]:
        payload = _revoke(fuzz_app, key, kind, wildcard, value)
        response = client.post("/_dash-update-component", json=payload)
        assert response.status_code in (200, 204, 400), (value, response.text[:300])
    assert row_counts(fuzz_svc.sessions, *WRITTEN) == before


def _mint(fuzz_app: dash.Dash, key: str, create: str, **values: Any) -> Any:
    payload = body(
        fuzz_app,
        key,
        {"smd-url.pathname": access_layout.PATH, f"{create}.n_clicks": 1, **values},
        trigger=f"{create}.n_clicks",
    )
    return _post(fuzz_app, payload)


def test_a_screen_link_minted_from_a_crafted_form_takes_the_defaults(
    fuzz_app: dash.Dash, fuzz_svc: Services
) -> None:
    """Days '²' or 5,000 digits (int() refuses both), a label that is a list, an object, a
    number or holds a lone surrogate, a page that is a list: each was a 500. Each now
    mints the link with that field's default (a day, "wall screen", any page)."""
    crafted = [
        (tl.SCREEN_DAYS, "²"),
        (tl.SCREEN_DAYS, "9" * 5000),
        (tl.SCREEN_LABEL, ["ops"]),
        (tl.SCREEN_LABEL, {"a": 1}),
        (tl.SCREEN_LABEL, 5),
        (tl.SCREEN_LABEL, "ops\ud800"),
        (tl.SCREEN_PAGE, ["/wall"]),
        (tl.SCREEN_PAGE, {"a": 1}),
    ]
    for field, value in crafted:
        shown = json.dumps(_mint(fuzz_app, SCREENS, tl.SCREEN_CREATE, **{f"{field}.value": value}))
        assert "/kiosk/enrol?t=smd_s_" in shown, (field, value)
    with fuzz_svc.sessions() as s:
        minted = s.scalars(select(AccessToken).order_by(AccessToken.id)).all()
        audited = s.scalars(select(AuditEntry).where(AuditEntry.action == "mint_screen_token"))
        assert [e.target for e in audited] == [t.label for t in minted]
    assert len(minted) == len(crafted)
    assert {(t.expires_at - t.created_at).days for t in minted} == {1}
    assert {t.label for t in minted} == {"wall screen", "ops\ufffd"}
    assert {t.page_limit for t in minted} == {None}


def test_an_api_token_minted_from_a_crafted_form_is_a_viewer_or_refused(
    fuzz_app: dash.Dash, fuzz_svc: Services
) -> None:
    """A role that is a list or an object reached `.strip()`; scopes that are a number
    were iterated: 500s. A role that is not text is the viewer default; scopes that are
    not a list of text are none, which refuses the token and writes nothing."""
    for role, scopes in [(["admin"], ["export"]), ({"a": 1}, ["metrics"])]:
        values = {f"{tl.API_ROLE}.value": role, f"{tl.API_SCOPES}.value": scopes}
        assert "smd_a_" in json.dumps(_mint(fuzz_app, API, tl.API_CREATE, **values)), role
    before = row_counts(fuzz_svc.sessions, *WRITTEN)
    for scopes in [5, [["export"]], "export", {"export": 1}]:
        values = {f"{tl.API_ROLE}.value": "viewer", f"{tl.API_SCOPES}.value": scopes}
        shown = json.dumps(_mint(fuzz_app, API, tl.API_CREATE, **values))
        assert "Choose at least one scope." in shown, scopes
    assert row_counts(fuzz_svc.sessions, *WRITTEN) == before
    with fuzz_svc.sessions() as s:
        assert [t.role for t in s.scalars(select(AccessToken))] == ["viewer", "viewer"]


def test_nav_links_answer_the_links_the_request_names(fuzz_app: dash.Dash) -> None:
    """The navbar's ALL callback answered one value per state while Dash expects one per
    output id: a request listing fewer (or more) outputs than states was a 500."""
    key = _key(fuzz_app, "smd-nav-link", "aria-current")
    for states in (0, 1, 3):
        payload = body(fuzz_app, key, {"smd-url.pathname": "/logs"})
        links = [{"type": "smd-nav-link", "index": i} for i in range(2)]
        payload["outputs"] = [
            [{"id": i, "property": p} for i in links] for p in ("aria-current", "className")
        ]
        payload["state"] = [
            [{"id": {"type": "smd-nav-link", "index": i}, "property": "href", "value": "/logs"}
             for i in range(states)]
        ]  # fmt: skip
        shown = _post(fuzz_app, payload)
        classes = [v["className"] for v in shown.values()]
        assert classes == (["nav-link active"] * min(states, 2) + ["nav-link"] * 2)[:2], states


def test_a_result_block_athena_cannot_serve_is_a_note_not_an_error(
    fuzz_app: dash.Dash, fuzz_svc: Services
) -> None:
    """Scrolling a finished query's result while Athena is unreachable raised the
    connection error out of the grid's callback (500, a grid stuck loading)."""
    with fuzz_svc.sessions.begin() as s:
        s.add(athena_query("q-1", fuzz_svc.clock.now()))
    key = _key(fuzz_app, f"{athena_layout.GRID}.getRowsResponse")
    payload = body(
        fuzz_app,
        key,
        {
            f"{athena_layout.GRID}.getRowsRequest": {"startRow": 0, "endRow": 100},
            f"{athena_layout.RESULT_FOR}.data": "q-1",
        },
    )
    shown = _post(fuzz_app, payload)
    assert shown[athena_layout.GRID]["getRowsResponse"] == {"rowData": []}
    assert "could not be read just now" in shown[athena_layout.RESULT_NOTE]["children"]


def test_an_athena_link_whose_store_holds_text_utf8_cannot_carry_opens_the_editor(
    fuzz_app: dash.Dash, fuzz_svc: Services
) -> None:
    """The page keeps the URL's q=/fork=/saved= in a store; a crafted request put a lone
    surrogate there and the query lookup could not encode it (500). Run with such a
    fork id neither reached Athena nor wrote a query."""
    key = _key(fuzz_app, f"{athena_layout.SQL}.value", f"{athena_layout.PARAMETERS}.value")
    for opened in ({"q": "\ud800"}, {"fork": "\ud800"}, {"saved": "\ud800"}, {"q": "a\x00"}):
        _post(fuzz_app, body(fuzz_app, key, {f"{athena_layout.OPENED}.data": opened}))
    run = _key(fuzz_app, f"{athena_layout.QUERY}.data", f"{athena_layout.DRAFT}.data")
    before = row_counts(fuzz_svc.sessions, AthenaQuery, SavedQuery)
    values = {
        f"{athena_layout.RUN}.n_clicks": 1,
        f"{athena_layout.SQL}.value": "SELECT 1",
        f"{athena_layout.OPENED}.data": {"fork": "\ud800"},
        f"{athena_layout.DRAFT}.data": "d" * 32,
    }
    _post(fuzz_app, body(fuzz_app, run, values))
    assert row_counts(fuzz_svc.sessions, AthenaQuery, SavedQuery) == before


@pytest.mark.parametrize("source", ["run:\ud800", "function:\ud800x", "run:a\x00"])
def test_a_log_view_store_naming_an_unencodable_source_keeps_tailing(
    fuzz_app: dash.Dash, source: str
) -> None:
    """The live view renews its watch on the streams it shows, by the source its store
    names: a surrogate there reached the watch rows (UTF-8 cannot encode it) and every
    tail tick was a 500. The store's text is narrowed like any input now."""
    key = _key(fuzz_app, "logs-lines.children@", "logs-view.data@")
    view = {"source": source, "q": "\ud800", "level": None, "since": "2026-11-24T18:00:00Z",
            "until": None, "cursor": 0, "count": 0, "trimmed": False, "live": True,
            "watch_renew_at": "2020-01-01T00:00:00Z", "run_state": None}  # fmt: skip
    shown = _post(
        fuzz_app, body(fuzz_app, key, {"logs-tail.n_intervals": 1, "logs-view.data": view})
    )
    assert shown["logs-view"]["data"]["source"] == source.replace("\ud800", "\ufffd").replace(
        "\x00", "\ufffd"
    )


@pytest.mark.parametrize("level", ["24h", "warning", ""])
def test_a_log_view_store_with_a_level_no_line_has_stops_the_tail(
    fuzz_app: dash.Dash, level: str
) -> None:
    """The store's level went straight to `LEVELS.index`: '24h' raised ValueError on every
    tail tick (500s). A view the page never wrote stops the tail; the next filter change
    writes a good one."""
    key = _key(fuzz_app, "logs-lines.children@", "logs-view.data@")
    view = {"source": "run:jr_crm_2", "q": None, "level": level, "since": "2026-11-24T18:00:00Z",
            "until": None, "cursor": 0, "count": 0, "trimmed": False, "live": False,
            "watch_renew_at": None, "run_state": None}  # fmt: skip
    payload = body(fuzz_app, key, {"logs-tail.n_intervals": 1, "logs-view.data": view})
    assert _post(fuzz_app, payload) == {}  # nothing on the page changes
