"""Reading uploads back: the uploads CSV export, the history queries, and the Upload and
Uploads pages' callbacks over what the API stored."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from dashapp.queries import uploads as upload_queries
from dashapp.queries.uploads import UploadFilter
from tests.uploads.api_helpers import ORDERS
from tests.uploads.conftest import NOW


def read_csv(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_uploads_export_follows_the_csv_rules_and_filters(api, aws):
    api.upload("=cmd.csv", ORDERS)
    api.upload("events.ndjson", b'{"event_id": 1}\n', dataset="clickstream")
    api.clock.advance(1)  # the default window ends now, exclusive
    r = api.client.get("/export/uploads.csv?dataset=orders&status=uploaded")
    assert r.status_code == 200
    assert r.mimetype == "text/csv"
    rows = read_csv(r)
    assert rows[0][:3] == ["upload_id", "dataset", "file_name"]
    assert len(rows) == 2
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["file_name"] == "'=cmd.csv"  # spreadsheet formula neutralised
    assert record["created_at"] == "2026-11-25T18:32:17Z"
    assert record["size_bytes"] == str(len(ORDERS))
    everything = read_csv(api.client.get("/export/uploads.csv"))
    assert len(everything) == 3
    old = api.client.get("/export/uploads.csv?until=2026-11-01T00:00:00Z")
    assert len(read_csv(old)) == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "status=lost",
            "status: unknown status 'lost'; one of validated, uploaded, triggered, "
            "running, succeeded, failed",
        ),
        (
            "dataset=nope",
            "dataset: unknown dataset 'nope'; one of orders, customers, clickstream, inventory",
        ),
        ("since=yesterday", "since: 'yesterday' is not an ISO 8601 date-time"),
        (
            "datasets=orders",
            "datasets: unknown parameter; this export takes "
            "dataset, status, user, upload, since, until",
        ),
    ],
)
def test_malformed_export_parameters_are_400_with_a_message(api, aws, query, message):
    r = api.client.get(f"/export/uploads.csv?{query}")
    assert r.status_code == 400
    assert r.get_data(as_text=True).startswith(message)


def test_history_queries_filter_by_dataset_status_user_and_time(api, aws):
    api.upload("a.csv", ORDERS)
    api.clock.advance(3600)
    api.upload("b.ndjson", b'{"event_id": 1}\n', dataset="clickstream")
    window = dict(since=NOW - timedelta(hours=1), until=NOW + timedelta(hours=2))
    with api.svc.sessions() as s:
        assert [v.original_name for v in upload_queries.uploads(s, UploadFilter(**window))] == [
            "b.ndjson",
            "a.csv",
        ]
        only = UploadFilter(**window, dataset="clickstream", status="uploaded", user="LOCAL")
        assert [v.original_name for v in upload_queries.uploads(s, only)] == ["b.ndjson"]
        assert upload_queries.count_uploads(s, UploadFilter(**window, user="bob")) == 0
        early = UploadFilter(since=NOW - timedelta(hours=1), until=NOW + timedelta(minutes=1))
        assert upload_queries.count_uploads(s, early) == 1
        assert upload_queries.upload_users(s) == ["local"]


def test_the_pages_callbacks_read_the_trail_and_history_from_the_database(api, aws):
    from pages.upload.callbacks import upload_trail
    from pages.uploads.callbacks import history
    from tests.web.tree import text

    api.upload("orders.csv", ORDERS)
    api.clock.advance(5)
    api.upload("events.ndjson", b'{"event_id": 1}\n', dataset="clickstream")
    api.clock.advance(55)
    trail = text(upload_trail(api.svc, "local"))
    assert trail.index("events.ndjson") < trail.index("orders.csv")  # newest first
    assert "Uploaded (done) Triggered (in progress)" in trail
    assert "No uploads yet" in text(upload_trail(api.svc, "someone-else"))

    rows, summary, href = history(api.svc, "orders", "any", "", "24h")
    assert [r["file"] for r in rows] == ["orders.csv"]
    assert summary == "1 upload (last 24 hours)."
    assert href == (
        "/export/uploads.csv?dataset=orders&since=2026-11-24T18:33:17Z&until=2026-11-25T18:33:18Z"
    )
    exported = read_csv(api.client.get(href))
    assert [r[2] for r in exported[1:]] == ["orders.csv"]

    # A run's "Upload" link names one upload: shown and exported whatever the range.
    upload_id = exported[1][0]
    api.clock.advance(30 * 86400)
    rows, summary, href = history(api.svc, None, None, None, "24h", upload_id)
    assert [r["file"] for r in rows] == ["orders.csv"]
    assert summary == f"1 upload (upload {upload_id})."
    assert f"upload={upload_id}" in href
    assert [r[2] for r in read_csv(api.client.get(href))[1:]] == ["orders.csv"]
    rows, summary, _ = history(api.svc, None, None, None, "24h")
    assert rows == [] and summary == "No uploads match (last 24 hours)."
