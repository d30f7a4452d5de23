"""The AWS response parsers under malformed captured-shape responses.

Each case starts from a response as AWS documents it (the captured fixtures, or a
documented sample for the APIs without one) and removes or retypes one to three of its
fields at any depth. A parser must answer what it always answers (a row the database
takes, on both databases) or `MalformedResponse` naming the resource; a KeyError, a
TypeError or a database error would end the collector's whole cycle instead of
skipping one resource.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from dashapp.aws import (
    athena,
    cloudwatch,
    eventbridge,
    glue,
    glue_actions,
    glue_catalog,
    lambda_,
    logs,
)
from dashapp.aws.shape import MalformedResponse
from dashapp.db import upsert
from dashapp.models import CatalogTable, GlueJob, JobRun, LambdaFunction
from tests.fixtures.aws import load, raw
from tests.reliability.conftest import NOW, examples
from tests.reliability.outcomes import attempt
from tests.reliability.strategies import hostile_text, json_values

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
EXECUTION = {
    "QueryExecutionId": "5f1c9d4e-0b6a-4d4f-9a55-3f2f9e1c2b7a",
    "Query": "SELECT 1",
    "ResultConfiguration": {"OutputLocation": "s3://smd-athena/results/5f1c.csv"},
    "Status": {
        "State": "FAILED",
        "StateChangeReason": "line 1:8: Column 'nope' cannot be resolved",
        "SubmissionDateTime": T0,
        "CompletionDateTime": T0 + timedelta(seconds=3),
        "AthenaError": {"ErrorCategory": 2, "ErrorType": 1006, "ErrorMessage": "Column 'nope'"},
    },
    "Statistics": {
        "EngineExecutionTimeInMillis": 812,
        "DataScannedInBytes": 10485760,
        "ResultReuseInformation": {"ReusedPreviousResult": False},
    },
    "WorkGroup": "primary",
}
RESULTS = {
    "ResultSet": {
        "Rows": [
            {"Data": [{"VarCharValue": "order_id"}, {"VarCharValue": "amount"}]},
            {"Data": [{"VarCharValue": "1"}, {}]},
        ],
        "ResultSetMetadata": {
            "ColumnInfo": [{"Name": "order_id", "Type": "bigint"}, {"Name": "amount"}]
        },
    },
    "NextToken": "AYAD...",
}
TABLE = {
    "Name": "orders",
    "DatabaseName": "processed",
    "TableType": "EXTERNAL_TABLE",
    "UpdateTime": T0,
    "StorageDescriptor": {
        "Columns": [{"Name": "order_id", "Type": "bigint"}, {"Name": "amount", "Type": "double"}],
        "Location": "s3://smd-processed/sales/orders/",
    },
    "PartitionKeys": [{"Name": "ingest_date", "Type": "string"}],
}
STOPPED = {
    "SuccessfulSubmissions": [{"JobName": "sales-orders-ingest", "JobRunId": "jr_1"}],
    "Errors": [
        {
            "JobName": "sales-orders-ingest",
            "JobRunId": "jr_2",
            "ErrorDetail": {"ErrorCode": "InvalidInputException", "ErrorMessage": "finished"},
        }
    ],
}


def odd_values() -> st.SearchStrategy[Any]:
    """What a retyped field may hold: any JSON, and what botocore or a proxy could add."""
    far = timezone(timedelta(hours=14))
    return st.one_of(
        json_values(3),
        hostile_text(),
        st.sampled_from(
            [
                float("inf"),
                float("nan"),
                10**30,
                -(2**64),
                True,
                "",
                "x" * 3000,
                datetime(1, 1, 1, tzinfo=far),
                datetime(9999, 12, 31, 23, 59),
            ]
        ),
        st.datetimes(timezones=st.sampled_from([UTC, far])),
    )


def _paths(value: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield here
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*here, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*here, i))


@st.composite
def mangled(draw: st.DrawFn, sample: Any, values: st.SearchStrategy[Any] | None = None) -> Any:
    """`sample` with one to three fields, at any depth, removed or given another value."""
    doc = copy.deepcopy(sample)
    values = odd_values() if values is None else values
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(_paths(doc))))
        if not path:
            doc = draw(values)
            continue
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(values)
    return doc


def _stored(sessions: sessionmaker[Session], model: type, row: dict, key: list[str]) -> None:
    """The row is what the collector writes: both databases must take it."""
    with sessions.begin() as session:
        upsert(session, model, [row], conflict=key)


def _check(parse: Callable[[], Any], accept: Callable[[Any], None]) -> None:
    value, refused = attempt(parse, MalformedResponse)
    if refused is not None:
        assert str(refused).strip()
    else:
        accept(value)


ROWS: dict[str, tuple[st.SearchStrategy[Any], Callable[[Any], dict], type, list[str]]] = {
    "glue job": (
        mangled(load("get_jobs")["Jobs"][0]),
        lambda r: glue.parse_job(r, NOW, schedule=None, tags=None),
        GlueJob,
        ["name"],
    ),
    "glue run": (
        st.sampled_from(load("get_job_runs")["JobRuns"]).flatmap(mangled),
        lambda r: glue.parse_run(r, NOW),
        JobRun,
        ["run_id"],
    ),
    "lambda function": (
        mangled(load("list_functions")["Functions"][0]),
        lambda r: lambda_.parse_function(r, NOW, tags=None),
        LambdaFunction,
        ["name"],
    ),
    "catalog table": (
        mangled(TABLE),
        lambda r: glue_catalog.parse_table("processed", r, NOW),
        CatalogTable,
        ["database", "name"],
    ),
}


@pytest.mark.parametrize("name", sorted(ROWS))
def test_a_resource_is_a_stored_row_or_a_malformed_response(
    sessions: sessionmaker[Session], name: str
) -> None:
    """Before, a NUL in a Lambda description or a table's location reached PostgreSQL, a
    CreatedOn that was text raised AttributeError, a StartedOn past year 1 OverflowError."""
    responses, parse, model, key = ROWS[name]

    @settings(max_examples=examples(60))
    @given(response=responses)
    def check(response: Any) -> None:
        _check(lambda: parse(response), lambda row: _stored(sessions, model, row, key))

    for found in FOUND.get(name, []):  # what the fuzz found before, every run
        check.hypothesis.inner_test(response=found)
    check()


FOUND = {
    "glue job": [{**load("get_jobs")["Jobs"][0], "Description": "a\x00b"}],
    "lambda function": [
        {**load("list_functions")["Functions"][0], "Architectures": [odd]}
        for odd in ("a\x00b", "\ud800")
    ],
    "catalog table": [{**TABLE, "StorageDescriptor": {"Location": "s3://a\x00b/"}}],
}


def _is_text(value: Any, optional: bool = True) -> bool:
    return (optional and value is None) or isinstance(value, str)


def _execution_ok(e: athena.Execution) -> None:
    assert isinstance(e.execution_id, str) and e.execution_id and _is_text(e.state, False)
    assert all(_is_text(v) for v in (e.state_reason, e.output_location, e.workgroup))
    assert all(v is None or isinstance(v, int) for v in (e.data_scanned_bytes, e.engine_ms))
    assert all(v is None or v.tzinfo is UTC for v in (e.submitted_at, e.completed_at))


def _page_ok(page: athena.ResultPage) -> None:
    assert all(_is_text(c.name, False) and _is_text(c.type, False) for c in page.columns)
    assert all(_is_text(v) for row in page.rows for v in row) and _is_text(page.next_token)


def _lines_ok(lines: list[logs.LogLine]) -> None:
    assert all(line.ts.tzinfo is UTC and _is_text(line.message, False) for line in lines)


def _stopped_ok(result: glue_actions.StopResult) -> None:
    assert all(
        _is_text(r, False) for r in [*result.stopped, *result.errors, *result.errors.values()]
    )


def _points_ok(points: list[cloudwatch.Datapoint]) -> None:
    assert all(p.ts.tzinfo is UTC and isinstance(p.value, float) for p in points)


QUERIES = [cloudwatch.MetricQuery("AWS/Lambda", "Invocations", (("FunctionName", "orders-api"),),
                                  "Sum", 60, "lambda_function", "orders-api")] * 4  # fmt: skip
PARSERS: dict[str, tuple[Any, Callable[[Any], Any], Callable[[Any], None]]] = {
    "athena execution": (EXECUTION, athena.parse_execution, _execution_ok),
    "athena result page": (RESULTS, lambda r: athena.parse_result_page(r, first=True), _page_ok),
    "log events": (load("get_log_events")["events"], logs.parse_events, _lines_ok),
    "stop runs": (STOPPED, glue_actions.parse_stop_response, _stopped_ok),
    "metric data": (
        load("get_metric_data_page1")["MetricDataResults"],
        lambda r: cloudwatch.parse_results(QUERIES, r),
        _points_ok,
    ),
}


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_a_response_is_parsed_or_a_malformed_response(name: str) -> None:
    sample, parse, accept = PARSERS[name]

    @settings(max_examples=examples(100))
    @given(response=mangled(sample))
    def check(response: Any) -> None:
        _check(lambda: parse(response), accept)

    check()


@settings(max_examples=examples(200))
@given(
    body=st.one_of(
        st.sampled_from(["event_glue_job_state_change_failed", "event_s3_object_created"])
        .map(lambda n: json.loads(raw(n)))
        .flatmap(lambda doc: mangled(doc, json_values(3)))
        .map(json.dumps),
        st.text(max_size=40),
    )
)
def test_an_event_is_one_we_handle_or_dropped(body: str) -> None:
    event = eventbridge.parse_event(body)
    if isinstance(event, eventbridge.GlueStateChange):
        assert all(_is_text(v, False) for v in (event.job, event.run_id, event.state))
    elif isinstance(event, eventbridge.ObjectCreated):
        assert _is_text(event.bucket, False) and _is_text(event.key, False)
        assert event.size is None or isinstance(event.size, int)
    else:
        assert event is None
