"""Athena behaviour the collector and the workbench rely on that moto lacks entirely.

- BatchGetQueryExecution (moto: NotImplementedError) answers up to 50 executions a call
  and lists an unknown id as unprocessed instead of failing the whole call, as it lists
  an id whose read failed (planned with ``read_faults``) until a later read succeeds;
- ClientRequestToken (moto: ignored) makes StartQueryExecution idempotent: the same
  token answers the same query and starts no second one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.athena.models import athena_backends
from moto.core import DEFAULT_ACCOUNT_ID

from sandbox.fidelity.athena import read_faults
from sandbox.fidelity.athena.api import runner
from tests.sandbox.athena_support import (
    TERMINAL,
    create_catalog,
    day,
    ingest_orders,
    start,
    wait_for,
)


@pytest.fixture
def athena(aws: None) -> Iterator[Any]:
    s3, glue = boto3.client("s3"), boto3.client("glue")
    create_catalog(s3, glue)
    ingest_orders(s3, day(1), 20, seed=1)
    yield boto3.client("athena")
    read_faults.clear()
    runner(athena_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]).shutdown()


def test_batch_get_reads_many_executions_and_names_the_unknown_ones(athena: Any) -> None:
    ids = [start(athena, "SELECT count(*) FROM orders") for _ in range(3)]
    for qid in ids:
        wait_for(athena, qid, TERMINAL)
    answer = athena.batch_get_query_execution(QueryExecutionIds=[*ids, "no-such-id"])
    assert sorted(e["QueryExecutionId"] for e in answer["QueryExecutions"]) == sorted(ids)
    assert {e["Status"]["State"] for e in answer["QueryExecutions"]} == {"SUCCEEDED"}
    assert [u["QueryExecutionId"] for u in answer["UnprocessedQueryExecutionIds"]] == ["no-such-id"]


def test_a_read_planned_to_fail_is_unprocessed_with_its_code_then_answered(athena: Any) -> None:
    readable, flaky = (start(athena, "SELECT count(*) FROM orders") for _ in range(2))
    read_faults.fail_reads(flaky, 2, code="ThrottlingException", message="Rate exceeded")
    answers = [
        athena.batch_get_query_execution(QueryExecutionIds=[readable, flaky]) for _ in range(3)
    ]
    for answer in answers[:2]:
        assert [e["QueryExecutionId"] for e in answer["QueryExecutions"]] == [readable]
        assert answer["UnprocessedQueryExecutionIds"] == [
            {
                "QueryExecutionId": flaky,
                "ErrorCode": "ThrottlingException",
                "ErrorMessage": "Rate exceeded",
            }
        ]
    read = sorted(e["QueryExecutionId"] for e in answers[2]["QueryExecutions"])
    assert read == sorted([readable, flaky])
    assert answers[2]["UnprocessedQueryExecutionIds"] == []


def test_the_same_client_request_token_starts_one_query(athena: Any) -> None:
    token = "t" * 32
    first = start(athena, "SELECT 1", ClientRequestToken=token)
    again = start(athena, "SELECT 1", ClientRequestToken=token)
    other = start(athena, "SELECT 1", ClientRequestToken="u" * 32)
    assert first == again != other
    listed = athena.list_query_executions()["QueryExecutionIds"]
    assert sorted(listed) == sorted({first, other})
