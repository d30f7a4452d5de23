"""The log viewer in a real Chromium: live tail, search, levels, jump, pause, permalink, export.

Most tests run on the served app with a fixed clock and lines written straight into
its database (what the collector would store). The last ones run the whole product
(sandbox + collectors + web): a line put into CloudWatch with plain boto3 must be on
screen within 2 s.
"""

from __future__ import annotations

import contextlib
import time
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dashapp.models import JobRun, LambdaFunction, LogEvent, LogStream, LogWatch
from tests.browser.conftest import NOW, LiveApp, Traffic, assert_accessible, screenshot
from tests.web.seed import job_run, log_event

pytestmark = pytest.mark.browser

OUT, ERR = "/aws-glue/jobs/output", "/aws-glue/jobs/error"
RUN = "jr_failed_0001"
LINES = "#logs-lines"


def _clear(live: LiveApp) -> None:
    with live.sessions.begin() as s:
        for model in (LogEvent, LogStream, LogWatch, LambdaFunction):
            s.execute(delete(model))


def _seed_failed_run(session: Session, now: datetime) -> None:
    session.add(
        job_run(RUN, "crm-customers-ingest", "FAILED", now - timedelta(minutes=30), duration_s=90)
    )
    lines = [(OUT, "INFO starting job", "INFO")]
    lines += [(OUT, f"INFO reading part {i}", "INFO") for i in range(60)]
    lines += [
        (OUT, "WARN schema drift: extra column 'note'", "WARN"),
        (ERR, "ERROR AnalysisException: cannot resolve 'customer_id'", "ERROR"),
        (OUT, "INFO cleaning up <b>temp</b> files (a.*b)", "INFO"),
        (ERR, "ERROR job failed", "ERROR"),
    ]
    for i, (group, message, level) in enumerate(lines):
        session.add(
            log_event(
                group, RUN, now - timedelta(minutes=29) + timedelta(seconds=i), message, level=level
            )
        )


def _open(page: Page, query: str) -> None:
    page.goto(f"/logs?{query}")
    expect(page.locator(f"{LINES} .smd-log-line").first).to_be_visible()


def test_search_highlights_literally_and_the_level_filter_narrows(
    page: Page, live: LiveApp
) -> None:
    _clear(live)
    live.write(_seed_failed_run)
    _open(page, f"run={RUN}&range=1h")
    lines = page.locator(f"{LINES} .smd-log-line")
    expect(lines).to_have_count(65)
    page.get_by_label("Search (case-insensitive)").fill("A.*B")
    expect(lines).to_have_count(1)
    expect(lines.first.locator("mark")).to_have_text("a.*b")
    # The message's own markup is shown as text, not rendered.
    expect(lines.first).to_contain_text("<b>temp</b>")
    page.get_by_label("Search (case-insensitive)").fill("")
    expect(lines).to_have_count(65)
    page.get_by_label("Level").select_option("WARN")
    expect(lines).to_have_count(3)
    expect(page.locator(f"{LINES} .smd-log-line--error")).to_have_count(2)
    # Errors read as errors without colour: an icon and the word.
    expect(page.locator(f"{LINES} .smd-log-line--error .smd-log-level").first).to_have_text("ERROR")
    assert "level=WARN" in page.url


def test_jump_to_first_error_scrolls_to_and_focuses_it(page: Page, live: LiveApp) -> None:
    _clear(live)
    live.write(_seed_failed_run)
    page.goto(f"/logs?run={RUN}&range=1h&jump=first-error")
    first_error = page.locator(f"{LINES} .smd-log-line--error").first
    expect(first_error).to_be_focused()
    expect(first_error).to_contain_text("cannot resolve 'customer_id'")
    expect(first_error).to_be_in_viewport()
    expect(page.locator("#logs-pause")).to_have_attribute("aria-pressed", "true")


