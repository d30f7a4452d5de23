"""Athena query lifecycle, failures and cancellation (in-process, ``mock_aws``).

Each test names the Athena behaviour it restores.  Against plain moto every
one fails: moto reports SUCCEEDED on the first GetQueryExecution, never
FAILED, cancels finished queries and answers unknown ids with HTTP 500.
Time comes from a FixedClock the test moves, so queue and run times are exact.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.athena.models import athena_backends
from moto.core import DEFAULT_ACCOUNT_ID

from dashapp.clock import FixedClock
from sandbox.fidelity.athena import KNOBS, lifecycle
from sandbox.fidelity.athena.api import runner
from sandbox.fidelity.athena.control import reset_knobs
from tests.sandbox.athena_support import (
    PROCESSED,
    TERMINAL,
    create_catalog,
    day,
    ingest_orders,
    run,
    start,
    state,
    wait_for,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
QUERY = "SELECT order_id, amount FROM orders WHERE ingest_date = '2026-03-01'"


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    fixed = FixedClock(T0)
    KNOBS.update(clock=fixed, queued_s=2, min_running_s=3)
    yield fixed
    reset_knobs()


@pytest.fixture
def athena(aws: None) -> Iterator[Any]:
    s3, glue = boto3.client("s3"), boto3.client("glue")
    create_catalog(s3, glue)
    ingest_orders(s3, day(1), 40, seed=1)
    yield boto3.client("athena")
    runner(athena_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]).shutdown()


def _execution(athena: Any, qid: str) -> dict[str, Any]:
    return athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]


def _results_error(athena: Any, qid: str) -> str:
    with pytest.raises(ClientError) as err:
        athena.get_query_results(QueryExecutionId=qid)
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    return err.value.response["Error"]["Message"]


def test_query_moves_queued_running_succeeded_with_real_times(athena: Any, clock: FixedClock):
    """AWS: a query is QUEUED, then RUNNING, then SUCCEEDED, however often it is read; queue,
    engine and total times add up (moto: SUCCEEDED on the first read, every time 0).
    """
    qid = start(athena, QUERY)
    for _ in range(3):
        queued = _execution(athena, qid)
        assert queued["Status"]["State"] == "QUEUED"
    assert queued["Status"]["SubmissionDateTime"] == T0
    assert "CompletionDateTime" not in queued["Status"]
    assert "not yet finished. Current state: QUEUED" in _results_error(athena, qid)

    clock.advance(2)
    wait_for(athena, qid, ("RUNNING",))
    assert "Current state: RUNNING" in _results_error(athena, qid)
    time.sleep(0.2)  # the engine is done long before the run's minimum duration
    assert state(athena, qid) == "RUNNING"

    clock.advance(3)
    wait_for(athena, qid, ("SUCCEEDED",))
    done = _execution(athena, qid)
    assert done["Status"]["CompletionDateTime"] == T0 + timedelta(seconds=5)
    stats = done["Statistics"]
    assert stats["QueryQueueTimeInMillis"] == 2000
    assert stats["EngineExecutionTimeInMillis"] == 3000
    assert stats["TotalExecutionTimeInMillis"] == 5000
    assert stats["DataScannedInBytes"] > 0
    assert done["StatementType"] == "DML"
    assert done["ResultConfiguration"]["OutputLocation"].endswith(f"/{qid}.csv")


def test_queries_wait_queued_for_a_free_slot(athena: Any, clock: FixedClock):
    """AWS: beyond the account's concurrency, queries stay QUEUED until one finishes."""
    KNOBS.update(max_concurrent=1)
    first, second = start(athena, QUERY), start(athena, QUERY)
    clock.advance(2)
    wait_for(athena, first, ("RUNNING",))
    time.sleep(0.2)
    assert state(athena, second) == "QUEUED"
    clock.advance(3)
    wait_for(athena, first, ("SUCCEEDED",))
    wait_for(athena, second, ("RUNNING",))


@pytest.mark.parametrize(
    ("sql", "reason", "error_type"),
    [
        (
            "SELECT x FROM orders",
            "COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved or requester is not "
            "authorized to access requested resources",
            1006,
        ),
        (
            "SELECT *\nFROM processed.nope",
            "TABLE_NOT_FOUND: line 2:6: Table 'awsdatacatalog.processed.nope' does not exist",
            1006,
        ),
        (
            "SELECT * FROM nowhere.orders",
            "SCHEMA_NOT_FOUND: line 1:15: Schema 'nowhere' does not exist",
            1006,
        ),
        (
            "SELECT nosuchfn(amount) FROM orders",
            "FUNCTION_NOT_FOUND: line 1:8: Function 'nosuchfn' not registered",
            1006,
        ),
        ("SELECT order_id FROM orders WHERE", "line 1:29: mismatched input 'WHERE'", 1006),
        (
            "SELECT ? FROM orders",
            "Incorrect number of parameters: expected 1 but found 0",
            1000,
        ),
    ],
)
def test_bad_query_fails_with_athenas_message(
    athena: Any, sql: str, reason: str, error_type: int
) -> None:
    """AWS: a bad query ends FAILED with StateChangeReason and AthenaError (category 2, USER)
    naming the problem and its line:column (moto: SUCCEEDED, no error).
    """
    KNOBS.update(queued_s=0, min_running_s=0)
    try:
        done = run(athena, sql)
    finally:
        reset_knobs()
    status = done["Status"]
    assert status["State"] == "FAILED"
    assert status["StateChangeReason"].startswith(reason)
    assert status["AthenaError"]["ErrorCategory"] == 2
    assert status["AthenaError"]["ErrorType"] == error_type
    assert status["AthenaError"]["ErrorMessage"] == status["StateChangeReason"]
    assert "CompletionDateTime" in status
    assert "Final query state: FAILED" in _results_error(athena, done["QueryExecutionId"])


