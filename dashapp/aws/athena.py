"""Amazon Athena: start, follow, stop a query and read its result a page at a time.

Athena is asynchronous: StartQueryExecution answers at once with an id, and the
query runs for seconds or hours. The web calls only `start_query` and `stop_query`
(a user's action) and `result_page` (reading a result a user opened); the collector
follows every unfinished query with `get_execution_batch`, 50 ids a call. Parsing is
pure functions over Athena's response shapes, tested with captured responses.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dashapp.aws import shape

TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
ACTIVE_STATES = frozenset({"QUEUED", "RUNNING"})
STATES = ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")
PAGE_ROWS = 1000  # GetQueryResults' MaxResults cap
BATCH_GET_MAX = 50  # BatchGetQueryExecution's cap
# The ErrorCodes of an unprocessed id Athena does not know (any other code is a failed read).
UNKNOWN_ID_CODES = frozenset({"InvalidRequestException", "ResourceNotFoundException"})
MB = 1024 * 1024
MIN_BILLED_BYTES = 10 * MB  # Athena bills at least 10 MB a query, rounded up to the MB
TB = 1024**4


@dataclass(frozen=True)
class Execution:
    """What the dashboard records of one query execution."""

    execution_id: str
    state: str
    state_reason: str | None
    data_scanned_bytes: int | None
    engine_ms: int | None
    output_location: str | None
    submitted_at: datetime | None
    completed_at: datetime | None
    workgroup: str | None
    reused_result: bool


@dataclass(frozen=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True)
class ResultPage:
    """One page of a result: its rows (header row already dropped), and where the next starts."""

    columns: tuple[Column, ...]
    rows: list[list[str | None]]
    next_token: str | None


def billed_bytes(scanned: int | None) -> int:
    """What Athena bills for a query that scanned `scanned` bytes (a failed or cancelled query
    bills what it scanned; a query that scanned nothing, e.g. DDL, bills nothing)."""
    if not scanned:
        return 0
    return max(MIN_BILLED_BYTES, math.ceil(scanned / MB) * MB)


def cost(scanned: int | None, tb_price: float) -> float:
    """The query's cost at `tb_price` per TB billed."""
    return billed_bytes(scanned) / TB * tb_price


def _error_text(status: Mapping[str, Any]) -> str | None:
    error = shape.mapping(status, "AthenaError")
    message = shape.optional_text(error, "ErrorMessage") or shape.optional_text(
        status, "StateChangeReason"
    )
    return message or None


@shape.parser("Athena query execution")
def parse_execution(raw: Mapping[str, Any]) -> Execution:
    """An `Execution` from GetQueryExecution's (or BatchGet's) QueryExecution."""
    status = shape.mapping(raw, "Status")
    stats = shape.mapping(raw, "Statistics")
    reuse = shape.mapping(stats, "ResultReuseInformation")
    return Execution(
        execution_id=shape.text(raw, "QueryExecutionId", 64),
        state=shape.optional_text(status, "State", 16) or "QUEUED",
        state_reason=_error_text(status),
        data_scanned_bytes=shape.optional_int(stats, "DataScannedInBytes"),
        engine_ms=shape.optional_int(stats, "EngineExecutionTimeInMillis"),
        output_location=shape.optional_text(
            shape.mapping(raw, "ResultConfiguration"), "OutputLocation", 2048
        ),
        submitted_at=shape.optional_time(status, "SubmissionDateTime"),
        completed_at=shape.optional_time(status, "CompletionDateTime"),
        workgroup=shape.optional_text(raw, "WorkGroup", 128),
        reused_result=reuse.get("ReusedPreviousResult") is True,
    )


@shape.parser("Athena result page")
def parse_result_page(raw: Mapping[str, Any], *, first: bool) -> ResultPage:
    """A `ResultPage` from GetQueryResults. Athena repeats the column names as the first row
    of the first page of a SELECT; that row is dropped, so every page holds data only."""
    result_set = shape.mapping(raw, "ResultSet")
    meta = shape.mapping(result_set, "ResultSetMetadata")
    columns = tuple(
        Column(shape.text(c, "Name"), shape.optional_text(c, "Type") or "varchar")
        for c in shape.items(meta, "ColumnInfo")
    )
    rows = [
        [shape.optional_text(cell, "VarCharValue") for cell in shape.items(row, "Data")]
        for row in shape.items(result_set, "Rows")
    ]
    if first and rows and [c.name for c in columns] == rows[0]:
        rows = rows[1:]
    return ResultPage(columns, rows, shape.optional_text(raw, "NextToken"))


