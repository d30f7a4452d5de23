"""Browser fixtures: the real app on a local port, one headless Chromium per session.

The app is `create_app(settings).server` served by werkzeug in a thread, on a
migrated SQLite file, with a `FixedClock` so "12 s ago" and screenshots are the
same on every run. Each test gets a fresh browser context (clean localStorage)
whose network traffic is recorded: any request leaving the app's origin, any
HTTP error and any JavaScript exception fails the test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from bench.browser_capture import CHROMIUM, CHROMIUM_ARGS
from dashapp.app import create_app
from dashapp.clock import FixedClock
from dashapp.config import Settings
from dashapp.db import make_engine, make_session_factory, upgrade
from dashapp.models import AuditEntry, CollectorCursor, CollectorStatus, GlueJob, JobRun
from tests.browser.stack import LiveStack, live_stack_running
from tests.conftest import missing

VIEWPORT = {"width": 1440, "height": 900}
NOW = datetime(2026, 11, 25, 18, 32, 17, tzinfo=UTC)

# Auto-waiting assertions: generous for slow CI machines; nothing asserts on timing.
expect.set_options(timeout=15_000)


class _QuietHandler(WSGIRequestHandler):
    """Keeps werkzeug's per-request log lines out of the test output."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class LiveApp:
    """The served app and a handle on its database."""

    url: str
    settings: Settings
    clock: FixedClock
    engine: Engine
    sessions: sessionmaker[Session]

    def reset(self) -> None:
        """Empty the tables the pages read, so each test states its own data."""
        with self.sessions.begin() as session:
            for model in (JobRun, GlueJob, CollectorStatus, CollectorCursor, AuditEntry):
                session.execute(delete(model))

    def write(self, fill: Callable[[Session, datetime], None]) -> None:
        with self.sessions.begin() as session:
            fill(session, self.clock.now())


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'smd.sqlite3'}"
    upgrade(url)
    settings = Settings(database_url=url, _env_file=None, refresh_interval_s=1)
    clock = FixedClock(NOW)
    app = create_app(settings, clock=clock)
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, app.server, threaded=True, request_handler=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="smd-live-app", daemon=True)
    thread.start()
    engine = make_engine(url)
    try:
        yield LiveApp(
            url=f"http://127.0.0.1:{server.server_port}",
            settings=settings,
            clock=clock,
            engine=engine,
            sessions=make_session_factory(engine),
        )
    finally:
        server.shutdown()
        thread.join(timeout=10)
        engine.dispose()


@pytest.fixture
def live(live_app: LiveApp) -> LiveApp:
    """The live app with empty tables and the clock back at NOW."""
    live_app.reset()
    live_app.clock.set(NOW)
    return live_app


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        missing("Chromium not installed: apt-get install chromium chromium-driver")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@dataclass
class Traffic:
    """Every request a browser context made, and everything that went wrong on the way."""

    origin: str
    also_allowed: tuple[str, ...] = ()  # e.g. the S3 endpoint a page uploads to directly
    requests: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        context.on("request", lambda r: self.requests.append(r.url))
        context.on(
            "response",
            lambda r: self.http_errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        # With the stack: an error thrown inside Dash's bundle names no file otherwise.
        context.on(
            "page",
            lambda p: p.on("pageerror", lambda e: self.page_errors.append(e.stack or str(e))),
        )

    def off_origin(self) -> list[str]:
        allowed = {
            (urlsplit(u).scheme, urlsplit(u).netloc) for u in (self.origin, *self.also_allowed)
        }
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in ("data", "blob")
            and (urlsplit(url).scheme, urlsplit(url).netloc) not in allowed
        ]

    def assert_clean(self) -> None:
        """No request left the origin, none failed, no script threw."""
        assert not self.off_origin(), f"requests outside {self.origin}: {self.off_origin()}"
        assert not self.http_errors, f"failed requests: {self.http_errors}"
        assert not self.page_errors, f"JavaScript errors: {self.page_errors}"


@pytest.fixture
def new_context(
    browser: Browser, live: LiveApp
) -> Iterator[Callable[..., tuple[BrowserContext, Traffic]]]:
    """Factory of browser contexts (light by default) whose traffic is checked at teardown."""
    made: list[tuple[BrowserContext, Traffic]] = []

    def make(color_scheme: str = "light") -> tuple[BrowserContext, Traffic]:
        context = browser.new_context(
            viewport=VIEWPORT,
            base_url=live.url,
            color_scheme=color_scheme,  # type: ignore[arg-type]
            reduced_motion="reduce",
        )
        traffic = Traffic(origin=live.url)
        traffic.attach(context)
        made.append((context, traffic))
        return context, traffic

    yield make
    for context, traffic in made:
        context.close()
        traffic.assert_clean()


@pytest.fixture
def traffic_page(
    new_context: Callable[..., tuple[BrowserContext, Traffic]],
) -> tuple[Page, Traffic]:
    context, traffic = new_context()
    return context.new_page(), traffic


@pytest.fixture
def page(traffic_page: tuple[Page, Traffic]) -> Page:
    return traffic_page[0]


def wait_for_data(page: Page) -> None:
    """Wait until every data panel and the freshness indicator have had their first answer."""
    expect(page.locator(".smd-loading")).to_have_count(0)
    expect(page.locator(".smd-freshness--pending")).to_have_count(0)


def assert_accessible(page: Page, what: str) -> None:
    """Run axe-core; fail listing every serious or critical violation with its elements."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n"
        + "\n".join(f"    {n['target']} {n.get('failureSummary', '')}" for n in v["nodes"])
        for v in bad
    )
    assert not bad, f"accessibility violations on {what}:\n{report}"


def screenshot(page: Page, artifacts: Path, name: str, theme: str) -> Path:
    """Save a full-page PNG named '<name>-<theme>-<width>x<height>.png' for people to look at."""
    size = page.viewport_size or VIEWPORT
    path = artifacts / f"{name}-{theme}-{size['width']}x{size['height']}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """Sandbox + collectors + web, real clock (see tests/browser/stack.py). Session-wide:
    starting it takes a while; tests must not depend on each other's uploads or runs."""
    with live_stack_running(tmp_path_factory.mktemp("stack")) as stack:
        yield stack


@pytest.fixture
def stack_context(
    browser: Browser, live_stack: LiveStack
) -> Iterator[Callable[..., tuple[BrowserContext, Traffic]]]:
    """Browser contexts on the live stack. Requests to the sandbox (direct-to-S3 uploads)
    are the only ones allowed off the web app's origin."""
    made: list[tuple[BrowserContext, Traffic]] = []

    def make(
        color_scheme: str = "light", viewport: dict[str, int] | None = None
    ) -> tuple[BrowserContext, Traffic]:
        context = browser.new_context(
            viewport=viewport or VIEWPORT,
            base_url=live_stack.web_url,
            color_scheme=color_scheme,  # type: ignore[arg-type]
            reduced_motion="reduce",
            accept_downloads=True,
        )
        traffic = Traffic(origin=live_stack.web_url, also_allowed=(live_stack.sandbox_url,))
        traffic.attach(context)
        made.append((context, traffic))
        return context, traffic

    yield make
    for context, traffic in made:
        context.close()
        traffic.assert_clean()
