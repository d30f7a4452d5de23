"""Fixtures for the web tier: apps and services on the parametrised test databases."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import dash
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from dashapp.app import create_app
from dashapp.aws.clients import AwsClients
from dashapp.clock import FixedClock
from dashapp.config import Settings
from dashapp.db import make_engine, make_session_factory
from dashapp.services import Services

NOW = datetime(2026, 11, 25, 18, 32, 17, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def make_services(clock: FixedClock) -> Iterator[Callable[[Settings], Services]]:
    """Services for any settings, on the shared fixed clock; engines disposed afterwards."""
    built: list[Services] = []

    def make(settings: Settings) -> Services:
        svc = Services.build(settings, clock=clock)
        built.append(svc)
        return svc

    yield make
    for svc in built:
        svc.engine.dispose()


@pytest.fixture
def svc(settings: Settings, make_services: Callable[[Settings], Services]) -> Services:
    return make_services(settings)


@pytest.fixture
def app(settings: Settings, svc: Services) -> dash.Dash:
    return create_app(settings, services=svc)


@pytest.fixture
def unmigrated_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database on the same backend as `db_url`, never migrated."""
    if make_url(db_url).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'unmigrated.sqlite3'}"
        return
    admin = make_engine(db_url, isolation_level="AUTOCOMMIT")
    name = f"smd_unmigrated_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(db_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def unreachable_engine(db_url: str, tmp_path: Path) -> Iterator[Engine]:
    """An engine on the same backend that cannot connect (no directory; closed port)."""
    if make_url(db_url).get_backend_name() == "sqlite":
        # Plain create_engine: make_engine would create the missing directory.
        engine = create_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'x.sqlite3'}")
    else:
        engine = make_engine("postgresql://postgres@127.0.0.1:1/nowhere")
    yield engine
    engine.dispose()


@pytest.fixture
def unreachable_svc(settings: Settings, unreachable_engine: Engine, clock: FixedClock) -> Services:
    """Services whose database cannot be reached (the app itself still builds)."""
    return Services(
        settings=settings,
        engine=unreachable_engine,
        sessions=make_session_factory(unreachable_engine),
        aws=AwsClients(settings),
        clock=clock,
    )
