"""The Athena operations moto serves, rewired onto executions that really run.

Why its own module: ``lifecycle`` is the state machine, ``runner`` the worker,
``planner``/``engine`` the SQL; this module is only the moto side -- what
:func:`apply` installs so plain boto3 and PyAthena see Athena's behaviour:

* ``StartQueryExecution`` answers at once with a QUEUED query whose output is
  ``<OutputLocation>/<id>.csv`` (the workgroup's location when the request
  has none, or always when the workgroup enforces its configuration; neither
  -> InvalidRequestException, as in Athena);
* ``GetQueryExecution`` reports the real state, StateChangeReason,
  AthenaError, DataScannedInBytes and engine/queue/total times;
* ``BatchGetQueryExecution`` (moto has none) answers up to 50 of them a call
  and lists an unknown id under UnprocessedQueryExecutionIds
  (InvalidRequestException), as an id whose read ``read_faults`` fails is;
* ``GetQueryResults`` refuses unfinished or failed queries, pages <= 1,000
  rows (the header row first, as for any SELECT) with a NextToken bound to
  the query, and ColumnInfo with Athena's types;
* ``StopQueryExecution`` cancels only QUEUED/RUNNING queries;
* ``ListQueryExecutions`` is newest first, <= 50 a page; unknown ids are
  InvalidRequestException instead of moto's HTTP 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Any

from moto.athena.models import AthenaBackend
from moto.athena.responses import AthenaResponse

from . import read_faults
from .catalog import resolve_table
from .engine import execute
from .errors import USER_ERROR, AthenaQueryError, InvalidRequest
from .lifecycle import SandboxExecution
from .output import output_location, write_result
from .planner import plan_query, statement_type
from .runner import KNOBS, QueryRunner

__all__ = ["MAX_RESULTS", "apply", "execution", "runner"]

MAX_RESULTS = 1000
LIST_MAX_RESULTS = 50
ENGINE_VERSION = {
    "SelectedEngineVersion": "AUTO",
    "EffectiveEngineVersion": "Athena engine version 3",
}


def runner(backend: AthenaBackend) -> QueryRunner:
    """The backend's query runner (one per moto backend, so a moto reset ends its queries)."""
    found = backend.__dict__.get("_sandbox_runner")
    if found is None:
        found = backend.__dict__.setdefault("_sandbox_runner", QueryRunner(KNOBS))
    return found  # type: ignore[no-any-return]


def execution(backend: AthenaBackend, execution_id: str | None) -> SandboxExecution:
    found = backend.executions.get(execution_id or "")
    if not isinstance(found, SandboxExecution):
        raise InvalidRequest(f"QueryExecution {execution_id} was not found")
    return found


def _task(backend: AthenaBackend) -> Any:
    def run(ex: SandboxExecution, register: Any) -> Any:
        if ex.statement_type == "DDL":
            return _ddl(backend, ex)
        plan = plan_query(
            ex.query,
            database=ex.database,
            parameters=ex.execution_parameters,
            lookup=lambda db, name: resolve_table(
                backend.account_id, backend.region_name, db, name
            ),
        )
        outcome = execute(plan, on_connection=register, cancelled=ex.ended)
        ex.data_scanned_bytes = outcome.scanned_bytes

        def publish() -> None:
            write_result(backend.account_id, backend.region_name, ex, outcome.result)

        return publish

    return run


def _ddl(backend: AthenaBackend, ex: SandboxExecution) -> Any:
    head = " ".join(ex.query.split()[:2]).upper()
    if head not in ("CREATE DATABASE", "CREATE SCHEMA", "DROP DATABASE", "DROP SCHEMA"):
        raise AthenaQueryError(
            f"NOT_SUPPORTED: the sandbox runs no {head} statements (only queries and "
            "CREATE/DROP DATABASE)",
            type_=USER_ERROR,
        )
    backend._process_ddl(ex.query, {"Catalog": ex.catalog})
    return lambda: None


