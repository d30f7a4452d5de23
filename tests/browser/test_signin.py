"""Sign-in in real Chromium against a real OIDC provider running offline (oidc-provider-mock
in a thread): groups → role, a viewer's disabled controls and server-side refusal, a deep
link that survives, sign-out then the old cookie refused, the idle timeout on the injected
clock, and a wall screen whose session expires reloading into sign-in.

The provider's own pages link a CDN stylesheet; on this closed network the test answers
that one request itself (empty CSS). Every other request stays on the app or the provider.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from werkzeug.serving import make_server

from dashapp.app import create_app
from dashapp.clock import FixedClock
from dashapp.config import Settings
from dashapp.db import upgrade
from dashapp.signin import cookies
from tests.browser.conftest import NOW, VIEWPORT, _QuietHandler, assert_accessible
from tests.signin.oidc_provider import running_provider

pytestmark = pytest.mark.browser

USERS = {
    "ada": {"email": "ada@example.com", "name": "Ada Admin", "groups": ["platform"]},
    "otto": {"email": "otto@example.com", "name": "Otto", "groups": ["data-eng"]},
    "vera": {"email": "vera@example.com", "name": "Vera Viewer", "groups": ["staff"]},
}
CDN = "https://cdn.jsdelivr.net"
IDLE_S = 600


@dataclass
class OidcLive:
    url: str
    idp: str
    clock: FixedClock
    settings: Settings


@pytest.fixture(scope="module")
def oidc_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcLive]:
    db = f"sqlite:///{tmp_path_factory.mktemp('signin') / 'smd.sqlite3'}"
    upgrade(db)
    with running_provider(USERS) as idp:
        settings = Settings(
            _env_file=None,
            database_url=db,
            refresh_interval_s=1,
            auth_mode="oidc",
            host="0.0.0.0",
            auth_oidc_discovery_url=f"{idp}/.well-known/openid-configuration",
            auth_oidc_client_id="smd-dashboard",
            auth_oidc_client_secret="browser-test-secret",
            auth_role_map={"admin": ["platform"], "operator": ["data-eng"], "viewer": ["staff"]},
            auth_session_idle_s=IDLE_S,
            auth_signin_limit=1000,
        )
        clock = FixedClock(NOW)
        app = create_app(settings, clock=clock)
        server = make_server(
            "127.0.0.1", 0, app.server, threaded=True, request_handler=_QuietHandler
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield OidcLive(f"http://127.0.0.1:{server.server_port}", idp, clock, settings)
        finally:
            server.shutdown()
            thread.join(timeout=10)


@dataclass
class Seen:
    """What the browser did: requests off both origins, failed responses, script errors."""

    origins: tuple[str, ...]
    off_origin: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        def request(r):
            parts = urlsplit(r.url)
            if (
                parts.scheme not in ("data", "blob")
                and f"{parts.scheme}://{parts.netloc}" not in self.origins
            ):
                self.off_origin.append(r.url)

        context.on("request", request)
        context.on(
            "response",
            lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        context.on("page", lambda p: p.on("pageerror", lambda e: self.page_errors.append(str(e))))


@pytest.fixture
def open_context(browser: Browser, oidc_live: OidcLive) -> Iterator:
    made: list[tuple[BrowserContext, Seen]] = []

    def make() -> tuple[BrowserContext, Seen]:
        oidc_live.clock.set(NOW)
        context = browser.new_context(
            viewport=VIEWPORT, base_url=oidc_live.url, reduced_motion="reduce"
        )
        context.route(
            f"{CDN}/**", lambda route: route.fulfill(status=200, content_type="text/css", body="")
        )
        seen = Seen(origins=(oidc_live.url, oidc_live.idp, CDN))
        seen.attach(context)
        made.append((context, seen))
        return context, seen

    yield make
    for context, seen in made:
        context.close()
        assert not seen.off_origin, seen.off_origin
        assert not seen.page_errors, seen.page_errors


def sign_in_at_provider(page: Page, live: OidcLive, sub: str) -> None:
    """On the provider's authorization form, pick the user."""
    page.wait_for_url(f"{live.idp}/oauth2/authorize**")
    page.get_by_role("button", name=sub, exact=True).click()


def session_cookie(context: BrowserContext) -> dict:
    (found,) = [c for c in context.cookies() if c["name"] == cookies.SESSION]
    return found


