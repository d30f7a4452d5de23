"""/export/…csv on both databases, through Flask: the bytes a user downloads, and the refusals."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

import boto3
import dash
import pytest
from moto import mock_aws
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from dashapp.actions import auth
from dashapp.clock import FixedClock
from dashapp.export.cells import CHUNK_CHARS
from dashapp.models import AuditEntry, MetricPoint
from dashapp.queries.sql import YIELD_PER
from dashapp.services import Services
from tests.web.conftest import NOW
from tests.web.seed import (
    athena_query,
    glue_job,
    job_run,
    lambda_function,
    lambda_minute,
    log_event,
    log_stream,
    metric_point,
)

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


def _add(sessions: sessionmaker[Session], *rows: object) -> None:
    with sessions.begin() as session:
        session.add_all(rows)


def _get(app: dash.Dash, url: str) -> TestResponse:
    return app.server.test_client().get(url)


def _csv(app: dash.Dash, url: str) -> bytes:
    response = _get(app, url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Length" not in response.headers  # streamed, not built in memory first
    return response.get_data()


def _refused(app: dash.Dash, url: str, status: int) -> str:
    response = _get(app, url)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    assert text.endswith("\n") and text.count("\n") == 1  # one line
    return text.rstrip("\n")


# --- job runs -----------------------------------------------------------------------------


def test_job_runs_csv_is_exactly_what_a_spreadsheet_needs(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    _add(
        sessions,
        glue_job("sales-orders-ingest", NOW),
        job_run(
            "jr_1",
            "sales-orders-ingest",
            "SUCCEEDED",
            T0,
            duration_s=245.5,
            dpu_seconds=1964.0,
            rows_read=1000,
            rows_written=998,
            trigger_name="nightly",
        ),
        job_run(
            "jr_2",
            "sales-orders-ingest",
            "FAILED",
            T0 + timedelta(hours=1),
            duration_s=61.0,
            error_message='AnalysisException: cannot resolve "customer_id", given [id, name]\n'
            "  at line 2",
        ),
        job_run(
            "jr_3",
            "sales-orders-ingest",
            "FAILED",
            T0 + timedelta(hours=2),
            duration_s=12.0,
            attempt=1,
            trigger_name="@retry",
            error_message="=cmd|' /C calc'!A0",
        ),
    )
    response = _get(app, "/export/job-runs.csv")
    assert (
        response.headers["Content-Disposition"] == f"attachment; filename=job-runs_{DEFAULT_NAME}"
    )
    assert _csv(app, "/export/job-runs.csv") == (
        JOB_RUNS_HEADER
        + b"sales-orders-ingest,jr_3,FAILED,2026-11-25T14:00:00Z,2026-11-25T14:00:12Z,12,,,,1,"
        b"'@retry,'=cmd|' /C calc'!A0\r\n"
        b"sales-orders-ingest,jr_2,FAILED,2026-11-25T13:00:00Z,2026-11-25T13:01:01Z,61,,,,0,,"
        b'"AnalysisException: cannot resolve ""customer_id"", given [id, name]\n  at line 2"\r\n'
        b"sales-orders-ingest,jr_1,SUCCEEDED,2026-11-25T12:00:00Z,2026-11-25T12:04:05.500Z,"
        b"245.5,1964,1000,998,0,nightly,\r\n"
    )


def test_job_runs_default_to_the_24_hours_before_the_clock(
    app: dash.Dash, sessions: sessionmaker[Session], clock: FixedClock
) -> None:
    day = timedelta(hours=24)
    _add(
        sessions,
        job_run("jr_too_old", "j", "SUCCEEDED", NOW - day - timedelta(seconds=1)),
        job_run("jr_first", "j", "SUCCEEDED", NOW - day),  # since is inclusive
        job_run("jr_last", "j", "RUNNING", NOW - timedelta(seconds=1), duration_s=None),
        job_run("jr_now", "j", "STARTING", NOW, duration_s=None),  # until is exclusive
    )

    def run_ids() -> list[str]:
        lines = _csv(app, "/export/job-runs.csv").decode().splitlines()[1:]
        return [line.split(",")[1] for line in lines]

    assert run_ids() == ["jr_last", "jr_first"]
    clock.advance(timedelta(hours=1))
    assert run_ids() == ["jr_now", "jr_last"]


def test_job_runs_filter_by_job_state_and_window(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    _add(
        sessions,
        glue_job("orders", NOW),
        glue_job("retired", NOW, gone_at=NOW - timedelta(days=1)),
        job_run("o1", "orders", "SUCCEEDED", T0),
        job_run("o2", "orders", "FAILED", T0 + timedelta(minutes=10)),
        job_run("o3", "orders", "FAILED", T0 - timedelta(days=3)),
        job_run("r1", "retired", "FAILED", T0 + timedelta(minutes=5)),
    )

    def run_ids(query: str) -> list[str]:
        lines = _csv(app, "/export/job-runs.csv?" + query).decode().splitlines()[1:]
        return [line.split(",")[1] for line in lines]

    assert run_ids("") == ["o2", "r1", "o1"]  # newest first
    assert run_ids("job=orders") == ["o2", "o1"]
    assert run_ids("state=failed") == ["o2", "r1"]
    assert run_ids("job=retired") == ["r1"]  # deleted in AWS, still exportable
    assert run_ids("job=orders&state=FAILED&since=2026-11-20T00:00:00Z") == ["o2", "o3"]
    # An offset is honoured: 13:05+01:00 is 12:05Z, so only the 12:00Z run is before it.
    assert run_ids("until=2026-11-25T13:05:00%2B01:00") == ["o1"]
    response = _get(app, "/export/job-runs.csv?job=orders&state=failed&since=2026-11-20")
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=job-runs_orders_FAILED_2026-11-20T00-00Z_2026-11-25T18-32-17Z.csv"
    )


def test_an_unknown_job_is_404_but_a_job_known_by_its_runs_is_not(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    _add(sessions, job_run("x1", "only-in-runs", "SUCCEEDED", T0 - timedelta(days=9)))
    assert _refused(app, "/export/job-runs.csv?job=nope", 404) == "job: no Glue job named 'nope'"
    assert _csv(app, "/export/job-runs.csv?job=only-in-runs") == JOB_RUNS_HEADER


# --- metrics ----------------------------------------------------------------------------------


def test_metrics_csv_rows_keep_negative_values_and_neutralise_names(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    _add(
        sessions,
        glue_job("@odd-job", NOW),
        lambda_function("orders-api", NOW),
        metric_point("lambda_function", "orders-api", "Invocations", "Sum", T0, 120.0),
        metric_point(
            "lambda_function", "orders-api", "Invocations", "Sum", T0 + timedelta(minutes=1), 7.0
        ),
        metric_point("lambda_function", "orders-api", "Duration", "p95", T0, 312.25),
        metric_point(
            "glue_job",
            "@odd-job",
            "RowsWritten",
            "Sum",
            T0,
            -1.5,
            dimension="jr_1",
        ),
        metric_point(  # outside the window
            "lambda_function", "orders-api", "Invocations", "Sum", T0 - timedelta(days=2), 1.0
        ),
    )
    assert _csv(app, "/export/metrics.csv") == (
        METRICS_HEADER + b"glue_job,'@odd-job,RowsWritten,Sum,2026-11-25T12:00:00Z,-1.5\r\n"
        b"lambda_function,orders-api,Duration,p95,2026-11-25T12:00:00Z,312.25\r\n"
        b"lambda_function,orders-api,Invocations,Sum,2026-11-25T12:00:00Z,120\r\n"
        b"lambda_function,orders-api,Invocations,Sum,2026-11-25T12:01:00Z,7\r\n"
    )


def test_metrics_filter_by_type_name_and_metric(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    _add(
        sessions,
        lambda_function("a", NOW),
        lambda_function("b", NOW),
        metric_point("lambda_function", "a", "Errors", "Sum", T0, 1.0),
        metric_point("lambda_function", "a", "Throttles", "Sum", T0, 2.0),
        metric_point("lambda_function", "b", "Errors", "Sum", T0, 3.0),
        metric_point("glue_job", "a", "RowsWritten", "Sum", T0, 4.0, dimension="jr"),
    )

    def values(query: str) -> list[str]:
        lines = _csv(app, "/export/metrics.csv?" + query).decode().splitlines()[1:]
        return [line.rsplit(",", 1)[1] for line in lines]

    assert values("resource_type=lambda_function") == ["1", "2", "3"]
    assert values("resource_type=glue_job") == ["4"]
    assert values("name=a") == ["4", "1", "2"]
    assert values("resource_type=lambda_function&name=a&metric=Errors") == ["1"]
    assert values("metric=Errors") == ["1", "3"]
    response = _get(app, "/export/metrics.csv?resource_type=lambda_function&name=a&metric=Errors")
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=metrics_lambda_function_a_Errors_{DEFAULT_NAME}"
    )


def test_two_runs_of_one_job_in_one_minute_give_two_rows_the_header_cannot_tell_apart(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    """The contract has no run id column: concurrent runs' datapoints repeat the same key."""
    _add(
        sessions,
        glue_job("orders", NOW),
        metric_point("glue_job", "orders", "RowsWritten", "Sum", T0, 10.0, dimension="jr_a"),
        metric_point("glue_job", "orders", "RowsWritten", "Sum", T0, 20.0, dimension="jr_b"),
    )
    assert _csv(app, "/export/metrics.csv?resource_type=glue_job") == (
        METRICS_HEADER + b"glue_job,orders,RowsWritten,Sum,2026-11-25T12:00:00Z,10\r\n"
        b"glue_job,orders,RowsWritten,Sum,2026-11-25T12:00:00Z,20\r\n"
    )