def _start_query_execution(self: AthenaResponse) -> str:
    backend = self.athena_backend
    workgroup_name = self._get_param("WorkGroup") or "primary"
    workgroup = backend.work_groups.get(workgroup_name)
    if workgroup is None:
        raise InvalidRequest("WorkGroup does not exist")
    query = self._get_param("QueryString") or ""
    context = self._get_param("QueryExecutionContext") or {}
    # ClientRequestToken makes the start idempotent: the same token answers the same query.
    token = self._get_param("ClientRequestToken")
    tokens: dict[str, str] = backend.__dict__.setdefault("_sandbox_request_tokens", {})
    if token and token in tokens:
        return json.dumps({"QueryExecutionId": tokens[token]})
    execution_id = str(uuid.uuid4())
    if token:
        tokens[token] = execution_id
    location = output_location(
        self._get_param("ResultConfiguration") or {}, workgroup.configuration, execution_id
    )
    run = runner(backend)
    ex = SandboxExecution(
        id=execution_id,
        query=query,
        submitted=run.now(),
        database=context.get("Database") or "default",
        catalog=context.get("Catalog") or "AwsDataCatalog",
        workgroup=workgroup_name,
        output_location=location,
        statement_type=statement_type(query),
        execution_parameters=self._get_param("ExecutionParameters"),
    )
    backend.executions[ex.id] = ex
    run.submit(ex, _task(backend))
    return json.dumps({"QueryExecutionId": ex.id})


def _epoch(value: Any) -> float:
    return float(value.timestamp())


def describe(ex: SandboxExecution) -> dict[str, Any]:
    """The ``QueryExecution`` structure as Athena returns it."""
    status: dict[str, Any] = {"State": ex.state, "SubmissionDateTime": _epoch(ex.submitted)}
    if ex.completed is not None:
        status["CompletionDateTime"] = _epoch(ex.completed)
    if ex.state_change_reason:
        status["StateChangeReason"] = ex.state_change_reason
    if ex.error is not None:
        status["AthenaError"] = ex.error.as_dict()
    result: dict[str, Any] = {
        "QueryExecutionId": ex.id,
        "Query": ex.query,
        "StatementType": ex.statement_type,
        "ResultConfiguration": {"OutputLocation": ex.output_location},
        "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
        "QueryExecutionContext": {"Database": ex.database, "Catalog": ex.catalog},
        "Status": status,
        "Statistics": {
            "EngineExecutionTimeInMillis": ex.engine_ms(),
            "DataScannedInBytes": ex.data_scanned_bytes,
            "TotalExecutionTimeInMillis": ex.total_ms(),
            "QueryQueueTimeInMillis": ex.queue_ms(),
            "ServicePreProcessingTimeInMillis": 0,
            "QueryPlanningTimeInMillis": 0,
            "ServiceProcessingTimeInMillis": 0,
            "ResultReuseInformation": {"ReusedPreviousResult": False},
        },
        "WorkGroup": ex.workgroup,
        "EngineVersion": ENGINE_VERSION,
    }
    if ex.statement_type == "DML":
        result["SubstatementType"] = "SELECT"
    if ex.execution_parameters is not None:
        result["ExecutionParameters"] = ex.execution_parameters
    return result


def _get_query_execution(self: AthenaResponse) -> str:
    ex = execution(self.athena_backend, self._get_param("QueryExecutionId"))
    return json.dumps({"QueryExecution": describe(ex)})


def _batch_get_query_execution(self: AthenaResponse) -> str:
    """Up to 50 executions a call; an unknown id (or one whose read ``read_faults`` fails) is
    listed as unprocessed, never an error."""
    ids = self._get_param("QueryExecutionIds") or []
    if not 1 <= len(ids) <= 50:
        raise InvalidRequest("QueryExecutionIds must hold 1 to 50 ids")
    found, unprocessed = [], []
    for execution_id in ids:
        ex = self.athena_backend.executions.get(execution_id)
        planned = read_faults.take(execution_id)
        if planned is not None:
            code, message = planned
            unprocessed.append(
                {"QueryExecutionId": execution_id, "ErrorCode": code, "ErrorMessage": message}
            )
        elif isinstance(ex, SandboxExecution):
            found.append(describe(ex))
        else:
            unprocessed.append(
                {
                    "QueryExecutionId": execution_id,
                    "ErrorCode": "InvalidRequestException",
                    "ErrorMessage": f"QueryExecution {execution_id} was not found",
                }
            )
    return json.dumps({"QueryExecutions": found, "UnprocessedQueryExecutionIds": unprocessed})


def _token(ex: SandboxExecution, row: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"q": ex.id, "row": row}).encode()).decode()


def _row_from_token(ex: SandboxExecution, token: str, lines: int) -> int:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        row = int(payload["row"])
        same = payload["q"] == ex.id
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidRequest("Invalid NextToken") from None
    if not same or not 0 < row <= lines:
        raise InvalidRequest("Invalid NextToken")
    return row


