"""S3 (and Glue) calls of the upload path: presigned POSTs and multipart plans, the check
that an object arrived, and starting a dataset's job in direct trigger mode.

The browser sends the bytes straight to S3, so the web server only ever signs:
a presigned POST whose policy pins the key, the exact size, the content type,
the uploader metadata and SSE-KMS; or a multipart upload created here (with the
same metadata and encryption, declaring CRC32 checksums) whose part URLs are
presigned one by one, each with the CRC32 the browser computed for that part as a
signed header: S3 refuses a part whose bytes do not match it. The parts' ETags and
checksums are read back with ListParts when the upload completes, so the browser
never needs S3 to expose response headers through CORS, and S3 builds the object's
checksum from the parts' without reading the object again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

_MISSING = frozenset({"NoSuchKey", "404", "NotFound", "NoSuchUpload"})
# COMPOSITE, not FULL_OBJECT: S3 checks every part on arrival either way, and a composite
# upload must name every part's checksum to complete, which is exactly what ListParts
# hands back; nobody needs a whole-file CRC32 (FULL_OBJECT) downstream (docs/uploads.md).
CHECKSUM_ALGORITHM = "CRC32"
CHECKSUM_TYPE = "COMPOSITE"
CHECKSUM_HEADER = "x-amz-checksum-crc32"
_CHECKSUM_FIELD = "ChecksumCRC32"


@dataclass(frozen=True)
class SignedPart:
    """Where to PUT one part, and the headers the PUT must carry (they are signed)."""

    part_number: int
    url: str
    headers: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return {"part_number": self.part_number, "url": self.url, "headers": self.headers}


@dataclass(frozen=True)
class ObjectInfo:
    """What HeadObject says about an uploaded object."""

    size: int
    etag: str
    encryption: str | None
    kms_key_id: str | None
    metadata: dict[str, str]


def _sse(kms_key_id: str | None) -> dict[str, str]:
    """SSE-KMS with the configured key; nothing when unset, so the bucket's default key
    applies (asking for aws:kms without a key would pick the account's aws/s3 key instead)."""
    if not kms_key_id:
        return {}
    return {
        "x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": kms_key_id,
    }


def presigned_post(
    s3: Any,
    bucket: str,
    key: str,
    *,
    size: int,
    content_type: str,
    metadata: dict[str, str],
    kms_key_id: str | None,
    expires_s: int,
) -> dict[str, Any]:
    """`{"url", "fields"}` for one form POST of exactly `size` bytes to `key`."""
    fields: dict[str, str] = {"Content-Type": content_type, **_sse(kms_key_id)}
    fields.update({f"x-amz-meta-{k}": v for k, v in metadata.items()})
    conditions: list[Any] = [{k: v} for k, v in fields.items()]
    conditions.append(["content-length-range", size, size])
    return s3.generate_presigned_post(
        bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=expires_s
    )


def create_multipart(
    s3: Any,
    bucket: str,
    key: str,
    *,
    content_type: str,
    metadata: dict[str, str],
    kms_key_id: str | None,
) -> str:
    """Start a multipart upload declaring CRC32 part checksums (no object exists until it
    completes); its UploadId."""
    kwargs: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "ContentType": content_type,
        "Metadata": metadata,
        "ChecksumAlgorithm": CHECKSUM_ALGORITHM,
        "ChecksumType": CHECKSUM_TYPE,
    }
    if kms_key_id:
        kwargs.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=kms_key_id)
    return s3.create_multipart_upload(**kwargs)["UploadId"]


def sign_part(
    s3: Any, bucket: str, key: str, upload_id: str, part_number: int, crc32: str, *, expires_s: int
) -> SignedPart:
    """A presigned PUT of part `part_number` whose CRC32 (base64 of the 4 big-endian bytes) is
    `crc32`. SigV4 signs the checksum as a header, so the PUT must send it, unchanged; an
    x-amz-* header a presigned URL did not sign is refused (signing is local: no API call)."""
    url = s3.generate_presigned_url(
        "upload_part",
        Params={
            "Bucket": bucket,
            "Key": key,
            "UploadId": upload_id,
            "PartNumber": part_number,
            _CHECKSUM_FIELD: crc32,
        },
        ExpiresIn=expires_s,
    )
    return SignedPart(part_number, url, {CHECKSUM_HEADER: crc32})


def list_parts(s3: Any, bucket: str, key: str, upload_id: str) -> list[dict[str, Any]] | None:
    """Every uploaded part (number, size, ETag, ChecksumCRC32), or None when the upload id is
    unknown."""
    parts: list[dict[str, Any]] = []
    try:
        for page in s3.get_paginator("list_parts").paginate(
            Bucket=bucket, Key=key, UploadId=upload_id
        ):
            parts.extend(page.get("Parts", []))
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in _MISSING:
            return None
        raise
    return sorted(parts, key=lambda p: p["PartNumber"])


def _completed_part(part: dict[str, Any]) -> dict[str, Any]:
    named = {"PartNumber": part["PartNumber"], "ETag": part["ETag"]}
    # An upload created before checksums were declared has none; naming one would fail it.
    if part.get(_CHECKSUM_FIELD):
        named[_CHECKSUM_FIELD] = part[_CHECKSUM_FIELD]
    return named


def complete_multipart(
    s3: Any, bucket: str, key: str, upload_id: str, parts: list[dict[str, Any]]
) -> None:
    """Assemble `parts` (as ListParts gave them): a composite upload names each part's ETag
    and checksum, and S3 derives the object's checksum from those without reading it."""
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [_completed_part(p) for p in parts]},
    )


def abort_multipart(s3: Any, bucket: str, key: str, upload_id: str) -> bool:
    """Discard the parts; False when S3 no longer knows the upload."""
    try:
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in _MISSING:
            return False
        raise
    return True


def head(s3: Any, bucket: str, key: str) -> ObjectInfo | None:
    """The object's size, ETag, encryption and metadata; None when it is not there."""
    try:
        resp = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in _MISSING:
            return None
        raise
    return ObjectInfo(
        size=int(resp["ContentLength"]),
        etag=str(resp.get("ETag", "")).strip('"'),
        encryption=resp.get("ServerSideEncryption"),
        kms_key_id=resp.get("SSEKMSKeyId"),
        metadata=dict(resp.get("Metadata") or {}),
    )


def delete(s3: Any, bucket: str, key: str) -> None:
    """Remove an object that arrived but must not stay (its size is not what was checked)."""
    s3.delete_object(Bucket=bucket, Key=key)


def start_job_run(glue: Any, job: str, arguments: dict[str, str]) -> str:
    """Direct trigger mode: start `job` on the uploaded object; the run id."""
    return glue.start_job_run(JobName=job, Arguments=arguments)["JobRunId"]
