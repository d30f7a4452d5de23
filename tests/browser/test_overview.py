"""The Overview in real Chromium: failed jobs first with their errors, tiles, filters,
permalinks, the CSV export, accessibility in both themes, and the live product."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import func, select

from dashapp.models import JobRun
from dashapp.queries import overview as overview_reads
from dashapp.queries import runs
from pages.overview import layout as overview
from tests.browser.conftest import LiveApp, Traffic, assert_accessible, screenshot, wait_for_data
from tests.browser.stack import LiveStack
from tests.web.seed import collector, glue_job, job_run, runs_synced, seed_demo

pytestmark = pytest.mark.browser


def expect_search(page: Page, search: str) -> None:
    """Wait until the address bar's query string is `search` (pushState: no navigation)."""
    page.wait_for_function("(s) => window.location.search === s", arg=search)


def href(page: Page) -> str:
    return str(page.evaluate("() => window.location.href"))


def _seed_more(session: object, now: object) -> None:
    seed_demo(session, now)  # type: ignore[arg-type]
    session.add_all(  # type: ignore[attr-defined]
        [
            glue_job("ops-nightly", now, tags={"team": "ops"}, schedule="cron(0 2 * * ? *)"),  # type: ignore[arg-type]
            job_run(
                "jr_ops_1",
                "ops-nightly",
                "SUCCEEDED",
                now - timedelta(hours=40),  # type: ignore[operator]
                dpu_seconds=1800.0,
            ),
        ]
    )


def test_failed_jobs_come_first_with_their_error_and_logs(page: Page, live: LiveApp) -> None:
    live.write(seed_demo)
    page.goto("/")
    wait_for_data(page)
    expect(page).to_have_title("Overview · Serverless Management Dashboard")
    cards = page.locator("article.smd-job")
    expect(cards).to_have_count(4)
    first = cards.first
    expect(first).to_have_attribute("data-job", "crm-customers-ingest")
    expect(first.locator(".card-header .badge").first).to_have_text("Failed")
    expect(first).to_contain_text("Error: AnalysisException: cannot resolve 'customer_id'")
    logs = first.get_by_role("link", name="Logs of failed run jr_crm_2 of crm-customers-ingest")
    expect(logs).to_have_attribute("href", "/logs?run=jr_crm_2&range=30d&jump=first-error")
    # Late before running before OK; the card states say so in words.
    assert cards.evaluate_all("els => els.map(e => e.dataset.status)") == [
        "failed",
        "late",
        "running",
        "succeeded",
    ]
    late = page.locator('article[data-job="ops-inventory-snapshot"]')
    expect(late.locator(".card-header .badge").first).to_have_text("Late")
    expect(late).to_contain_text("Never succeeded; expected every 26 h")
    orders = page.locator('article[data-job="sales-orders-ingest"]')
    expect(orders).to_contain_text("100% of 1 run")
    expect(orders.locator(".card-header")).to_contain_text("On time")
    spark = orders.locator(".smd-spark")
    expect(spark).to_have_attribute("role", "img")
    assert "100%" in (spark.get_attribute("aria-label") or "")


