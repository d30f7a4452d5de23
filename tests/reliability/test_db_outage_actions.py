"""A job action cut by a database crash: nothing half-written, and the user is told what happened.

Why: starting a job claims the request, calls Glue, then writes the claim's outcome, the
new run and the audit entry in one transaction. A server crash in that last step must
leave none of the three (never a run without its audit entry, or a claim marked started
with no run), and the user must read that Glue did start the run although it is not
recorded yet; a crash before Glue is called must start nothing and say so. Glue is
in-process moto; the database a private cluster the test kills from inside the
action's own INSERT into the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from callbacks import job_actions as ja_cb
from dashapp.app import create_app
from dashapp.aws.clients import AwsClients
from dashapp.clock import FixedClock
from dashapp.config import Settings
from dashapp.models import AuditEntry, GlueJob, JobAction, JobRun
from dashapp.services import Services
from tests.collectors.conftest import aws as aws
from tests.collectors.conftest import boto_session as boto_session
from tests.collectors.conftest import client, create_job
from tests.reliability.conftest import NOW
from tests.reliability.figure_report import report
from tests.reliability.pg_cluster import PgCluster
from tests.web.tree import text as text_of

JOB = "ingest-orders"


@pytest.fixture
def operator_app(
    cluster_db: Engine, aws: None, boto_session: Any
) -> Iterator[tuple[Any, Services]]:
    url = cluster_db.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, _env_file=None, local_role="operator", aws_max_attempts=1)
    svc = Services.build(settings, clock=FixedClock(NOW))
    svc.aws = AwsClients(settings, session=boto_session)
    create_job(JOB, ExecutionProperty={"MaxConcurrentRuns": 10})
    with svc.sessions.begin() as s:
        s.add(GlueJob(name=JOB, first_seen_at=NOW, last_seen_at=NOW))
    yield create_app(settings, services=svc), svc
    svc.engine.dispose()


def _crash_before(svc: Services, cluster: PgCluster, statement: str) -> list[str]:
    hit: list[str] = []

    def before(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if not hit and sql.startswith(statement):
            hit.append(sql[:40])
            cluster.restart("immediate")

    event.listen(svc.engine, "before_cursor_execute", before)
    return hit


def _rows(svc: Services) -> dict[str, Any]:
    with Session(svc.engine) as s:
        return {
            "claims": [(c.status, c.new_run_id) for c in s.scalars(select(JobAction))],
            "runs": list(s.scalars(select(JobRun.run_id))),
            "audit": [(a.action, a.outcome) for a in s.scalars(select(AuditEntry))],
        }


def _glue_runs() -> list[str]:
    return [r["Id"] for r in client("glue").get_job_runs(JobName=JOB)["JobRuns"]]


def test_a_crash_while_recording_a_started_run_leaves_nothing_half_written(
    operator_app: tuple[Any, Services], pg_cluster: PgCluster, request: pytest.FixtureRequest
) -> None:
    app, svc = operator_app
    hit = _crash_before(svc, pg_cluster, "INSERT INTO audit_log")
    with app.server.test_request_context("/"):
        feedback, result, _open = ja_cb.start_action(svc, JOB, "--day=2026-11-25", "tok-1")
    assert hit, "the action reached its audit entry"
    said = text_of(feedback) + text_of(result)
    [started] = _glue_runs()
    assert f"Started {JOB} run {started}" in said and "could not record" in said, said
    rows = _rows(svc)
    # The last transaction is gone whole: the claim is still only claimed, no run, no entry.
    assert rows == {"claims": [("claimed", None)], "runs": [], "audit": []}, rows
    report(request, "db-faults", [f"crash at the audit INSERT of a start: {rows}; said: {said}"])


def test_a_crash_before_glue_is_called_starts_nothing_and_says_so(
    operator_app: tuple[Any, Services], pg_cluster: PgCluster
) -> None:
    app, svc = operator_app
    hit = _crash_before(svc, pg_cluster, "INSERT INTO job_actions")
    with app.server.test_request_context("/"):
        feedback, result, keep_open = ja_cb.start_action(svc, JOB, "", "tok-2")
    assert hit
    said = text_of(feedback)
    assert "database" in said.lower() and "nothing was started" in said.lower(), said
    assert result is None and keep_open
    assert _glue_runs() == []
    with Session(svc.engine) as s:
        assert s.scalar(select(func.count()).select_from(JobAction)) == 0
