"""Signing a multipart upload's part URLs, each with the CRC32 the browser computed for it.

Why a request per part (or a few): S3 verifies a part against the checksum it is
sent with only if that checksum header was signed into the presigned URL, and the
browser knows a part's CRC32 only once it has read the part. Signing is local
(no AWS call, no database write): it is not audited, since the upload's creation
and completion entries already bracket it; a denied request is audited as always.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dashapp.actions.uploads.parts import is_multipart, parse_part_checksums, part_plan
from dashapp.actions.uploads.problems import UploadRejected
from dashapp.actions.uploads.service import URL_EXPIRES_S, UploadFailed, load_upload
from dashapp.aws import s3_uploads
from dashapp.services import Services

ACTION_SIGN = "upload_parts"
MAX_MULTIPART_ID_CHARS = 1024  # S3's upload ids are a few hundred characters


def sign_parts(
    svc: Services, upload_id: str, *, multipart_upload_id: Any, parts: Any
) -> list[dict[str, Any]]:
    """`[{"part_number", "url", "headers"}]` for the parts asked (see `parse_part_checksums`);
    UploadFailed (400, 404 or 409) with the reason otherwise."""
    if not isinstance(multipart_upload_id, str) or not (
        0 < len(multipart_upload_id) <= MAX_MULTIPART_ID_CHARS
    ):
        raise UploadFailed("Name the multipart upload the parts belong to.", status=400)
    upload = load_upload(svc, upload_id)
    size = upload.size_bytes or 0
    if not is_multipart(size):
        raise UploadFailed("This upload goes to S3 as one POST, not in parts.", status=409)
    if upload.status != "validated":
        raise UploadFailed(
            f"This upload is already {upload.status}; its parts can no longer be sent.",
            status=409,
        )
    try:
        checked = parse_part_checksums(parts, part_plan(size)[1])
    except UploadRejected as e:
        raise UploadFailed(e.message, status=400) from None
    s3 = svc.aws.client("s3")
    try:
        signed = [
            s3_uploads.sign_part(
                s3,
                upload.bucket,
                upload.object_key,
                multipart_upload_id,
                part.number,
                part.crc32,
                expires_s=URL_EXPIRES_S,
            )
            for part in checked
        ]
    except (ClientError, BotoCoreError) as e:
        raise UploadFailed(f"The part URLs could not be signed ({e}); try again later.") from e
    return [s.as_json() for s in signed]
