"""S3 (and Glue) calls of the upload path: presigned POSTs and multipart plans, the check
that an object arrived, and starting a dataset's job in direct trigger mode.

The browser sends the bytes straight to S3, so the web server only ever signs:
a presigned POST whose policy pins the key, the exact size, the content type,
the uploader metadata and SSE-KMS; or a multipart upload created here (with the
same metadata and encryption) whose part URLs are presigned one by one. The
parts' ETags are read back with ListParts when the upload completes, so the
browser never needs S3 to expose the ETag header through CORS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

_MISSING = frozenset({"NoSuchKey", "404", "NotFound", "NoSuchUpload"})


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
    """Start a multipart upload (no object exists until it completes); its UploadId."""
    kwargs: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "ContentType": content_type,
        "Metadata": metadata,
    }
    if kms_key_id:
        kwargs.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=kms_key_id)
    return s3.create_multipart_upload(**kwargs)["UploadId"]


def part_urls(
    s3: Any, bucket: str, key: str, upload_id: str, parts: int, *, expires_s: int
) -> list[str]:
    """A presigned PUT URL per part number 1..parts (signing is local: no API call)."""
    return [
        s3.generate_presigned_url(
            "upload_part",
            Params={"Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumber": n},
            ExpiresIn=expires_s,
        )
        for n in range(1, parts + 1)
    ]


def list_parts(s3: Any, bucket: str, key: str, upload_id: str) -> list[dict[str, Any]] | None:
    """Every uploaded part (number, size, ETag), or None when the upload id is unknown."""
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


def complete_multipart(
    s3: Any, bucket: str, key: str, upload_id: str, parts: list[dict[str, Any]]
) -> None:
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={
            "Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]
        },
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
