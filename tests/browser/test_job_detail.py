"""Job detail in real Chromium: charts with text alternatives, the server-side run grid
(paging, sorting, filtering), the run panel, permalinks, CSV exports and accessibility."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Response, expect
from sqlalchemy.orm import Session

from dashapp.models import Upload
from tests.browser.conftest import LiveApp, Traffic, assert_accessible, screenshot, wait_for_data
from tests.web.seed import glue_job, job_run

pytestmark = pytest.mark.browser

JOB = "orders-ingest"
RUNS = 1000


def seed_history(session: Session, now: datetime) -> None:
    """A job with 1,000 runs over 30 days (every 50th failed) and one run from an upload."""
    session.add(glue_job(JOB, now, worker_type="G.1X", number_of_workers=2))
    for i in range(RUNS):
        failed = i % 50 == 7
        session.add(
            job_run(
                f"jr_{i:04d}",
                JOB,
                "FAILED" if failed else "SUCCEEDED",
                now - timedelta(minutes=43 * i + 5),
                duration_s=60.0 + (i % 17) * 10,
                dpu_seconds=120.0 + i % 5,
                rows_read=1000 + i,
                rows_written=0 if failed else 990 + i,
                attempt=i % 2,
                trigger_name="nightly" if i % 3 == 0 else None,
                arguments={"--source": f"s3://raw/orders/{i}.csv"},
                error_message=f"ValueError: bad amount in row {i}" if failed else None,
                upload_id="up-0007" if i == 7 else None,
            )
        )
    session.merge(  # the live fixture does not empty uploads between tests
        Upload(
            id="up-0007",
            dataset="orders",
            bucket="smd-raw",
            object_key="sales/orders/bad.csv",
            original_name="bad.csv",
            uploaded_by="local",
            status="failed",
            created_at=now - timedelta(hours=6),
        )
    )


def _search(page: Page) -> str:
    return str(page.evaluate("() => window.location.search"))


def _grid_blocks(page: Page) -> list[int]:
    """Row counts of every getRowsResponse the page received so far."""
    return page.evaluate("() => window.__blocks || []")  # type: ignore[no-any-return]


def _row_count(page: Page) -> int:
    """Rows the grid knows of (loaded blocks, or the total once the last block came)."""
    return int(page.evaluate("() => dash_ag_grid.getApi('job-runs-grid').getDisplayedRowCount()"))


def expect_rows(page: Page, n: int) -> None:
    page.wait_for_function(
        "(n) => { try { return dash_ag_grid.getApi('job-runs-grid').getDisplayedRowCount() === n;"
        " } catch (e) { return false; } }",
        arg=n,
    )


def _record_blocks(page: Page) -> None:
    def on_response(response: Response) -> None:
        if "_dash-update-component" not in response.url:
            return
        if "getRowsResponse" not in (response.request.post_data or ""):
            return
        body: dict[str, Any] = json.loads(response.text())
        rows = body["response"]["job-runs-grid"]["getRowsResponse"]["rowData"]
        page.evaluate("(n) => { (window.__blocks = window.__blocks || []).push(n); }", len(rows))

    page.on("response", on_response)


def test_grid_pages_on_the_server_and_the_run_panel_opens_a_run(page: Page, live: LiveApp) -> None:
    live.write(seed_history)
    _record_blocks(page)
    page.goto(f"/jobs/{JOB}?range=30d")
    wait_for_data(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text(JOB)
    expect(page.locator("#job-stats")).to_contain_text("Last 30 days: 1000 runs")
    expect(page.locator("#job-info")).to_contain_text("2 × G.1X")
    rows = page.locator("#job-runs-grid .ag-center-cols-container .ag-row")
    expect(rows.first).to_have_attribute("row-id", "jr_0000")
    # Only blocks of 100 reach the browser, never the 1,000 runs.
    page.wait_for_function("() => (window.__blocks || []).length > 0")
    assert max(_grid_blocks(page)) <= 100
    assert _row_count(page) < RUNS

    # Sorting is done by the database: the shortest runs come first.
    page.locator(".ag-header-cell", has_text="Duration (s)").locator(
        ".ag-header-cell-label"
    ).click()
    expect(rows.first.locator('[col-id="duration_s"]')).to_have_text("60")

    # Open a failed run: error, arguments, attempt, trigger, upload and logs.
    page.goto(f"/jobs/{JOB}?range=30d&state=FAILED")
    wait_for_data(page)
    expect_rows(page, 20)
    expect(rows.first).to_have_attribute("row-id", "jr_0007")
    rows.first.click()
    panel = page.locator("#job-run-panel")
    expect(panel).to_contain_text("Run jr_0007")
    expect(panel).to_contain_text("ValueError: bad amount in row 7")
    expect(panel).to_contain_text('"--source": "s3://raw/orders/7.csv"')
    expect(panel.get_by_role("link", name="bad.csv")).to_have_attribute(
        "href", "/uploads?upload=up-0007"
    )
    # A failed run's logs open at its first error line.
    expect(panel.get_by_role("link", name="Logs of this run")).to_have_attribute(
        "href", "/logs?run=jr_0007&range=30d&jump=first-error"
    )
    expect(panel.get_by_role("button", name="Re-run")).to_be_visible()
    page.wait_for_function("() => window.location.search.includes('run=jr_0007')")
    assert _search(page) == "?range=30d&run=jr_0007&state=FAILED"

    # The upload link opens the history narrowed to that upload, with the way back.
    panel.get_by_role("link", name="bad.csv").click()
    expect(page).to_have_title("Uploads · Serverless Management Dashboard")
    uploads_grid = page.locator(".smd-uploads-grid")
    expect(uploads_grid.locator(".ag-row")).to_have_count(1)
    expect(uploads_grid).to_contain_text("bad.csv")
    expect(page.locator("#uploads-summary")).to_have_text("1 upload (upload up-0007).")
    page.get_by_role("button", name="Show all uploads").click()
    expect(page.locator("#uploads-upload-note")).to_be_hidden()
    page.wait_for_function("() => !window.location.search.includes('upload=')")
    expect(page.locator("#uploads-summary")).to_contain_text("(last 7 days)")


def test_the_run_grid_follows_new_runs_on_the_refresh_timer(page: Page, live: LiveApp) -> None:
    live.write(seed_history)
    page.goto(f"/jobs/{JOB}?range=24h")
    wait_for_data(page)
    rows = page.locator("#job-runs-grid .ag-center-cols-container .ag-row")
    expect(rows.first).to_have_attribute("row-id", "jr_0000")

    def new_run(session: Session, now: datetime) -> None:
        session.add(job_run("jr_live", JOB, "RUNNING", now - timedelta(minutes=1)))

    live.write(new_run)
    # No reload, no click: the next tick of the page's refresh timer brings it in.
    expect(rows.first).to_have_attribute("row-id", "jr_live", timeout=10_000)
    expect(rows.first.locator('[col-id="state"]')).to_contain_text("RUNNING")


def test_a_permalink_reopens_the_same_run_and_filter(page: Page, live: LiveApp) -> None:
    live.write(seed_history)
    page.goto(f"/jobs/{JOB}?range=7d&run=jr_0057&state=failed")
    wait_for_data(page)
    expect(page.get_by_role("radio", name="7d", exact=True)).to_be_checked()
    expect(page.locator("#job-run-panel")).to_contain_text("ValueError: bad amount in row 57")
    expect_rows(page, 5)  # failures 7, 57, 107, 157, 207 within 7 days
    # Changing the range keeps the run and the filter in the link.
    page.get_by_role("radio", name="30d").check()
    page.wait_for_function("() => window.location.search.startsWith('?range=30d')")
    expect_rows(page, 20)
    assert _search(page) == "?range=30d&run=jr_0057&state=FAILED"


def test_charts_have_text_alternatives_and_failures_marked(page: Page, live: LiveApp) -> None:
    live.write(seed_history)
    page.goto(f"/jobs/{JOB}?range=24h")
    wait_for_data(page)
    summary = page.locator("#job-chart-duration-summary")
    expect(summary).to_contain_text("34 runs between")
    expect(summary).to_contain_text("1 failed (jr_0007)")
    expect(summary).to_contain_text("Duration from 1 min 00 s to")
    expect(page.locator("#job-chart-dpu-summary")).to_contain_text("total cost")
    chart = page.locator("#job-chart-duration")
    expect(chart.locator(".scatterlayer .trace")).to_have_count(2)  # runs + failed crosses
    figure = page.get_by_role("figure", name="Duration per run")
    expect(figure).to_have_attribute("aria-describedby", "job-chart-duration-summary")


def test_exports_download_what_the_api_returns(
    new_context: Callable[..., tuple[BrowserContext, Traffic]], live: LiveApp
) -> None:
    live.write(seed_history)
    context, _ = new_context()
    page = context.new_page()
    page.goto(f"/jobs/{JOB}?range=24h&state=FAILED")
    wait_for_data(page)
    since, until = "2026-11-24T18:32:17Z", "2026-11-25T18:32:18Z"
    grid_link = page.get_by_role("link", name="Export runs (CSV)")
    expect(grid_link).to_have_attribute(
        "href", f"/export/job-runs.csv?job={JOB}&state=FAILED&since={since}&until={until}"
    )
    chart_link = page.get_by_role("link", name="Export the data of “Duration per run” as CSV")
    expect(chart_link).to_have_attribute(
        "href", f"/export/job-runs.csv?job={JOB}&since={since}&until={until}"
    )
    for link, lines in ((grid_link, 2), (chart_link, 35)):
        with page.expect_download() as info:
            link.click()
        downloaded = Path(info.value.path()).read_bytes()
        api = page.request.get(str(link.get_attribute("href")))
        assert api.ok and downloaded == api.body()
        assert len(downloaded.decode().splitlines()) == lines  # header + rows


def test_an_unknown_job_says_so(page: Page, live: LiveApp) -> None:
    page.goto("/jobs/no-such-job")
    wait_for_data(page)
    expect(page.locator("#job-stats")).to_contain_text("No Glue job named 'no-such-job'")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_job_detail_is_accessible_in_both_themes(
    theme: str,
    new_context: Callable[..., tuple[BrowserContext, Traffic]],
    live: LiveApp,
    artifacts: Path,
) -> None:
    live.write(seed_history)
    context, _ = new_context(color_scheme=theme)
    page = context.new_page()
    page.goto(f"/jobs/{JOB}?range=24h&run=jr_0007")
    wait_for_data(page)
    expect(page.locator("#job-run-panel")).to_contain_text("ValueError")
    expect(page.locator("#job-runs-grid .ag-row").first).to_be_visible()
    assert_accessible(page, f"/jobs/{JOB} ({theme})")
    screenshot(page, artifacts, "job-detail", theme)


def test_keyboard_alone_opens_a_run_from_the_grid(page: Page, live: LiveApp) -> None:
    live.write(seed_history)
    page.goto(f"/jobs/{JOB}?range=24h")
    wait_for_data(page)
    first = page.locator('#job-runs-grid .ag-row[row-index="0"] .ag-cell').first
    expect(first).to_be_visible()
    panel = page.locator("#job-run-panel")
    # The refresh timer re-reads the grid's blocks; a redraw between key presses can take
    # the focus away, so the walk is tried again (the keys alone still do the selecting).
    for attempt in range(3):
        first.focus()
        for _ in range(7):  # down to the failed run jr_0007
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Space")
        try:
            expect(panel).to_contain_text("ValueError: bad amount in row 7", timeout=5000)
            break
        except AssertionError:
            if attempt == 2:
                raise
    page.wait_for_function("() => window.location.search.includes('run=jr_0007')")
