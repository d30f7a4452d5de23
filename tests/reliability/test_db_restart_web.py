"""The dashboard under gunicorn while PostgreSQL restarts mid-request: a clear answer, then data.

Why: in production the web tier is `python -m dashapp web` (gunicorn, gthread workers)
and keeps serving while the database restarts. A request caught inside its query must
answer with the page's notice (not a 500), the probes must tell the truth during the
outage (`/healthz` 200, `/readyz` 503 naming the database), no worker may die or be
replaced, and the first request after the server is back is served with data.

The restart lands mid-request for sure: the test holds a lock that stops the Overview's
query inside the server, restarts the server while the worker waits there, and reads
the answer the browser would get.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bench.procstat import children
from dashapp.app import create_app
from dashapp.config import Settings
from tests.reliability.callback_sweep import update_body
from tests.reliability.collector_processes import wait_for
from tests.reliability.conftest import CLOSED_ENDPOINT
from tests.reliability.figure_report import report
from tests.reliability.pg_cluster import PgCluster
from tests.web.seed import seed_demo
from tests.web_process import web_process

OUTAGE_S = 2.0
NOTICE = "Database unreachable"


@pytest.fixture
def web(cluster_db: Engine, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """gunicorn with one worker (four threads) on the seeded cluster database."""
    with Session(cluster_db) as s, s.begin():
        seed_demo(s, datetime.now(UTC))
    log = tmp_path / "web.log"
    db_url = cluster_db.url.render_as_string(hide_password=False)
    with web_process(db_url, CLOSED_ENDPOINT, log) as (url, proc):
        yield url, proc, log


def _overview_body() -> dict[str, Any]:
    app = create_app(Settings(database_url="sqlite://", _env_file=None))
    return update_body(app.callback_map, "overview-cards", {"n_intervals": 1})


def _overview(url: str, body: dict[str, Any]) -> tuple[int, str]:
    r = requests.post(f"{url}/_dash-update-component", json=body, timeout=30)
    return r.status_code, r.text


def _web_waits_on_lock(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'smd-web' "
                    "AND wait_event_type = 'Lock'"
                )
            ).scalar()
        )


def test_a_restart_mid_request_answers_clearly_and_the_web_recovers_by_itself(
    web: tuple[str, subprocess.Popen[bytes], Path],
    pg_cluster: PgCluster,
    cluster_db: Engine,
    request: pytest.FixtureRequest,
) -> None:
    url, master, log = web
    body = _overview_body()
    assert _overview(url, body)[0] == 200
    [worker] = children(master.pid)
    # Past SMD_SHARED_ANSWER_S (1 s): the same refresh is computed again, not the shared answer.
    time.sleep(1.1)

    holder = cluster_db.connect()
    holder.execute(text("LOCK TABLE glue_jobs IN ACCESS EXCLUSIVE MODE"))
    in_flight: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: in_flight.update(answer=_overview(url, body)))
    thread.start()
    wait_for(lambda: _web_waits_on_lock(cluster_db), 30, "the Overview's query waits in the server")
    pg_cluster.stop("fast")
    holder.invalidate()
    thread.join(timeout=30)
    try:
        healthz = requests.get(f"{url}/healthz", timeout=10).status_code
        ready = requests.get(f"{url}/readyz", timeout=10)
        during = _overview(url, body)
        export = requests.get(f"{url}/export/job-runs.csv", timeout=10)
        time.sleep(OUTAGE_S)
    finally:
        pg_cluster.start()
    back = time.monotonic()
    first = _overview(url, body)
    first_s = time.monotonic() - back
    ready_after = requests.get(f"{url}/readyz", timeout=10)

    status, answer = in_flight["answer"]
    assert status == 200 and NOTICE in answer, (status, answer[:300])
    assert healthz == 200
    assert ready.status_code == 503
    assert ready.json()["reasons"][0].startswith("database unreachable: "), ready.json()
    assert during[0] == 200 and NOTICE in during[1]
    assert export.status_code == 503 and export.text.startswith("database unavailable: ")
    assert first[0] == 200 and NOTICE not in first[1] and "sales-orders-ingest" in first[1]
    assert ready_after.status_code == 200, ready_after.json()
    assert children(master.pid) == [worker], "the same worker served throughout"
    assert "Traceback" not in log.read_text(errors="replace")
    report(
        request,
        "db-faults",
        [
            "gunicorn, restart -m fast under an Overview query: it answered 200 with the "
            f"'{NOTICE}' notice; during the outage /healthz {healthz}, /readyz "
            f"{ready.status_code}, export {export.status_code}; same worker, no traceback",
            f"server back: the first Overview answered with data in {first_s:.2f} s",
        ],
    )
