"""The wall screen in real Chromium: kiosk layout, failed and late jobs first, the staleness
warning, recovery after a server restart, accessibility and 1080p/4K screenshots."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import update
from sqlalchemy.orm import Session
from werkzeug.serving import BaseWSGIServer, make_server

from dashapp.app import create_app
from dashapp.models import CollectorStatus
from tests.browser.conftest import (
    CHROMIUM_ARGS,  # noqa: F401  (documents how the shared browser was started)
    LiveApp,
    Traffic,
    _QuietHandler,
    assert_accessible,
    screenshot,
)
from tests.browser.stack import LiveStack
from tests.web.seed import seed_demo

pytestmark = pytest.mark.browser

FULL_HD = {"width": 1920, "height": 1080}
UHD = {"width": 3840, "height": 2160}


def wait_for_wall(page: Page) -> None:
    """Until the wall's one callback has answered (the counts are drawn)."""
    expect(page.locator(".smd-wall-count").first).to_be_visible()


def _wall_page(new_context: Callable[..., tuple[BrowserContext, Traffic]], theme: str) -> Page:
    context, _ = new_context(color_scheme=theme)
    return context.new_page()


def test_wall_is_a_kiosk_with_failed_and_late_jobs_first(page: Page, live: LiveApp) -> None:
    live.write(seed_demo)
    page.set_viewport_size(FULL_HD)
    page.goto("/wall")
    wait_for_wall(page)
    expect(page).to_have_title("Wall screen · Serverless Management Dashboard")
    # No navbar, no controls: nothing to click on a screen nobody touches.
    expect(page.locator("#smd-header")).to_be_hidden()
    expect(page.locator("#wall").get_by_role("button")).to_have_count(0)
    expect(page.locator("#wall")).to_have_attribute("data-bs-theme", "dark")
    tiles = page.locator(".smd-wall-tile")
    expect(tiles).to_have_count(2)
    expect(tiles.first).to_contain_text("Failed")
    expect(tiles.first).to_contain_text("crm-customers-ingest")
    expect(tiles.first).to_contain_text("AnalysisException: cannot resolve 'customer_id'")
    expect(tiles.nth(1)).to_contain_text("Late")
    expect(tiles.nth(1)).to_contain_text("ops-inventory-snapshot")
    expect(page.locator(".smd-wall-chip")).to_have_count(2)
    expect(page.locator(".smd-wall-count--failed")).to_contain_text("1")
    # Large type: a job name on the wall is at least 36 px tall at 1080p.
    size = tiles.first.locator(".smd-wall-job").evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)"
    )
    assert size >= 36
    expect(page.locator("#wall-stale")).to_be_hidden()  # collectors are fresh
    # Leaving the wall brings the navbar back.
    page.evaluate(
        "() => { history.pushState({}, '', '/'); "
        "window.dispatchEvent(new CustomEvent('_dashprivate_pushstate')); }"
    )
    expect(page.locator("#smd-header")).to_be_visible()


def test_wall_hides_the_navbar_from_the_first_paint(page: Page, live: LiveApp) -> None:
    # Before Dash has fetched its layout, the page is already marked as a kiosk.
    page.goto("/wall", wait_until="domcontentloaded")
    assert page.evaluate("document.documentElement.classList.contains('smd-kiosk')")
    page.goto("/", wait_until="domcontentloaded")
    assert not page.evaluate("document.documentElement.classList.contains('smd-kiosk')")


def test_wall_warns_when_the_collectors_stop(page: Page, live: LiveApp) -> None:
    live.write(seed_demo)
    page.goto("/wall")
    wait_for_wall(page)
    stale = page.locator("#wall-stale")
    expect(stale).to_be_hidden()

    def stop(session: Session, now: datetime) -> None:
        session.execute(update(CollectorStatus).values(last_success_at=now - timedelta(minutes=7)))

    live.write(stop)
    expect(stale).to_be_visible()
    expect(stale).to_have_attribute("role", "alert")
    expect(stale).to_contain_text("Data is stale: last update 7 min ago (18:25:17 UTC)")
    expect(stale.locator(".bi-exclamation-triangle-fill")).to_have_count(1)