def test_new_lines_are_appended_live_and_pause_stops_auto_scroll(page: Page, live: LiveApp) -> None:
    _clear(live)
    live.write(_seed_failed_run)
    with live.sessions.begin() as s:
        s.execute(delete(JobRun).where(JobRun.run_id == RUN))
        s.add(
            job_run(
                RUN, "crm-customers-ingest", "RUNNING", NOW - timedelta(minutes=30), duration_s=None
            )
        )
    _open(page, f"run={RUN}&range=1h")
    lines = page.locator(f"{LINES} .smd-log-line")
    expect(lines).to_have_count(65)
    box = page.locator(LINES)
    at_bottom = "e => Math.abs(e.scrollHeight - e.clientHeight - e.scrollTop) < 2"
    page.wait_for_function(f"() => ({at_bottom})(document.querySelector('{LINES}'))")
    first_id = lines.first.get_attribute("id")
    with live.sessions.begin() as s:
        s.add(log_event(OUT, RUN, NOW - timedelta(seconds=5), "INFO a fresh line", level="INFO"))
    expect(lines).to_have_count(66)
    expect(lines.last).to_contain_text("a fresh line")
    assert lines.first.get_attribute("id") == first_id, "old lines were re-sent, not appended"
    page.wait_for_function(f"() => ({at_bottom})(document.querySelector('{LINES}'))")
    # The viewer asked the collector to follow this run's streams.
    with live.sessions() as s:
        watched = {(w.log_group, w.log_stream) for w in s.scalars(select(LogWatch))}
    assert {(OUT, RUN), (ERR, RUN)} <= watched

    pause = page.get_by_role("button", name="Pause auto-scroll")
    pause.click()
    expect(pause).to_have_attribute("aria-pressed", "true")
    box.evaluate("e => { e.scrollTop = 0; }")
    with live.sessions.begin() as s:
        s.add_all(
            [log_event(OUT, RUN, NOW - timedelta(seconds=4), f"INFO paused {i}") for i in range(20)]
        )
    expect(lines).to_have_count(86)
    page.wait_for_timeout(800)
    assert box.evaluate("e => e.scrollTop") == 0, "auto-scroll moved while paused"
    pause.click()
    expect(pause).to_have_attribute("aria-pressed", "false")
    page.wait_for_function(f"() => ({at_bottom})(document.querySelector('{LINES}'))")


def test_permalink_reopens_the_view_and_download_equals_the_export(
    new_context: Callable[..., tuple[BrowserContext, Traffic]], live: LiveApp, tmp_path: Path
) -> None:
    _clear(live)
    live.write(_seed_failed_run)
    context, _ = new_context()
    page = context.new_page()
    _open(page, f"run={RUN}&range=1h")
    page.get_by_label("Search (case-insensitive)").fill("error")
    expect(page.locator(f"{LINES} .smd-log-line")).to_have_count(2)
    expect(page).to_have_url(f"{live.url}/logs?run={RUN}&q=error&range=1h")
    permalink = page.url

    other = context.new_page()
    other.goto(permalink)
    expect(other.locator(f"{LINES} .smd-log-line")).to_have_count(2)
    expect(other.get_by_label("Search (case-insensitive)")).to_have_value("error")
    expect(other.locator(f"{LINES} mark").first).to_have_text("ERROR")

    link = other.get_by_role("link", name="Download these lines (CSV)")
    href = link.get_attribute("href")
    assert href is not None
    assert parse_qs(urlsplit(href).query)["q"] == ["error"]
    with other.expect_download() as info:
        link.click()
    downloaded = Path(info.value.path()).read_bytes()
    with urllib.request.urlopen(live.url + href) as response:
        assert downloaded == response.read()
    text = downloaded.decode()
    assert text.count("\r\n") == 3  # header + the two lines on screen
    assert "cannot resolve 'customer_id'" in text and "job failed" in text


def test_a_run_that_starts_while_the_page_is_open_can_be_picked(page: Page, live: LiveApp) -> None:
    _clear(live)
    live.write(_seed_failed_run)
    _open(page, f"run={RUN}&range=1h")
    picker = page.locator("#logs-source")
    expect(picker.locator("option", has_text=RUN)).to_have_count(1)

    def started(session: Session, now: datetime) -> None:
        session.add(job_run("jr_started_late", "sales-orders-ingest", "RUNNING", now))

    live.write(started)
    # No reload: the next refresh tick brings the new run into the picker.
    expect(picker.locator("option", has_text="jr_started_late")).to_have_count(1, timeout=10_000)
    expect(picker).to_have_value(f"run:{RUN}")
    picker.select_option("run:jr_started_late")
    page.wait_for_function("() => window.location.search.includes('run=jr_started_late')")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_log_viewer_is_accessible_in_both_themes(
    theme: str,
    new_context: Callable[..., tuple[BrowserContext, Traffic]],
    live: LiveApp,
    artifacts: Path,
) -> None:
    _clear(live)
    live.write(_seed_failed_run)
    context, _ = new_context(color_scheme=theme)
    page = context.new_page()
    page.goto(f"/logs?run={RUN}&range=1h&q=error&jump=first-error")
    expect(page.locator(f"{LINES} .smd-log-line--error").first).to_be_focused()
    expect(page.locator("html")).to_have_attribute("data-bs-theme", theme)
    assert_accessible(page, f"/logs ({theme})")
    screenshot(page, artifacts, "logs", theme)
    # Keyboard: the line list is a focusable, labelled region.
    region = page.get_by_role("log", name="Log lines, oldest first")
    region.focus()
    expect(region).to_be_focused()


# --- the whole product: CloudWatch → collector → database → open viewer -------------------------


