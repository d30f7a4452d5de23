"""Running a query from the workbench: validated, recorded, audited, followed to its end."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from collectors.athena import collect_catalog
from dashapp.actions import athena_results
from dashapp.actions.athena import QueryError, cancel_query, parameter_literal, run_query, validate
from dashapp.aws.athena import billed_bytes
from dashapp.models import AthenaQuery, AthenaResultToken, AuditEntry, CatalogTable
from sandbox.fidelity.athena.runner import KNOBS
from tests.athena.conftest import OPERATOR, follow_until_done, run_kwargs
from tests.collectors.conftest import client
from tests.sandbox.athena_support import object_size, read_jsonl


def test_a_query_runs_is_recorded_queued_and_the_collector_follows_it_to_its_rows(
    catalog, ctx, sessions, t0
):
    result = run_query(
        sessions,
        client("athena"),
        OPERATOR,
        **run_kwargs(
            t0, "t" * 32, "SELECT order_id, amount FROM orders WHERE ingest_date = '2026-03-01'"
        ),
    )
    assert result.ok, result.message
    with sessions() as s:
        q = s.get(AthenaQuery, result.execution_id)
        assert (q.state, q.submitted_by, q.database) == ("QUEUED", "ana", "processed")
        audit = s.scalars(select(AuditEntry)).one()
        assert (audit.action, audit.target, audit.outcome) == (
            "athena.run",
            result.execution_id,
            "ok",
        )
    done = follow_until_done(ctx, sessions, result.execution_id)
    assert done.state == "SUCCEEDED"
    # Only the first day's partition was read: what it scanned is that object's size.
    assert done.data_scanned_bytes == object_size(client("s3"), catalog[0])
    assert done.output_location.endswith(f"{result.execution_id}.csv")

    block = athena_results.read_block(sessions, client("athena"), result.execution_id, 0)
    expected = read_jsonl(client("s3"), [catalog[0]])
    assert block.last_row is None  # 1,500 rows: a second page follows
    second = athena_results.read_block(sessions, client("athena"), result.execution_id, 1000)
    assert second.last_row == len(expected) == 1500
    shown = [r["c0"] for r in block.rows + second.rows]
    assert sorted(shown) == sorted(str(r["order_id"]) for r in expected)
    assert [c["name"] for c in block.columns] == ["order_id", "amount"]
    with sessions() as s:
        assert s.get(AthenaQuery, result.execution_id).columns == block.columns
        assert [t.page for t in s.scalars(select(AthenaResultToken))] == [1]


def test_the_same_request_token_starts_one_query(catalog, sessions, t0):
    kwargs = run_kwargs(t0, "d" * 32, "SELECT count(*) FROM orders WHERE ingest_date > '2026'")
    first = run_query(sessions, client("athena"), OPERATOR, **kwargs)
    again = run_query(sessions, client("athena"), OPERATOR, **kwargs)
    assert first.execution_id == again.execution_id
    with sessions() as s:
        assert len(s.scalars(select(AthenaQuery)).all()) == 1


def test_a_bad_query_ends_failed_with_athenas_message(catalog, ctx, sessions, t0):
    result = run_query(
        sessions, client("athena"), OPERATOR, **run_kwargs(t0, "b" * 32, "SELECT nope FROM orders")
    )
    done = follow_until_done(ctx, sessions, result.execution_id)
    assert done.state == "FAILED"
    assert "nope" in done.state_reason and "cannot be resolved" in done.state_reason


def test_cancel_stops_a_long_query_and_a_finished_one_says_so(catalog, ctx, sessions, t0):
    KNOBS.update(min_running_s=30)
    result = run_query(
        sessions, client("athena"), OPERATOR, **run_kwargs(t0, "c" * 32, "SELECT * FROM orders")
    )
    cancelled = cancel_query(sessions, client("athena"), OPERATOR, result.execution_id, t0)
    assert cancelled.ok, cancelled.message
    done = follow_until_done(ctx, sessions, result.execution_id)
    assert done.state == "CANCELLED"
    again = cancel_query(sessions, client("athena"), OPERATOR, result.execution_id, t0)
    assert not again.ok and "already ended (CANCELLED)" in again.message
    with sessions() as s:
        actions = [
            (a.action, a.outcome) for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
    assert actions == [("athena.run", "ok"), ("athena.cancel", "ok")]


@pytest.mark.parametrize(
    ("sql", "params", "reuse", "message"),
    [
        ("  ;", None, None, "write a query first"),
        (
            "SELECT * FROM orders WHERE ingest_date = ?",
            None,
            None,
            "has 1 parameter (?) but 0 values were given",
        ),
        (
            "SELECT '?' , ?",
            [{"type": "integer", "value": "4x"}],
            None,
            "parameter 1: '4x' is not a integer",
        ),
        ("SELECT 1", None, 0, "result reuse must be 1 to 10080 minutes"),
    ],
)
def test_what_cannot_run_is_refused_before_athena_with_what_to_change(
    catalog, sessions, t0, sql, params, reuse, message
):
    result = run_query(
        sessions,
        client("athena"),
        OPERATOR,
        **run_kwargs(t0, "v" * 32, sql, parameters=params, reuse_minutes=reuse),
    )
    assert not result.ok and message in result.message
    with sessions() as s:
        assert s.scalars(select(AthenaQuery)).all() == []


def test_typed_parameters_become_athena_literals() -> None:
    assert parameter_literal("string", "O'Brien") == "'O''Brien'"
    assert parameter_literal("date", "2026-03-01") == "DATE '2026-03-01'"
    assert parameter_literal("timestamp", "2026-03-01T10:00") == "TIMESTAMP '2026-03-01 10:00'"
    assert parameter_literal("boolean", "TRUE") == "true"
    with pytest.raises(QueryError, match="not a date"):
        parameter_literal("date", "March 1")
    assert validate("SELECT ? -- why?\n", [{"type": "integer", "value": "1"}], None)[1] == ["1"]


def test_parameters_reach_athena_and_filter_the_rows(catalog, ctx, sessions, t0):
    result = run_query(
        sessions,
        client("athena"),
        OPERATOR,
        **run_kwargs(
            t0,
            "p" * 32,
            "SELECT count(*) AS n FROM orders WHERE ingest_date = ?",
            parameters=[{"type": "string", "value": "2026-03-02"}],
        ),
    )
    follow_until_done(ctx, sessions, result.execution_id)
    block = athena_results.read_block(sessions, client("athena"), result.execution_id, 0)
    assert block.rows == [{"c0": "1200"}]


def test_athena_bills_per_query_rounded_up_to_the_mb_with_10_mb_at_least() -> None:
    mb = 1024 * 1024
    assert billed_bytes(0) == 0 and billed_bytes(None) == 0
    assert billed_bytes(1) == 10 * mb
    assert billed_bytes(10 * mb + 1) == 11 * mb


def test_the_catalog_cache_holds_tables_columns_and_partition_keys(catalog, ctx, sessions, t0):
    collect_catalog(ctx)
    with sessions() as s:
        orders = s.get(CatalogTable, ("processed", "orders"))
    assert [k["name"] for k in orders.partition_keys] == ["ingest_date"]
    assert {"order_id", "amount"} <= {c["name"] for c in orders.columns}
    client("glue").delete_table(DatabaseName="processed", Name="orders")
    collect_catalog(ctx)
    with sessions() as s:
        assert s.get(CatalogTable, ("processed", "orders")) is None


def test_the_download_is_the_whole_result_csv(catalog, ctx, sessions, t0):
    result = run_query(
        sessions,
        client("athena"),
        OPERATOR,
        **run_kwargs(t0, "x" * 32, "SELECT order_id FROM orders"),
    )
    done = follow_until_done(ctx, sessions, result.execution_id)
    bucket, key = done.output_location.removeprefix("s3://").split("/", 1)
    body = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["order_id"] and len(rows) == 1 + 2700