def test_unreadable_object_fails_with_hive_bad_data_naming_it(athena: Any) -> None:
    """AWS: a value the table's type cannot hold fails the query with HIVE_BAD_DATA and the file."""
    boto3.client("s3").put_object(
        Bucket=PROCESSED,
        Key="orders/ingest_date=2026-03-09/bad.json",
        Body=b'{"order_id": "X1", "amount": "twelve"}\n',
    )
    KNOBS.update(queued_s=0, min_running_s=0)
    try:
        done = run(athena, "SELECT sum(amount) FROM orders WHERE ingest_date = '2026-03-09'")
    finally:
        reset_knobs()
    assert done["Status"]["State"] == "FAILED"
    reason = done["Status"]["StateChangeReason"]
    assert reason.startswith("HIVE_BAD_DATA: ")
    assert f"s3://{PROCESSED}/orders/ingest_date=2026-03-09/bad.json" in reason
    assert done["Status"]["AthenaError"]["ErrorType"] == 1001


def test_stop_cancels_a_running_query_for_good(athena: Any, clock: FixedClock):
    """AWS: StopQueryExecution on a RUNNING query makes it CANCELLED; it never turns SUCCEEDED."""
    qid = start(athena, QUERY)
    clock.advance(2)
    wait_for(athena, qid, ("RUNNING",))
    athena.stop_query_execution(QueryExecutionId=qid)
    cancelled = _execution(athena, qid)["Status"]
    assert cancelled["State"] == "CANCELLED"
    assert cancelled["CompletionDateTime"] == T0 + timedelta(seconds=2)
    clock.advance(10)
    runner(athena_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]).join(qid, timeout=5)
    assert state(athena, qid) == "CANCELLED"
    assert "Final query state: CANCELLED" in _results_error(athena, qid)


def test_stop_cancels_a_queued_query_before_it_runs(athena: Any, clock: FixedClock):
    """AWS: a QUEUED query that is stopped never starts."""
    qid = start(athena, QUERY)
    assert state(athena, qid) == "QUEUED"
    athena.stop_query_execution(QueryExecutionId=qid)
    clock.advance(10)
    runner(athena_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]).join(qid, timeout=5)
    done = _execution(athena, qid)
    assert done["Status"]["State"] == "CANCELLED"
    assert done["Statistics"]["EngineExecutionTimeInMillis"] == 0


def test_stop_leaves_a_finished_query_alone(athena: Any, clock: FixedClock):
    """AWS: StopQueryExecution on a finished query succeeds and changes nothing (moto: it
    becomes CANCELLED).
    """
    qid = start(athena, QUERY)
    clock.advance(2)
    wait_for(athena, qid, ("RUNNING",))
    clock.advance(3)
    wait_for(athena, qid, TERMINAL)
    athena.stop_query_execution(QueryExecutionId=qid)
    assert state(athena, qid) == "SUCCEEDED"
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    assert len(rows) == 41  # header + 40 orders


def test_unknown_query_id_is_an_invalid_request(athena: Any):
    """AWS: an unknown QueryExecutionId is InvalidRequestException (moto: HTTP 500)."""
    for call in (athena.get_query_execution, athena.stop_query_execution, athena.get_query_results):
        with pytest.raises(ClientError) as err:
            call(QueryExecutionId="00000000-0000-0000-0000-000000000000")
        assert err.value.response["Error"]["Code"] == "InvalidRequestException"


def test_only_athenas_own_moves_are_legal() -> None:
    """AWS: a finished query never changes state again; a query never skips back to QUEUED."""
    ex = lifecycle.SandboxExecution(
        id="q", query="SELECT 1", submitted=T0, database="d", catalog="c",
        workgroup="primary", output_location="s3://b/q.csv",
    )  # fmt: skip
    with pytest.raises(ValueError, match="AthenaError"):
        lifecycle.transition(ex, "FAILED", at=T0)
    lifecycle.transition(ex, "RUNNING", at=T0 + timedelta(seconds=1))
    lifecycle.transition(ex, "SUCCEEDED", at=T0 + timedelta(seconds=2))
    for target in ("QUEUED", "RUNNING", "CANCELLED", "FAILED"):
        with pytest.raises(ValueError, match="illegal"):
            lifecycle.transition(ex, target, at=T0 + timedelta(seconds=3))
    assert ex.ended.is_set()


def test_list_query_executions_is_newest_first_in_pages(athena: Any, clock: FixedClock):
    """AWS: ListQueryExecutions lists the workgroup's queries newest first, <= 50 a page, with
    NextToken (moto: insertion order, one page, and it breaks on the sandbox's executions).
    """
    ids = []
    for _ in range(3):
        ids.append(start(athena, QUERY))
        clock.advance(0.001)
    first = athena.list_query_executions(MaxResults=2)
    assert first["QueryExecutionIds"] == ids[::-1][:2]
    rest = athena.list_query_executions(MaxResults=2, NextToken=first["NextToken"])
    assert rest["QueryExecutionIds"] == [ids[0]] and "NextToken" not in rest
    assert athena.list_query_executions(WorkGroup="primary")["QueryExecutionIds"] == ids[::-1]
