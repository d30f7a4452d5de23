"""What every /export test needs: the contract's headers, and the requests a user makes.

Kept out of conftest because these are plain functions the tests call, not fixtures.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dash
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # inside the default window (the last 24 h)
DEFAULT_NAME = "2026-11-24T18-32-17Z_2026-11-25T18-32-17Z.csv"
JOB_RUNS_HEADER = (
    b"job_name,run_id,state,started_at,completed_at,duration_s,dpu_seconds,rows_read,"
    b"rows_written,attempt,trigger,error_message\r\n"
)
METRICS_HEADER = b"resource_type,resource_name,metric,stat,timestamp,value\r\n"
SUMMARY_HEADER = (
    b"function_name,invocations,errors,error_rate,throttles,duration_avg_ms,duration_p95_ms,"
    b"duration_p99_ms\r\n"
)
LOGS_HEADER = b"log_group,log_stream,timestamp,message\r\n"
GLUE_LOGS = "/aws-glue/jobs/error"


def add(sessions: sessionmaker[Session], *rows: object) -> None:
    with sessions.begin() as session:
        session.add_all(rows)


def get(app: dash.Dash, url: str) -> TestResponse:
    return app.server.test_client().get(url)


def download(app: dash.Dash, url: str) -> bytes:
    """The body of a successful export, checked to be a streamed, uncached CSV."""
    response = get(app, url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Length" not in response.headers  # streamed, not built in memory first
    return response.get_data()


def refused(app: dash.Dash, url: str, status: int) -> str:
    """The one-line plain-text reason an export gives when it refuses."""
    response = get(app, url)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    assert text.endswith("\n") and text.count("\n") == 1  # one line
    return text.rstrip("\n")
