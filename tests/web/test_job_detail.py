"""Job detail: the grid's answers, the run panel, the charts' text alternatives, the URL."""

from __future__ import annotations

from datetime import timedelta

import dash
from sqlalchemy.orm import Session, sessionmaker

from dashapp.queries import run_grid
from dashapp.services import Services
from pages.job_detail import layout as jd
from pages.job_detail.callbacks import (
    grid_export,
    grid_response,
    job_view,
    run_panel,
)
from pages.job_detail.charts import chart_summaries
from tests.web.conftest import NOW
from tests.web.seed import glue_job, job_run
from tests.web.tree import by_id, of_type, text

JOB = "orders-job"


def _seed(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        s.add(glue_job(JOB, NOW, max_capacity=10.0, schedule="cron(0 2 * * ? *)"))
        for i in range(150):
            s.add(
                job_run(
                    f"jr_{i:03d}",
                    JOB,
                    "FAILED" if i == 3 else "SUCCEEDED",
                    NOW - timedelta(minutes=10 * i + 1),
                    dpu_seconds=600.0,
                    rows_read=100,
                    rows_written=90,
                    arguments={"--day": "2026-11-25"},
                    error_message="KeyError: 'amount'" if i == 3 else None,
                )
            )


def test_grid_response_pages_and_reports_the_end(
    svc: Services, sessions: sessionmaker[Session]
) -> None:
    _seed(sessions)
    first, note = grid_response(svc, JOB, "24h", {"startRow": 0, "endRow": 100})
    assert note == "" and len(first["rowData"]) == 100 and "rowCount" not in first
    last, _ = grid_response(svc, JOB, "24h", {"startRow": 100, "endRow": 200})
    assert len(last["rowData"]) == 44 and last["rowCount"] == 144  # 24 h = 144 runs
    refused, note = grid_response(
        svc, JOB, "24h", {"sortModel": [{"colId": "password", "sort": "asc"}]}
    )
    assert refused == {"rowData": [], "rowCount": 0}
    assert note == "Filter not applied: cannot sort on 'password'."


def test_grid_response_when_the_database_is_unreachable(unreachable_svc: Services) -> None:
    response, note = grid_response(unreachable_svc, JOB, "24h", {"startRow": 0, "endRow": 100})
    assert response["rowCount"] == 0 and note.startswith("Database unreachable")


def test_grid_export_and_its_note() -> None:
    href, note = grid_export(JOB, "1h", NOW, jd.state_filter_model("failed"))
    assert href == (
        f"/export/job-runs.csv?job={JOB}&state=FAILED"
        "&since=2026-11-25T17:32:17Z&until=2026-11-25T18:32:18Z"
    )
    assert note == ""
    model = {
        **jd.state_filter_model("FAILED"),
        "run_id": {"filterType": "text", "type": "contains", "filter": "x"},
    }
    _, note = grid_export(JOB, "1h", NOW, model)
    assert note == (
        "The export holds every run in the range in state FAILED; "
        "the other column filters apply on screen only."
    )


def test_run_panel_shows_error_arguments_and_links(
    app: dash.Dash, svc: Services, sessions: sessionmaker[Session]
) -> None:
    _seed(sessions)
    with app.server.test_request_context("/"):
        panel = run_panel(svc, JOB, "jr_003")
        missing = run_panel(svc, "other-job", "jr_003")
        nothing = run_panel(svc, JOB, None)
    shown = text(panel)
    assert "Run jr_003" in shown and "KeyError: 'amount'" in shown
    assert '"--day": "2026-11-25"' in shown
    assert "Not started by an upload" in shown
    links = {a.href for a in of_type(panel, "A")}
    # A failed run opens its logs at the first error line.
    assert "/logs?run=jr_003&range=30d&jump=first-error" in links
    assert text(missing) == "Run jr_003 is not a stored run of other-job."
    assert text(nothing) == "Select a run in the history to see its details."


def test_job_view_summarises_the_range(svc: Services, sessions: sessionmaker[Session]) -> None:
    _seed(sessions)
    view = job_view(svc, JOB, "1h", dark=False)
    assert view.found
    assert view.stats.startswith("Last hour: 6 runs, 5 succeeded, 1 failed (83% success)")
    assert "10 DPU" in text(view.info) and "cron(0 2 * * ? *)" in text(view.info)
    assert "1 failed (jr_003)" in view.summaries["duration"]
    assert view.chart_export.startswith(f"/export/job-runs.csv?job={JOB}&since=")
    assert len(view.figures["duration"]["data"]) == 2  # runs, failed crosses
    unknown = job_view(svc, "nope", "1h", dark=True)
    assert not unknown.found and "No Glue job named 'nope'" in text(unknown.stats)


def test_chart_summaries_without_runs() -> None:
    assert chart_summaries([], 0.44, "USD", False)["rows"] == "No runs in this time range."


def test_layout_reads_job_range_run_and_state_from_the_url(app: dash.Dash) -> None:
    with app.server.test_request_context("/"):
        layout = jd.layout(job_name="a%20job", range="6h", run="jr_9", state="failed")
    assert by_id(layout, jd.JOB).data == "a job"
    assert by_id(layout, jd.RUN).data == "jr_9"
    grid = by_id(layout, jd.GRID)
    assert grid.rowModelType == "infinite"
    assert grid.filterModel == jd.state_filter_model("FAILED")
    assert {c["field"] for c in grid.columnDefs} == set(run_grid.GRID_FIELDS)
