"""The Content-Security-Policy holds in real Chromium: every page renders, charts and grids
included, without the browser refusing a single script, style, font or request."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveApp, wait_for_data
from tests.web.seed import seed_demo

pytestmark = pytest.mark.browser

PAGES = (
    "/",
    "/jobs/sales-orders-ingest?range=30d",
    "/wall",
    "/lambda",
    "/logs",
    "/failures",
    "/upload",
    "/system",
    "/access",
)


def test_every_page_renders_under_the_csp_without_a_violation(page: Page, live: LiveApp) -> None:
    live.write(seed_demo)
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    for path in PAGES:
        response = page.goto(path)
        assert response is not None
        policy = response.headers["content-security-policy"]
        assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
        assert "'unsafe-eval'" not in policy and "frame-ancestors 'none'" in policy
        wait_for_data(page)
        expect(page.locator("#main-content")).not_to_be_empty()
    # The theme switch, a clientside callback, still works without inline script.
    page.goto("/")
    page.locator("#smd-theme-toggle").click()
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    assert violations == []