def test_tiles_filter_the_cards_and_the_url_keeps_it(page: Page, live: LiveApp) -> None:
    live.write(seed_demo)
    page.goto("/")
    wait_for_data(page)
    failed = page.get_by_role("button", name="Failed")
    expect(failed).to_contain_text("1")
    expect(failed).to_have_attribute("aria-pressed", "false")
    failed.focus()
    page.keyboard.press("Enter")
    expect(page.locator("article.smd-job")).to_have_count(1)
    expect(page.get_by_role("button", name="Failed")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#overview-status")).to_have_value("failed")
    expect_search(page, "?status=failed")
    page.get_by_role("button", name="Failed").click()  # pressed again: all jobs
    expect(page.locator("article.smd-job")).to_have_count(4)
    expect_search(page, "")


def _fresh_install(session: object, now: object) -> None:
    """The inventory has listed the jobs (each tagged with its dataset, as the sandbox
    does); the runs collector has not finished reading their histories."""
    session.add_all(  # type: ignore[attr-defined]
        [
            collector("glue_runs", now, ok_ago_s=3),  # type: ignore[arg-type]
            glue_job("sales-orders-ingest", now, tags={"dataset": "orders", "team": "sales"}),  # type: ignore[arg-type]
            glue_job("crm-customers-ingest", now, tags={"dataset": "customers"}),  # type: ignore[arg-type]
        ]
    )


def test_a_fresh_install_says_syncing_until_the_runs_are_read(page: Page, live: LiveApp) -> None:
    live.write(_fresh_install)
    page.goto("/")
    wait_for_data(page)
    cards = page.locator("article.smd-job")
    expect(cards).to_have_count(2)
    assert cards.evaluate_all("els => els.map(e => e.dataset.status)") == ["syncing", "syncing"]
    expect(page.locator(".smd-syncing")).to_contain_text("Syncing — first collection in progress")
    expect(page.get_by_role("button", name="Late")).to_contain_text("0")
    expect(page.locator("#overview-cards")).not_to_contain_text("Never succeeded")
    orders = page.locator('article[data-job="sales-orders-ingest"]')
    expect(orders.locator(".smd-tags li")).to_have_text(["dataset=orders", "team=sales"])

    live.write(runs_synced)
    # The next refresh tick, without a reload: the verdicts the sync makes possible.
    expect(cards.first).to_have_attribute("data-status", "late", timeout=10_000)
    expect(page.locator(".smd-syncing")).to_have_count(0)
    expect(orders).to_contain_text("Never succeeded; expected every 26 h")
    expect(page.get_by_role("button", name="Late")).to_contain_text("2")


def _seed_many(session: object, now: object) -> None:
    seed_demo(session, now)  # type: ignore[arg-type]
    session.add_all(  # type: ignore[attr-defined]
        [glue_job(f"bulk-{i:02d}", now) for i in range(overview.CARDS_PAGE + 3)]  # type: ignore[arg-type]
    )


def test_show_more_draws_the_next_page_of_cards(page: Page, live: LiveApp) -> None:
    live.write(_seed_many)
    page.goto("/")
    wait_for_data(page)
    total = overview.CARDS_PAGE + 3 + 4
    cards = page.locator("article.smd-job")
    expect(cards).to_have_count(overview.CARDS_PAGE)
    count = page.locator("#overview-count")
    expect(count).to_contain_text(f"{total} of {total} jobs")
    expect(count).to_contain_text(f"showing the first {overview.CARDS_PAGE}")
    more = page.get_by_role("button", name="Show 7 more jobs")
    more.focus()
    page.keyboard.press("Enter")
    expect(cards).to_have_count(total)
    expect(more).to_be_hidden()
    expect(count).not_to_contain_text("showing the first")
    # Failed jobs still lead; a new filter starts over at one page.
    expect(cards.first).to_have_attribute("data-job", "crm-customers-ingest")
    page.get_by_label("Search jobs").fill("bulk")
    page.get_by_label("Search jobs").press("Enter")
    expect(cards).to_have_count(overview.CARDS_PAGE)
    expect(page.get_by_role("button", name="Show 3 more jobs")).to_be_visible()


def test_a_permalink_reopens_the_same_view(
    new_context: Callable[..., tuple[BrowserContext, Traffic]], live: LiveApp
) -> None:
    live.write(_seed_more)
    context, _ = new_context()
    page = context.new_page()
    page.goto("/")
    wait_for_data(page)
    page.get_by_label("7d", exact=True).check()
    page.get_by_label("Tag", exact=True).select_option("team=ops")
    page.get_by_label("Search jobs").fill("nightly")
    page.get_by_label("Search jobs").press("Enter")
    expect(page.locator("article.smd-job")).to_have_count(1)
    expect_search(page, "?range=7d&tag=team%3Dops&q=nightly")
    link = href(page)

    again = context.new_page()
    again.goto(link)
    wait_for_data(again)
    expect(again.get_by_label("7d", exact=True)).to_be_checked()
    expect(again.locator("#overview-tag")).to_have_value("team=ops")
    expect(again.get_by_label("Search jobs")).to_have_value("nightly")
    cards = again.locator("article.smd-job")
    expect(cards).to_have_count(1)
    expect(cards.first).to_have_attribute("data-job", "ops-nightly")
    # Daily schedule, last success 40 h ago: late by its schedule (1.25 days).
    expect(cards.first.locator(".badge").first).to_have_text("Late")
    expect(again.locator("#overview-count")).to_contain_text("1 of 5 jobs · Last 7 days")


def test_a_custom_range_is_validated_and_kept_in_the_link(page: Page, live: LiveApp) -> None:
    live.write(seed_demo)
    page.goto("/")
    wait_for_data(page)
    page.get_by_label("From (UTC)").fill("2026-11-25T18:00")
    page.get_by_label("To (UTC)").fill("2026-11-25T10:00")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("alert").filter(has_text="Range not changed")).to_contain_text(
        "must be before to"
    )
    page.get_by_label("To (UTC)").fill("2026-11-25T18:40")
    page.get_by_role("button", name="Apply").click()
    expect_search(page, "?range=2026-11-25T18:00Z~2026-11-25T18:40Z")
    expect(page.get_by_role("radio", name="Custom")).to_be_checked()
    # Only the runs started in those 40 minutes count: the running clickstream run.
    expect(page.locator("#overview-count")).to_contain_text(
        "2026-11-25 18:00 – 2026-11-25 18:40 UTC"
    )
    page.reload()
    wait_for_data(page)
    expect(page.get_by_label("From (UTC)")).to_have_value("2026-11-25T18:00")
    expect(page.get_by_role("radio", name="Custom")).to_be_checked()