def test_metrics_refuse_unknown_names_and_accept_known_metrics_without_data(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    _add(
        sessions,
        lambda_function("orders-api", NOW),
        metric_point("glue_job", "not-inventoried", "Custom", "Sum", T0, 1.0, dimension="r"),
    )
    assert (
        _refused(app, "/export/metrics.csv?resource_type=lambda_function&name=nope", 404)
        == "name: no Lambda function named 'nope'"
    )
    assert (
        _refused(app, "/export/metrics.csv?resource_type=glue_job&name=orders-api", 404)
        == "name: no Glue job named 'orders-api'"
    )
    assert (
        _refused(app, "/export/metrics.csv?name=nope", 404)
        == "name: no Glue job or Lambda function named 'nope'"
    )
    assert (
        _refused(app, "/export/metrics.csv?resource_type=lambda_function&metric=CPU", 404)
        == "metric: no metric of a Lambda function named 'CPU'"
    )
    assert (
        _refused(app, "/export/metrics.csv?resource_type=lambda_function&metric=Custom", 404)
        == "metric: no metric of a Lambda function named 'Custom'"
    )
    # Known although nothing is stored yet (catalogue), or stored although not catalogued.
    assert _csv(app, "/export/metrics.csv?name=orders-api&metric=Throttles") == METRICS_HEADER
    assert _csv(app, "/export/metrics.csv?name=not-inventoried&metric=Custom").count(b"\r\n") == 2


# --- Lambda summary ---------------------------------------------------------------------------


def test_lambda_summary_combines_known_minutes_per_function(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    m0, m1, m2 = T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)
    _add(
        sessions,
        lambda_function("orders-api", NOW),
        lambda_function("idle-fn", NOW),
        lambda_function("gone-fn", NOW, gone_at=NOW - timedelta(hours=1)),
        *lambda_minute(
            "orders-api", m0, invocations=100, errors=2, throttles=1, avg=10, p95=20, p99=30
        ),
        *lambda_minute(
            "orders-api", m1, invocations=300, errors=1, throttles=0, avg=50, p95=80, p99=95
        ),
        *lambda_minute("orders-api", m2, invocations=0, avg=None),
        metric_point("lambda_function", "orders-api", "ConcurrentExecutions", "Maximum", m0, 9),
        *lambda_minute(  # outside the window: not counted
            "orders-api", T0 - timedelta(days=2), invocations=1000, errors=1000, avg=1, p95=1
        ),
        *lambda_minute("gone-fn", m0, invocations=3, errors=1, avg=100.0, p95=100.0, p99=100.0),
        *lambda_minute("gone-fn", m1, invocations=1, errors=0, avg=200.0 / 3, p95=150.0, p99=150.0),
    )
    response = _get(app, "/export/lambda-summary.csv")
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=lambda-summary_{DEFAULT_NAME}"
    )
    assert (
        _csv(app, "/export/lambda-summary.csv")
        == (
            SUMMARY_HEADER
            # (3*100 + 1*66.667) / 4 = 91.667; p95 of 4 calls: 3.8 calls reached only at 150
            + b"gone-fn,4,1,0.25,0,91.667,150,150\r\n"
            b"idle-fn,0,0,,0,,,\r\n"
            # avg (100*10 + 300*50) / 400 = 40; p95 at 380 calls and p99 at 396 are in minute 1
            b"orders-api,400,3,0.0075,1,40,80,95\r\n"
        )
    )


