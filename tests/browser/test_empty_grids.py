"""An empty grid says why it is empty, and the browser console stays clean.

AG Grid 35 (dash-ag-grid 35.3.0) refuses `overlayNoRowsTemplate`: it logs a console
error and shows its generic "No Rows To Show" instead of the page's own message.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect
from sqlalchemy import delete
from sqlalchemy.orm import Session

from dashapp.models import LambdaFunction, MetricPoint, Upload
from tests.browser.conftest import LiveApp, wait_for_data

pytestmark = pytest.mark.browser

EMPTY_MESSAGES = {
    "/uploads": "No upload matches these filters.",
    "/failures": "No failed runs in this time range.",
    "/audit": "No audit entries match.",
    "/lambda": "No Lambda function is known yet.",
}


def _nothing(session: Session, _now: datetime) -> None:
    # `live` empties runs, jobs and the audit log; other tests leave functions and uploads.
    for model in (MetricPoint, LambdaFunction, Upload):
        session.execute(delete(model))


@pytest.mark.parametrize("path", list(EMPTY_MESSAGES))
def test_an_empty_grid_shows_the_pages_message_without_console_errors(
    page: Page, live: LiveApp, path: str
) -> None:
    live.write(_nothing)
    errors: list[str] = []

    def collect(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", collect)
    page.goto(path)
    wait_for_data(page)

    overlay = page.locator(".ag-root-wrapper .ag-overlay")
    expect(overlay.get_by_text(EMPTY_MESSAGES[path], exact=True)).to_be_visible()
    expect(overlay.get_by_text("No Rows To Show")).to_have_count(0)
    assert errors == [], f"console errors on {path}: {errors}"
