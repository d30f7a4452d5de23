"""The Lambda monitor in a real Chromium: table = CSV, charts, comparison, permalink, a11y."""

from __future__ import annotations

import csv
import io
import re
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import delete
from sqlalchemy.orm import Session

from dashapp.models import LambdaFunction, MetricPoint
from tests.browser.conftest import LiveApp, Traffic, assert_accessible, screenshot
from tests.web.seed import lambda_function, lambda_minute, metric_point

pytestmark = pytest.mark.browser

FUNCTIONS = ("orders-api", "thumbnailer", "report-builder")
COLUMNS = (
    "invocations",
    "errors",
    "error_rate",
    "throttles",
    "duration_avg_ms",
    "duration_p95_ms",
    "duration_p99_ms",
)


def _seed(session: Session, now) -> None:
    session.execute(delete(MetricPoint))
    session.execute(delete(LambdaFunction))
    session.add_all([lambda_function(n, now) for n in FUNCTIONS])
    for f, name in enumerate(FUNCTIONS):
        for i in range(50):
            ts = (now - timedelta(minutes=55 - i)).replace(second=0, microsecond=0)
            calls = 20 + (i * (f + 3)) % 17
            p95 = 100.0 + f * 150 + (i % 7) * 12.5
            session.add_all(
                lambda_minute(
                    name,
                    ts,
                    invocations=calls,
                    errors=(i + f) % 5 == 0,
                    throttles=(i % 11 == 0) * f,
                    avg=p95 / 2.7,
                    p95=p95,
                    p99=p95 * 1.4 + 0.333,
                )
            )
            session.add(metric_point("lambda_function", name, "Duration", "Maximum", ts, p95 * 2))
            session.add(
                metric_point(
                    "lambda_function", name, "ConcurrentExecutions", "Maximum", ts, 1 + (i % 4) + f
                )
            )


def _grid_values(page: Page) -> dict[str, dict[str, str]]:
    """Every row of the grid as the browser holds it (the values the cells render)."""
    rows = page.evaluate(
        """() => {
            const api = dash_ag_grid.getApi("lambda-grid");
            const out = [];
            api.forEachNode(n => out.push(n.data));
            return out;
        }"""
    )
    return {r["function_name"]: r for r in rows}


def _export(live: LiveApp, href: str) -> list[dict[str, str]]:
    with urllib.request.urlopen(live.url + href) as response:
        return list(csv.DictReader(io.StringIO(response.read().decode())))


def test_table_equals_the_summary_csv_and_downloads_it(
    new_context: Callable[..., tuple[BrowserContext, Traffic]], live: LiveApp
) -> None:
    live.write(_seed)
    context, _ = new_context()
    page = context.new_page()
    page.goto("/lambda?range=1h")
    expect(page.locator(".ag-center-cols-container .ag-row")).to_have_count(3)
    link = page.get_by_role("link", name="Download this table (CSV)")
    href = link.get_attribute("href")
    assert href is not None and "since=2026-11-25T17:32:17Z" in href
    expected = _export(live, href)
    shown = _grid_values(page)
    assert sorted(shown) == sorted(r["function_name"] for r in expected)
    for row in expected:
        for column in COLUMNS:
            cell = row[column]
            got = shown[row["function_name"]][column]
            assert (got is None and cell == "") or float(cell) == got, (
                row["function_name"],
                column,
            )
    # The rendered error-rate cell is the CSV's fraction as a percentage.
    orders = next(r for r in expected if r["function_name"] == "orders-api")
    rate_cell = page.locator(
        '.ag-center-cols-container .ag-row[row-id="orders-api"] [col-id="error_rate"]'
    )
    expect(rate_cell).to_have_text(f"{float(orders['error_rate']) * 100:.2f} %")
    with page.expect_download() as info:
        link.click()
    with urllib.request.urlopen(live.url + href) as response:
        assert Path(info.value.path()).read_bytes() == response.read()


