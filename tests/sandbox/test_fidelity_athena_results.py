"""Athena results: the rows the objects hold, pages, the CSV and the bytes scanned (``mock_aws``).

Each test names the Athena behaviour it restores.  Against plain moto every
one fails: moto returns no rows (or injected ones), ignores MaxResults and
NextToken, writes a CSV without header or quoting and reports 0 bytes.
Expected rows come from the test's own reading of the processed objects.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from sandbox.fidelity.athena import KNOBS
from sandbox.fidelity.athena.control import reset_knobs
from tests.sandbox.athena_support import (
    PROCESSED,
    RESULTS,
    create_catalog,
    day,
    ingest_orders,
    object_size,
    pages,
    read_jsonl,
    run,
)

COLUMNS = ("order_id", "customer_id", "amount", "currency", "ordered_at", "note", "ingest_date")


@pytest.fixture
def data(aws: None) -> Iterator[dict[str, Any]]:
    """Three days of orders written by the ingest job (2,500 rows on day 2), fast knobs."""
    KNOBS.update(queued_s=0, min_running_s=0)
    s3 = boto3.client("s3")
    create_catalog(s3, boto3.client("glue"))
    keys = {
        1: [ingest_orders(s3, day(1), 30, seed=1, run="jr_a")],
        2: [
            ingest_orders(s3, day(2), 1200, seed=2, run="jr_b"),
            ingest_orders(s3, day(2), 1300, seed=3, run="jr_c"),
        ],
        3: [ingest_orders(s3, day(3), 20, seed=4, run="jr_d")],
    }
    yield {"s3": s3, "athena": boto3.client("athena"), "keys": keys}
    reset_knobs()


def _succeeded(athena: Any, sql: str, **kwargs: Any) -> dict[str, Any]:
    done = run(athena, sql, **kwargs)
    assert done["Status"]["State"] == "SUCCEEDED", done["Status"].get("StateChangeReason")
    return done


def _expected(records: list[dict[str, Any]], ingest_date: str) -> list[tuple[Any, ...]]:
    """What Athena must return for these records, typed by the test (amount is a double)."""
    return sorted(
        (
            r["order_id"],
            r["customer_id"],
            float(r["amount"]),
            r["currency"],
            r["ordered_at"],
            r.get("note"),
            ingest_date,
        )
        for r in records
    )


def _typed(row: list[str | None]) -> tuple[Any, ...]:
    values: list[Any] = list(row)
    values[2] = float(values[2]) if values[2] is not None else None
    return tuple(values)


def test_query_returns_the_rows_the_objects_hold(data: dict[str, Any]):
    """AWS: a SELECT returns the table's rows as stored in its S3 objects (moto: none)."""
    athena, s3 = data["athena"], data["s3"]
    done = _succeeded(
        athena, f"SELECT {', '.join(COLUMNS)} FROM orders WHERE ingest_date = '2026-03-01'"
    )
    result = pages(athena, done["QueryExecutionId"])
    assert result[0][0] == list(COLUMNS)  # the header row comes first, as for any SELECT
    got = sorted(_typed(r) for page in result for r in page[1:])
    assert got == _expected(read_jsonl(s3, data["keys"][1]), "2026-03-01")


def test_aggregates_match_the_tests_own_sums(data: dict[str, Any]):
    """AWS: SQL runs for real: counts, sums and GROUP BY agree with the objects."""
    athena, s3 = data["athena"], data["s3"]
    done = _succeeded(
        athena,
        "SELECT currency, count(*) AS n, round(sum(amount), 2) AS total FROM orders "
        "GROUP BY currency ORDER BY currency",
    )
    rows = [r for page in pages(athena, done["QueryExecutionId"]) for r in page[1:]]
    records = read_jsonl(s3, [k for keys in data["keys"].values() for k in keys])
    expected: dict[str, list[float]] = {}
    for r in records:
        expected.setdefault(r["currency"], []).append(float(r["amount"]))
    assert [r[0] for r in rows] == sorted(expected)
    for currency, n, total in rows:
        assert int(n) == len(expected[currency])
        assert float(total) == pytest.approx(sum(expected[currency]), abs=0.011)


def test_results_page_at_most_1000_rows_with_next_tokens(data: dict[str, Any]):
    """AWS: GetQueryResults pages <= 1,000 rows (header row first) and continues with NextToken
    (moto: one page with everything, MaxResults and NextToken ignored).
    """
    athena, s3 = data["athena"], data["s3"]
    done = _succeeded(
        athena,
        f"SELECT {', '.join(COLUMNS)} FROM orders WHERE ingest_date = '2026-03-02' "
        "ORDER BY order_id",
    )
    qid = done["QueryExecutionId"]
    result = pages(athena, qid)
    assert [len(p) for p in result] == [1000, 1000, 501]
    assert result[0][0] == list(COLUMNS)
    flat = [r for page in result for r in page]
    got = [_typed(r) for r in flat[1:]]
    assert got == _expected(read_jsonl(s3, data["keys"][2]), "2026-03-02")
    small = pages(athena, qid, max_results=7)
    assert len(small) == 358 and all(len(p) == 7 for p in small[:-1])
    assert [r for p in small for r in p] == [r for p in result for r in p]


def test_max_results_above_1000_and_foreign_tokens_are_refused(data: dict[str, Any]):
    """AWS: MaxResults over 1,000 and a NextToken of another query are InvalidRequestException."""
    athena = data["athena"]
    first = _succeeded(athena, "SELECT order_id FROM orders")["QueryExecutionId"]
    other = _succeeded(athena, "SELECT order_id FROM orders")["QueryExecutionId"]
    with pytest.raises(ClientError) as err:
        athena.get_query_results(QueryExecutionId=first, MaxResults=1001)
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    assert "less than or equal to 1000" in err.value.response["Error"]["Message"]
    token = athena.get_query_results(QueryExecutionId=first)["NextToken"]
    for qid, bad in ((other, token), (first, "not-a-token")):
        with pytest.raises(ClientError) as err:
            athena.get_query_results(QueryExecutionId=qid, NextToken=bad)
        assert err.value.response["Error"]["Code"] == "InvalidRequestException"


