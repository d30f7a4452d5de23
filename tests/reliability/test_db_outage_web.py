"""The web app while its database is down: every page, callback and route answers and says why.

Why: a database restart or failover takes seconds to minutes; meanwhile the dashboard is
still open on people's screens and wall displays. A page must keep what it shows and say
the database is unreachable (never a 500, which the browser shows as nothing at all),
`/readyz` must answer 503 naming the database and `/healthz` 200 (a load balancer must
not kill healthy workers), and the first request after the server is back must be
served, also after a restart no request saw (the pool tests each connection it lends).

The app runs in process on a database of the private cluster, which the test stops; the
same app then sees the server come back. The gunicorn process test is
test_db_restart_web.py.
"""

from __future__ import annotations

import time

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

from dashapp.app import create_app
from dashapp.clock import FixedClock
from dashapp.config import Settings
from dashapp.services import Services
from tests.reliability.callback_sweep import callbacks_that_fail, route_answers, update_body
from tests.reliability.conftest import CLOSED_ENDPOINT, NOW
from tests.reliability.figure_report import report
from tests.reliability.pg_cluster import PgCluster
from tests.reliability.test_fuzz_callbacks import KEYS, _seed

EXAMPLES_PER_CALLBACK = 3
OVERVIEW = {"n_intervals": 1}


def web_app(url: str) -> tuple[FlaskClient, Services, dict]:
    """The app on `url` (seeded), AWS a closed port; exceptions propagate to the test."""
    settings = Settings(
        database_url=url,
        aws_endpoint_url=CLOSED_ENDPOINT,
        aws_max_attempts=1,
        aws_connect_timeout_s=0.5,
        _env_file=None,
    )
    svc = Services.build(settings, clock=FixedClock(NOW))
    app = create_app(settings, services=svc)
    app.server.config["PROPAGATE_EXCEPTIONS"] = True
    _seed(svc)
    return app.server.test_client(), svc, app.callback_map


def test_while_the_database_is_down_every_callback_and_route_answers_and_says_why(
    pg_cluster: PgCluster, cluster_db: Engine, request: pytest.FixtureRequest
) -> None:
    client, svc, callback_map = web_app(cluster_db.url.render_as_string(hide_password=False))
    overview = update_body(callback_map, "overview-cards", OVERVIEW)
    assert client.get("/readyz").status_code == 200  # the pool holds live connections
    pg_cluster.stop("fast")
    try:
        began = time.monotonic()
        problems = callbacks_that_fail(client, callback_map, EXAMPLES_PER_CALLBACK)
        swept_s = time.monotonic() - began
        routes = route_answers(client)
        healthz = client.get("/healthz").status_code
        ready = client.get("/readyz")
        cards = client.post("/_dash-update-component", json=overview).get_data(as_text=True)
    finally:
        pg_cluster.start()
    back = time.monotonic()
    first = client.post("/_dash-update-component", json=overview)
    first_s = time.monotonic() - back
    # A restart between two requests: the pool's connections are all dead, none was used.
    pg_cluster.restart("fast")
    again = client.get("/readyz")  # never cached: it asks the database every time
    svc.engine.dispose()

    assert not problems, f"callbacks failing while the database is down: {problems}"
    bad = {p: a for p, a in routes.items() if a[0] != 200 and not _names_the_database(a)}
    assert not bad, f"routes without a clear answer: {bad}"
    assert healthz == 200
    assert ready.status_code == 503
    assert ready.json["reasons"][0].startswith("database unreachable: "), ready.json
    assert "Database unreachable" in cards
    assert first.status_code == 200 and "Database unreachable" not in first.get_data(as_text=True)
    assert "sales-orders-ingest" in first.get_data(as_text=True), "the first answer has data"
    assert again.status_code == 200, again.json
    report(
        request,
        "db-faults",
        [
            f"server down: {len(KEYS)} callbacks x {EXAMPLES_PER_CALLBACK} payloads in "
            f"{swept_s:.1f} s, none failed; routes: "
            + ", ".join(f"{p} {s}" for p, (s, _) in routes.items()),
            f"server back: the first overview refresh answered data in {first_s:.2f} s",
        ],
    )


def _names_the_database(answer: tuple[int, str]) -> bool:
    status, line = answer
    return status == 503 and "database" in line.lower()
