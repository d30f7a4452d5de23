"""The shell in a real Chromium: language and titles, keyboard use, themes, freshness, a11y.

Every assertion is something a user would notice: the tab title, where Tab
goes, whether focus can be seen, whether dark mode sticks after a reload,
what the "data as of" indicator says, and axe-core's serious/critical findings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlalchemy import update
from sqlalchemy.orm import Session

from dashapp.models import CollectorStatus
from pages.registry import NOT_FOUND, PAGES, PageSpec
from tests.browser.conftest import (
    LiveApp,
    Traffic,
    assert_accessible,
    screenshot,
    wait_for_data,
)
from tests.web.seed import collector, seed_demo

pytestmark = pytest.mark.browser

THEMES = ("light", "dark")


def _focused(page: Page) -> str:
    """The text (or id) of the element that has keyboard focus."""
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return (e.innerText || e.id || e.tagName).trim(); }"
    )


def _focus_ring(page: Page) -> dict[str, str]:
    return page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return {style: s.outlineStyle, width: s.outlineWidth, shadow: s.boxShadow}; }"
    )


def _assert_focus_visible(page: Page) -> None:
    ring = _focus_ring(page)
    outline = ring["style"] not in ("none", "") and float(ring["width"].removesuffix("px")) >= 2
    assert outline or ring["shadow"] not in ("none", ""), f"no visible focus indicator: {ring}"


def test_page_declares_english_and_names_itself_in_the_tab(page: Page, live: LiveApp) -> None:
    response = page.goto("/")
    assert response is not None
    # The first HTML already carries the page's title, before any callback ran.
    assert "<title>Overview · Serverless Management Dashboard</title>" in response.text()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_title("Overview · Serverless Management Dashboard")
    viewport = page.locator('meta[name="viewport"]')
    expect(viewport).to_have_attribute("content", "width=device-width, initial-scale=1")
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")


def test_landmarks_and_identity_are_present(page: Page, live: LiveApp) -> None:
    page.goto("/")
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("main")).to_have_count(1)
    identity = page.locator("#smd-identity")
    expect(identity).to_contain_text("Local user")
    expect(identity.locator(".smd-role")).to_have_text("admin")


def test_keyboard_alone_reaches_and_follows_the_navigation(page: Page, live: LiveApp) -> None:
    page.goto("/")
    wait_for_data(page)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    page.evaluate("() => { window.__smdNoReload = true; }")

    page.keyboard.press("Tab")
    skip = page.locator("#smd-skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # hidden until focused, then shown
    _assert_focus_visible(page)

    order = [_focused(page)]
    for _ in range(5):
        page.keyboard.press("Tab")
        order.append(_focused(page))
    assert order == [
        "Skip to main content",
        "Serverless Management Dashboard",
        "Overview",
        "Wall screen",
        "Pipelines",
        "System status",
    ]
    _assert_focus_visible(page)

    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live.url}/system")
    expect(page.get_by_role("heading", level=1)).to_have_text("System status")
    expect(page).to_have_title("System status · Serverless Management Dashboard")
    expect(nav.get_by_role("link", name="System status")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Overview")).not_to_have_attribute("aria-current", "page")
    # Followed in place (no full reload), and focus moved to the new page's content.
    assert page.evaluate("() => window.__smdNoReload === true")
    expect(page.locator("#main-content")).to_be_focused()
    wait_for_data(page)  # the new page's panels filled in after in-place navigation
    expect(page.locator("#system-configuration")).to_contain_text("SMD_REFRESH_INTERVAL_S")


def _first_tab_stop(page: Page) -> str:
    """The id of the element the first Tab of a fresh page lands on.

    The key goes to the document only once it has focus; on a loaded CI machine
    the first press can arrive before that, so the page is reloaded (up to three
    times) until a press lands somewhere. A page whose first stop is not the skip
    link still fails every attempt.
    """
    for _ in range(3):
        page.goto("/")
        wait_for_data(page)
        with contextlib.suppress(PlaywrightTimeoutError):
            page.wait_for_function("() => document.hasFocus()", timeout=5_000)
        page.keyboard.press("Tab")
        landed = page.evaluate("() => document.activeElement && document.activeElement.id")
        if landed is not None and page.evaluate("() => document.activeElement !== document.body"):
            return landed
    return ""


def test_skip_link_moves_focus_to_the_main_content(page: Page, live: LiveApp) -> None:
    assert _first_tab_stop(page) == "smd-skip-link"
    expect(page.locator("#smd-skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()


def _theme(page: Page) -> str | None:
    return page.locator("html").get_attribute("data-bs-theme")


def test_theme_toggle_switches_and_survives_a_reload(page: Page, live: LiveApp) -> None:
    page.goto("/")
    wait_for_data(page)
    toggle = page.get_by_role("button", name="Dark mode")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "light")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    light_bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")

    toggle.focus()
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    dark_bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert dark_bg != light_bg, "the page did not change colour"

    page.reload()
    wait_for_data(page)
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    expect(toggle).to_have_attribute("aria-pressed", "true")

    # Applied before first paint: with the app's layout request blocked, only the
    # inline script in <head> can have set the stored theme.
    page.route("**/_dash-layout", lambda route: route.abort())
    page.reload(wait_until="domcontentloaded")
    assert _theme(page) == "dark"
    page.unroute("**/_dash-layout")

    page.reload()
    wait_for_data(page)
    toggle.click()
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "light")
    page.reload()
    wait_for_data(page)
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "light")
    expect(toggle).to_have_attribute("aria-pressed", "false")


def test_theme_follows_the_system_preference_until_chosen(
    new_context: Callable[..., tuple[BrowserContext, Traffic]], live: LiveApp
) -> None:
    context, _ = new_context(color_scheme="dark")
    page = context.new_page()
    page.goto("/")
    wait_for_data(page)
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    expect(page.get_by_role("button", name="Dark mode")).to_have_attribute("aria-pressed", "true")


def test_freshness_indicator_tracks_the_collectors(
    page: Page, live: LiveApp, artifacts: Path
) -> None:
    page.goto("/")
    indicator = page.locator("#smd-freshness")
    expect(indicator).to_have_text("No collector has reported yet")
    wait_for_data(page)
    screenshot(page, artifacts, "shell-empty", "light")

    live.write(lambda s, now: s.add(collector("glue_runs", now, ok_ago_s=12)))
    expect(indicator).to_have_text("Data as of 18:32:05 UTC · 12 s ago")
    expect(indicator).to_have_attribute("title", "2026-11-25T18:32:05Z")
    expect(indicator).to_have_class("smd-freshness smd-freshness--fresh")
    screenshot(page, artifacts, "shell", "light")

    def age(session: Session, now: object) -> None:
        session.execute(
            update(CollectorStatus).values(
                last_success_at=live.clock.now() - timedelta(seconds=412)
            )
        )

    live.write(age)
    expect(indicator).to_have_text("Stale: data as of 18:25:25 UTC · 6 min ago")
    expect(indicator).to_have_class("smd-freshness smd-freshness--stale")
    # A warning icon and the word "Stale", not colour alone.
    expect(indicator.locator(".bi-exclamation-triangle-fill")).to_be_visible()
    expect(indicator).to_have_attribute(
        "title", "2026-11-25T18:25:25Z. No success within 3 min: glue_runs"
    )
    expect(page.locator("#smd-freshness-announce")).to_have_text("Warning: the data is stale.")
    screenshot(page, artifacts, "shell-stale", "light")


def test_pipelines_page_shows_each_dataset_and_its_last_run(page: Page, live: LiveApp) -> None:
    live.write(seed_demo)
    page.goto("/pipelines")
    wait_for_data(page)
    cards = page.locator("article.smd-pipeline")
    expect(cards).to_have_count(len(live.settings.datasets))
    crm = page.get_by_role("article", name="Customer master")
    expect(crm.locator(".badge")).to_have_text("Failed")
    expect(crm).to_contain_text("s3://smd-raw/crm/customers/")
    expect(crm).to_contain_text("crm-customers-ingest")
    expect(crm).to_contain_text("Last error: AnalysisException")
    expect(crm).to_contain_text("Late: last success 30 h ago, the SLA is 26 h")
    inventory = page.get_by_role("article", name="Warehouse inventory")
    expect(inventory.locator(".badge")).to_have_text("No runs yet")


def test_pipelines_page_explains_an_empty_database(page: Page, live: LiveApp) -> None:
    page.goto("/pipelines")
    wait_for_data(page)
    expect(page.locator("#pipelines-cards")).to_contain_text("Run states are not collected yet")
    first = page.locator("article.smd-pipeline").first
    expect(first.locator(".badge")).to_have_text("Not collected yet")
    # Configuration still shows: where files go and which job ingests them.
    expect(first).to_contain_text("s3://smd-raw/sales/orders/")
    expect(first).to_contain_text("sales-orders-ingest")


def test_system_page_lists_collectors_database_and_configuration(page: Page, live: LiveApp) -> None:
    live.write(seed_demo)
    page.goto("/system")
    wait_for_data(page)
    rows = page.locator("table.smd-collectors tbody tr")
    expect(rows).to_have_count(3)
    glue_runs = rows.filter(has_text="glue_runs")
    expect(glue_runs).to_contain_text("OK")
    expect(glue_runs.locator("time").first).to_have_text("12 s ago")
    expect(glue_runs.locator("time").first).to_have_attribute("title", "2026-11-25T18:32:05Z")
    expect(page.locator("#system-database")).to_contain_text("Up to date")
    config = page.locator("table.smd-config")
    expect(config).to_contain_text("SMD_REFRESH_INTERVAL_S")
    expect(config).to_contain_text("**********")


def _page_slug(page: PageSpec) -> str:
    return "not-found" if page is NOT_FOUND else page.module.rsplit(".", 1)[-1]


# The job detail page (a path template) and the wall (kiosk, its own h1) have their own
# accessibility tests in both themes: tests/browser/test_job_detail.py, test_wall.py.
PLAIN_PAGES = [p for p in PAGES if p.path_template is None and not p.kiosk]


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("spec", [*PLAIN_PAGES, NOT_FOUND], ids=_page_slug)
def test_every_page_is_accessible_and_self_contained(
    spec: PageSpec,
    theme: str,
    new_context: Callable[..., tuple[BrowserContext, Traffic]],
    live: LiveApp,
    artifacts: Path,
) -> None:
    live.write(seed_demo)
    context, traffic = new_context(color_scheme=theme)
    page = context.new_page()
    page.goto("/no-such-page" if spec is NOT_FOUND else spec.path)
    wait_for_data(page)
    expect(page.locator("html")).to_have_attribute("data-bs-theme", theme)
    expect(page.get_by_role("heading", level=1)).to_have_text(spec.name)
    expect(page).to_have_title(spec.title)
    # The icon font loaded (from this origin: see below); a missing one renders empty boxes.
    assert page.evaluate(
        "async () => { await document.fonts.ready; return [...document.fonts].some("
        "f => f.family.replaceAll('\"', '') === 'bootstrap-icons' && f.status === 'loaded'); }"
    )
    assert_accessible(page, f"{spec.path} ({theme})")
    screenshot(page, artifacts, _page_slug(spec), theme)
    assert not traffic.off_origin(), traffic.off_origin()
    assert any("/assets/vendor/bootstrap/" in url for url in traffic.requests)