def test_lambda_summary_takes_only_a_window(app: dash.Dash) -> None:
    assert _refused(app, "/export/lambda-summary.csv?name=x", 400) == (
        "name: unknown parameter; this export takes since, until"
    )
    assert _csv(app, "/export/lambda-summary.csv") == SUMMARY_HEADER


# --- log events --------------------------------------------------------------------------------


def test_log_events_csv_quotes_multiline_messages_oldest_first(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    _add(
        sessions,
        log_stream(GLUE_LOGS, "jr_2"),
        log_event(GLUE_LOGS, "jr_2", T0 + timedelta(seconds=2), "-- retrying, attempt 2"),
        log_event(
            GLUE_LOGS,
            "jr_2",
            T0,
            'Traceback (most recent call last):\n  File "job.py", line 3',
        ),
        log_event(
            GLUE_LOGS,
            "jr_2",
            T0 + timedelta(milliseconds=1500),
            '=HYPERLINK("http://evil.example","click")',
        ),
    )
    assert _csv(app, "/export/log-events.csv") == (
        LOGS_HEADER
        + b'/aws-glue/jobs/error,jr_2,2026-11-25T12:00:00Z,"Traceback (most recent call last):'
        b'\n  File ""job.py"", line 3"\r\n'
        b'/aws-glue/jobs/error,jr_2,2026-11-25T12:00:01.500Z,"\'=HYPERLINK(""http://evil.example"",'
        b'""click"")"\r\n'
        b'/aws-glue/jobs/error,jr_2,2026-11-25T12:00:02Z,"\'-- retrying, attempt 2"\r\n'
    )


def test_log_search_is_a_case_insensitive_literal_substring(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    messages = [
        "ERROR über limit",
        "Über ALLES",
        "100% done",
        "1000 rows",
        "a_b matched",
        "axb matched",
        "nothing here",
    ]
    _add(
        sessions,
        *[
            log_event("/aws/lambda/fn", "s", T0 + timedelta(seconds=i), message)
            for i, message in enumerate(messages)
        ],
    )

    def found(q: str) -> list[str]:
        lines = _csv(app, f"/export/log-events.csv?q={q}").decode().split("\r\n")[1:-1]
        return [line.split(",", 3)[3] for line in lines]

    assert found("error") == ["ERROR über limit"]
    assert found("ÜBER") == ["ERROR über limit", "Über ALLES"]
    assert found("100%25") == ["100% done"]  # % is not a wildcard
    assert found("a_b") == ["a_b matched"]  # nor is _
    assert found("MATCHED") == ["a_b matched", "axb matched"]


def test_log_events_level_keeps_that_level_and_the_more_severe_ones(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    _add(
        sessions,
        *[
            log_event(
                "/aws/lambda/fn", "s", T0 + timedelta(seconds=i), f"{level} line", level=level
            )
            for i, level in enumerate(("DEBUG", "INFO", "WARN", "ERROR"))
        ],
    )

    def messages(query: str) -> list[str]:
        lines = _csv(app, "/export/log-events.csv?" + query).decode().split("\r\n")[1:-1]
        return [line.rsplit(",", 1)[1] for line in lines]

    assert messages("") == ["DEBUG line", "INFO line", "WARN line", "ERROR line"]
    assert messages("level=warn") == ["WARN line", "ERROR line"]
    assert messages("level=ERROR") == ["ERROR line"]
    assert messages("level=DEBUG") == ["DEBUG line", "INFO line", "WARN line", "ERROR line"]
    assert _refused(app, "/export/log-events.csv?level=LOUD", 400) == (
        "level: must be one of ERROR, WARN, INFO, DEBUG, not 'LOUD'"
    )


def test_log_events_filter_by_group_and_stream_and_refuse_unknown_ones(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    _add(
        sessions,
        log_stream(GLUE_LOGS, "jr_1"),
        log_stream(GLUE_LOGS, "jr_quiet"),
        log_event(GLUE_LOGS, "jr_1", T0, "one"),
        log_event("/aws/lambda/fn", "2026/11/25/[$LATEST]ab", T0, "two"),
    )

    def messages(query: str) -> list[str]:
        lines = _csv(app, "/export/log-events.csv?" + query).decode().split("\r\n")[1:-1]
        return [line.rsplit(",", 1)[1] for line in lines]

    assert messages("") == ["one", "two"]
    assert messages("group=/aws/lambda/fn") == ["two"]
    assert messages(f"group={GLUE_LOGS}&stream=jr_1") == ["one"]
    assert messages(f"group={GLUE_LOGS}&stream=jr_quiet") == []  # known stream, no events
    assert (
        _refused(app, "/export/log-events.csv?group=/aws-glue/jobs/output", 404)
        == "group: no log group named '/aws-glue/jobs/output'"
    )
    assert (
        _refused(app, "/export/log-events.csv?group=/aws/lambda/fn&stream=jr_1", 404)
        == "stream: no log stream named 'jr_1' in '/aws/lambda/fn'"
    )
    assert (
        _refused(app, "/export/log-events.csv?stream=nope", 404)
        == "stream: no log stream named 'nope'"
    )
    response = _get(app, f"/export/log-events.csv?group={GLUE_LOGS}&stream=jr_1")
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=log-events_aws-glue-jobs-error_jr_1_{DEFAULT_NAME}"
    )


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
    assert _refused(app, url, 400) == message


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
        response = _get(app, url)
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
    _add(
        sessions,
        athena_query("q-1", NOW, output_location="s3://smd-athena-results/results/q-1.csv"),
    )
    response = _get(app, "/export/athena/q-1.csv")
    assert response.headers["Content-Disposition"] == "attachment; filename=athena_q-1.csv"
    assert _csv(app, "/export/athena/q-1.csv") == (
        b"order_id,amount,note\r\n"
        b'o-1,-12.5,"\'=HYPERLINK(""http://evil.example"")"\r\n'
        b'o-2,3,"two\nlines, with a comma"\r\n'
        b"o-3,,'@admin\r\n"
    )


def test_an_athena_export_needs_a_succeeded_query_whose_result_exists(
    app: dash.Dash, sessions: sessionmaker[Session], s3: Any
) -> None:
    gone = "s3://smd-athena-results/results/q-gone.csv"
    _add(
        sessions,
        athena_query("q-running", NOW, state="RUNNING", completed_at=None),
        athena_query("q-failed", NOW, state="FAILED", state_reason="SYNTAX_ERROR"),
        athena_query("q-gone", NOW, output_location=gone),
        athena_query("q-nowhere", NOW, output_location=None),
    )
    assert _refused(app, "/export/athena/q-unknown.csv", 404) == (
        "query_execution_id: no Athena query with id 'q-unknown'"
    )
    assert _refused(app, "/export/athena/q-running.csv", 404) == (
        "query_execution_id: Athena query 'q-running' is RUNNING; "
        "only a SUCCEEDED query has a result to export"
    )
    assert _refused(app, "/export/athena/q-failed.csv", 404).startswith(
        "query_execution_id: Athena query 'q-failed' is FAILED;"
    )
    assert _refused(app, "/export/athena/q-nowhere.csv", 404).startswith(
        "query_execution_id: Athena query 'q-nowhere' is SUCCEEDED;"
    )
    assert _refused(app, "/export/athena/q-gone.csv", 404) == (
        f"query_execution_id: the result of Athena query 'q-gone' is no longer at {gone}"
    )


# --- size -----------------------------------------------------------------------------------------

LARGE = 200_000
TRACED_CHUNKS = 50  # ~50k rows: enough to see per-row growth, cheap enough to trace


@pytest.mark.slow
def test_a_large_export_is_streamed_in_bounded_chunks_with_flat_memory(
    app: dash.Dash, svc: Services, sessions: sessionmaker[Session]
) -> None:
    """200k rows leave in ~64 KiB chunks, read through a streaming cursor, memory flat.

    Memory is traced over the first quarter of the download only (tracing every
    allocation makes the whole run four times slower): reading everything up front
    would allocate tens of MB on the first chunk, and per-row growth would show within
    50k rows. On PostgreSQL a client-side cursor would hold every row in libpq, where
    tracemalloc cannot see it, so the cursor itself is checked to be server-side.
    """
    base = NOW - timedelta(hours=23)
    rows = [
        {
            "resource_type": "lambda_function",
            "resource_name": f"fn-{i % 200:03d}",
            "dimension": "",
            "metric": "Invocations",
            "stat": "Sum",
            "ts": base + timedelta(minutes=i // 200),  # 1000 minutes, within the 24 h
            "period_s": 60,
            "value": float(i),
        }
        for i in range(LARGE)
    ]
    with sessions.begin() as session:
        session.execute(insert(MetricPoint), rows)
    del rows

    cursors: list[tuple[str, dict[str, Any]]] = []

    def seen(
        _conn: Any, cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if "FROM metric_points" in statement and "ORDER BY" in statement:
            cursors.append((type(cursor).__name__, dict(context.execution_options)))

    event.listen(svc.engine, "before_cursor_execute", seen)
    server = app.server
    chunks: list[int] = []
    lines = 0
    try:
        with server.test_request_context("/export/metrics.csv?resource_type=lambda_function"):
            response = server.full_dispatch_request()
            assert response.status_code == 200
            assert response.is_streamed
            assert response.content_length is None
            body = iter(response.response)
            tracemalloc.start()
            try:
                for chunk in islice(body, TRACED_CHUNKS):
                    chunks.append(len(chunk))
                    lines += chunk.count(b"\r\n")
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            for chunk in body:
                chunks.append(len(chunk))
                lines += chunk.count(b"\r\n")
            response.close()
    finally:
        event.remove(svc.engine, "before_cursor_execute", seen)

    assert lines == LARGE + 1
    total = sum(chunks)
    assert total > 13_000_000
    assert chunks[0] == len(METRICS_HEADER)  # the header leaves before the query's rows
    assert max(chunks) < CHUNK_CHARS + 200
    assert len(chunks) > total // (CHUNK_CHARS + 200)
    assert peak < 4 * 1024 * 1024, f"{peak} bytes traced over the first {TRACED_CHUNKS} chunks"
    [(cursor_type, options)] = cursors
    assert options.get("yield_per") == YIELD_PER
    if svc.engine.dialect.name == "postgresql":
        assert cursor_type == "ServerCursor"
