"""The Upload and Uploads pages as a user reads them: the trail of each upload, the history
grid and its export link, built from query results without a browser."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from dashapp.queries.uploads import UploadView
from layouts.timerange import range_ids
from pages import links
from pages.upload import layout as upload
from pages.uploads import layout as uploads
from sandbox.datasets import DATASETS
from tests.web.tree import by_id, of_type, text

NOW = datetime(2026, 11, 25, 18, 32, 17, tzinfo=UTC)
DATASETS = DATASETS
LABELS = {d.name: d.label for d in DATASETS}
BASE = UploadView(
    id="u-1",
    dataset="orders",
    original_name="orders.csv",
    bucket="smd-raw",
    object_key="sales/orders/2026/11/25/x-orders.csv",
    size_bytes=1_500_000,
    detected_format="csv",
    uploaded_by="local",
    status="validated",
    created_at=NOW - timedelta(minutes=3),
    uploaded_at=None,
    triggered_at=None,
    completed_at=None,
    job_name="sales-orders-ingest",
    run_id=None,
    run_state=None,
    rows_read=None,
    rows_written=None,
    error=None,
    output_path=None,
)


def steps(view: UploadView) -> list[str]:
    return [text(li) for li in of_type(upload.trail_steps(view), "Li")]


def test_each_step_says_whether_it_is_done_in_progress_or_not_yet():
    assert steps(replace(BASE, status="uploaded", uploaded_at=NOW)) == [
        "Validated (done)",
        "Uploaded (done)",
        "Triggered (in progress)",
        "Running (not yet)",
        "Succeeded (not yet)",
    ]
    assert steps(replace(BASE, status="succeeded", run_id="jr_1")) == [
        "Validated (done)",
        "Uploaded (done)",
        "Triggered (done)",
        "Running (done)",
        "Succeeded (done)",
    ]


def test_a_failure_is_shown_after_the_last_step_reached():
    assert steps(replace(BASE, status="failed", run_id="jr_1", uploaded_at=NOW)) == [
        "Validated (done)",
        "Uploaded (done)",
        "Triggered (done)",
        "Running (done)",
        "Failed (failed)",
    ]
    assert steps(replace(BASE, status="failed")) == ["Validated (done)", "Failed (failed)"]


def test_a_succeeded_upload_shows_its_rows_and_output():
    view = replace(
        BASE,
        status="succeeded",
        run_id="jr_9",
        rows_read=1200,
        rows_written=1198,
        output_path="s3://smd-processed/orders/",
    )
    item = upload.trail_item(view, "Sales orders", NOW)
    said = text(item)
    assert "orders.csv" in said and "Succeeded" in said
    assert "Sales orders · 1.5 MB · 3 min ago" in said
    assert "Read 1,200 rows, wrote 1,198 rows." in said
    assert "Output: s3://smd-processed/orders/" in said
    assert "Run jr_9" in said
    assert not of_type(item, "A")  # no logs link when nothing failed


def test_a_failed_upload_shows_its_error_and_one_click_to_the_run_logs():
    view = replace(BASE, status="failed", run_id="jr_7", error="IngestError: line 3: bad amount")
    item = upload.trail_item(view, "Sales orders", NOW)
    assert "IngestError: line 3: bad amount" in text(item)
    (link,) = of_type(item, "A")
    assert link.href == "/logs?run=jr_7&range=30d&jump=first-error"
    assert text(link) == "View logs"


def test_no_uploads_yet_is_explained():
    assert "No uploads yet" in text(upload.trail_list([], LABELS, NOW))


def test_the_skeleton_holds_no_data():
    page = upload.layout()
    assert text(by_id(page, upload.FORM_STATUS)) == "Loading the upload form…"
    assert by_id(page, upload.FORM).hidden is True
    assert by_id(page, upload.DATASET).options == []
    assert text(by_id(page, upload.TRAIL)) == "Loading your uploads…"
    history = uploads.layout(dataset="orders")
    assert by_id(history, uploads.DATASET).value == "orders"


def test_an_operator_gets_the_form_with_every_dataset():
    reason, hidden, options, value = upload.form_state(DATASETS, can_upload=True)
    assert (reason, hidden, value) == (None, False, "orders")
    assert [o["value"] for o in options] == [d.name for d in DATASETS]
    zone = by_id(upload.upload_form(), upload.DROP)
    assert zone.role == "button" and zone.tabIndex == "0"


def test_the_chosen_dataset_is_described():
    info = text(upload.dataset_info(DATASETS[0]))
    assert "Accepts CSV, JSON, NDJSON. Ingested by sales-orders-ingest." in info
    assert "Needs the columns order_id, customer_id, amount, currency, ordered_at." in info


def test_a_viewer_sees_why_there_is_no_form():
    reason, hidden, options, _ = upload.form_state(DATASETS, can_upload=False)
    assert hidden is True and options == []
    assert "Uploading needs the operator role" in text(reason)


def test_no_datasets_is_explained():
    reason, hidden, _, _ = upload.form_state((), can_upload=True)
    assert hidden is True and "No datasets are configured" in text(reason)


def test_history_rows_link_each_run_to_its_logs():
    view = replace(BASE, status="failed", run_id="jr_7", error="boom")
    (row,) = uploads.grid_rows([view], LABELS)
    assert row["run"] == "[jr_7](/logs?run=jr_7&range=30d&jump=first-error)"
    long_id = "jr_" + "a" * 64
    (row,) = uploads.grid_rows([replace(view, run_id=long_id)], LABELS)
    assert row["run"] == f"[jr_aaaaaaaaaa…](/logs?run={long_id}&range=30d&jump=first-error)"
    assert (row["status"], row["dataset"], row["error"]) == ("Failed", "Sales orders", "boom")
    assert row["created_at"] == "2026-11-25 18:29:17"


def test_the_export_link_carries_the_filters():
    href = links.uploads_export(
        dataset="orders", status="failed", user="", since="2026-11-24T00:00:00Z", until=""
    )
    assert href == "/export/uploads.csv?dataset=orders&status=failed&since=2026-11-24T00:00:00Z"


def test_filters_start_from_the_query_string_and_ignore_unknown_values():
    page = uploads.uploads_page({"dataset": "orders", "status": "bogus", "range": "30d"})
    assert by_id(page, uploads.DATASET).value == "orders"
    assert by_id(page, uploads.STATUS).value == uploads.ANY
    assert by_id(page, range_ids(uploads.PAGE).value).data == "30d"
    assert by_id(page, range_ids(uploads.PAGE).preset).value == "30d"
    assert by_id(page, uploads.UPLOAD).data is None
    assert by_id(page, uploads.UPLOAD_NOTE).hidden is True


def test_a_link_to_one_upload_says_so_and_offers_all():
    page = uploads.uploads_page({"upload": "up-0007"})
    assert by_id(page, uploads.UPLOAD).data == "up-0007"
    note = by_id(page, uploads.UPLOAD_NOTE)
    assert note.hidden is False
    assert "Showing upload up-0007 only" in text(note)
    assert by_id(page, uploads.UPLOAD_CLEAR).children == "Show all uploads"


def test_an_absolute_range_from_a_link_is_kept():
    value = "2026-11-01T00:00Z~2026-11-02T00:00Z"
    page = uploads.uploads_page({"range": value})
    assert by_id(page, range_ids(uploads.PAGE).value).data == value


def test_the_dataset_filter_offers_every_dataset():
    options = uploads.dataset_options(DATASETS)
    assert [o["value"] for o in options] == [
        "any",
        "orders",
        "customers",
        "clickstream",
        "inventory",
    ]


def test_the_summary_says_when_only_the_newest_are_shown():
    assert uploads.summary(0, 0, "Last 7 days") == "No uploads match (last 7 days)."
    assert uploads.summary(3, 3, "2026-11-01 00:00 – 2026-11-02 00:00 UTC") == (
        "3 uploads (2026-11-01 00:00 – 2026-11-02 00:00 UTC)."
    )
    assert uploads.summary(1, 1, "Last 7 days") == "1 upload (last 7 days)."
    assert uploads.summary(2000, 2500, "Last 30 days") == (
        "Showing the newest 2,000 of 2,500 uploads (last 30 days)."
    )