def test_a_viewer_signs_in_through_the_deep_link_sees_controls_disabled_and_is_refused(
    open_context, oidc_live: OidcLive
) -> None:
    context, seen = open_context()
    page = context.new_page()
    page.goto("/failures?range=7d")
    sign_in_at_provider(page, oidc_live, "vera")
    page.wait_for_url(f"{oidc_live.url}/failures?range=7d")
    identity = page.locator("#smd-identity")
    expect(identity).to_contain_text("Vera Viewer")
    expect(identity.locator(".smd-role")).to_have_text("viewer")
    expect(page.get_by_role("button", name="Re-run selected…")).to_be_disabled()
    expect(page.locator("#failures-rerun-hint")).to_have_text("Needs the operator role.")
    cookie = session_cookie(context)
    assert (cookie["secure"], cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (
        True,
        True,
        "Lax",
        "/",
    )
    assert_accessible(page, "Failed runs as a signed-in viewer")

    # The server refuses what the disabled controls would have done.
    refused = page.request.post(
        "/api/uploads",
        headers={"X-SMD-Upload": "1", "Origin": oidc_live.url},
        multipart={"dataset": "orders", "name": "x.csv", "size": "3"},
    )
    assert refused.status == 403
    assert refused.json()["error"] == "Vera Viewer has the viewer role; upload needs operator."
    assert seen.errors == []  # the page itself never failed a request


def test_groups_map_to_admin_and_sign_out_ends_both_sessions(
    open_context, oidc_live: OidcLive, browser: Browser
) -> None:
    context, seen = open_context()
    page = context.new_page()
    page.goto("/access")
    sign_in_at_provider(page, oidc_live, "ada")
    page.wait_for_url(f"{oidc_live.url}/access")
    expect(page.locator("#smd-identity .smd-role")).to_have_text("admin")
    expect(page.locator("#access-sessions")).to_contain_text("Ada Admin")
    expect(page.locator("#access-screen-table")).to_contain_text("No enrolment links")
    assert_accessible(page, "Access page as admin")
    old = session_cookie(context)["value"]

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{oidc_live.idp}/oauth2/end_session**", wait_until="domcontentloaded")
    assert "id_token_hint=" in page.url
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{oidc_live.url}/auth/signed-out")
    expect(page.get_by_role("heading", name="You have signed out")).to_be_visible()
    assert [c for c in context.cookies() if c["name"] == cookies.SESSION] == []

    replay = browser.new_context(base_url=oidc_live.url)
    try:
        answer = replay.request.get("/_dash-layout", headers={"Cookie": f"{cookies.SESSION}={old}"})
        assert answer.status == 401
        assert answer.headers["x-smd-signin"] == "required"
    finally:
        replay.close()
    assert not seen.errors


def test_an_idle_session_ends_on_the_injected_clock(open_context, oidc_live: OidcLive) -> None:
    context, _ = open_context()
    page = context.new_page()
    page.goto("/system")
    sign_in_at_provider(page, oidc_live, "otto")
    page.wait_for_url(f"{oidc_live.url}/system")
    expect(page.locator("#smd-identity .smd-role")).to_have_text("operator")
    oidc_live.clock.advance(timedelta(seconds=IDLE_S - 5))
    page.goto("/pipelines")
    expect(page.locator("#smd-identity .smd-role")).to_have_text("operator")  # not idle yet
    page.close()
    oidc_live.clock.advance(timedelta(seconds=IDLE_S))
    page = context.new_page()
    page.goto("/pipelines")
    sign_in_at_provider(page, oidc_live, "otto")  # idle: sent to sign in again
    page.wait_for_url(f"{oidc_live.url}/pipelines")


def test_a_wall_screen_whose_session_expires_reloads_into_sign_in(
    open_context, oidc_live: OidcLive
) -> None:
    context, seen = open_context()
    page = context.new_page()
    page.goto("/wall")
    sign_in_at_provider(page, oidc_live, "vera")
    page.wait_for_url(f"{oidc_live.url}/wall")
    expect(page.locator(".smd-wall-count").first).to_be_visible()
    oidc_live.clock.advance(timedelta(seconds=IDLE_S + 1))
    # No one touches the screen: its next refresh gets 401, and the page reloads into sign-in.
    sign_in_at_provider(page, oidc_live, "vera")
    page.wait_for_url(f"{oidc_live.url}/wall")
    expect(page.locator(".smd-wall-count").first).to_be_visible()
    assert seen.errors and all(e.startswith("401 ") and "/_dash-" in e for e in seen.errors)


def test_an_enrolled_wall_screen_keeps_running_when_sessions_expire(
    open_context, oidc_live: OidcLive
) -> None:
    admin_context, _ = open_context()
    admin = admin_context.new_page()
    admin.goto("/access")
    sign_in_at_provider(admin, oidc_live, "ada")
    admin.wait_for_url(f"{oidc_live.url}/access")
    admin.get_by_label("Screen name").fill("ops-room-tv")
    admin.get_by_label("Shows").select_option("/wall")
    admin.get_by_role("button", name="Create enrolment link").click()
    secret = admin.locator("#access-screen-new .smd-secret")
    expect(secret).to_contain_text("/kiosk/enrol?t=smd_s_")
    link = secret.inner_text()
    expect(admin.locator("#access-screen-table")).to_contain_text("ops-room-tv")

    screen_context, seen = open_context()
    screen = screen_context.new_page()
    screen.goto(link)
    screen.wait_for_url(f"{oidc_live.url}/wall")
    clock = screen.locator("#wall-clock")
    expect(clock).to_contain_text("18:32")
    # Far past every browser session's idle and absolute limits: the screen still refreshes.
    oidc_live.clock.advance(timedelta(hours=13, minutes=1))
    expect(clock).to_contain_text("07:33")
    assert screen.url == f"{oidc_live.url}/wall"
    assert not seen.errors
    screen.goto("/logs")  # held to its page
    expect(screen.locator("body")).to_contain_text("This wall screen may show only /wall.")
