"""The job-control edge: role checks (denials audited), the pages' views, the components.

Callback bodies are plain functions; they run here inside a Flask request of a
real app on both databases, with moto as Glue, as they run in the browser.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from callbacks import job_actions as ja_cb
from dashapp.app import create_app
from dashapp.aws.clients import AwsClients
from dashapp.clock import FixedClock
from dashapp.config import Settings
from dashapp.models import AuditEntry, GlueJob
from dashapp.services import Services
from layouts import job_actions as ja
from pages.audit import callbacks as audit_cb
from pages.audit import layout as audit_layout
from pages.failures import callbacks as failures_cb
from pages.failures import layout as failures_layout
from tests.jobcontrol.conftest import create_job, store_run
from tests.web.tree import text as text_of
from tests.web.tree import walk


def find_all(tree, predicate):
    return [c for c in walk(tree) if predicate(c)]


JOB = "ingest-orders"


@pytest.fixture
def make_app(aws, db_url, t0, boto_session):
    """An app whose local user has `role`, on moto and the test database."""
    built = []

    def make(role: str, **overrides):
        settings = Settings(
            database_url=db_url, _env_file=None, local_role=role, aws_max_attempts=1, **overrides
        )
        svc = Services.build(settings, clock=FixedClock(t0))
        svc.aws = AwsClients(settings, session=boto_session)
        built.append(svc)
        return create_app(settings, services=svc), svc

    yield make
    for svc in built:
        svc.engine.dispose()


@pytest.fixture
def glue_job(aws, sessions, t0):
    create_job(JOB, ExecutionProperty={"MaxConcurrentRuns": 10})
    with sessions.begin() as s:
        s.add(GlueJob(name=JOB, first_seen_at=t0, last_seen_at=t0))


def audit_rows(sessions):
    with sessions() as s:
        return [
            (a.actor, a.role, a.action, a.outcome)
            for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def test_a_viewer_is_refused_and_the_refusal_is_audited(make_app, glue_job, sessions, t0):
    store_run(sessions, "jr_f", JOB, "FAILED", t0 - timedelta(hours=1), error="Rate exceeded")
    app, svc = make_app("viewer")
    with app.server.test_request_context("/"):
        start = ja_cb.start_action(svc, JOB, "--a=1", "tok")
        rerun = ja_cb.run_action(svc, "rerun", "jr_f", "tok")
        bulk = failures_cb.bulk_action(svc, [{"run_id": "jr_f"}], "tok")
        gate, hidden, _ = audit_cb.gate_view(svc)
        rows, _ = audit_cb.table_view(svc, "7d", None, None, None)
        toolbar = ja.job_toolbar(JOB)
        actions = ja.run_actions("jr_f", JOB, "FAILED")
        disabled, hint = failures_cb.selection_state([{"run_id": "jr_f"}], False)
    assert "viewer role; start job run needs operator" in text_of(start[0])
    assert "rerun job run needs operator" in text_of(rerun)
    assert "bulk rerun needs operator" in text_of(bulk)
    assert "needs the admin role" in text_of(gate) and hidden is True and rows == []
    assert [r[2:] for r in audit_rows(sessions)] == [
        ("start_job_run", "denied"),
        ("rerun_job_run", "denied"),
        ("bulk_rerun", "denied"),
        ("view_audit_log", "denied"),
    ]
    assert all(r[:2] == ("local", "viewer") for r in audit_rows(sessions))
    # Buttons stay visible, disabled, with the reason in words.
    for tree in (toolbar, actions):
        buttons = find_all(tree, lambda c: getattr(c, "disabled", None) is not None)
        assert buttons and all(b.disabled for b in buttons)
        assert ja.NEEDS_OPERATOR in text_of(tree)
    assert disabled is True and ja.NEEDS_OPERATOR in text_of(hint)
    # Outside any request there is no identity: the controls render disabled.
    assert ja.NEEDS_OPERATOR in text_of(ja.job_toolbar(JOB))


def test_an_operator_starts_reruns_and_bulk_reruns(make_app, glue_job, sessions, t0):
    for i in (1, 2):
        store_run(sessions, f"jr_f{i}", JOB, "FAILED", t0 - timedelta(hours=i), error="x")
    app, svc = make_app("operator")
    with app.server.test_request_context("/"):
        feedback, result, keep_open = ja_cb.start_action(svc, JOB, "--JOB_NAME=x", "t1")
        assert "--JOB_NAME is set by Glue itself" in text_of(feedback) and keep_open
        feedback, result, keep_open = ja_cb.start_action(svc, JOB, "--day=2026-11-25", "t2")
        assert feedback is None and not keep_open and "Started ingest-orders run" in text_of(result)
        rows, status, options = failures_cb.grid_view(svc, "24h", None)
        assert status == "2 failed runs" and {r["run_id"] for r in rows} == {"jr_f1", "jr_f2"}
        assert [o["value"] for o in options] == [failures_layout.ALL_JOBS, JOB]
        selected = [{"run_id": "jr_f1", "job_name": JOB}, {"run_id": "jr_f2", "job_name": JOB}]
        confirm = failures_layout.confirmation(selected)
        assert "2 runs will start again" in text_of(confirm) and "jr_f2" in text_of(confirm)
        outcome = failures_cb.bulk_action(svc, selected, "bulk")
        assert "2 of 2 re-runs started." in text_of(outcome)
        rows, _, _ = failures_cb.grid_view(svc, "24h", None)
        assert all(r["retried_by"].startswith("jr_") for r in rows)
        assert failures_cb.selection_state(selected, True) == (False, "2 runs selected.")
        assert failures_cb.selection_state([], True)[0] is True
        gate, hidden, _ = audit_cb.gate_view(svc)
    assert "needs the admin role" in text_of(gate) and hidden
    # Arguments that do not parse never leave the modal: nothing happened, nothing audited.
    assert [r[2:] for r in audit_rows(sessions)] == [
        ("start_job_run", "ok"),
        ("rerun_job_run", "ok"),
        ("rerun_job_run", "ok"),
        ("view_audit_log", "denied"),
    ]


def test_failed_runs_show_the_auto_retry_status(make_app, glue_job, sessions, t0):
    store_run(sessions, "jr_t", JOB, "FAILED", t0 - timedelta(minutes=3), error="Rate exceeded")
    store_run(sessions, "jr_b", JOB, "FAILED", t0 - timedelta(minutes=4), error="KeyError: 'id'")
    store_run(
        sessions, "jr_x", JOB, "FAILED", t0 - timedelta(minutes=5), error="Rate exceeded", attempt=2
    )
    policies = {JOB: {"attempts": 2, "backoff_s": 600}}
    app, svc = make_app("admin", retry_policies=policies)
    with app.server.test_request_context("/"):
        rows, _, _ = failures_cb.grid_view(svc, "24h", JOB)
    status = {r["run_id"]: r["auto_retry"] for r in rows}
    assert status["jr_t"].startswith("Attempt 1 of 2 waits. Due ")
    assert status["jr_b"] == "The error is not a transient one."
    assert status["jr_x"] == "All 2 automatic attempts used."


def test_admins_read_the_audit_log_with_filters(make_app, sessions, t0):
    with sessions.begin() as s:
        for i, (actor, action, outcome) in enumerate(
            [
                ("olga", "start_job_run", "ok"),
                ("vic", "rerun_job_run", "denied"),
                ("collector/auto-retry", "auto_retry", "ok"),
            ]
        ):
            s.add(
                AuditEntry(
                    at=t0 - timedelta(minutes=i),
                    actor=actor,
                    role="operator",
                    action=action,
                    target=f"t{i}",
                    outcome=outcome,
                    detail={"run_id": f"jr_{i}"},
                )
            )
        s.add(
            AuditEntry(
                at=t0 - timedelta(days=9),
                actor="old",
                role="admin",
                action="start_job_run",
                target="",
                outcome="ok",
                detail={},
            )
        )
    app, svc = make_app("admin")
    with app.server.test_request_context("/"):
        gate, hidden, options = audit_cb.gate_view(svc)
        assert gate is None and hidden is False
        assert [o["value"] for o in options][1:] == ["auto_retry", "rerun_job_run", "start_job_run"]
        rows, status = audit_cb.table_view(svc, "7d", None, None, None)
        assert status == "3 entries" and rows[0]["actor"] == "olga"
        assert rows[0]["detail"] == '{"run_id": "jr_0"}'
        assert [
            r["actor"] for r in audit_cb.table_view(svc, "30d", None, "start_job_run", None)[0]
        ] == ["olga", "old"]
        assert [r["actor"] for r in audit_cb.table_view(svc, "7d", "AUTO", None, None)[0]] == [
            "collector/auto-retry"
        ]
        assert [r["actor"] for r in audit_cb.table_view(svc, "7d", "", None, "denied")[0]] == [
            "vic"
        ]
        assert [r["actor"] for r in audit_cb.table_view(svc, "7d", "%", None, None)[0]] == []


def test_components_coexist_and_offer_what_the_state_allows():
    assert text_of(ja.run_actions("r1", JOB, "SUCCEEDED", can_operate=True)) == ""
    running = ja.run_actions("r1", JOB, "RUNNING", can_operate=True)
    failed = ja.run_actions("r2", JOB, "TIMEOUT", can_operate=True)

    def shown(tree):
        return [
            text_of(b)
            for b in find_all(tree, lambda c: type(c).__name__ == "Button")
            if not getattr(b, "hidden", False)
        ]

    assert shown(running) == ["Stop", "Cancel", "Confirm"]  # the last two: in the modal
    assert shown(failed) == ["Re-run", "Cancel", "Confirm"]
    ids = [
        c.id
        for c in find_all([running, failed], lambda c: isinstance(getattr(c, "id", None), dict))
    ]
    assert len(ids) == len({tuple(sorted(i.items())) for i in ids})  # no clash between rows
    toolbar = ja.job_toolbar(JOB, can_operate=True)
    assert "Start run…" in text_of(toolbar) and ja.NEEDS_OPERATOR not in text_of(toolbar)
    assert audit_layout.PATH == "/audit" and failures_layout.PATH == "/failures"
