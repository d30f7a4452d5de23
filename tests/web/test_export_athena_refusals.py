"""What every /export refuses (malformed parameters, missing role), and Athena results
streamed from S3 with their own refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import dash
import pytest
from moto import mock_aws
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dashapp.actions import auth
from dashapp.models import AuditEntry
from tests.web.conftest import NOW
from tests.web.export_helpers import add, download, get, refused
from tests.web.seed import athena_query

# --- malformed requests ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "/export/job-runs.csv?since=2026-11-25T18:00:00Z&until=2026-11-25T18:00:00Z",
            "since: must be before until (2026-11-25T18:00:00Z >= 2026-11-25T18:00:00Z)",
        ),
        (
            "/export/metrics.csv?since=2026-11-26",  # after the default until (now)
            "since: must be before until (2026-11-26T00:00:00Z >= 2026-11-25T18:32:17Z)",
        ),
        (
            "/export/log-events.csv?until=last+week",
            "until: 'last week' is not an ISO 8601 date-time "
            "(e.g. 2026-11-25T18:00:00Z; write a '+' offset as %2B)",
        ),
        (
            "/export/lambda-summary.csv?since=25.11.2026",
            "since: '25.11.2026' is not an ISO 8601 date-time "
            "(e.g. 2026-11-25T18:00:00Z; write a '+' offset as %2B)",
        ),
        (
            "/export/job-runs.csv?state=DONE",
            "state: unknown run state 'DONE'; one of STARTING, RUNNING, STOPPING, STOPPED, "
            "SUCCEEDED, FAILED, TIMEOUT, ERROR, WAITING, EXPIRED",
        ),
        (
            "/export/metrics.csv?resource_type=s3_bucket",
            "resource_type: unknown resource type 's3_bucket'; one of glue_job, lambda_function",
        ),
        (
            "/export/job-runs.csv?jobname=x",
            "jobname: unknown parameter; this export takes job, state, since, until",
        ),
        (
            "/export/log-events.csv?search=x",
            "search: unknown parameter; this export takes group, stream, q, level, since, until",
        ),
        (
            "/export/metrics.csv?name=a&name=b",
            "name: given 2 times; give it once",
        ),
        (
            "/export/athena/abc.csv?page=2",
            "page: unknown parameter; this export takes no parameters",
        ),
    ],
)
def test_malformed_parameters_are_400_with_a_line_naming_them(
    app: dash.Dash, url: str, message: str
) -> None:
    assert refused(app, url, 400) == message


def test_every_export_needs_the_viewer_role_and_denials_are_audited(
    app: dash.Dash, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth.Identity, "can", lambda self, needed: False)
    urls = [
        "/export/job-runs.csv",
        "/export/metrics.csv",
        "/export/lambda-summary.csv",
        "/export/log-events.csv",
        "/export/athena/abc.csv",
    ]
    for url in urls:
        response = get(app, url)
        assert response.status_code == 403
        assert "export csv needs viewer" in response.get_data(as_text=True)
    with sessions() as session:
        denials = session.execute(select(AuditEntry.action, AuditEntry.target, AuditEntry.outcome))
        assert sorted(denials) == sorted(("export_csv", url, "denied") for url in urls)


# --- Athena -----------------------------------------------------------------------------------

ATHENA_RESULT = (
    b'"order_id","amount","note"\n'
    b'"o-1","-12.5","=HYPERLINK(""http://evil.example"")"\n'
    b'"o-2","3","two\nlines, with a comma"\n'
    b'"o-3","","@admin"\n'
)


@pytest.fixture
def s3() -> Iterator[Any]:
    """An in-process S3 (moto) with the Athena results bucket; the app's clients use it too."""
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="smd-athena-results")
        yield client


def test_an_athena_result_is_streamed_from_s3_and_neutralised(
    app: dash.Dash, sessions: sessionmaker[Session], s3: Any
) -> None:
    s3.put_object(Bucket="smd-athena-results", Key="results/q-1.csv", Body=ATHENA_RESULT)
    add(
        sessions,
        athena_query("q-1", NOW, output_location="s3://smd-athena-results/results/q-1.csv"),
    )
    response = get(app, "/export/athena/q-1.csv")
    assert response.headers["Content-Disposition"] == "attachment; filename=athena_q-1.csv"
    assert download(app, "/export/athena/q-1.csv") == (
        b"order_id,amount,note\r\n"
        b'o-1,-12.5,"\'=HYPERLINK(""http://evil.example"")"\r\n'
        b'o-2,3,"two\nlines, with a comma"\r\n'
        b"o-3,,'@admin\r\n"
    )


def test_an_athena_export_needs_a_succeeded_query_whose_result_exists(
    app: dash.Dash, sessions: sessionmaker[Session], s3: Any
) -> None:
    gone = "s3://smd-athena-results/results/q-gone.csv"
    add(
        sessions,
        athena_query("q-running", NOW, state="RUNNING", completed_at=None),
        athena_query("q-failed", NOW, state="FAILED", state_reason="SYNTAX_ERROR"),
        athena_query("q-gone", NOW, output_location=gone),
        athena_query("q-nowhere", NOW, output_location=None),
    )
    assert refused(app, "/export/athena/q-unknown.csv", 404) == (
        "query_execution_id: no Athena query with id 'q-unknown'"
    )
    assert refused(app, "/export/athena/q-running.csv", 404) == (
        "query_execution_id: Athena query 'q-running' is RUNNING; "
        "only a SUCCEEDED query has a result to export"
    )
    assert refused(app, "/export/athena/q-failed.csv", 404).startswith(
        "query_execution_id: Athena query 'q-failed' is FAILED;"
    )
    assert refused(app, "/export/athena/q-nowhere.csv", 404).startswith(
        "query_execution_id: Athena query 'q-nowhere' is SUCCEEDED;"
    )
    assert refused(app, "/export/athena/q-gone.csv", 404) == (
        f"query_execution_id: the result of Athena query 'q-gone' is no longer at {gone}"
    )
