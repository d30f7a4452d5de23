"""The one URL sync in a real Chromium: it writes what the server's links write."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from dashapp.timerange import permalink_search
from tests.browser.conftest import LiveApp, wait_for_data

pytestmark = pytest.mark.browser

SPEC = {
    "names": ["range", "q", "compare", "source"],
    "defaults": {"range": "24h"},
    "keep": ["jump"],
    "split": ["source"],
}


def test_the_browser_encodes_page_state_exactly_as_the_servers_links_do(
    page: Page, live: LiveApp
) -> None:
    page.goto("/pipelines")  # a page without a URL state of its own, so nothing races
    wait_for_data(page)
    window = "2026-11-01T00:00Z~2026-11-02T00:00:30Z"
    query = "a b!'()*&=é/?"
    url = page.evaluate(
        "([values, spec]) => { history.replaceState(null, '', '/pipelines?jump=first-error');"
        " return window.dash_clientside.smd.syncUrl(...values, spec); }",
        [[window, f"  {query} ", ["orders-api", "report-builder"], "function:a:b"], SPEC],
    )
    expected = permalink_search(
        [
            ("range", window),
            ("q", query),
            ("compare", "orders-api,report-builder"),
            ("function", "a:b"),
            ("jump", "first-error"),
        ]
    )
    assert url == "/pipelines" + expected
    assert page.evaluate("() => window.location.pathname + window.location.search") == url
    # A default value is left out, as the server leaves it out.
    assert (
        page.evaluate(
            "([spec]) => window.dash_clientside.smd.syncUrl('24h', '', [], null, spec)", [SPEC]
        )
        == "/pipelines?jump=first-error"
    )
