"""Large uploads carry a CRC32 per part: the multipart upload declares it, each part's URL is
signed with the checksum the browser computed (POST /api/uploads/<id>/parts), S3 refuses a
part whose bytes do not match, and completion hands S3 the parts' checksums from ListParts
instead of anyone reading the object again. Against moto with the sandbox's fidelity layer
and both databases."""

from __future__ import annotations

import zlib
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from dashapp.actions.uploads import parts
from dashapp.actions.uploads.part_urls import ACTION_SIGN
from tests.uploads.api_helpers import ORDERS, audit, big_csv
from tests.uploads.parts_protocol import crc32_base64, part_of, sign_part

pytestmark = pytest.mark.usefixtures("small_parts")
BODY_MIB = 11  # three parts of 5 MiB, the last one short


@pytest.fixture
def body() -> bytes:
    return big_csv(BODY_MIB * parts.MIB)


def listed_parts(aws, plan):
    return aws.s3.list_parts(
        Bucket=plan["bucket"], Key=plan["key"], UploadId=plan["multipart_upload_id"]
    ).get("Parts", [])


def test_every_part_goes_with_its_crc32_and_s3_keeps_a_composite_checksum(api, aws, body):
    plan = api.create("big.csv", body).json
    assert (plan["method"], plan["part_count"], plan["checksum_algorithm"]) == (
        "multipart",
        3,
        "CRC32",
    )
    for number in (1, 2, 3):
        assert api.put_part(plan, body, number).status_code == 200
    crcs = [crc32_base64(part_of(plan, body, n)) for n in (1, 2, 3)]
    assert [p["ChecksumCRC32"] for p in listed_parts(aws, plan)] == crcs

    done = api.complete(plan["upload_id"], plan["multipart_upload_id"])
    assert (done.status_code, done.json["status"]) == (200, "uploaded")
    got = aws.s3.get_object(Bucket="smd-raw", Key=plan["key"], ChecksumMode="ENABLED")
    digests = b"".join(zlib.crc32(part_of(plan, body, n)).to_bytes(4, "big") for n in (1, 2, 3))
    assert got["ChecksumType"] == "COMPOSITE"
    assert got["ChecksumCRC32"] == f"{crc32_base64(digests)}-3"
    assert got["Body"].read() == body


def test_a_part_url_is_signed_with_its_checksum_which_the_put_must_send(api, aws, body):
    plan = api.create("big.csv", body).json
    crc = crc32_base64(part_of(plan, body, 2))
    signed = sign_part(api.signer(plan), plan, 2, crc)
    assert signed["part_number"] == 2
    assert signed["headers"] == {"x-amz-checksum-crc32": crc}
    query = parse_qs(urlsplit(signed["url"]).query)
    assert query["partNumber"] == ["2"]
    assert query["uploadId"] == [plan["multipart_upload_id"]]
    assert query["X-Amz-SignedHeaders"] == ["host;x-amz-checksum-crc32"]
    # Signing is local: nothing is audited until the upload completes or fails.
    assert audit(api) == [("upload", "ok")]


def test_a_corrupted_part_is_refused_by_s3_and_the_upload_can_be_retried(api, aws, body):
    plan = api.create("big.csv", body).json
    good = part_of(plan, body, 2)
    signed = sign_part(api.signer(plan), plan, 2, crc32_base64(good))
    corrupted = good[:100] + b"X" + good[101:]
    refused = requests.put(signed["url"], data=corrupted, headers=signed["headers"])
    assert refused.status_code == 400
    assert "<Code>BadDigest</Code>" in refused.text
    assert listed_parts(aws, plan) == []
    # The page retries the part (same URL: the checksum is the file's, the bytes were not).
    assert requests.put(signed["url"], data=good, headers=signed["headers"]).status_code == 200
    for number in (1, 3):
        assert api.put_part(plan, body, number).status_code == 200
    done = api.complete(plan["upload_id"], plan["multipart_upload_id"])
    assert (done.status_code, done.json["status"]) == (200, "uploaded")
    assert aws.s3.get_object(Bucket="smd-raw", Key=plan["key"])["Body"].read() == body