@pytest.fixture
def own_server(live: LiveApp) -> Iterator[Callable[[int], BaseWSGIServer]]:
    """Start (and restart) the app on a port this test owns, so it can stop the server."""
    servers: list[tuple[BaseWSGIServer, threading.Thread]] = []

    def start(port: int = 0) -> BaseWSGIServer:
        app = create_app(live.settings, clock=live.clock)
        server = make_server(
            "127.0.0.1", port, app.server, threaded=True, request_handler=_QuietHandler
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return server

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_wall_reloads_by_itself_after_a_server_restart(
    browser: Browser, live: LiveApp, own_server: Callable[[int], BaseWSGIServer]
) -> None:
    live.write(seed_demo)
    first = own_server(0)
    port = first.server_port
    context = browser.new_context(viewport=FULL_HD, base_url=f"http://127.0.0.1:{port}")
    try:
        page = context.new_page()
        page.goto("/wall")
        wait_for_wall(page)
        page.evaluate("() => { window.__beforeRestart = true; }")

        first.shutdown()
        first.server_close()
        note = page.locator("#smd-wall-reconnect")
        expect(note).to_have_text("Connection lost: reconnecting…")
        own_server(port)  # the same address, as after a deploy or a crash

        # The page reloaded itself (the marker is gone) and shows data again.
        page.wait_for_function("() => window.__beforeRestart === undefined", timeout=60_000)
        wait_for_wall(page)
        expect(page.locator(".smd-wall-tile").first).to_contain_text("crm-customers-ingest")
        expect(page.locator("#smd-wall-reconnect")).to_have_count(0)
    finally:
        context.close()


def test_wall_reloads_when_the_session_expires(browser: Browser, live: LiveApp) -> None:
    """An expired session turns callbacks into redirects to sign-in: the wall reloads.

    Its own context: the HTML answers make Dash throw, which is the point here.
    """
    live.write(seed_demo)
    context = browser.new_context(viewport=FULL_HD, base_url=live.url)
    try:
        page = context.new_page()
        page.goto("/wall")
        wait_for_wall(page)
        page.evaluate("() => { window.__beforeExpiry = true; }")
        page.route(
            "**/_dash-update-component*",
            lambda route: route.fulfill(status=302, headers={"Location": "/sign-in"}),
        )
        page.route(
            "**/sign-in",
            lambda route: route.fulfill(status=200, body="sign in", content_type="text/html"),
        )
        page.wait_for_function("() => window.__beforeExpiry === undefined", timeout=30_000)
        page.unroute("**/_dash-update-component*")
        wait_for_wall(page)
    finally:
        context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_wall_is_accessible_and_readable_at_1080p_and_4k(
    theme: str,
    new_context: Callable[..., tuple[BrowserContext, Traffic]],
    live: LiveApp,
    artifacts: Path,
) -> None:
    live.write(seed_demo)
    page = _wall_page(new_context, theme)
    sizes = []
    for viewport in (FULL_HD, UHD):
        page.set_viewport_size(viewport)
        page.goto("/wall")
        wait_for_wall(page)
        expect(page.locator(".smd-wall-job").first).to_be_visible()
        # The wall redraws on its timer; a card replaced mid-read has no computed style
        # (NaN), so read the first card that is in the document.
        size = page.wait_for_function(
            "() => { const e = document.querySelector('.smd-wall-job');"
            " const px = e && e.isConnected ? parseFloat(getComputedStyle(e).fontSize) : NaN;"
            " return px > 0 ? px : null; }"
        )
        sizes.append(float(size.json_value()))
        assert_accessible(page, f"/wall ({theme}, {viewport['width']}px)")
        screenshot(page, artifacts, "wall", theme)
    # Type scales with the screen: the 4K wall's job names are larger than at 1080p.
    assert sizes[1] > sizes[0] * 1.5, sizes


def test_wall_on_the_running_product_warns_when_collectors_stop(
    stack_context: Callable[..., tuple[BrowserContext, Traffic]], live_stack: LiveStack
) -> None:
    context, _ = stack_context(viewport=FULL_HD)
    page = context.new_page()
    page.goto("/wall")
    wait_for_wall(page)
    expect(page.locator("#wall-stale")).to_be_hidden()
    live_stack.stop_collectors()
    try:
        # stale_after_s is 20 s on the stack.
        expect(page.locator("#wall-stale")).to_contain_text("Data is stale", timeout=90_000)
    finally:
        live_stack.start_collectors()
        live_stack.wait_for_collectors()
