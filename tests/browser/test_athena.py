"""The Athena workbench on the running product (sandbox, collectors, web) in real Chromium.

The rows on screen are compared with the test's own reading of the processed objects
in the sandbox's S3, never with what the sandbox's engine says.
"""

from __future__ import annotations

import csv
import io
import json
import urllib.request

import boto3
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.browser


def _s3(sandbox_url: str):
    return boto3.client(
        "s3",
        endpoint_url=sandbox_url,
        region_name="us-east-1",
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
    )


PARTITION = "2000-01-01"  # a day no live run writes: the test's own object is all it holds


def _own_partition(sandbox_url: str) -> list[dict]:
    """Copy processed orders the pipeline wrote into a partition of the test's own, and return
    the records, read by the test from the object it wrote."""
    s3 = _s3(sandbox_url)
    listed = s3.list_objects_v2(Bucket="smd-processed", Prefix="orders/ingest_date=")["Contents"]
    body = s3.get_object(Bucket="smd-processed", Key=listed[0]["Key"])["Body"].read()
    key = f"orders/ingest_date={PARTITION}/browser-test.json"
    s3.put_object(Bucket="smd-processed", Key=key, Body=body)
    written = s3.get_object(Bucket="smd-processed", Key=key)["Body"].read().decode()
    return [json.loads(line) for line in written.splitlines() if line.strip()]


def _run(page: Page, sql: str) -> None:
    editor = page.get_by_label("SQL (Ctrl+Enter or ⌘+Enter runs it)")
    editor.fill(sql)
    editor.press("Control+Enter")


def test_a_query_over_processed_orders_shows_the_rows_in_the_files(stack_context, live_stack):
    records = _own_partition(live_stack.sandbox_url)
    expected = sorted((r["order_id"], r["customer_id"]) for r in records)
    context, _ = stack_context()
    page = context.new_page()
    page.goto("/athena")
    _run(
        page,
        "SELECT order_id, customer_id FROM orders "
        f"WHERE ingest_date = '{PARTITION}' ORDER BY order_id",
    )
    status = page.locator("#athena-status")
    expect(status).to_contain_text("Succeeded", timeout=30_000)
    expect(status).to_contain_text("10.0 MB billed")
    page.wait_for_function("() => new URLSearchParams(location.search).get('q')")
    first = page.locator("#athena-results .ag-row[row-index='0'] .ag-cell")
    expect(first.first).to_have_text(expected[0][0], timeout=15_000)
    expect(page.locator("#athena-result-note")).to_have_text(f"{len(expected):,} rows")

    def shown(p: Page) -> list[tuple[str, ...]]:
        drawn = p.locator("#athena-results .ag-center-cols-container .ag-row")
        return [tuple(row.locator(".ag-cell").all_inner_texts()) for row in drawn.all()]

    on_screen = shown(page)
    assert on_screen and set(on_screen) <= set(expected)
    # The download is the whole result, and a permalink reopens the query and its rows.
    href = page.get_by_role("link", name="Download the whole result (CSV)").get_attribute("href")
    with urllib.request.urlopen(live_stack.web_url + href, timeout=10) as answer:
        downloaded = list(csv.reader(io.StringIO(answer.read().decode())))
    assert downloaded[0] == ["order_id", "customer_id"]
    assert sorted(tuple(r) for r in downloaded[1:]) == expected
    other = context.new_page()
    other.goto(page.url)
    expect(other.locator("#athena-status")).to_contain_text("Succeeded")
    expect(other.get_by_label("SQL (Ctrl+Enter or ⌘+Enter runs it)")).to_have_value(
        f"SELECT order_id, customer_id FROM orders WHERE ingest_date = '{PARTITION}' "
        "ORDER BY order_id"
    )
    expect(other.locator("#athena-results .ag-row[row-index='0'] .ag-cell").first).to_have_text(
        expected[0][0]
    )
    assert_accessible(page, "the Athena page")


def test_a_bad_query_shows_failed_with_athenas_message(stack_context):
    context, _ = stack_context(color_scheme="dark")
    page = context.new_page()
    page.goto("/athena")
    _run(page, "SELECT no_such_column FROM orders WHERE ingest_date = '2026-01-01'")
    status = page.locator("#athena-status")
    expect(status).to_contain_text("Failed", timeout=30_000)
    expect(status).to_contain_text("no_such_column")
    assert_accessible(page, "the Athena page")


def test_cancel_ends_a_long_query_cancelled(stack_context, live_stack):
    knobs = urllib.request.Request(
        live_stack.sandbox_url + "/_sandbox/athena",
        data=b'{"min_running_s": 60}',
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(knobs, timeout=5).close()
    try:
        context, _ = stack_context()
        page = context.new_page()
        page.goto("/athena")
        _run(page, "SELECT count(*) FROM orders")
        expect(page.locator("#athena-status")).to_contain_text("Running", timeout=15_000)
        expect(page.get_by_role("button", name="Cancel")).to_be_enabled()
        page.get_by_role("button", name="Cancel").click()
        expect(page.locator("#athena-status")).to_contain_text("Cancelled", timeout=15_000)
    finally:
        reset = urllib.request.Request(live_stack.sandbox_url + "/_sandbox/athena", method="DELETE")
        urllib.request.urlopen(reset, timeout=5).close()