def start_query(
    client: Any,
    sql: str,
    *,
    database: str,
    workgroup: str,
    output_location: str,
    parameters: Sequence[str] = (),
    reuse_minutes: int | None = None,
    request_token: str | None = None,
) -> str:
    """StartQueryExecution; the execution id. `parameters` fill the query's `?` in order;
    the same `request_token` (32–128 characters) never starts a second query."""
    kwargs: dict[str, Any] = {
        "QueryString": sql,
        "QueryExecutionContext": {"Database": database},
        "WorkGroup": workgroup,
        "ResultConfiguration": {"OutputLocation": output_location},
    }
    if request_token:
        kwargs["ClientRequestToken"] = request_token
    if parameters:
        kwargs["ExecutionParameters"] = list(parameters)
    if reuse_minutes:
        kwargs["ResultReuseConfiguration"] = {
            "ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": reuse_minutes}
        }
    return str(client.start_query_execution(**kwargs)["QueryExecutionId"])


def stop_query(client: Any, execution_id: str) -> None:
    """StopQueryExecution: Athena ignores it for a query that has already finished."""
    client.stop_query_execution(QueryExecutionId=execution_id)


def get_execution(client: Any, execution_id: str) -> Execution:
    return parse_execution(
        client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
    )


@dataclass(frozen=True)
class Unread:
    """An id BatchGetQueryExecution listed as unprocessed, with Athena's reason."""

    execution_id: str
    error_code: str | None
    error_message: str | None

    @property
    def unknown_to_athena(self) -> bool:
        """Athena does not know the id (never in this account and region, or past its 45-day
        history): asking again can never read it, unlike a throttled or failed read."""
        return self.error_code in UNKNOWN_ID_CODES

    @property
    def reason(self) -> str:
        """`InvalidRequestException: QueryExecution … was not found`, as Athena worded it."""
        text = ": ".join(part for part in (self.error_code, self.error_message) if part)
        return text or "no reason given"


@dataclass(frozen=True)
class ExecutionBatch:
    """One BatchGetQueryExecution answer: the executions read and the ids Athena could not read."""

    found: list[Execution]
    unread: list[Unread]
    malformed: list[str] = field(default_factory=list)


def execution_batches(execution_ids: Iterable[str]) -> list[list[str]]:
    """The ids (each once, order kept) in calls of at most 50, BatchGetQueryExecution's cap."""
    ids = list(dict.fromkeys(execution_ids))
    return [ids[start : start + BATCH_GET_MAX] for start in range(0, len(ids), BATCH_GET_MAX)]


def parse_execution_batch(raw: Mapping[str, Any]) -> ExecutionBatch:
    """An `ExecutionBatch` from BatchGetQueryExecution's answer. An execution whose shape is
    malformed counts as unread (retried, given up after the follower's limit); one without
    even an id is named in `malformed`, since no query can be matched to it."""
    found: list[Execution] = []
    unread: list[Unread] = []
    malformed: list[str] = []
    for e in raw.get("QueryExecutions", []):
        try:
            found.append(parse_execution(e))
        except shape.MalformedResponse as err:
            known = e.get("QueryExecutionId") if isinstance(e, dict) else None
            if isinstance(known, str):
                unread.append(Unread(known, "MalformedResponse", str(err)))
            else:
                malformed.append(str(err))
    unread += [
        Unread(u["QueryExecutionId"], u.get("ErrorCode"), u.get("ErrorMessage"))
        for u in raw.get("UnprocessedQueryExecutionIds", [])
    ]
    return ExecutionBatch(found=found, unread=unread, malformed=malformed)


def get_execution_batch(client: Any, execution_ids: Sequence[str]) -> ExecutionBatch:
    """One BatchGetQueryExecution call for at most 50 ids (see `execution_batches`)."""
    return parse_execution_batch(
        client.batch_get_query_execution(QueryExecutionIds=list(execution_ids))
    )


def result_page(client: Any, execution_id: str, token: str | None) -> ResultPage:
    """One page of at most 1,000 rows; `token` None reads the first page."""
    kwargs: dict[str, Any] = {"QueryExecutionId": execution_id, "MaxResults": PAGE_ROWS}
    if token:
        kwargs["NextToken"] = token
    return parse_result_page(client.get_query_results(**kwargs), first=token is None)