def test_a_mangled_link_says_what_it_ignored(page: Page, live: LiveApp) -> None:
    page.goto("/?range=yesterday")
    wait_for_data(page)
    expect(page.locator("#overview-range-error")).to_contain_text(
        "range 'yesterday' is neither a span"
    )
    expect(page.get_by_label("24h", exact=True)).to_be_checked()


def test_export_downloads_exactly_what_the_api_returns(
    new_context: Callable[..., tuple[BrowserContext, Traffic]], live: LiveApp
) -> None:
    live.write(seed_demo)
    context, _ = new_context()
    page = context.new_page()
    page.goto("/?status=failed")
    wait_for_data(page)
    link = page.get_by_role("link", name="Export job summary (CSV)")
    expect(link).to_have_attribute(
        "href",
        "/export/job-summary.csv?since=2026-11-24T18:32:17Z&until=2026-11-25T18:32:18Z&status=failed",
    )
    with page.expect_download() as info:
        link.click()
    downloaded = Path(info.value.path()).read_bytes()
    api = page.request.get(str(link.get_attribute("href")))
    assert api.ok
    assert downloaded == api.body()
    lines = downloaded.decode().splitlines()
    assert lines[0].startswith("job_name,status,sla_interval_s,late,last_run_id")
    assert [line.split(",")[0] for line in lines[1:]] == ["crm-customers-ingest"]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_overview_is_accessible_in_both_themes(
    theme: str,
    new_context: Callable[..., tuple[BrowserContext, Traffic]],
    live: LiveApp,
    artifacts: Path,
) -> None:
    live.write(_seed_more)
    context, _ = new_context(color_scheme=theme)
    page = context.new_page()
    page.goto("/")
    wait_for_data(page)
    expect(page.locator("article.smd-job")).to_have_count(5)
    assert_accessible(page, f"/ ({theme})")
    screenshot(page, artifacts, "overview", theme)


def _wait_for_failed_runs(stack: LiveStack, timeout_s: float = 120) -> None:
    """Until the collectors stored the sandbox's failed runs (a full reconcile every 4 cycles)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with stack.sessions() as s:
            found = s.scalar(
                select(func.count()).select_from(JobRun).where(JobRun.state.in_(runs.FAILED_STATES))
            )
        if found:
            return
        time.sleep(1)
    raise AssertionError("the collectors stored no failed run of the sandbox")


def test_overview_on_the_running_product_shows_the_sandbox_failures(
    stack_context: Callable[..., tuple[BrowserContext, Traffic]], live_stack: LiveStack
) -> None:
    _wait_for_failed_runs(live_stack)
    context, _ = stack_context()
    page = context.new_page()
    page.goto("/?range=7d")
    wait_for_data(page)
    until = datetime.now(UTC)
    with live_stack.sessions() as s:
        jobs = overview_reads.job_overviews(s, until - timedelta(days=7), until)
    cards = page.locator("article.smd-job")
    expect(cards).to_have_count(len(jobs))
    failed = [j for j in jobs if j.last_failure is not None]
    assert failed, "the sandbox's failed runs are in the range"
    for job in failed:
        card = page.locator(f'article[data-job="{job.name}"]')
        failure = job.last_failure
        assert failure is not None
        error = " ".join((failure.error_message or failure.state.title()).split())
        expect(card.locator(".smd-job-error")).to_contain_text(error[:40])
        expect(
            card.get_by_role("link", name=f"Logs of failed run {failure.run_id}")
        ).to_be_visible()
    # Jobs whose latest run failed lead the page.
    failing = [j for j in jobs if j.last_run is not None and j.last_run.state in runs.FAILED_STATES]
    statuses = cards.evaluate_all("els => els.map(e => e.dataset.status)")
    assert statuses[: len(failing)] == ["failed"] * len(failing)