def test_csv_at_output_location_equals_the_pages(data: dict[str, Any]):
    """AWS: the result is an RFC 4180 CSV at OutputLocation -- header, every value quoted,
    NULL an empty unquoted field -- holding exactly what the pages hold (moto: no header,
    no quote escaping, NULL and '' alike).
    """
    athena, s3 = data["athena"], data["s3"]
    s3.put_object(
        Bucket=PROCESSED,
        Key="orders/ingest_date=2026-03-04/edge.json",
        Body=(
            b'{"order_id": "E1", "amount": "1", "note": "say \\"hi\\", then\\nleave"}\n'
            b'{"order_id": "E2", "amount": "2", "note": ""}\n'
            b'{"order_id": "E3", "amount": "3"}\n'
        ),
    )
    done = _succeeded(
        athena,
        "SELECT order_id, note, amount FROM orders "
        "WHERE ingest_date IN ('2026-03-02', '2026-03-04') ORDER BY order_id",
    )
    location = done["ResultConfiguration"]["OutputLocation"]
    assert location == f"s3://{RESULTS}/queries/{done['QueryExecutionId']}.csv"
    body = s3.get_object(Bucket=RESULTS, Key=location.split("/", 3)[3])["Body"].read()
    text = body.decode("utf-8")
    assert text.startswith('"order_id","note","amount"\n')
    assert '"E1","say ""hi"", then\nleave","1.0"\n' in text
    assert '"E2","","2.0"\n' in text
    assert '"E3",,"3.0"\n' in text  # NULL: empty and unquoted
    paged = [r for page in pages(athena, done["QueryExecutionId"]) for r in page]
    assert list(csv.reader(io.StringIO(text))) == [[v or "" for v in r] for r in paged]
    assert paged[2:4] == [["E2", "", "2.0"], ["E3", None, "3.0"]]


def test_data_scanned_is_the_size_of_the_objects_read_after_pruning(data: dict[str, Any]):
    """AWS: DataScannedInBytes is the bytes of the objects the query opened; a filter on the
    partition key skips whole partitions (moto: always 0).
    """
    athena, s3, keys = data["athena"], data["s3"], data["keys"]
    sizes = {d: sum(object_size(s3, k) for k in ks) for d, ks in keys.items()}
    cases = {
        "SELECT count(*) FROM orders": sum(sizes.values()),
        "SELECT count(*) FROM orders WHERE ingest_date = '2026-03-02'": sizes[2],
        "SELECT count(*) FROM orders o WHERE o.ingest_date >= '2026-03-02' AND amount > 1": (
            sizes[2] + sizes[3]
        ),
        "SELECT count(*) FROM orders WHERE ingest_date BETWEEN '2026-03-01' AND '2026-03-01'": (
            sizes[1]
        ),
        "SELECT count(*) FROM orders WHERE ingest_date = ?": sizes[3],
        "SELECT count(*) FROM orders WHERE amount > 100": sum(sizes.values()),
        "SELECT count(*) FROM orders WHERE ingest_date = '2030-01-01'": 0,
        "SELECT 1": 0,
    }
    for sql, expected in cases.items():
        extra = {"ExecutionParameters": ["'2026-03-03'"]} if "?" in sql else {}
        done = _succeeded(athena, sql, **extra)
        assert done["Statistics"]["DataScannedInBytes"] == expected, sql
    pruned = _succeeded(athena, "SELECT count(*) FROM orders WHERE ingest_date = '2026-03-02'")
    assert pages(athena, pruned["QueryExecutionId"])[0][1] == ["2500"]


def test_column_info_carries_athena_types_and_values_athenas_text(data: dict[str, Any]):
    """AWS: ResultSetMetadata.ColumnInfo names Trino types; values are Trino's text
    (``true``, ``1.0E10``, ``2026-03-01 12:00:00.000``); unnamed columns are _col<n>.
    """
    athena = data["athena"]
    done = _succeeded(
        athena,
        "SELECT count(*), avg(amount) AS a, DATE '2026-03-01' AS d, true AS b, "
        "TIMESTAMP '2026-03-01 12:00:00' AS ts, CAST(1.5 AS DECIMAL(10,2)) AS dec, "
        "1e10 AS big, 7 / 2 AS half, ARRAY[1, 2] AS arr, CAST(NULL AS VARCHAR) AS nothing "
        "FROM orders WHERE ingest_date = '2026-03-01'",
    )
    page = athena.get_query_results(QueryExecutionId=done["QueryExecutionId"])
    info = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in info] == [
        ("_col0", "bigint"),
        ("a", "double"),
        ("d", "date"),
        ("b", "boolean"),
        ("ts", "timestamp"),
        ("dec", "decimal"),
        ("big", "double"),
        ("half", info[7]["Type"]),  # Trino says integer; the sandbox may widen to bigint
        ("arr", "array"),
        ("nothing", "varchar"),
    ]
    assert info[7]["Type"] in ("integer", "bigint")
    assert (info[5]["Precision"], info[5]["Scale"]) == (10, 2)
    values = [d.get("VarCharValue") for d in page["ResultSet"]["Rows"][1]["Data"]]
    assert values[0] == "30"
    assert values[2:] == [
        "2026-03-01",
        "true",
        "2026-03-01 12:00:00.000",
        "1.50",
        "1.0E10",
        "3",
        "[1, 2]",
        None,
    ]
