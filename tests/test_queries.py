"""The read side on both databases: what pages and /readyz are told about the stored state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dashapp.db import head_revision
from dashapp.models import CollectorStatus
from dashapp.queries import job_summaries
from dashapp.queries import system as queries
from tests.web.seed import collector, glue_job, job_run

NOW = datetime(2026, 11, 25, 18, 32, 17, tzinfo=UTC)
LIMIT = 180


def _add(sessions: sessionmaker[Session], *rows: object) -> None:
    with sessions.begin() as session:
        session.add_all(rows)


def test_collector_statuses_are_listed_by_name(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert queries.collector_statuses(session) == []
    _add(
        sessions,
        collector("metrics", NOW, ok_ago_s=5),
        collector("glue_runs", NOW, ok_ago_s=1),
        collector("logs", NOW, ok_ago_s=None),
    )
    with sessions() as session:
        statuses = queries.collector_statuses(session)
    assert [s.name for s in statuses] == ["glue_runs", "logs", "metrics"]
    assert statuses[0].last_success_at == NOW - timedelta(seconds=1)
    assert statuses[0].last_success_at.tzinfo is not None


def test_freshness_of_an_empty_table_is_empty(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        found = queries.freshness(session, NOW, LIMIT)
    assert found.state == "empty"
    assert found.as_of is None
    assert found.collectors == 0


def test_freshness_is_as_of_the_oldest_success(sessions: sessionmaker[Session]) -> None:
    _add(
        sessions,
        collector("glue_runs", NOW, ok_ago_s=12),
        collector("metrics", NOW, ok_ago_s=LIMIT),  # exactly at the limit is still fresh
    )
    with sessions() as session:
        found = queries.freshness(session, NOW, LIMIT)
    assert found.state == "fresh"
    assert found.as_of == NOW - timedelta(seconds=LIMIT)
    assert found.age_s == pytest.approx(LIMIT)
    assert found.collectors == 2
    assert found.lagging == ()


def test_freshness_names_every_lagging_collector(sessions: sessionmaker[Session]) -> None:
    _add(
        sessions,
        collector("glue_runs", NOW, ok_ago_s=12),
        collector("metrics", NOW, ok_ago_s=LIMIT + 1),
        collector("logs", NOW, ok_ago_s=None, last_error="AccessDenied"),
    )
    with sessions() as session:
        found = queries.freshness(session, NOW, LIMIT)
    assert found.state == "stale"
    assert [c.name for c in found.lagging] == ["logs", "metrics"]
    assert found.lagging[0].last_success_at is None
    assert found.lagging[1].age_s == pytest.approx(LIMIT + 1)
    # The collector that never succeeded does not drag as_of to "never".
    assert found.as_of == NOW - timedelta(seconds=LIMIT + 1)


def test_a_collector_that_runs_rarely_is_judged_by_its_own_interval(
    sessions: sessionmaker[Session],
) -> None:
    """Retention runs hourly: 40 minutes after its last run it is on time, not stale."""
    _add(
        sessions,
        collector("glue_runs", NOW, ok_ago_s=12),
        collector("retention", NOW, ok_ago_s=40 * 60, interval_s=3600.0),
    )
    with sessions() as session:
        assert queries.freshness(session, NOW, LIMIT).state == "fresh"
    with sessions.begin() as session:
        row = session.get(CollectorStatus, "retention")
        row.last_success_at = NOW - timedelta(hours=2, seconds=1)
    with sessions() as session:
        found = queries.freshness(session, NOW, LIMIT)
    assert found.state == "stale"
    assert [c.name for c in found.lagging] == ["retention"]


def test_freshness_when_no_collector_ever_succeeded(sessions: sessionmaker[Session]) -> None:
    _add(sessions, collector("glue_runs", NOW, ok_ago_s=None))
    with sessions() as session:
        found = queries.freshness(session, NOW, LIMIT)
    assert found.state == "stale"
    assert found.as_of is None
    assert found.age_s is None


def test_job_summaries_report_latest_run_and_last_success(
    sessions: sessionmaker[Session],
) -> None:
    hours = lambda n: NOW - timedelta(hours=n)  # noqa: E731
    _add(
        sessions,
        glue_job("orders", NOW),
        glue_job("crm", NOW, gone_at=hours(1)),
        glue_job("idle", NOW),
        # Inserted out of order: "latest" must come from started_at, not insertion.
        job_run("o3", "orders", "FAILED", hours(1), duration_s=30.0, error_message="boom"),
        job_run("o1", "orders", "SUCCEEDED", hours(30)),
        job_run("o2", "orders", "SUCCEEDED", hours(5), duration_s=600.0),
        job_run("c1", "crm", "SUCCEEDED", hours(48)),
        job_run("x1", "not-asked-for", "SUCCEEDED", hours(1)),
    )
    with sessions() as session:
        found = job_summaries.job_summaries(session, ["orders", "crm", "idle", "missing", "orders"])

    assert set(found) == {"orders", "crm", "idle", "missing"}
    orders = found["orders"]
    assert orders.known
    assert orders.gone_at is None
    assert orders.last_run is not None
    assert (orders.last_run.run_id, orders.last_run.state) == ("o3", "FAILED")
    assert orders.last_run.error_message == "boom"
    assert orders.last_run.started_at == hours(1)
    # The last success is the newer SUCCEEDED run's completion, not the later failure.
    assert orders.last_success_at == hours(5) + timedelta(seconds=600)
    assert orders.last_success_at.tzinfo is not None

    assert found["crm"].gone_at == hours(1)
    assert found["crm"].last_run is not None
    assert found["crm"].last_run.run_id == "c1"
    assert found["idle"].known
    assert found["idle"].last_run is None
    assert found["idle"].last_success_at is None
    missing = found["missing"]
    assert (missing.known, missing.last_run, missing.last_success_at) == (False, None, None)


def test_job_summaries_break_start_time_ties_by_run_id(sessions: sessionmaker[Session]) -> None:
    started = NOW - timedelta(minutes=5)
    _add(
        sessions,
        job_run("jr_a", "orders", "FAILED", started),
        job_run("jr_b", "orders", "RUNNING", started, duration_s=None),
    )
    with sessions() as session:
        found = job_summaries.job_summaries(session, ["orders"])
    assert found["orders"].last_run is not None
    assert found["orders"].last_run.run_id == "jr_b"


def test_job_summaries_of_no_jobs_is_empty(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert job_summaries.job_summaries(session, []) == {}


def test_glue_jobs_collected(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert job_summaries.glue_jobs_collected(session) is False
    _add(sessions, glue_job("orders", NOW))
    with sessions() as session:
        assert job_summaries.glue_jobs_collected(session) is True


def test_database_info_names_backend_and_revision(engine: Engine) -> None:
    info = queries.database_info(engine)
    assert info.backend == {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[engine.dialect.name]
    assert info.server_version[0].isdigit()
    assert info.revision == head_revision() == info.head
    assert info.up_to_date
