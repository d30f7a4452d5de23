"""PyAthena and plain boto3 against the sandbox server see the same Athena (issue 10).

Through HTTP, as the dashboard and its users meet it: the same lifecycle
(QUEUED -> RUNNING -> SUCCEEDED, queue and engine time), the same rows paged
1,000 at a time, the same CSV at OutputLocation, the same failure text, and
Cancel that ends CANCELLED.  Against plain moto PyAthena sees SUCCEEDED at
once and no rows, and the CSV has no header.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pyathena
import pytest
import requests
from pyathena.error import OperationalError
from pyathena.pandas.cursor import PandasCursor

from sandbox.server import SandboxServer
from tests.sandbox.athena_support import (
    DATABASE,
    OUTPUT,
    RESULTS,
    TERMINAL,
    create_catalog,
    day,
    ingest_orders,
    pages,
    start,
    wait_for,
)

REGION = "us-east-1"
SQL = (
    "SELECT order_id, customer_id, amount, note, ingest_date FROM orders "
    "WHERE ingest_date = '2026-03-02' ORDER BY order_id"
)


@pytest.fixture(scope="module")
def catalog(sandbox: SandboxServer) -> str:
    """2,500 orders on 2026-03-02 and 30 on 2026-03-01, written by the ingest job."""
    s3 = _client(sandbox, "s3")
    create_catalog(s3, _client(sandbox, "glue"))
    ingest_orders(s3, day(1), 30, seed=1, run="jr_a")
    ingest_orders(s3, day(2), 2500, seed=2, run="jr_b")
    return sandbox.url


def _client(sandbox: SandboxServer, service: str) -> Any:
    import boto3

    return boto3.client(service, region_name=REGION, endpoint_url=sandbox.url)


@pytest.fixture
def knobs(catalog: str) -> Iterator[Callable[..., None]]:
    def set_knobs(**values: Any) -> None:
        response = requests.post(f"{catalog}/_sandbox/athena", json=values, timeout=5)
        assert response.status_code == 200, response.text

    yield set_knobs
    requests.delete(f"{catalog}/_sandbox/athena", timeout=5).raise_for_status()


def _connect(url: str, **kwargs: Any) -> Any:
    return pyathena.connect(
        region_name=REGION,
        endpoint_url=url,
        s3_staging_dir=OUTPUT,
        schema_name=DATABASE,
        poll_interval=0.01,
        **kwargs,
    )


def test_pyathena_and_boto3_see_the_same_lifecycle_pages_and_csv(
    catalog: str, sandbox_client: Callable[..., Any], knobs: Callable[..., None]
) -> None:
    """AWS: a query queues, runs and succeeds; both clients read the same 2,500 rows (PyAthena
    through 1,000-row GetQueryResults pages) and the same CSV at OutputLocation.
    """
    knobs(queued_s=0.3, min_running_s=0.8)
    athena, s3 = sandbox_client("athena"), sandbox_client("s3")

    qid = start(athena, SQL)
    boto3_states = wait_for(athena, qid, TERMINAL)
    boto3_pages = pages(athena, qid)
    boto3_done = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]

    pyathena_states: list[str] = []
    with _connect(catalog, on_poll=lambda ex: pyathena_states.append(ex.state)) as conn:
        cursor = conn.cursor()
        cursor.execute(SQL)
        pyathena_rows = cursor.fetchall()
        pyathena_qid = cursor.query_id
        location = cursor.output_location

    assert boto3_states == ["QUEUED", "RUNNING", "SUCCEEDED"]
    assert list(dict.fromkeys(pyathena_states)) == ["QUEUED", "RUNNING", "SUCCEEDED"]
    assert [len(p) for p in boto3_pages] == [1000, 1000, 501]
    header, *rows = [r for page in boto3_pages for r in page]
    assert header == ["order_id", "customer_id", "amount", "note", "ingest_date"]
    assert [d[0] for d in cursor.description] == header
    assert len(pyathena_rows) == 2500
    assert [(r[0], r[1], float(r[2]), r[3], r[4]) for r in rows] == [
        tuple(r) for r in pyathena_rows
    ]

    pyathena_done = athena.get_query_execution(QueryExecutionId=pyathena_qid)["QueryExecution"]
    for done in (boto3_done, pyathena_done):
        stats = done["Statistics"]
        assert stats["QueryQueueTimeInMillis"] >= 300
        assert stats["EngineExecutionTimeInMillis"] >= 800
        assert stats["DataScannedInBytes"] == boto3_done["Statistics"]["DataScannedInBytes"] > 0
    assert location == f"{OUTPUT}{pyathena_qid}.csv"

    def csv_rows(output: str) -> list[list[str]]:
        key = output.split("/", 3)[3]
        body = s3.get_object(Bucket=RESULTS, Key=key)["Body"].read().decode("utf-8")
        return list(csv.reader(io.StringIO(body)))

    assert csv_rows(location) == csv_rows(boto3_done["ResultConfiguration"]["OutputLocation"])
    assert csv_rows(location) == [[v or "" for v in r] for r in [header, *rows]]


def test_pyathena_pandas_reads_the_result_csv(
    catalog: str, knobs: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS: PyAthena's PandasCursor reads the result CSV from S3 itself; it parses and holds
    the rows GetQueryResults serves (moto's headerless CSV cannot be read this way).
    """
    knobs(queued_s=0, min_running_s=0)
    monkeypatch.setenv("AWS_ENDPOINT_URL", catalog)  # PyAthena's S3 reads go to the sandbox too
    with _connect(catalog, cursor_class=PandasCursor) as conn:
        frame = conn.cursor().execute(SQL).as_pandas()
    with _connect(catalog) as conn:
        expected = conn.cursor().execute(SQL).fetchall()
    assert list(frame.columns) == ["order_id", "customer_id", "amount", "note", "ingest_date"]
    assert len(frame) == 2500
    got = [
        (r.order_id, r.customer_id, r.amount, r.note if isinstance(r.note, str) else None,
         r.ingest_date)
        for r in frame.itertuples()
    ]  # fmt: skip
    # pandas reads '' and NULL alike as NaN, with AWS as here
    assert got == [(*r[:3], r[3] or None, r[4]) for r in expected]


