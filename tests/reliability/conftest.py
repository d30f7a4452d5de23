"""Fixtures and Hypothesis profiles for the reliability suite (issue 12).

Two profiles: `ci` (picked when CI=true) is derandomized and keeps no example
database, so a CI run is the same run every time and a red build reproduces;
`dev` draws new examples each run and remembers failures in `.hypothesis/`.
Each test sets its own `max_examples` through `examples(n)`, sized so the fuzz files
(test_fuzz_*) stay around two and a half minutes on two quiet cores;
`SMD_FUZZ_SCALE=20` multiplies every count for a long local hunt (CI never sets it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import dash
import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine

from dashapp.app import create_app
from dashapp.clock import FixedClock
from dashapp.config import Settings
from dashapp.db import make_engine, upgrade
from dashapp.services import Services
from tests.conftest import IN_CI, missing
from tests.reliability.pg_cluster import PgCluster
from tests.reliability.pg_cluster import unusable_reason as pg_cluster_unusable
from tests.sandbox_process import sandbox_process

NOW = datetime(2026, 11, 25, 18, 32, 17, tzinfo=UTC)
# Nothing listens here: an action that reaches AWS fails at once, as with a network outage.
CLOSED_ENDPOINT = "http://127.0.0.1:9"

_COMMON = {
    "deadline": None,  # two shared cores: wall-clock deadlines would only make CI flaky
    # One app and database serve every example of a test; examples clean up after themselves.
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "print_blob": True,
}
settings.register_profile("ci", derandomize=True, database=None, **_COMMON)
settings.register_profile("dev", **_COMMON)
settings.load_profile("ci" if IN_CI else "dev")
_SCALE = max(1, int(os.environ.get("SMD_FUZZ_SCALE", "1")))


def examples(count: int) -> int:
    """`count` examples, times SMD_FUZZ_SCALE outside CI (CI runs the sized counts)."""
    return count if IN_CI else count * _SCALE


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def fuzz_settings(db_url: str) -> Settings:
    """Settings on the test database whose AWS calls fail fast (one attempt, closed port)."""
    return Settings(
        database_url=db_url,
        aws_endpoint_url=CLOSED_ENDPOINT,
        aws_max_attempts=1,
        aws_connect_timeout_s=0.5,
        _env_file=None,
    )


@pytest.fixture
def fuzz_svc(fuzz_settings: Settings, clock: FixedClock) -> Iterator[Services]:
    svc = Services.build(fuzz_settings, clock=clock)
    yield svc
    svc.engine.dispose()


@pytest.fixture
def fuzz_app(fuzz_settings: Settings, fuzz_svc: Services) -> dash.Dash:
    """The whole app; an exception in a view fails the test with its traceback, not a 500."""
    app = create_app(fuzz_settings, services=fuzz_svc)
    app.server.config["PROPAGATE_EXCEPTIONS"] = True
    return app


# The upload API's app and moto account, as the upload tests build them.
from tests.uploads.conftest import aws, make_api, small_parts  # noqa: E402, F401


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """The private PostgreSQL the database-fault tests restart, make read-only and fill."""
    reason = pg_cluster_unusable()
    if reason:
        missing(reason)
    cluster = PgCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def cluster_db(pg_cluster: PgCluster, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A fresh, migrated database on the private cluster, named after the test."""
    name = "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[-55:]
    engine = make_engine(pg_cluster.create_database(name))
    upgrade(engine.url.render_as_string(hide_password=False))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def still_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A sandbox without its simulator: the account holds still, so it is the ground truth
    (an hour of history, inside every collector's backfill window)."""
    with sandbox_process(
        tmp_path_factory.mktemp("still-sbx"), history_days=0.05, simulate=False
    ) as url:
        yield url
