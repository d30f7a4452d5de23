"""Write paths under bad input: a refusal leaves no row behind but the audit of it.

Each action is driven through its page's callback, as a browser or a crafted request
would, with AWS unreachable (every call fails as in an outage). Afterwards the tables it
writes are compared with before:

- Athena Run: no `athena_queries` row (nothing started); refusals and AWS errors audited;
- Athena Save: one saved query and one `ok` audit when the page says "Saved as", else none;
- Start job: no `job_runs` row; each refusal audited, never as `ok`;
- Access mint: one token and one `ok` audit when the link or token is shown, else none.
"""

from __future__ import annotations

import json
from typing import Any

import dash
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dashapp.models import AccessToken, AthenaQuery, AuditEntry, JobRun, SavedQuery
from dashapp.services import Services
from layouts import job_actions as ja
from pages.access import tokens_layout as tl
from pages.athena import layout as al
from tests.reliability.action_inputs import argument_lines, parameters_text, sql_text
from tests.reliability.conftest import examples
from tests.reliability.outcomes import row_counts
from tests.reliability.strategies import edge_ints, edge_text, hostile_text, json_values
from tests.signin.dash_calls import body
from tests.web.seed import seed_demo


def _text() -> st.SearchStrategy[Any]:
    """A form field: what a person types, what breaks parsers, and (crafted) any JSON."""
    return st.one_of(st.none(), edge_text(), hostile_text(), json_values(2))


def _key(app: dash.Dash, *fragments: str) -> str:
    (key,) = [k for k in app.callback_map if "callback" in app.callback_map[k] and all(
        f in k for f in fragments)]  # fmt: skip
    return key


def _post(app: dash.Dash, payload: dict[str, Any]) -> str:
    response = app.server.test_client().post("/_dash-update-component", json=payload)
    assert response.status_code in (200, 204), response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def _outcomes_since(svc: Services, after: int) -> list[str]:
    with svc.sessions() as s:
        return list(s.scalars(select(AuditEntry.outcome).where(AuditEntry.id > after)))


def _last_audit(svc: Services) -> int:
    with svc.sessions() as s:
        return max(s.scalars(select(AuditEntry.id)).all(), default=0)


def test_a_refused_or_failed_athena_run_writes_only_its_audit(
    fuzz_app: dash.Dash, fuzz_svc: Services
) -> None:
    key = _key(fuzz_app, f"{al.QUERY}.data", f"{al.DRAFT}.data")

    @settings(max_examples=examples(60))
    @given(
        sql=st.one_of(sql_text(), _text()),
        database=_text(),
        params=st.one_of(parameters_text(), _text()),
        reuse=st.one_of(st.booleans(), json_values(1)),
        minutes=st.one_of(edge_ints(), _text()),
        draft=st.one_of(st.just("d" * 32), _text()),
    )
    def check(sql: Any, database: Any, params: Any, reuse: Any, minutes: Any, draft: Any) -> None:
        before, audited = row_counts(fuzz_svc.sessions, AthenaQuery), _last_audit(fuzz_svc)
        values = {
            f"{al.RUN}.n_clicks": 1,
            f"{al.SQL}.value": sql,
            f"{al.DATABASE}.value": database,
            f"{al.PARAMETERS}.value": params,
            f"{al.REUSE}.value": reuse,
            f"{al.REUSE_MINUTES}.value": minutes,
            f"{al.DRAFT}.data": draft,
        }
        _post(fuzz_app, body(fuzz_app, key, values))
        assert row_counts(fuzz_svc.sessions, AthenaQuery) == before
        assert "ok" not in _outcomes_since(fuzz_svc, audited)

    check()


