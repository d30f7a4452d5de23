"""S3 additional checksums on multipart uploads (in-process, ``mock_aws``), as S3 answers:
each part verified against its CRC32 and kept, the declared algorithm required on every
part and in the completion, ListParts naming each part's checksum, the COMPOSITE checksum
built from the parts' digests, and presigned PUTs refused when their x-amz-* headers do
not match what was signed.

Against plain moto these fail: a corrupted part is stored, parts without checksums are
accepted, ListParts has no checksums, completion ignores them and re-reads every part,
and unsigned headers pass.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import zlib
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

BUCKET = "landing"
KEY = "uploads/big.csv"
MIB = 1024 * 1024


def crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


@pytest.fixture
def s3(aws: None) -> Any:
    # Only the checksums a test names: botocore would otherwise add a CRC32 to every part.
    config = Config(signature_version="s3v4", request_checksum_calculation="when_required")
    client = boto3.client("s3", region_name="us-east-1", config=config)
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def upload(s3: Any) -> str:
    """A multipart upload declaring CRC32 (COMPOSITE by default for CRC32)."""
    return s3.create_multipart_upload(Bucket=BUCKET, Key=KEY, ChecksumAlgorithm="CRC32")["UploadId"]


def put(s3: Any, upload: str, number: int, data: bytes, checksum: str | None = None) -> Any:
    extra = {"ChecksumCRC32": checksum} if checksum else {}
    return s3.upload_part(
        Bucket=BUCKET, Key=KEY, UploadId=upload, PartNumber=number, Body=data, **extra
    )


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    e = excinfo.value.response
    return e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Code"], e["Error"]["Message"]


def listed(s3: Any, upload: str) -> dict[str, Any]:
    return s3.list_parts(Bucket=BUCKET, Key=KEY, UploadId=upload)


def test_a_part_whose_bytes_do_not_match_its_crc32_is_refused_and_not_kept(s3, upload):
    good = os.urandom(5 * MIB)
    assert put(s3, upload, 1, good, crc32(good))["ChecksumCRC32"] == crc32(good)
    corrupted = good[:-1] + bytes([good[-1] ^ 1])
    with pytest.raises(ClientError) as excinfo:
        put(s3, upload, 1, corrupted, crc32(good))
    assert error(excinfo) == (
        400,
        "BadDigest",
        "The CRC32 you specified did not match the calculated checksum.",
    )
    # The earlier good copy of part 1 is what S3 still holds.
    (part,) = listed(s3, upload)["Parts"]
    assert part["ChecksumCRC32"] == crc32(good)
    assert part["ETag"].strip('"') == hashlib.md5(good).hexdigest()


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (
            {},
            "Checksum Type mismatch occurred, expected checksum Type: crc32, "
            "actual checksum Type: null",
        ),
        (
            {"x-amz-checksum-crc32c": "AAAAAA=="},
            "Checksum Type mismatch occurred, expected checksum Type: crc32, "
            "actual checksum Type: crc32c",
        ),
        (
            {"x-amz-checksum-crc32": "not-base64!"},
            "Value for x-amz-checksum-crc32 header is invalid.",
        ),
        (
            {"x-amz-checksum-crc32": "AAAAAA==", "x-amz-checksum-sha1": "AAAAAA=="},
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
        ),
    ],
    ids=["none", "another-algorithm", "malformed", "two"],
)
def test_a_part_of_a_crc32_upload_must_carry_one_well_formed_crc32(s3, upload, headers, message):
    def send_headers(request: Any, **_: Any) -> None:
        for name, value in headers.items():  # before signing: signed like any other header
            request.headers[name] = value

    s3.meta.events.register("before-sign.s3.UploadPart", send_headers)
    with pytest.raises(ClientError) as excinfo:
        put(s3, upload, 1, b"x" * 100)
    assert error(excinfo) == (400, "InvalidRequest", message)
    assert listed(s3, upload).get("Parts", []) == []


def test_list_parts_names_each_parts_crc32_and_the_uploads_algorithm(s3, upload):
    parts = [os.urandom(5 * MIB), b"tail"]
    for number, data in enumerate(parts, 1):
        put(s3, upload, number, data, crc32(data))
    answer = listed(s3, upload)
    assert (answer["ChecksumAlgorithm"], answer["ChecksumType"]) == ("CRC32", "COMPOSITE")
    assert [(p["PartNumber"], p["ChecksumCRC32"]) for p in answer["Parts"]] == [
        (1, crc32(parts[0])),
        (2, crc32(parts[1])),
    ]


def _complete(s3: Any, upload: str, parts: list[dict[str, Any]]) -> Any:
    return s3.complete_multipart_upload(
        Bucket=BUCKET, Key=KEY, UploadId=upload, MultipartUpload={"Parts": parts}
    )


def test_completing_needs_every_parts_crc32_and_refuses_a_wrong_one(s3, upload):
    data = [os.urandom(5 * MIB), b"tail"]
    etags = [put(s3, upload, n, d, crc32(d))["ETag"] for n, d in enumerate(data, 1)]
    named = [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]
    with pytest.raises(ClientError) as excinfo:
        _complete(s3, upload, named)
    assert error(excinfo) == (
        400,
        "InvalidRequest",
        "The upload was created using a crc32 checksum. The complete request must include the "
        "checksum for each part. It was missing for part 1 in the request.",
    )
    wrong = [{**named[0], "ChecksumCRC32": crc32(b"other")}, {**named[1], "ChecksumCRC32": "x"}]
    with pytest.raises(ClientError) as excinfo:
        _complete(s3, upload, wrong)
    assert error(excinfo)[:2] == (400, "InvalidPart")
    # Nothing was assembled: the upload is still there to complete properly.
    assert len(listed(s3, upload)["Parts"]) == 2


def test_a_checksum_named_for_a_part_of_an_upload_without_one_is_an_invalid_part(s3):
    plain = s3.create_multipart_upload(Bucket=BUCKET, Key=KEY)["UploadId"]
    etag = s3.upload_part(Bucket=BUCKET, Key=KEY, UploadId=plain, PartNumber=1, Body=b"a")["ETag"]
    with pytest.raises(ClientError) as excinfo:
        _complete(s3, plain, [{"PartNumber": 1, "ETag": etag, "ChecksumCRC32": crc32(b"a")}])
    assert error(excinfo)[:2] == (400, "InvalidPart")


def test_the_composite_checksum_comes_from_the_parts_digests_without_reading_them(
    s3, upload, monkeypatch
):
    data = [os.urandom(5 * MIB), os.urandom(5 * MIB), b"tail"]
    named = [
        {
            "PartNumber": n,
            "ETag": put(s3, upload, n, d, crc32(d))["ETag"],
            "ChecksumCRC32": crc32(d),
        }
        for n, d in enumerate(data, 1)
    ]
    checksummed: list[int] = []
    original = binascii.crc32
    monkeypatch.setattr(
        binascii, "crc32", lambda b, *a: checksummed.append(len(b)) or original(b, *a)
    )
    _complete(s3, upload, named)
    assert checksummed == [4 * 3]  # CRC32 over the three 4-byte digests, nothing else
    digests = b"".join(zlib.crc32(d).to_bytes(4, "big") for d in data)
    got = s3.get_object(Bucket=BUCKET, Key=KEY, ChecksumMode="ENABLED")
    assert (got["ChecksumType"], got["ChecksumCRC32"]) == ("COMPOSITE", f"{crc32(digests)}-3")
    assert got["Body"].read() == b"".join(data)


def _presigned_part(s3: Any, upload: str, **params: Any) -> str:
    return s3.generate_presigned_url(
        "upload_part",
        Params={"Bucket": BUCKET, "Key": KEY, "UploadId": upload, "PartNumber": 1, **params},
    )


def test_a_presigned_put_must_send_exactly_the_x_amz_headers_it_signed(s3, upload):
    data = b"part one"
    unsigned = requests.put(
        _presigned_part(s3, upload), data=data, headers={"x-amz-checksum-crc32": crc32(data)}
    )
    assert unsigned.status_code == 403
    assert "<Code>AccessDenied</Code>" in unsigned.text
    assert "<HeadersNotSigned>x-amz-checksum-crc32</HeadersNotSigned>" in unsigned.text

    signed_url = _presigned_part(s3, upload, ChecksumCRC32=crc32(data))
    missing = requests.put(signed_url, data=data)
    assert missing.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in missing.text

    sent = requests.put(signed_url, data=data, headers={"x-amz-checksum-crc32": crc32(data)})
    assert sent.status_code == 200, sent.text
    assert sent.headers["x-amz-checksum-crc32"] == crc32(data)


def test_a_part_for_an_unknown_upload_is_no_such_upload(s3):
    with pytest.raises(ClientError) as excinfo:
        put(s3, "no-such-upload", 1, b"a", crc32(b"a"))
    assert error(excinfo)[1] == "NoSuchUpload"
