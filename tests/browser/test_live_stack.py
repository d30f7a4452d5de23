"""The product end to end: sandbox AWS, collectors and web together, in real Chromium."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import wait_for_data


def test_system_status_shows_every_collector_healthy_on_the_running_product(stack_context):
    context, _ = stack_context()
    page = context.new_page()
    page.goto("/system")
    wait_for_data(page)
    table = page.get_by_role("table").first
    for name in ("inventory", "glue_runs", "events", "metrics", "logs", "log_follow"):
        expect(table.get_by_role("row").filter(has_text=name)).to_contain_text("OK")
    expect(page.locator(".smd-freshness")).to_contain_text("Data as of")


def test_pipelines_show_the_sandbox_jobs_last_runs(stack_context):
    context, _ = stack_context()
    page = context.new_page()
    page.goto("/pipelines")
    wait_for_data(page)
    # Every dataset's job ran in the sandbox's history: no card says "not collected".
    expect(page.get_by_text("not collected yet")).to_have_count(0)
    expect(page.get_by_text("sales-orders-ingest")).to_be_visible()
