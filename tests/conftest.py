"""Shared fixtures: databases (every DB test on PostgreSQL and SQLite), settings, environment.

Outside CI a missing PostgreSQL or Chromium skips the tests that need it, with the
reason printed; with CI=true the same absence fails them, so CI can never pass by
skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dashapp.config import Settings
from dashapp.db import make_engine, make_session_factory, upgrade
from dashapp.models import Base
from sandbox.datasets import datasets_json

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ARTIFACTS = Path(os.environ.get("SMD_TEST_ARTIFACTS", "test-artifacts")).resolve()

# Tests never reach a real AWS account: every client gets dummy credentials unless a test
# points AWS_ENDPOINT_URL at moto or the sandbox.
for _k, _v in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}.items():
    os.environ[_k] = _v
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)
# The dashboard ships no datasets; tests run against the sandbox account's four.
os.environ["SMD_DATASETS"] = datasets_json()


def missing(reason: str) -> None:
    """Fail in CI, skip (with the reason) elsewhere."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: required, not skipped)", pytrace=False)
    pytest.skip(reason)


def pytest_report_header(config: pytest.Config) -> list[str]:
    pg = os.environ.get("TEST_DATABASE_URL")
    return [
        f"CI={IN_CI}  TEST_DATABASE_URL={'set' if pg else 'unset (PostgreSQL tests skip)'}",
        f"artifacts: {ARTIFACTS}",
    ]


def _truncate(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # A session some test left open (idle in transaction) would make TRUNCATE
            # wait forever; fail with the reason instead of hanging the run.
            conn.execute(text("SET LOCAL lock_timeout = '30s'"))
            try:
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            except OperationalError as e:
                raise RuntimeError(
                    "could not empty the test database: an earlier test left a session "
                    "open (use `with sessions() as s:`)"
                ) from e
        else:
            for t in tables:
                conn.execute(text(f"DELETE FROM {t}"))


@pytest.fixture(scope="session")
def _sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def _postgres_url() -> Iterator[str | None]:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield None
        return
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    name = f"smd_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as e:
        admin.dispose()
        if IN_CI:
            raise
        print(f"\nPostgreSQL at TEST_DATABASE_URL unusable ({e}); its tests skip")
        yield None
        return
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database; each test using it runs once per backend."""
    if request.param == "sqlite":
        url = request.getfixturevalue("_sqlite_url")
    else:
        url = request.getfixturevalue("_postgres_url")
        if url is None:
            missing("PostgreSQL not available: set TEST_DATABASE_URL")
    engine = make_engine(url)
    _truncate(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, _env_file=None)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
