"""The Athena page's callbacks inside a real app: roles, status, warning, history, saved."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from collectors.athena import collect_catalog
from dashapp.app import create_app
from dashapp.aws.clients import AwsClients
from dashapp.clock import FixedClock
from dashapp.config import Settings
from dashapp.models import AuditEntry
from dashapp.services import Services
from pages.athena import callbacks as cb
from pages.athena import layout as al
from tests.athena.conftest import follow_until_done
from tests.web.tree import ids, text


@pytest.fixture
def make_app(aws, db_url, t0, boto_session):
    built = []

    def make(role: str):
        settings = Settings(
            database_url=db_url,
            _env_file=None,
            local_role=role,
            aws_max_attempts=1,
            athena_results_bucket="smd-athena-results",
        )
        svc = Services.build(settings, clock=FixedClock(t0))
        svc.aws = AwsClients(settings, session=boto_session)
        built.append(svc)
        return create_app(settings, services=svc), svc

    yield make
    for svc in built:
        svc.engine.dispose()


def test_the_page_draws_editor_schema_result_and_history_and_keeps_q_in_the_url() -> None:
    page = al.layout(q="abc", range="24h")
    drawn = set(ids(page))
    assert {al.SQL, al.RUN, al.CANCEL, al.GRID, al.SCHEMA, al.HISTORY, al.COSTS} <= drawn
    assert al.URL_STATE.params["q"] == (al.QUERY, "data")


def test_a_viewer_reads_but_cannot_run_and_the_refusal_is_audited(make_app, catalog, sessions):
    app, svc = make_app("viewer")
    with app.server.test_request_context("/athena"):
        _, message, _, _ = cb.run_action(svc, "SELECT 1", "processed", "", False, 60, "v" * 32)
        saved = cb.saved_view(svc, True, "mine", False, "SELECT 1", "processed")
    assert "athena.run needs operator" in text(message).replace(
        "athena run", "athena.run"
    ) or "needs operator" in text(message)
    assert "needs operator" in text(saved)
    with sessions() as s:
        assert [(a.action, a.outcome) for a in s.scalars(select(AuditEntry))] == [
            ("athena.run", "denied"),
            ("athena.save", "denied"),
        ]


def test_an_operator_runs_sees_it_succeed_with_cost_and_pages_the_result(
    make_app, catalog, ctx, sessions
):
    app, svc = make_app("operator")
    with app.server.test_request_context("/athena"):
        query_id, message, token, poll_off = cb.run_action(
            svc,
            "SELECT order_id FROM orders WHERE ingest_date = ?",
            "processed",
            "string 2026-03-02",
            False,
            None,
            "o" * 32,
        )
        assert "Query started" in text(message) and poll_off is False and token != "o" * 32
        follow_until_done(ctx, sessions, query_id)
        panel, poll_disabled, cancel_disabled, href, klass, result_for, _ = cb.status_view(
            svc, query_id
        )
        assert "Succeeded" in text(panel) and "10.0 MB billed" in text(panel)
        assert (poll_disabled, cancel_disabled, result_for) == (True, True, query_id)
        assert href == f"/export/athena/{query_id}.csv" and "d-none" not in klass
        response, columns, note = cb.grid_block(svc, query_id, {"startRow": 0, "endRow": 1000})
        assert "rowCount" not in response and len(response["rowData"]) == 1000
        last, _, note = cb.grid_block(svc, query_id, {"startRow": 1000, "endRow": 2000})
        assert last["rowCount"] == 1200 and len(last["rowData"]) == 200 and note == "1,200 rows"
        assert columns[0]["headerName"].startswith("order_id (")
        rows, _ = cb.history_view(svc, "24h", None, None)
        assert rows[0]["state"] == "SUCCEEDED" and f"q={query_id}" in rows[0]["open"]
        saved = cb.saved_view(svc, True, "daily orders", True, "SELECT 1", "processed")
        assert "Saved as “daily orders” (shared)." in text(saved)


def test_a_query_without_a_partition_filter_is_flagged_before_it_runs(make_app, catalog, ctx):
    collect_catalog(ctx)
    app, svc = make_app("operator")
    with app.server.test_request_context("/athena"):
        warned = cb.warning_view(svc, "SELECT * FROM orders")
        calm = cb.warning_view(svc, "SELECT * FROM orders WHERE ingest_date = '2026-03-01'")
    assert "No partition filter on orders (partitioned by ingest_date)" in text(warned)
    assert calm is None


def test_parameters_are_read_one_typed_value_per_line() -> None:
    assert cb.parse_parameters("date 2026-03-01\n\nAlice Smith\ninteger 4") == [
        {"type": "date", "value": "2026-03-01"},
        {"type": "string", "value": "Alice Smith"},
        {"type": "integer", "value": "4"},
    ]


def test_a_reopened_query_fills_the_editor_and_saved_queries_stay_private(
    make_app, catalog, ctx, sessions
):
    app, svc = make_app("operator")
    with app.server.test_request_context("/athena"):
        query_id, *_ = cb.run_action(
            svc,
            "SELECT count(*) FROM orders WHERE ingest_date = ?",
            "processed",
            "string 2026-03-01",
            False,
            None,
            "r" * 32,
        )
        sql, database, params, message = cb.opened_editor(svc, "local", {"q": query_id})
        assert sql.startswith("SELECT count(*)") and database == "processed"
        assert params == "string 2026-03-01" and "Run runs it again" in text(message)
        assert "Editing a copy" in text(cb.opened_editor(svc, "local", {"fork": query_id})[3])
        cb.saved_view(svc, True, "private one", False, "SELECT 2", "processed")
    with sessions() as s:
        from dashapp.models import SavedQuery

        saved_id = s.scalars(select(SavedQuery.id)).one()
    with app.server.test_request_context("/athena"):
        mine = cb.opened_editor(svc, "local", {"saved": str(saved_id)})
        theirs = cb.opened_editor(svc, "someone-else", {"saved": str(saved_id)})
    assert mine[0] == "SELECT 2"
    assert "private to someone else" in text(theirs[3])
