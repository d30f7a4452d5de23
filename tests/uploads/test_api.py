"""The upload API end to end against moto and both databases: what lands in S3 and what the
audit log says, and that a refused file or request leaves S3 and the uploads table untouched."""

from __future__ import annotations

import re

import pytest

from collectors.runs import upload_id_for as collector_upload_id
from dashapp.actions.uploads import parts
from tests.uploads.api_helpers import ORDERS, audit, big_csv, uploads
from tests.uploads.conftest import NOW

KEY_SHAPE = re.compile(
    r"^sales/orders/2026/11/25/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}-"
    r"my_orders\.csv$"
)


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


def test_a_large_file_goes_in_parts_and_is_assembled_encrypted(api, aws, small_parts):
    body = big_csv(11 * parts.MIB)
    result = api.upload("big.csv", body)
    assert result["method"] == "multipart"
    assert result["part_size"] == 5 * parts.MIB
    assert result["part_count"] == 3
    head = aws.s3.head_object(Bucket="smd-raw", Key=result["key"])
    assert head["ContentLength"] == len(body)
    assert head["Metadata"] == {"uploaded-by": "local"}
    assert head["ServerSideEncryption"] == "aws:kms"
    assert aws.s3.get_object(Bucket="smd-raw", Key=result["key"])["Body"].read() == body
    assert uploads(api)[0].status == "uploaded"


def test_a_multipart_upload_missing_a_part_is_aborted_and_fails(api, aws, small_parts):
    body = big_csv(11 * parts.MIB)
    plan = api.create("big.csv", body).json
    for number in (1, 2):
        assert api.put_part(plan, body, number).status_code == 200
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


def test_abort_discards_the_parts_and_records_why(api, aws, small_parts):
    body = big_csv(11 * parts.MIB)
    plan = api.create("big.csv", body).json
    assert api.put_part(plan, body, 1).status_code == 200
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
