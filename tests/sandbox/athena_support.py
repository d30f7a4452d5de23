"""Shared setup for the sandbox Athena tests: the seeded table, real processed objects, polling.

The processed objects are written the way the pipeline writes them (a partner
CSV from ``datagen`` through the ingest job's ``ingest_object``), and the table
is the one the seed creates (``table_columns`` / ``table_parameters``), so the
tests query what the demo queries.  Expected rows come from the tests' own
reading of those objects, never from the sandbox's engine.
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime
from typing import Any

from sandbox import datagen
from sandbox.datasets import DATASETS
from sandbox.etl import ingest_object
from sandbox.seed.resources import table_columns, table_parameters

RAW = "smd-raw"
PROCESSED = "smd-processed"
RESULTS = "smd-athena-results"
OUTPUT = f"s3://{RESULTS}/queries/"
DATABASE = "processed"
ORDERS = next(d for d in DATASETS if d.name == "orders")
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")


def create_catalog(s3: Any, glue: Any) -> None:
    """Buckets, the ``processed`` database and the ``orders`` table exactly as seeded."""
    for bucket in (RAW, PROCESSED, RESULTS):
        s3.create_bucket(Bucket=bucket)
    glue.create_database(DatabaseInput={"Name": DATABASE})
    location = f"s3://{PROCESSED}/orders/"
    glue.create_table(
        DatabaseName=DATABASE,
        TableInput={
            "Name": "orders",
            "TableType": "EXTERNAL_TABLE",
            "PartitionKeys": [{"Name": "ingest_date", "Type": "string"}],
            "Parameters": table_parameters(location),
            "StorageDescriptor": {
                "Columns": table_columns(ORDERS),
                "Location": location,
                "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
            },
        },
    )


def ingest_orders(s3: Any, day: datetime, rows: int, *, seed: int, run: str = "jr_1") -> str:
    """A partner CSV of ``rows`` orders, ingested into ``orders/ingest_date=<day>/``; its key."""
    header, records = datagen.orders(random.Random(seed), rows, day)
    key = f"sales/orders/{day:%Y/%m/%d}/{run}.csv"
    s3.put_object(Bucket=RAW, Key=key, Body=datagen._csv(header, records))
    return ingest_object(
        s3,
        input_uri=f"s3://{RAW}/{key}",
        output_bucket=PROCESSED,
        dataset="orders",
        run_id=run,
        expected_columns=ORDERS.expected_columns,
        at=day,
    ).output_key


def day(n: int) -> datetime:
    return datetime(2026, 3, n, 9, 0, tzinfo=UTC)


def start(athena: Any, sql: str, **kwargs: Any) -> str:
    return athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": DATABASE},
        ResultConfiguration={"OutputLocation": OUTPUT},
        **kwargs,
    )["QueryExecutionId"]


def state(athena: Any, qid: str) -> str:
    return athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]["State"]


def wait_for(athena: Any, qid: str, states: tuple[str, ...], timeout: float = 30) -> list[str]:
    """Poll until the query is in one of ``states``; every distinct state seen, in order."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = state(athena, qid)
        if not seen or seen[-1] != current:
            seen.append(current)
        if current in states:
            return seen
        time.sleep(0.01)
    raise AssertionError(f"query {qid} never reached {states}; saw {seen}")


def run(athena: Any, sql: str, **kwargs: Any) -> dict[str, Any]:
    """Start, wait until terminal, return the final QueryExecution."""
    qid = start(athena, sql, **kwargs)
    wait_for(athena, qid, TERMINAL)
    return athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]


def pages(athena: Any, qid: str, max_results: int = 1000) -> list[list[list[str | None]]]:
    """Every page of GetQueryResults, following NextToken, values (None for NULL)."""
    out, token = [], None
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = athena.get_query_results(QueryExecutionId=qid, MaxResults=max_results, **kwargs)
        out.append(
            [[d.get("VarCharValue") for d in row["Data"]] for row in page["ResultSet"]["Rows"]]
        )
        token = page.get("NextToken")
        if not token:
            return out


def read_jsonl(s3: Any, keys: list[str]) -> list[dict[str, Any]]:
    """The records the objects hold, read by the test itself."""
    records = []
    for key in keys:
        body = s3.get_object(Bucket=PROCESSED, Key=key)["Body"].read().decode("utf-8")
        records += [json.loads(line) for line in body.splitlines() if line]
    return records


def object_size(s3: Any, key: str) -> int:
    return int(s3.head_object(Bucket=PROCESSED, Key=key)["ContentLength"])