def test_both_clients_see_athenas_failure_text(
    catalog: str, sandbox_client: Callable[..., Any], knobs: Callable[..., None]
) -> None:
    """AWS: a bad query FAILS; PyAthena raises the StateChangeReason boto3 reads."""
    knobs(queued_s=0, min_running_s=0)
    with _connect(catalog) as conn:
        cursor = conn.cursor()
        with pytest.raises(OperationalError) as err:
            cursor.execute("SELECT amount, colour FROM orders")
        qid = cursor.query_id
    status = sandbox_client("athena").get_query_execution(QueryExecutionId=qid)["QueryExecution"]
    assert status["Status"]["State"] == "FAILED"
    assert str(err.value) == status["Status"]["StateChangeReason"]
    assert str(err.value).startswith("COLUMN_NOT_FOUND: line 1:16: Column 'colour'")


def test_pyathena_cancel_ends_cancelled_and_boto3_agrees(
    catalog: str, sandbox_client: Callable[..., Any], knobs: Callable[..., None]
) -> None:
    """AWS: StopQueryExecution (PyAthena's cancel) ends a running query CANCELLED for good."""
    knobs(queued_s=0, min_running_s=30)
    athena = sandbox_client("athena")
    started = threading.Event()
    outcome: dict[str, Any] = {}

    with _connect(catalog, on_start_query_execution=lambda qid: started.set()) as conn:
        cursor = conn.cursor()

        def run() -> None:
            try:
                cursor.execute(SQL)
            except OperationalError as exc:
                outcome["error"] = str(exc)

        worker = threading.Thread(target=run)
        worker.start()
        assert started.wait(10)
        wait_for(athena, cursor.query_id, ("RUNNING",))
        began = time.monotonic()
        cursor.cancel()
        worker.join(10)
    assert time.monotonic() - began < 10, "cancel must not wait out the 30 s run"
    done = athena.get_query_execution(QueryExecutionId=cursor.query_id)["QueryExecution"]
    assert done["Status"]["State"] == "CANCELLED"
    assert outcome["error"] == done["Status"]["StateChangeReason"]


def test_knobs_route_refuses_unknown_or_negative_values(catalog: str) -> None:
    """The sandbox's own control: bad knob values are refused with a reason, not half-applied."""
    for body in ({"min_running_s": -1}, {"speed": 2}, [1]):
        response = requests.post(f"{catalog}/_sandbox/athena", json=body, timeout=5)
        assert response.status_code == 400
        assert response.json()["message"]
    assert requests.get(f"{catalog}/_sandbox/athena", timeout=5).json()["min_running_s"] >= 0
