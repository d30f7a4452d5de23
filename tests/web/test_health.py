"""/healthz and /readyz on both databases: what an orchestrator and an operator are told."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import dash
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from dashapp.app import create_app
from dashapp.clock import FixedClock
from dashapp.config import Settings
from dashapp.db import head_revision, make_engine
from dashapp.services import Services
from dashapp.web.health import readiness
from tests.web.conftest import NOW
from tests.web.seed import collector

UPGRADE = "run `python -m dashapp db upgrade`"


def _add(sessions: sessionmaker[Session], *rows: object) -> None:
    with sessions.begin() as session:
        session.add_all(rows)


# --- readiness(), directly ------------------------------------------------------


def test_ready_when_migrated_and_every_collector_is_fresh(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings
) -> None:
    _add(
        sessions,
        collector("glue_runs", NOW, ok_ago_s=12),
        collector("metrics", NOW, ok_ago_s=settings.stale_after_s),
    )
    ok, reasons, details = readiness(engine, NOW, settings)
    assert (ok, reasons) == (True, [])
    assert details["database"] == {
        "backend": engine.dialect.name,
        "revision": head_revision(),
        "head": head_revision(),
        "read_only": False,
    }
    assert details["checked_at"] == "2026-11-25T18:32:17Z"
    assert [c["name"] for c in details["collectors"]] == ["glue_runs", "metrics"]
    assert details["collectors"][0]["last_success_at"] == "2026-11-25T18:32:05Z"
    assert details["collectors"][0]["age_s"] == 12.0


def test_readiness_accepts_a_session(sessions: sessionmaker[Session], settings: Settings) -> None:
    _add(sessions, collector("glue_runs", NOW, ok_ago_s=1))
    with sessions() as session:
        ok, reasons, _ = readiness(session, NOW, settings)
    assert ok, reasons


def test_unready_when_a_collector_is_stale(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings
) -> None:
    _add(
        sessions,
        collector("glue_runs", NOW, ok_ago_s=412),
        collector("metrics", NOW, ok_ago_s=3),
    )
    ok, reasons, _ = readiness(engine, NOW, settings)
    assert not ok
    assert reasons == ["collector glue_runs last succeeded 412 s ago (limit 180 s)"]


def test_unready_when_a_collector_never_succeeded(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings
) -> None:
    _add(
        sessions,
        collector(
            "logs",
            NOW,
            ok_ago_s=None,
            last_error="AccessDeniedException: not authorised\nTraceback ...",
        ),
    )
    ok, reasons, _ = readiness(engine, NOW, settings)
    assert not ok
    assert reasons == [
        "collector logs has not succeeded yet (last error: AccessDeniedException: not authorised)"
    ]


def test_unready_when_no_collector_has_reported(engine: Engine, settings: Settings) -> None:
    ok, reasons, details = readiness(engine, NOW, settings)
    assert not ok
    assert reasons == ["no collector has reported yet: start one with `python -m collectors`"]
    assert details["collectors"] == []


def test_unready_when_the_database_was_never_migrated(
    unmigrated_url: str, settings: Settings
) -> None:
    engine = make_engine(unmigrated_url)
    try:
        ok, reasons, details = readiness(engine, NOW, settings)
    finally:
        engine.dispose()
    assert not ok
    assert reasons == [f"database has no schema (never migrated): {UPGRADE}"]
    assert details["database"]["revision"] is None


def test_unready_when_the_database_is_at_another_revision(
    unmigrated_url: str, settings: Settings
) -> None:
    engine = make_engine(unmigrated_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            conn.execute(text("INSERT INTO alembic_version VALUES ('0123abcd')"))
        ok, reasons, _ = readiness(engine, NOW, settings)
    finally:
        engine.dispose()
    assert not ok
    assert reasons == [f"database at revision 0123abcd, code expects {head_revision()}: {UPGRADE}"]


def test_unready_when_the_database_is_unreachable(
    unreachable_engine: Engine, settings: Settings
) -> None:
    ok, reasons, _ = readiness(unreachable_engine, NOW, settings)
    assert not ok
    assert len(reasons) == 1
    assert reasons[0].startswith("database unreachable: ")
    assert "\n" not in reasons[0]
    assert len(reasons[0]) > len("database unreachable: ") + 5  # says why


def test_unready_when_the_database_accepts_no_writes(
    db_url: str, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """A standby, or default_transaction_read_only on: reads work, so nothing else would
    say why the collectors stop (they cannot even record their own status). SQLite has
    no such server mode: it is never reported read-only."""
    _add(sessions, collector("glue_runs", NOW, ok_ago_s=5))
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            if engine.dialect.name == "postgresql":
                session.execute(text("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"))
                session.commit()
            ok, reasons, details = readiness(session, NOW, settings)
    finally:
        engine.dispose()  # the session's connection stays read-only: never back to a pool
    if engine.dialect.name != "postgresql":
        assert (ok, details["database"]["read_only"]) == (True, False), reasons
        return
    assert not ok
    assert reasons == [
        "database is read-only (a standby, or default_transaction_read_only is on): "
        "collectors cannot store anything and actions are refused"
    ]
    assert details["database"]["read_only"] is True


def test_a_stale_collector_says_what_failed_since_its_last_success(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings
) -> None:
    full = 'database: could not extend file "base/16384/16421": No space left on device'
    _add(
        sessions,
        collector(
            "metrics",
            NOW,
            ok_ago_s=412,
            last_error_at=NOW - timedelta(seconds=20),
            last_error=full + "\nHINT:  Check free disk space.",
        ),
        # An error older than the last success is over: not repeated.
        collector(
            "glue_runs",
            NOW,
            ok_ago_s=400,
            last_error_at=NOW - timedelta(seconds=500),
            last_error="ThrottlingException: Rate exceeded",
        ),
    )
    ok, reasons, _ = readiness(engine, NOW, settings)
    assert not ok
    assert reasons == [
        "collector glue_runs last succeeded 400 s ago (limit 180 s)",
        f"collector metrics last succeeded 412 s ago (limit 180 s); last error: {full}",
    ]


# --- the HTTP routes ----------------------------------------------------------------


def test_healthz_answers_without_touching_the_database(
    settings: Settings, unreachable_svc: Services
) -> None:
    client = create_app(settings, services=unreachable_svc).server.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    # The same app is not ready, and says why.
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["reasons"][0].startswith("database unreachable: ")


def test_readyz_is_200_when_fresh(app: dash.Dash, sessions: sessionmaker[Session]) -> None:
    _add(sessions, collector("glue_runs", NOW, ok_ago_s=5))
    response = app.server.test_client().get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["collectors"][0]["name"] == "glue_runs"
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_503_when_stale_and_follows_the_clock(
    app: dash.Dash, sessions: sessionmaker[Session], clock: FixedClock
) -> None:
    _add(sessions, collector("glue_runs", NOW, ok_ago_s=5))
    client = app.server.test_client()
    assert client.get("/readyz").status_code == 200
    clock.advance(timedelta(seconds=407))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unready"
    assert response.get_json()["reasons"] == [
        "collector glue_runs last succeeded 412 s ago (limit 180 s)"
    ]


def test_readyz_is_503_when_empty(app: dash.Dash) -> None:
    response = app.server.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["reasons"] == [
        "no collector has reported yet: start one with `python -m collectors`"
    ]


def test_readyz_is_503_on_an_unmigrated_database(
    unmigrated_url: str, make_services: Callable[[Settings], Services]
) -> None:
    settings = Settings(database_url=unmigrated_url, _env_file=None)
    client = create_app(settings, services=make_services(settings)).server.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["reasons"] == [f"database has no schema (never migrated): {UPGRADE}"]