def _get_query_results(self: AthenaResponse) -> str:
    ex = execution(self.athena_backend, self._get_param("QueryExecutionId"))
    raw_max = self._get_param("MaxResults")
    max_results = MAX_RESULTS if raw_max is None else int(raw_max)
    if not 1 <= max_results <= MAX_RESULTS:
        raise InvalidRequest(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to "
            f"satisfy constraint: Member must have value less than or equal to {MAX_RESULTS}"
        )
    if ex.state in ("QUEUED", "RUNNING"):
        raise InvalidRequest(f"Query has not yet finished. Current state: {ex.state}")
    if ex.state != "SUCCEEDED":
        raise InvalidRequest(
            f"Query did not finish successfully. Final query state: {ex.state}"
            + (f"\n{ex.state_change_reason}" if ex.state_change_reason else "")
        )
    result = ex.result
    if result is None:  # DDL: no rows, no columns
        return json.dumps(
            {"UpdateCount": 0, "ResultSet": {"Rows": [], "ResultSetMetadata": {"ColumnInfo": []}}}
        )
    token = self._get_param("NextToken")
    start = _row_from_token(ex, token, result.lines) if token else 0
    records = result.read_rows(start, max_results)
    rows = [
        {"Data": [{} if v is None else {"VarCharValue": v} for v in record]} for record in records
    ]
    body: dict[str, Any] = {
        "UpdateCount": 0,
        "ResultSet": {"Rows": rows, "ResultSetMetadata": {"ColumnInfo": result.columns}},
    }
    if start + len(records) < result.lines:
        body["NextToken"] = _token(ex, start + len(records))
    return json.dumps(body)


def _stop_query_execution(self: AthenaResponse) -> str:
    backend = self.athena_backend
    runner(backend).stop(execution(backend, self._get_param("QueryExecutionId")))
    return json.dumps({})


def _list_query_executions(self: AthenaResponse) -> str:
    backend = self.athena_backend
    workgroup = self._get_param("WorkGroup") or "primary"
    raw_max = self._get_param("MaxResults")
    max_results = LIST_MAX_RESULTS if raw_max in (None, 0) else int(raw_max)
    if not 0 <= max_results <= LIST_MAX_RESULTS:
        raise InvalidRequest(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to "
            f"satisfy constraint: Member must have value less than or equal to {LIST_MAX_RESULTS}"
        )
    ids = [
        ex.id
        for ex in sorted(
            (e for e in backend.executions.values() if isinstance(e, SandboxExecution)),
            key=lambda e: e.submitted,
            reverse=True,
        )
        if ex.workgroup == workgroup
    ]
    start = 0
    token = self._get_param("NextToken")
    if token:
        if token not in ids:
            raise InvalidRequest("Invalid NextToken")
        start = ids.index(token) + 1
    page = ids[start : start + max_results]
    body: dict[str, Any] = {"QueryExecutionIds": page}
    if start + max_results < len(ids) and page:
        body["NextToken"] = page[-1]
    return json.dumps(body)


_ORIGINAL_RESET = AthenaBackend.reset


def _reset(self: AthenaBackend) -> None:
    found = self.__dict__.get("_sandbox_runner")
    if found is not None:
        found.shutdown()
    for ex in list(getattr(self, "executions", {}).values()):
        if isinstance(ex, SandboxExecution) and ex.result is not None:
            ex.result.close()
    _ORIGINAL_RESET(self)


def apply() -> None:
    """Install the Athena patches (idempotent)."""
    if getattr(AthenaResponse, "_sandbox_patched", False):
        return
    AthenaResponse.start_query_execution = _start_query_execution  # type: ignore[method-assign, assignment]
    AthenaResponse.get_query_execution = _get_query_execution  # type: ignore[method-assign]
    AthenaResponse.batch_get_query_execution = _batch_get_query_execution  # type: ignore[attr-defined]
    AthenaResponse.get_query_results = _get_query_results  # type: ignore[method-assign]
    AthenaResponse.stop_query_execution = _stop_query_execution  # type: ignore[method-assign]
    AthenaResponse.list_query_executions = _list_query_executions  # type: ignore[method-assign]
    AthenaBackend.reset = _reset  # type: ignore[method-assign]
    AthenaResponse._sandbox_patched = True  # type: ignore[attr-defined]
