"""Migrations are the truth of the schema: they apply to empty databases and match the models."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import make_url

from dashapp.db import current_revision, head_revision, make_engine
from dashapp.models import Base
from tests.conftest import missing

ROOT = Path(__file__).resolve().parents[1]


def test_models_and_migrations_do_not_drift(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []
    assert current_revision(engine) == head_revision()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        missing("PostgreSQL not available: set TEST_DATABASE_URL")
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    name = f"smd_empty_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _alembic(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
    )


def test_alembic_upgrade_head_on_an_empty_database_then_check_finds_no_drift(empty_database):
    up = _alembic(empty_database, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    check = _alembic(empty_database, "check")
    assert check.returncode == 0, check.stderr + check.stdout
    assert "No new upgrade operations detected" in check.stdout + check.stderr
    down = _alembic(empty_database, "downgrade", "base")
    assert down.returncode == 0, down.stderr
    engine = make_engine(empty_database)
    assert current_revision(engine) is None
    engine.dispose()


def test_db_upgrade_command_reports_head(empty_database):
    env = {**os.environ, "DATABASE_URL": empty_database}
    run = subprocess.run(
        [sys.executable, "-m", "dashapp", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert f"database at {head_revision()} (head)" in run.stdout
    current = subprocess.run(
        [sys.executable, "-m", "dashapp", "db", "current"],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
    )
    assert current.returncode == 0
