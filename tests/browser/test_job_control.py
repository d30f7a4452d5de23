"""Job control in real Chromium: bulk re-run from Failed runs, the audit log, viewers.

The app runs against the sandbox in its own process (real Glue API calls through
moto with the fidelity layer) and a SQLite file holding two failed runs. An
operator-or-better selects both, confirms the list, and sees each start; the
audit log then shows both entries. A viewer sees the same controls disabled with
the reason, and the audit log tells them it needs admin.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select
from werkzeug.serving import make_server

from dashapp.app import create_app
from dashapp.aws.clients import AwsClients
from dashapp.clock import FixedClock
from dashapp.config import Settings
from dashapp.db import make_engine, make_session_factory, upgrade
from dashapp.models import GlueJob, JobRun
from dashapp.services import Services
from tests.browser.conftest import (
    NOW,
    VIEWPORT,
    Traffic,
    _QuietHandler,
    assert_accessible,
    screenshot,
)
from tests.sandbox_process import sandbox_process

pytestmark = pytest.mark.browser

FAILED = {
    "jr_fail_orders": ("sales-orders-ingest", "ThrottlingException: Rate exceeded"),
    "jr_fail_customers": ("crm-customers-ingest", "AnalysisException: cannot resolve 'id'"),
}


HARNESS_JOB = "web-clickstream-ingest"


@dataclass
class Served:
    url: str
    svc: Services


@pytest.fixture(scope="module")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with sandbox_process(
        tmp_path_factory.mktemp("jc-sandbox"), history_days=0, simulate=False
    ) as url:
        yield url


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('jc-db') / 'smd.sqlite3'}"
    upgrade(url)
    sessions = make_session_factory(make_engine(url))
    with sessions.begin() as s:
        s.add(GlueJob(name=HARNESS_JOB, first_seen_at=NOW, last_seen_at=NOW))
        for i, (run_id, (job, error)) in enumerate(FAILED.items()):
            started = NOW - timedelta(hours=2 + i)
            s.add(
                JobRun(
                    run_id=run_id,
                    job_name=job,
                    state="FAILED",
                    started_at=started,
                    completed_at=started + timedelta(minutes=3),
                    attempt=0,
                    arguments={"--input_path": f"s3://smd-raw/{job}/file-{i}.csv"},
                    error_message=error,
                    observed_at=started,
                )
            )
    return url


def serve(database: str, sandbox_url: str, role: str) -> Iterator[Served]:
    settings = Settings(
        database_url=database,
        aws_endpoint_url=sandbox_url,
        local_role=role,
        refresh_interval_s=2,
        _env_file=None,
    )
    svc = Services.build(settings, clock=FixedClock(NOW))
    svc.aws = AwsClients(
        settings,
        session=boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing"),
    )
    server = make_server(
        "127.0.0.1",
        0,
        create_app(settings, services=svc).server,
        threaded=True,
        request_handler=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_port}", svc)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        svc.engine.dispose()


@pytest.fixture(scope="module")
def operator_app(database: str, sandbox_url: str) -> Iterator[Served]:
    # Admin: an operator may re-run, and this test also reads the audit log afterwards.
    yield from serve(database, sandbox_url, "admin")


@pytest.fixture(scope="module")
def viewer_app(database: str, sandbox_url: str) -> Iterator[Served]:
    yield from serve(database, sandbox_url, "viewer")


def open_page(
    browser: Browser, served: Served, theme: str = "light"
) -> tuple[BrowserContext, Page, Traffic]:
    context = browser.new_context(
        viewport=VIEWPORT, base_url=served.url, color_scheme=theme, reduced_motion="reduce"
    )
    traffic = Traffic(origin=served.url)
    traffic.attach(context)
    return context, context.new_page(), traffic


def select_row(page: Page, run_id: str) -> None:
    box = page.locator(f'.ag-row[row-id="{run_id}"] .ag-selection-checkbox input').first
    box.check()


def test_bulk_rerun_of_two_failed_runs_then_the_audit_log_shows_them(
    browser: Browser, operator_app: Served, artifacts: Path
) -> None:
    context, page, traffic = open_page(browser, operator_app)
    page.goto("/failures")
    expect(page).to_have_title("Failed runs · Serverless Management Dashboard")
    expect(page.locator("#failures-status")).to_have_text("2 failed runs")
    grid = page.locator("#failures-grid")
    expect(grid).to_contain_text("ThrottlingException: Rate exceeded")
    expect(grid).to_contain_text("No auto-retry policy covers this job.")
    rerun = page.get_by_role("button", name="Re-run selected…")
    expect(rerun).to_be_disabled()
    for run_id in FAILED:
        select_row(page, run_id)
    expect(page.locator("#failures-rerun-hint")).to_have_text("2 runs selected.")
    # The range picker is the shared one, and the page's state is in its link.
    page.get_by_label("1h", exact=True).check()
    page.wait_for_function("() => window.location.search === '?range=1h'")
    page.get_by_label("7d", exact=True).check()
    page.wait_for_function("() => window.location.search === ''")  # the page's default
    expect(page.locator("#failures-status")).to_have_text("2 failed runs")
    for run_id in FAILED:
        select_row(page, run_id)
    expect(page.locator("#failures-rerun-hint")).to_have_text("2 runs selected.")
    assert_accessible(page, "Failed runs (light)")
    screenshot(page, artifacts, "failures", "light")
    rerun.click()
    modal = page.get_by_role("dialog")
    expect(modal).to_contain_text("2 runs will start again")
    for run_id, (job, _) in FAILED.items():
        expect(modal).to_contain_text(f"{job} · {run_id}")
    modal.get_by_role("button", name="Re-run", exact=True).click()
    expect(modal).to_be_hidden()
    results = page.locator("#failures-results")
    expect(results).to_contain_text("2 of 2 re-runs started.")
    for run_id in FAILED:
        expect(results).to_contain_text(f"{run_id}: Started")
    # The grid now says which run re-ran each one; Glue really got the arguments.
    with operator_app.svc.sessions() as s:
        new = {
            r.retry_of_run_id: r
            for r in s.scalars(select(JobRun).where(JobRun.retry_of_run_id.is_not(None)))
        }
    assert set(new) == set(FAILED)
    glue = operator_app.svc.aws.client("glue")
    for source, run in new.items():
        assert run.attempt == 1 and run.state == "STARTING"
        remote = glue.get_job_run(JobName=run.job_name, RunId=run.run_id)["JobRun"]
        assert run.arguments.items() <= remote["Arguments"].items()  # + the job's defaults
        expect(page.locator(f'.ag-row[row-id="{source}"]').last).to_contain_text(run.run_id)

    page.goto("/audit")
    expect(page).to_have_title("Audit log · Serverless Management Dashboard")
    audit = page.locator("#audit-grid")
    expect(page.locator("#audit-status")).to_have_text("2 entries")
    for run_id in FAILED:
        expect(audit).to_contain_text(run_id)
    expect(audit.locator(".ag-row")).to_have_count(2)
    expect(audit).to_contain_text("rerun_job_run")
    page.locator("#audit-outcome").select_option("denied")
    expect(page.locator("#audit-status")).to_have_text("0 entries")
    page.locator("#audit-outcome").select_option("ok")
    expect(page.locator("#audit-status")).to_have_text("2 entries")
    # The filters live in the link: a custom range and the outcome reopen as they were.
    page.get_by_label("Custom", exact=True).check()
    since = (operator_app.svc.clock.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    until = (operator_app.svc.clock.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("From (UTC)").fill(since)
    page.get_by_label("To (UTC)").fill(until)
    page.get_by_role("button", name="Apply").click()
    page.wait_for_function("() => window.location.search.includes('outcome=ok')")
    page.wait_for_function("() => window.location.search.includes('range=')")
    expect(page.locator("#audit-status")).to_have_text("2 entries")
    page.goto(page.url)
    expect(page.locator("#audit-outcome")).to_have_value("ok")
    expect(page.get_by_label("From (UTC)")).to_have_value(since)
    expect(page.locator("#audit-status")).to_have_text("2 entries")
    assert_accessible(page, "Audit log (light)")
    screenshot(page, artifacts, "audit", "light")
    context.close()
    traffic.assert_clean()

    context, page, traffic = open_page(browser, operator_app, "dark")
    for path, what in (("/failures", "Failed runs"), ("/audit", "Audit log")):
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
        expect(page.locator(".ag-row").first).to_be_visible()
        assert_accessible(page, f"{what} (dark)")
        screenshot(page, artifacts, path.strip("/"), "dark")
    context.close()
    traffic.assert_clean()


def test_a_viewer_sees_disabled_controls_and_no_audit_log(
    browser: Browser, viewer_app: Served, artifacts: Path
) -> None:
    context, page, traffic = open_page(browser, viewer_app)
    page.goto("/failures")
    expect(page.locator(".ag-row").first).to_be_visible()
    expect(page.get_by_role("button", name="Re-run selected…")).to_be_disabled()
    expect(page.locator("#failures-rerun-hint")).to_have_text("Needs the operator role.")
    select_row(page, "jr_fail_orders")
    expect(page.get_by_role("button", name="Re-run selected…")).to_be_disabled()
    assert_accessible(page, "Failed runs as viewer")
    page.goto("/audit")
    expect(page.locator("#audit-gate")).to_contain_text("This page needs the admin role.")
    expect(page.locator("#audit-gate")).to_contain_text("Local user has the viewer role")
    expect(page.locator("#audit-content")).to_be_hidden()
    assert_accessible(page, "Audit log as viewer")
    screenshot(page, artifacts, "audit-viewer", "light")
    context.close()
    traffic.assert_clean()


def serve_harness(database: str, sandbox_url: str, role: str) -> Iterator[Served]:
    """A bare page holding the components exactly as other pages embed them.

    The job toolbar plus one `run_actions` row per run of HARNESS_JOB, as of page load;
    the real callbacks (`callbacks.job_actions.register`) and the product's stylesheets.
    """
    import dash
    from dash import html
    from flask import Flask

    from callbacks import job_actions as ja_callbacks
    from dashapp.app import ASSETS_DIR, VENDOR_STYLESHEETS
    from dashapp.web.index_page import index_string
    from layouts.job_actions import job_toolbar, run_actions
    from layouts.shell import THEME_STORE

    settings = Settings(
        database_url=database, aws_endpoint_url=sandbox_url, local_role=role, _env_file=None
    )
    svc = Services.build(settings, clock=FixedClock(NOW))
    svc.aws = AwsClients(
        settings,
        session=boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing"),
    )
    server = Flask("harness", static_folder=None)
    svc.attach(server)
    app = dash.Dash(
        name="harness",
        server=server,
        assets_folder=str(ASSETS_DIR),
        assets_path_ignore=["^vendor$"],
        serve_locally=True,
        suppress_callback_exceptions=True,
        index_string=index_string(theme_store=THEME_STORE, kiosk_paths=()),
        title="Job control harness",
    )
    app.config.external_stylesheets = [app.get_asset_url(p) for p in VENDOR_STYLESHEETS]

    def page() -> html.Main:
        with svc.sessions() as s:
            runs = s.scalars(
                select(JobRun).where(JobRun.job_name == HARNESS_JOB).order_by(JobRun.started_at)
            ).all()
        return html.Main(
            [
                html.H1("Job control"),
                job_toolbar(HARNESS_JOB),
                html.Ul(
                    [
                        html.Li(
                            [
                                html.Span(f"{r.run_id} {r.state}"),
                                run_actions(r.run_id, r.job_name, r.state),
                            ],
                            className="harness-run",
                        )
                        for r in runs
                    ]
                ),
            ],
            className="container py-3",
        )

    app.layout = page
    ja_callbacks.register(app)
    http = make_server("127.0.0.1", 0, server, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{http.server_port}", svc)
    finally:
        http.shutdown()
        thread.join(timeout=10)
        svc.engine.dispose()


@pytest.fixture(scope="module")
def harness(database: str, sandbox_url: str) -> Iterator[Served]:
    yield from serve_harness(database, sandbox_url, "operator")


@pytest.fixture(scope="module")
def viewer_harness(database: str, sandbox_url: str) -> Iterator[Served]:
    yield from serve_harness(database, sandbox_url, "viewer")


def harness_runs(served: Served) -> list[JobRun]:
    with served.svc.sessions() as s:
        return list(
            s.scalars(
                select(JobRun).where(JobRun.job_name == HARNESS_JOB).order_by(JobRun.started_at)
            )
        )


def test_start_with_arguments_then_stop_and_rerun_from_run_rows(
    browser: Browser, harness: Served, artifacts: Path
) -> None:
    context, page, traffic = open_page(browser, harness)
    page.goto("/")
    page.get_by_role("button", name="Start run…").click()
    dialog = page.get_by_role("dialog", name=f"Start {HARNESS_JOB}")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Arguments (one --key=value a line)").fill("--JOB_NAME=x\nday")
    dialog.get_by_role("button", name="Start run", exact=True).click()
    expect(dialog).to_contain_text("--JOB_NAME is set by Glue itself and cannot be passed")
    expect(dialog).to_contain_text("line 2: write --key=value")
    assert harness_runs(harness) == []
    assert_accessible(page, "start-run modal")
    dialog.get_by_label("Arguments (one --key=value a line)").fill("--day=2026-11-25")
    dialog.get_by_role("button", name="Start run", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(page.locator(".smd-job-toolbar")).to_contain_text(f"Started {HARNESS_JOB} run jr_")
    [started] = harness_runs(harness)
    assert (started.state, started.arguments) == ("STARTING", {"--day": "2026-11-25"})

    page.reload()
    row = page.locator(".harness-run", has_text=started.run_id)
    row.get_by_role("button", name=f"Stop run {started.run_id} of {HARNESS_JOB}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Work in progress is lost.")
    dialog.get_by_role("button", name="Confirm").click()
    expect(row).to_contain_text(f"Stopping run {started.run_id} of {HARNESS_JOB}.")
    assert harness_runs(harness)[0].state == "STOPPING"
    glue = harness.svc.aws.client("glue")
    state = glue.get_job_run(JobName=HARNESS_JOB, RunId=started.run_id)["JobRun"]["JobRunState"]
    assert state in {"STOPPING", "STOPPED"}

    # Once Glue reports it STOPPED, the row offers a re-run with the same arguments.
    with harness.svc.sessions.begin() as s:
        s.get(JobRun, started.run_id).state = "STOPPED"
    page.reload()
    row = page.locator(".harness-run", has_text=started.run_id)
    row.get_by_role(
        "button", name=f"Re-run {started.run_id} of {HARNESS_JOB} with its arguments"
    ).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("billed as one")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert len(harness_runs(harness)) == 1
    row.get_by_role(
        "button", name=f"Re-run {started.run_id} of {HARNESS_JOB} with its arguments"
    ).click()
    page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    expect(row).to_contain_text(f"Started {HARNESS_JOB} run jr_")
    runs = harness_runs(harness)
    assert len(runs) == 2
    rerun = next(r for r in runs if r.run_id != started.run_id)
    assert (rerun.retry_of_run_id, rerun.attempt, rerun.arguments) == (
        started.run_id,
        1,
        {"--day": "2026-11-25"},
    )
    assert_accessible(page, "run actions")
    screenshot(page, artifacts, "job-actions", "light")
    context.close()
    traffic.assert_clean()


def test_a_viewer_sees_the_job_controls_disabled_with_the_reason(
    browser: Browser, viewer_harness: Served
) -> None:
    context, page, traffic = open_page(browser, viewer_harness)
    page.goto("/")
    expect(page.get_by_role("button", name="Start run…")).to_be_disabled()
    expect(page.locator(".smd-job-toolbar")).to_contain_text("Needs the operator role.")
    for button in page.locator(".smd-run-actions button").all():
        expect(button).to_be_disabled()
    assert_accessible(page, "job controls as viewer")
    context.close()
    traffic.assert_clean()