def test_completing_reads_the_part_list_and_the_objects_head_never_the_object(api, aws, body):
    plan = api.create("big.csv", body).json
    for number in (1, 2, 3):
        api.put_part(plan, body, number)
    api.svc.aws.counter.reset()
    done = api.complete(plan["upload_id"], plan["multipart_upload_id"])
    assert done.status_code == 200
    assert api.svc.aws.counter.snapshot() == {
        "s3:HeadObject": 2,  # not there yet, then the size check
        "s3:ListParts": 1,
        "s3:CompleteMultipartUpload": 1,
    }


ONE = {"part_number": 1, "crc32": "AAAAAA=="}
MALFORMED = [  # (what the request gets wrong, its JSON body, the start of the 400's message)
    ("no upload id", {"parts": [ONE]}, "Name the multipart upload the parts belong to."),
    ("no parts", {"parts": []}, "Send the parts to sign as a list"),
    ("parts not a list", {"parts": "1"}, "Send the parts to sign as a list"),
    ("part not an object", {"parts": [7]}, "Each part to sign is an object"),
    (
        "number too high",
        {"parts": [{**ONE, "part_number": 4}]},
        "The part number 4 is not a whole number from 1 to 3.",
    ),
    (
        "number a boolean",
        {"parts": [{**ONE, "part_number": True}]},
        "The part number True is not a whole number from 1 to 3.",
    ),
    (
        "number a string",
        {"parts": [{**ONE, "part_number": "1"}]},
        "The part number '1' is not a whole number from 1 to 3.",
    ),
    (
        "crc32 not canonical base64",
        {"parts": [{**ONE, "crc32": "AAAAAB=="}]},
        "The CRC32 of part 1 must be the base64 of its four big-endian bytes",
    ),
    (
        "crc32 not a string",
        {"parts": [{**ONE, "crc32": 12345}]},
        "The CRC32 of part 1 must be the base64",
    ),
    (
        "a part twice",
        {"parts": [ONE, ONE]},
        "Each part number may be asked for only once per request.",
    ),
    ("too many", {"parts": [ONE] * 101}, "Ask for at most 100 parts at a time (101 were asked)."),
]


def test_a_malformed_signing_request_gets_400_with_the_reason_and_changes_nothing(api, aws, body):
    plan = api.create("big.csv", body).json
    for case, request, message in MALFORMED:
        ask = {"multipart_upload_id": plan["multipart_upload_id"], **request}
        if case == "no upload id":
            del ask["multipart_upload_id"]
        r = api.sign_parts(plan["upload_id"], ask)
        assert r.status_code == 400, case
        assert r.json["error"].startswith(message), (case, r.json)
    # Nothing half-written: the upload goes on and completes.
    api.send(plan, body)
    done = api.complete(plan["upload_id"], plan["multipart_upload_id"])
    assert (done.status_code, done.json["status"]) == (200, "uploaded")


def test_parts_are_signed_only_for_a_multipart_upload_still_in_progress(api, aws, body):
    ask = {"multipart_upload_id": "M", "parts": [{"part_number": 1, "crc32": "AAAAAA=="}]}
    assert api.sign_parts("no-such-upload", ask).status_code == 404
    small = api.create("orders.csv", ORDERS).json
    r = api.sign_parts(small["upload_id"], ask)
    assert (r.status_code, r.json["error"]) == (
        409,
        "This upload goes to S3 as one POST, not in parts.",
    )
    result = api.upload("big.csv", body)
    r = api.sign_parts(result["upload_id"], ask)
    assert (r.status_code, r.json["error"]) == (
        409,
        "This upload is already uploaded; its parts can no longer be sent.",
    )


def test_a_viewer_may_not_sign_parts_and_cross_site_requests_are_refused(make_api, aws):
    viewer = make_api(local_role="viewer")
    ask = {"multipart_upload_id": "M", "parts": [{"part_number": 1, "crc32": "AAAAAA=="}]}
    r = viewer.sign_parts("some-upload", ask)
    assert (r.status_code, r.json["error"]) == (
        403,
        "Local user has the viewer role; upload parts needs operator.",
    )
    assert audit(viewer) == [(ACTION_SIGN, "denied")]
    operator = make_api()
    r = operator.sign_parts("some-upload", ask, **{"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403 and r.json["error"].startswith("Refused:")