def test_a_saved_query_is_stored_whole_or_not_at_all(
    fuzz_app: dash.Dash, fuzz_svc: Services
) -> None:
    """A database name past its column's 255 characters failed the PostgreSQL write (500)."""
    key = _key(fuzz_app, f"{al.SAVED}.children")

    @settings(max_examples=examples(60))
    @given(name=_text(), sql=st.one_of(sql_text(), _text()), database=_text(), shared=_text())
    @example(name="daily", sql="SELECT 1", database="x" * 300, shared=None)
    def check(name: Any, sql: Any, database: Any, shared: Any) -> None:
        audited = _last_audit(fuzz_svc)
        with fuzz_svc.sessions() as s:
            before = {(q.id, q.sql) for q in s.scalars(select(SavedQuery))}
        values = {
            f"{al.SAVE}.n_clicks": 1,
            f"{al.SAVE_NAME}.value": name,
            f"{al.SQL}.value": sql,
            f"{al.DATABASE}.value": database,
            f"{al.SAVE_SHARED}.value": shared,
        }
        shown = _post(fuzz_app, body(fuzz_app, key, values, trigger=f"{al.SAVE}.n_clicks"))
        with fuzz_svc.sessions() as s:
            after = {(q.id, q.sql) for q in s.scalars(select(SavedQuery))}
        if "Saved as" in shown:  # a new query, or the same name's query updated
            assert len(after) - len(before) in (0, 1)
            assert _outcomes_since(fuzz_svc, audited) == ["ok"]
        else:
            assert after == before and _outcomes_since(fuzz_svc, audited) == []

    check()


def test_a_refused_job_start_writes_only_its_audit(fuzz_app: dash.Dash, fuzz_svc: Services) -> None:
    with fuzz_svc.sessions.begin() as s:
        seed_demo(s, fuzz_svc.clock.now())
    key = _key(fuzz_app, ja.START_RESULT)
    before = row_counts(fuzz_svc.sessions, JobRun)

    @settings(max_examples=examples(60))
    @given(
        job=st.one_of(st.sampled_from(["sales-orders-ingest", "nope"]), hostile_text()),
        args=st.one_of(argument_lines(), _text()),
        token=_text(),
    )
    def check(job: str, args: Any, token: Any) -> None:
        audited = _last_audit(fuzz_svc)
        payload = body(fuzz_app, key)
        for group in ("outputs", "inputs", "state"):
            entries = payload[group] if isinstance(payload[group], list) else [payload[group]]
            for entry in entries:
                entry["id"]["job"] = job
        payload["inputs"][0]["value"] = 1
        payload["state"][0]["value"], payload["state"][1]["value"] = args, token
        _post(fuzz_app, payload)
        assert row_counts(fuzz_svc.sessions, JobRun) == before  # AWS is down: nothing starts
        assert "ok" not in _outcomes_since(fuzz_svc, audited)

    check()


def test_a_token_is_minted_whole_or_not_at_all(fuzz_app: dash.Dash, fuzz_svc: Services) -> None:
    screens = f"..{tl.SCREEN_TABLE}.children...{tl.SCREEN_NEW}.children.."
    apis = f"..{tl.API_TABLE}.children...{tl.API_NEW}.children.."

    @settings(max_examples=examples(60))
    @given(
        api=st.booleans(),
        label=_text(),
        choice=st.one_of(st.sampled_from(["viewer", "admin", "/wall", "/logs"]), _text()),
        scopes=st.one_of(st.just(["export"]), st.lists(_text(), max_size=2), _text()),
        days=st.one_of(st.sampled_from(["7", "366", "367", "0"]), edge_ints(), _text()),
    )
    def check(api: bool, label: Any, choice: Any, scopes: Any, days: Any) -> None:
        before, audited = row_counts(fuzz_svc.sessions, AccessToken), _last_audit(fuzz_svc)
        create = tl.API_CREATE if api else tl.SCREEN_CREATE
        values = {"smd-url.pathname": "/access", f"{create}.n_clicks": 1}
        if api:
            values |= {f"{tl.API_LABEL}.value": label, f"{tl.API_ROLE}.value": choice,
                       f"{tl.API_SCOPES}.value": scopes, f"{tl.API_DAYS}.value": days}  # fmt: skip
        else:
            values |= {f"{tl.SCREEN_LABEL}.value": label, f"{tl.SCREEN_PAGE}.value": choice,
                       f"{tl.SCREEN_DAYS}.value": days}  # fmt: skip
        payload = body(fuzz_app, apis if api else screens, values, trigger=f"{create}.n_clicks")
        shown = _post(fuzz_app, payload)
        minted = (
            row_counts(fuzz_svc.sessions, AccessToken)[AccessToken.__tablename__]
            - before[AccessToken.__tablename__]
        )
        if "smd_a_" in shown or "smd_s_" in shown:
            assert minted == 1 and _outcomes_since(fuzz_svc, audited) == ["ok"]
        else:
            assert minted == 0 and _outcomes_since(fuzz_svc, audited) == []
        json.loads(shown)  # the answer itself is whole JSON

    check()
