"""/export/job-runs.csv and /export/metrics.csv on both databases: rows, filters, names."""

from __future__ import annotations

from datetime import timedelta

import dash
from sqlalchemy.orm import Session, sessionmaker

from dashapp.clock import FixedClock
from tests.web.conftest import NOW
from tests.web.export_helpers import (
    DEFAULT_NAME,
    JOB_RUNS_HEADER,
    METRICS_HEADER,
    T0,
    add,
    download,
    get,
    refused,
)
from tests.web.seed import glue_job, job_run, lambda_function, metric_point

# --- job runs -----------------------------------------------------------------------------


def test_job_runs_csv_is_exactly_what_a_spreadsheet_needs(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    add(
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
    response = get(app, "/export/job-runs.csv")
    assert (
        response.headers["Content-Disposition"] == f"attachment; filename=job-runs_{DEFAULT_NAME}"
    )
    assert download(app, "/export/job-runs.csv") == (
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
    add(
        sessions,
        job_run("jr_too_old", "j", "SUCCEEDED", NOW - day - timedelta(seconds=1)),
        job_run("jr_first", "j", "SUCCEEDED", NOW - day),  # since is inclusive
        job_run("jr_last", "j", "RUNNING", NOW - timedelta(seconds=1), duration_s=None),
        job_run("jr_now", "j", "STARTING", NOW, duration_s=None),  # until is exclusive
    )

    def run_ids() -> list[str]:
        lines = download(app, "/export/job-runs.csv").decode().splitlines()[1:]
        return [line.split(",")[1] for line in lines]

    assert run_ids() == ["jr_last", "jr_first"]
    clock.advance(timedelta(hours=1))
    assert run_ids() == ["jr_now", "jr_last"]


def test_job_runs_filter_by_job_state_and_window(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    add(
        sessions,
        glue_job("orders", NOW),
        glue_job("retired", NOW, gone_at=NOW - timedelta(days=1)),
        job_run("o1", "orders", "SUCCEEDED", T0),
        job_run("o2", "orders", "FAILED", T0 + timedelta(minutes=10)),
        job_run("o3", "orders", "FAILED", T0 - timedelta(days=3)),
        job_run("r1", "retired", "FAILED", T0 + timedelta(minutes=5)),
    )

    def run_ids(query: str) -> list[str]:
        lines = download(app, "/export/job-runs.csv?" + query).decode().splitlines()[1:]
        return [line.split(",")[1] for line in lines]

    assert run_ids("") == ["o2", "r1", "o1"]  # newest first
    assert run_ids("job=orders") == ["o2", "o1"]
    assert run_ids("state=failed") == ["o2", "r1"]
    assert run_ids("job=retired") == ["r1"]  # deleted in AWS, still exportable
    assert run_ids("job=orders&state=FAILED&since=2026-11-20T00:00:00Z") == ["o2", "o3"]
    # An offset is honoured: 13:05+01:00 is 12:05Z, so only the 12:00Z run is before it.
    assert run_ids("until=2026-11-25T13:05:00%2B01:00") == ["o1"]
    response = get(app, "/export/job-runs.csv?job=orders&state=failed&since=2026-11-20")
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=job-runs_orders_FAILED_2026-11-20T00-00Z_2026-11-25T18-32-17Z.csv"
    )


def test_an_unknown_job_is_404_but_a_job_known_by_its_runs_is_not(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    add(sessions, job_run("x1", "only-in-runs", "SUCCEEDED", T0 - timedelta(days=9)))
    assert refused(app, "/export/job-runs.csv?job=nope", 404) == "job: no Glue job named 'nope'"
    assert download(app, "/export/job-runs.csv?job=only-in-runs") == JOB_RUNS_HEADER


# --- metrics ----------------------------------------------------------------------------------


def test_metrics_csv_rows_keep_negative_values_and_neutralise_names(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    add(
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
    assert download(app, "/export/metrics.csv") == (
        METRICS_HEADER + b"glue_job,'@odd-job,RowsWritten,Sum,2026-11-25T12:00:00Z,-1.5\r\n"
        b"lambda_function,orders-api,Duration,p95,2026-11-25T12:00:00Z,312.25\r\n"
        b"lambda_function,orders-api,Invocations,Sum,2026-11-25T12:00:00Z,120\r\n"
        b"lambda_function,orders-api,Invocations,Sum,2026-11-25T12:01:00Z,7\r\n"
    )


def test_metrics_filter_by_type_name_and_metric(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    add(
        sessions,
        lambda_function("a", NOW),
        lambda_function("b", NOW),
        metric_point("lambda_function", "a", "Errors", "Sum", T0, 1.0),
        metric_point("lambda_function", "a", "Throttles", "Sum", T0, 2.0),
        metric_point("lambda_function", "b", "Errors", "Sum", T0, 3.0),
        metric_point("glue_job", "a", "RowsWritten", "Sum", T0, 4.0, dimension="jr"),
    )

    def values(query: str) -> list[str]:
        lines = download(app, "/export/metrics.csv?" + query).decode().splitlines()[1:]
        return [line.rsplit(",", 1)[1] for line in lines]

    assert values("resource_type=lambda_function") == ["1", "2", "3"]
    assert values("resource_type=glue_job") == ["4"]
    assert values("name=a") == ["4", "1", "2"]
    assert values("resource_type=lambda_function&name=a&metric=Errors") == ["1"]
    assert values("metric=Errors") == ["1", "3"]
    response = get(app, "/export/metrics.csv?resource_type=lambda_function&name=a&metric=Errors")
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=metrics_lambda_function_a_Errors_{DEFAULT_NAME}"
    )


def test_two_runs_of_one_job_in_one_minute_give_two_rows_the_header_cannot_tell_apart(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    """The contract has no run id column: concurrent runs' datapoints repeat the same key."""
    add(
        sessions,
        glue_job("orders", NOW),
        metric_point("glue_job", "orders", "RowsWritten", "Sum", T0, 10.0, dimension="jr_a"),
        metric_point("glue_job", "orders", "RowsWritten", "Sum", T0, 20.0, dimension="jr_b"),
    )
    assert download(app, "/export/metrics.csv?resource_type=glue_job") == (
        METRICS_HEADER + b"glue_job,orders,RowsWritten,Sum,2026-11-25T12:00:00Z,10\r\n"
        b"glue_job,orders,RowsWritten,Sum,2026-11-25T12:00:00Z,20\r\n"
    )


def test_metrics_refuse_unknown_names_and_accept_known_metrics_without_data(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    add(
        sessions,
        lambda_function("orders-api", NOW),
        metric_point("glue_job", "not-inventoried", "Custom", "Sum", T0, 1.0, dimension="r"),
    )
    assert (
        refused(app, "/export/metrics.csv?resource_type=lambda_function&name=nope", 404)
        == "name: no Lambda function named 'nope'"
    )
    assert (
        refused(app, "/export/metrics.csv?resource_type=glue_job&name=orders-api", 404)
        == "name: no Glue job named 'orders-api'"
    )
    assert (
        refused(app, "/export/metrics.csv?name=nope", 404)
        == "name: no Glue job or Lambda function named 'nope'"
    )
    assert (
        refused(app, "/export/metrics.csv?resource_type=lambda_function&metric=CPU", 404)
        == "metric: no metric of a Lambda function named 'CPU'"
    )
    assert (
        refused(app, "/export/metrics.csv?resource_type=lambda_function&metric=Custom", 404)
        == "metric: no metric of a Lambda function named 'Custom'"
    )
    # Known although nothing is stored yet (catalogue), or stored although not catalogued.
    assert download(app, "/export/metrics.csv?name=orders-api&metric=Throttles") == METRICS_HEADER
    assert (
        download(app, "/export/metrics.csv?name=not-inventoried&metric=Custom").count(b"\r\n") == 2
    )
