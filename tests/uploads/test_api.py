"""The upload API end to end against moto and both databases: what lands in S3, what the trail
and the audit log say, and that a refused file leaves S3 and the uploads table untouched."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from collectors.runs import link_uploads, record_object
from collectors.runs import upload_id_for as collector_upload_id
from dashapp.actions.uploads import service
from dashapp.models import AuditEntry, GlueJob, Upload
from dashapp.queries import uploads as upload_queries
from dashapp.queries.uploads import UploadFilter
from tests.uploads.conftest import NOW

ORDERS = b"order_id,customer_id,amount,currency,ordered_at\n" + b"1,c-1,12.50,EUR,2026-11-25\n" * 3
KEY_SHAPE = re.compile(
    r"^sales/orders/2026/11/25/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}-"
    r"my_orders\.csv$"
)


def uploads(api):
    with api.svc.sessions() as s:
        return list(s.scalars(select(Upload)))


def audit(api):
    with api.svc.sessions() as s:
        return [
            (a.action, a.outcome) for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def test_a_csv_goes_straight_to_s3_under_the_dataset_prefix_with_kms_and_its_uploader(api, aws):
    result = api.upload("my orders.csv", ORDERS)
    assert result["method"] == "post"
    assert KEY_SHAPE.match(result["key"]), result["key"]
    assert result["status"] == "uploaded"
    head = aws.s3.head_object(Bucket="smd-raw", Key=result["key"])
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == aws.kms_key_arn  # the bucket's default key
    assert head["Metadata"] == {"uploaded-by": "local"}
    assert head["ContentType"] == "text/csv"
    (row,) = uploads(api)
    assert (row.id, row.status, row.size_bytes, row.dataset) == (
        result["upload_id"],
        "uploaded",
        len(ORDERS),
        "orders",
    )
    assert row.original_name == "my orders.csv"
    assert row.etag == head["ETag"].strip('"')
    assert row.uploaded_at == NOW and row.created_at == NOW
    assert row.run_id is None  # eventbridge mode: the web app starts nothing
    assert aws.glue.get_job_runs(JobName="sales-orders-ingest")["JobRuns"] == []
    assert audit(api) == [("upload", "ok"), ("upload_complete", "ok")]
    # The collector names the object's upload with the same id, so there is one row.
    assert row.id == collector_upload_id("smd-raw", result["key"])


def test_the_configured_kms_key_is_pinned_in_the_presigned_post(make_api, aws):
    api = make_api(kms_key_id="alias/uploads-key")
    created = api.create("a.csv", ORDERS).json
    fields = created["post"]["fields"]
    assert fields["x-amz-server-side-encryption"] == "aws:kms"
    assert fields["x-amz-server-side-encryption-aws-kms-key-id"] == "alias/uploads-key"
    assert fields["x-amz-meta-uploaded-by"] == "local"


@pytest.mark.parametrize(
    ("name", "body", "status", "message"),
    [
        ("empty.csv", b"", 400, "The file is empty."),
        (
            "renamed.csv",
            b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
            400,
            "This is a PNG image, not a CSV text file.",
        ),
        (
            "ragged.csv",
            ORDERS + b"9,c-9,1.00\n",
            400,
            "Line 5: Expected 5 values (like the header), found 3.",
        ),
        (
            "wrong.csv",
            b"id,total\n1,2\n",
            400,
            "Line 1: The header lacks the columns 'order_id', 'customer_id', 'amount', "
            "'currency', 'ordered_at' this dataset needs (it has 'id', 'total').",
        ),
        (
            "../../etc/passwd.csv",
            ORDERS,
            400,
            "The file name '../../etc/passwd.csv' contains folder parts ('/', '\\' or '..'); "
            "choose the file itself, named without a folder.",
        ),
        (
            "x" * 296 + ".csv",
            ORDERS,
            400,
            "The file name is 300 characters long; rename the file to at most 255 characters "
            "and upload it again.",
        ),
    ],
    ids=["empty", "binary-renamed-csv", "ragged", "wrong-columns", "traversal", "300-chars"],
)
def test_a_refused_file_gets_a_message_and_nothing_reaches_s3(
    api, aws, name, body, status, message
):
    r = api.create(name, body)
    assert r.status_code == status
    assert r.json["error"] == message
    assert aws.keys() == []
    assert aws.s3.list_multipart_uploads(Bucket="smd-raw").get("Uploads", []) == []
    assert uploads(api) == []
    assert audit(api) == [("upload", "rejected")]


def test_invalid_json_is_refused_naming_the_line(api, aws):
    r = api.create(
        "events.json", b'[\n{"event_id": 1},\n{"event_id": 2,}\n]', dataset="clickstream"
    )
    assert r.status_code == 400
    assert r.json == {
        "error": "Line 3: Invalid JSON: Expecting property name enclosed in double quotes "
        "(at character 16).",
        "line": 3,
        "column": None,
    }
    assert aws.keys() == []


def test_a_file_over_the_size_limit_is_refused_with_413(make_api, aws):
    api = make_api(upload_max_bytes=100)
    r = api.create("orders.csv", ORDERS * 2)
    assert r.status_code == 413
    assert r.json["error"] == (
        "The file is 258 bytes; files can be at most 100 bytes. Split it into smaller files "
        "and upload those."
    )
    assert aws.keys() == [] and uploads(api) == []


@pytest.fixture
def small_parts(monkeypatch):
    """Multipart from 6 MiB in 5 MiB parts (S3's minimum), so tests stay small."""
    monkeypatch.setattr(service, "MULTIPART_THRESHOLD", 6 * service.MIB)
    monkeypatch.setattr(service, "MIN_PART_SIZE", 5 * service.MIB)


def big_csv(size: int) -> bytes:
    header = b"order_id,customer_id,amount,currency,ordered_at\n"
    row = b"1,c-1,12.50,EUR,2026-11-25\n"
    return header + row * ((size - len(header)) // len(row))


def test_a_large_file_goes_in_parts_and_is_assembled_encrypted(api, aws, small_parts):
    body = big_csv(11 * service.MIB)
    result = api.upload("big.csv", body)
    assert result["method"] == "multipart"
    assert result["part_size"] == 5 * service.MIB
    assert len(result["part_urls"]) == 3
    head = aws.s3.head_object(Bucket="smd-raw", Key=result["key"])
    assert head["ContentLength"] == len(body)
    assert head["Metadata"] == {"uploaded-by": "local"}
    assert head["ServerSideEncryption"] == "aws:kms"
    assert aws.s3.get_object(Bucket="smd-raw", Key=result["key"])["Body"].read() == body
    assert uploads(api)[0].status == "uploaded"


def test_a_multipart_upload_missing_a_part_is_aborted_and_fails(api, aws, small_parts):
    body = big_csv(11 * service.MIB)
    plan = api.create("big.csv", body).json
    size = plan["part_size"]
    for i, url in enumerate(plan["part_urls"][:2]):
        requests.put(url, data=body[i * size : (i + 1) * size])
    r = api.complete(plan["upload_id"], plan["multipart_upload_id"])
    assert r.status_code == 409
    assert r.json["error"] == "Only 2 of 3 parts (10.5 MB) arrived; upload the file again."
    assert aws.keys() == []
    assert aws.s3.list_multipart_uploads(Bucket="smd-raw").get("Uploads", []) == []
    (row,) = uploads(api)
    assert (row.status, row.error) == ("failed", r.json["error"])


def test_an_object_of_another_size_than_checked_is_removed(api, aws):
    plan = api.create("orders.csv", ORDERS).json
    api.send(plan, ORDERS + b"2,c-2,1.00,EUR,2026-11-25\n")  # more than was checked
    r = api.complete(plan["upload_id"])
    assert r.status_code == 409
    assert r.json["error"].startswith("The file that arrived has 155 bytes, not the 129 bytes")
    assert aws.keys() == []
    assert uploads(api)[0].status == "failed"


def test_completing_before_the_bytes_arrived_fails_clearly(api, aws):
    plan = api.create("orders.csv", ORDERS).json
    r = api.complete(plan["upload_id"])
    assert (r.status_code, r.json["error"]) == (
        409,
        "The file never arrived in S3; upload it again.",
    )


def test_completing_twice_starts_one_run(make_api, aws):
    api = make_api(trigger_mode="direct")
    result = api.upload("orders.csv", ORDERS)
    again = api.complete(result["upload_id"])
    assert again.status_code == 200
    assert (again.json["status"], again.json["run_id"]) == ("triggered", result["run_id"])
    assert len(aws.glue.get_job_runs(JobName="sales-orders-ingest")["JobRuns"]) == 1


def test_a_completion_after_the_collector_saw_the_object_still_verifies_and_triggers(make_api, aws):
    api = make_api(trigger_mode="direct")
    plan = api.create("orders.csv", ORDERS).json
    api.send(plan, ORDERS)
    with api.svc.sessions.begin() as s:  # the S3 event won the race against the browser
        record_object(
            s,
            api.svc.settings,
            bucket="smd-raw",
            key=plan["key"],
            size=len(ORDERS),
            etag=None,
            uploaded_by="local",
            at=NOW,
        )
    assert uploads(api)[0].status == "uploaded"
    done = api.complete(plan["upload_id"]).json
    assert done["status"] == "triggered" and done["run_id"]
    assert uploads(api)[0].etag  # recorded from HeadObject


def test_direct_mode_starts_the_job_on_the_object(make_api, aws):
    api = make_api(trigger_mode="direct")
    result = api.upload("orders.csv", ORDERS)
    runs = aws.glue.get_job_runs(JobName="sales-orders-ingest")["JobRuns"]
    assert len(runs) == 1
    assert runs[0]["Arguments"] == {
        "--input_path": f"s3://smd-raw/{result['key']}",
        "--dataset": "orders",
    }
    assert result["status"] == "triggered"
    assert result["run_id"] == runs[0]["Id"]
    (row,) = uploads(api)
    assert (row.run_id, row.job_name, row.triggered_at) == (
        runs[0]["Id"],
        "sales-orders-ingest",
        NOW,
    )
    assert audit(api) == [("upload", "ok"), ("upload_complete", "ok"), ("start_job_run", "ok")]


def test_direct_mode_says_when_the_job_cannot_start(make_api, aws):
    api = make_api(trigger_mode="direct")
    body = b"customer_id,name\n1,Ann\n"
    result = api.upload("customers.csv", body, dataset="customers")  # no such job in moto
    assert result["status"] == "failed"
    assert result["error"].startswith("The Glue job crm-customers-ingest could not be started:")
    assert audit(api)[-1] == ("start_job_run", "error")


def test_the_collector_moves_a_direct_upload_on_to_succeeded_with_its_rows(make_api, aws):
    api = make_api(trigger_mode="direct")
    result = api.upload("orders.csv", ORDERS)
    run = {
        "run_id": result["run_id"],
        "job_name": "sales-orders-ingest",
        "state": "SUCCEEDED",
        "started_at": NOW,
        "completed_at": NOW + timedelta(seconds=40),
        "error_message": None,
        "arguments": {"--input_path": f"s3://smd-raw/{result['key']}"},
    }
    from collectors.runs import store_runs
    from dashapp.aws.glue import RUN_API_COLUMNS

    row = {k: run.get(k) for k in ("run_id", *RUN_API_COLUMNS)}
    row.update(attempt=0, observed_at=NOW, arguments=run["arguments"])
    with api.svc.sessions.begin() as s:
        store_runs(s, [row])
        from dashapp.models import JobRun

        s.get(JobRun, result["run_id"]).rows_read = 3
        s.get(JobRun, result["run_id"]).rows_written = 3
        s.add(
            GlueJob(
                name="sales-orders-ingest",
                default_arguments={"--output_path": "s3://smd-processed/orders/"},
                first_seen_at=NOW,
                last_seen_at=NOW,
            )
        )
    with api.svc.sessions() as s:
        (view,) = upload_queries.recent_uploads(s, user="local", since=NOW - timedelta(hours=1))
    assert (view.status, view.rows_read, view.rows_written) == ("succeeded", 3, 3)
    assert view.output_path == "s3://smd-processed/orders/"  # the job's default argument
    assert view.completed_at == NOW + timedelta(seconds=40)


def test_eventbridge_mode_object_event_and_runs_reach_the_same_row(api, aws):
    result = api.upload("orders.csv", ORDERS)
    key = result["key"]
    with api.svc.sessions.begin() as s:
        record_object(
            s,
            api.svc.settings,
            bucket="smd-raw",
            key=key,
            size=len(ORDERS),
            etag="e",
            uploaded_by="local",
            at=NOW,
        )
        link_uploads(
            s,
            [
                {
                    "run_id": "jr_1",
                    "job_name": "sales-orders-ingest",
                    "state": "FAILED",
                    "started_at": NOW,
                    "completed_at": NOW + timedelta(seconds=5),
                    "error_message": "IngestError: line 3: bad amount",
                    "arguments": {"--input_path": f"s3://smd-raw/{key}"},
                }
            ],
        )
    (row,) = uploads(api)
    assert (row.status, row.run_id, row.error) == (
        "failed",
        "jr_1",
        "IngestError: line 3: bad amount",
    )


def test_abort_discards_the_parts_and_records_why(api, aws, small_parts):
    body = big_csv(11 * service.MIB)
    plan = api.create("big.csv", body).json
    requests.put(plan["part_urls"][0], data=body[: plan["part_size"]])
    r = api.abort(
        plan["upload_id"],
        multipart_upload_id=plan["multipart_upload_id"],
        reason="Cancelled in the browser",
    )
    assert r.status_code == 200 and r.json["status"] == "failed"
    assert aws.s3.list_multipart_uploads(Bucket="smd-raw").get("Uploads", []) == []
    (row,) = uploads(api)
    assert (row.status, row.error) == ("failed", "Cancelled in the browser")
    assert api.abort(plan["upload_id"]).status_code == 409


def test_an_unknown_upload_id_is_404(api, aws):
    r = api.complete("no-such-upload")
    assert (r.status_code, r.json["error"]) == (404, "There is no upload with id 'no-such-upload'.")


@pytest.mark.parametrize(
    "headers",
    [
        {"X-SMD-Upload": ""},
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
    ids=["no-csrf-header", "foreign-origin", "cross-site"],
)
def test_cross_site_requests_are_refused_before_anything_happens(api, aws, headers):
    r = api.create("orders.csv", ORDERS, headers=headers)
    assert r.status_code == 403
    assert r.json["error"].startswith("Refused:")
    assert uploads(api) == [] and aws.keys() == []


def test_the_same_origin_is_accepted(api, aws):
    r = api.create("orders.csv", ORDERS, headers={"Origin": "http://localhost"})
    assert r.status_code == 201


def test_a_viewer_may_not_upload_and_the_denial_is_audited(make_api, aws):
    api = make_api(local_role="viewer")
    r = api.create("orders.csv", ORDERS)
    assert r.status_code == 403
    assert r.json["error"] == "Local user has the viewer role; upload needs operator."
    assert audit(api) == [("upload", "denied")]
    assert uploads(api) == []


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
        "/export/uploads.csv?dataset=orders&since=2026-11-24T18%3A33%3A17Z"
        "&until=2026-11-25T18%3A33%3A17Z"
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