def test_selecting_a_row_charts_it_and_the_permalink_reopens_the_view(
    new_context: Callable[..., tuple[BrowserContext, Traffic]], live: LiveApp
) -> None:
    live.write(_seed)
    context, _ = new_context()
    page = context.new_page()
    page.goto("/lambda?range=1h")
    expect(page.locator(".ag-center-cols-container .ag-row")).to_have_count(3)
    page.locator('.ag-row[row-id="thumbnailer"] [col-id="function_name"]').click()
    expect(page.get_by_label("Function to chart")).to_have_value("thumbnailer")
    figures = page.locator("#lambda-charts figure")
    expect(figures).to_have_count(4)
    expect(figures.nth(0)).to_contain_text("Invocations:")
    expect(figures.nth(0).locator('[role="img"]')).to_have_attribute(
        "aria-label", "Chart: Invocations and errors · thumbnailer"
    )
    # Comparison of two functions, overlaid.
    compare = page.locator("#lambda-compare")
    compare.get_by_label("orders-api").check()
    compare.get_by_label("report-builder").check()
    page.get_by_label("Metric").select_option("duration_p95")
    graph = page.locator("#lambda-compare-graph")
    expect(graph.locator(".legendtext")).to_have_text(["orders-api", "report-builder"])
    expect(page).to_have_url(
        f"{live.url}/lambda?range=1h&fn=thumbnailer&compare=orders-api%2Creport-builder"
        "&metric=duration_p95"
    )
    # The comparison's CSV link downloads what the API gives for the same parameters.
    csv_link = page.locator("#lambda-compare-chart").get_by_role("link", name="orders-api CSV")
    expect(csv_link).to_have_attribute("href", re.compile(r"metric=Duration&"))
    href = csv_link.get_attribute("href")
    assert href is not None and "metric=Duration" in href and "name=orders-api" in href
    with page.expect_download() as info:
        csv_link.click()
    with urllib.request.urlopen(live.url + href) as response:
        assert Path(info.value.path()).read_bytes() == response.read()

    other = context.new_page()
    other.goto(page.url)
    expect(other.get_by_label("Function to chart")).to_have_value("thumbnailer")
    expect(other.locator("#lambda-charts figure")).to_have_count(4)
    expect(other.locator("#lambda-compare-graph .legendtext")).to_have_text(
        ["orders-api", "report-builder"]
    )
    expect(other.get_by_label("Metric")).to_have_value("duration_p95")


def test_more_than_six_functions_are_refused_with_a_message(page: Page, live: LiveApp) -> None:
    live.write(_seed)
    names = ",".join([*FUNCTIONS, "a", "b", "c", "d"])
    page.goto(f"/lambda?range=1h&compare={names}")
    expect(page.locator("#lambda-compare-chart")).to_contain_text(
        "Compare at most 6 functions at once; 7 are selected."
    )


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_lambda_monitor_is_accessible_in_both_themes(
    theme: str,
    new_context: Callable[..., tuple[BrowserContext, Traffic]],
    live: LiveApp,
    artifacts: Path,
) -> None:
    live.write(_seed)
    context, _ = new_context(color_scheme=theme)
    page = context.new_page()
    page.goto("/lambda?range=1h&fn=orders-api&compare=orders-api,thumbnailer")
    expect(page.locator(".ag-center-cols-container .ag-row")).to_have_count(3)
    expect(page.locator("#lambda-charts figure")).to_have_count(4)
    expect(page.locator("#lambda-compare-graph")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-bs-theme", theme)
    assert_accessible(page, f"/lambda ({theme})")
    screenshot(page, artifacts, "lambda", theme)
    # Sorting by keyboard: focus a header, press Enter.
    header = page.locator('.ag-header-cell[col-id="invocations"]')
    header.focus()
    page.keyboard.press("Enter")
    expect(header).to_have_attribute("aria-sort", "ascending")