def _start_run(stack) -> str:
    glue = boto3.client(
        "glue",
        endpoint_url=stack.sandbox_url,
        region_name=stack.settings.aws_region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    job = glue.get_jobs()["Jobs"][0]["Name"]
    return glue.start_job_run(JobName=job)["JobRunId"]


def test_a_line_put_into_cloudwatch_is_on_screen_within_2_seconds(
    stack_context, live_stack
) -> None:
    run_id = _start_run(live_stack)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with live_stack.sessions() as s:
            state = s.scalar(select(JobRun.state).where(JobRun.run_id == run_id))
        if state == "RUNNING":
            break
        time.sleep(0.25)
    else:
        raise AssertionError(f"run {run_id} did not reach RUNNING in the database")
    context, _ = stack_context()
    page = context.new_page()
    page.goto(f"/logs?run={run_id}&range=1h")
    expect(page.locator("#logs-status")).to_contain_text("live")
    logs_client = boto3.client(
        "logs",
        endpoint_url=live_stack.sandbox_url,
        region_name=live_stack.settings.aws_region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    group = f"{live_stack.settings.glue_log_group_prefix.rstrip('/')}/output"
    with contextlib.suppress(logs_client.exceptions.ResourceAlreadyExistsException):
        logs_client.create_log_stream(logGroupName=group, logStreamName=run_id)
    figures = []
    for attempt in range(3):
        marker = f"latency-probe-{uuid.uuid4().hex[:12]}"
        sent = time.monotonic()
        logs_client.put_log_events(
            logGroupName=group,
            logStreamName=run_id,
            logEvents=[
                {
                    "timestamp": int(datetime.now(UTC).timestamp() * 1000),
                    "message": f"INFO {marker}",
                }
            ],
        )
        page.locator(f"{LINES} .smd-log-line", has_text=marker).wait_for(timeout=10_000)
        figures.append(time.monotonic() - sent)
        print(
            f"log line on screen {figures[-1]:.2f} s after put_log_events (attempt {attempt + 1})"
        )
    assert max(figures) < 2.0, f"log latency {figures} s; must be under 2 s"


def test_a_line_in_a_lambda_functions_stream_is_on_screen_within_2_seconds(
    stack_context, live_stack
) -> None:
    """The function view watches the function's recent streams, so the collector follows them."""
    deadline = time.monotonic() + 90
    found = None
    while time.monotonic() < deadline and found is None:
        with live_stack.sessions() as s:
            found = s.execute(
                select(LogStream.resource_name, LogStream.log_group, LogStream.log_stream)
                .where(LogStream.resource_type == "lambda_function")
                .order_by(LogStream.last_event_at.desc())
                .limit(1)
            ).first()
        if found is None:
            time.sleep(0.5)
    assert found is not None, "the collector stored no Lambda log stream from the sandbox"
    function, group, stream = found
    context, _ = stack_context()
    page = context.new_page()
    page.goto(f"/logs?function={function}&range=1h")
    expect(page.locator("#logs-status")).to_contain_text("live")
    # The page's watch reaches the collector's next follow cycle.
    watched_by = time.monotonic() + 10
    while time.monotonic() < watched_by:
        with live_stack.sessions() as s:
            if s.get(LogWatch, (group, stream)) is not None:
                break
        time.sleep(0.2)
    logs_client = boto3.client(
        "logs",
        endpoint_url=live_stack.sandbox_url,
        region_name=live_stack.settings.aws_region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    figures = []
    for attempt in range(3):
        marker = f"lambda-probe-{uuid.uuid4().hex[:12]}"
        sent = time.monotonic()
        logs_client.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": int(datetime.now(UTC).timestamp() * 1000), "message": marker}],
        )
        page.locator(f"{LINES} .smd-log-line", has_text=marker).wait_for(timeout=10_000)
        figures.append(time.monotonic() - sent)
        print(f"Lambda log line on screen {figures[-1]:.2f} s after put_log_events ({attempt + 1})")
    assert max(figures) < 2.0, f"log latency {figures} s; must be under 2 s"


def test_jump_to_the_first_error_of_a_failed_sandbox_run(stack_context, live_stack) -> None:
    deadline = time.monotonic() + 120
    found = None
    while time.monotonic() < deadline and found is None:
        with live_stack.sessions() as s:
            found = s.execute(
                select(JobRun.run_id, LogEvent.message)
                .join(LogEvent, LogEvent.log_stream == JobRun.run_id)
                .where(JobRun.state == "FAILED", LogEvent.level == "ERROR")
                .order_by(JobRun.started_at.desc(), LogEvent.ts, LogEvent.id)
                .limit(1)
            ).first()
        if found is None:
            time.sleep(1)
    assert found is not None, "no failed sandbox run with an error line was collected"
    run_id, first_message = found
    context, _ = stack_context()
    page = context.new_page()
    page.goto(f"/logs?run={run_id}&range=7d&jump=first-error")
    focused = page.locator(f"{LINES} .smd-log-line:focus")
    expect(focused).to_have_count(1)
    expect(focused).to_contain_text(first_message.strip().splitlines()[0][:60])
    expect(focused.locator(".smd-log-level")).to_have_text("ERROR")
    expect(focused).to_be_in_viewport()
