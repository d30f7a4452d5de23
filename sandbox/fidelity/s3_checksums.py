"""S3 additional checksums on multipart uploads, checked and kept as S3 does.

Why: the upload page declares CRC32 when it creates a multipart upload and sends
each part with its ``x-amz-checksum-crc32`` on a presigned URL; S3 verifies every
part on arrival and builds the object's checksum from the parts' checksums, so
completing never reads the object again. moto 5.2.5 does none of that:

* UploadPart ignores ``x-amz-checksum-*``: a corrupted part is stored, a part
  without the declared checksum is accepted, the checksum is not kept;
* ListParts returns no ``ChecksumCRC32`` per part;
* CompleteMultipartUpload ignores the parts' checksums in the request and
  recomputes the composite checksum from every part's bytes;
* a presigned request carrying an ``x-amz-*`` header it did not sign is served.

Restored here (messages and codes as S3 answers them):

* UploadPart on an upload that declared an algorithm needs that algorithm's
  checksum header (else 400 InvalidRequest "Checksum Type mismatch occurred,
  expected checksum Type: crc32, actual checksum Type: null"); one checksum
  header at most; a value that is not base64 of the algorithm's digest is 400
  InvalidRequest; a value that does not match the body is 400 BadDigest "The CRC32
  you specified did not match the calculated checksum." and the part is not
  stored (an earlier good copy of that part number stays); the accepted value is
  kept on the part and echoed in the response; an unknown upload id is 404
  NoSuchUpload;
* ListParts returns each part's ``Checksum<ALGORITHM>``;
* CompleteMultipartUpload of a COMPOSITE upload needs each part's checksum (else
  400 InvalidRequest "The upload was created using a crc32 checksum. The complete
  request must include the checksum for each part. It was missing for part 1 in
  the request."), each equal to the stored one (else 400 InvalidPart); a checksum
  on a part of an upload that declared none is 400 InvalidPart; the object's
  checksum is the algorithm over the concatenated part digests, ``<b64>-<parts>``,
  computed from the stored digests without reading the parts' bytes again;
* ListParts also names the upload's ``ChecksumAlgorithm`` and ``ChecksumType``;
* a request signed in the query string (SigV4 presigned URL) whose ``x-amz-*``
  headers are not all in ``X-Amz-SignedHeaders`` is 403 AccessDenied "There were
  headers present in the request which were not signed"; one lacking a header
  it signed is 403 SignatureDoesNotMatch (PUT to an object key: PutObject and
  UploadPart, the presigned requests the product makes). The signature itself is
  not verified (moto takes any credentials), so a header sent with another value
  than was signed passes here and fails on S3.

FULL_OBJECT uploads keep moto's completion (it re-reads the object); the
product declares COMPOSITE (see docs/uploads.md). Checksums sent as aws-chunked
trailers are not verified here: the sandbox is plain HTTP, where botocore and
the browser send headers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterator
from typing import Any
from xml.dom import minidom

from moto.core.common_types import TYPE_RESPONSE
from moto.s3 import models as s3_models
from moto.s3.exceptions import (
    EntityTooSmall,
    InvalidPart,
    InvalidPartOrder,
    MalformedXML,
    NoSuchUpload,
    S3ClientError,
)
from moto.s3.models import FakeMultipart
from moto.s3.responses import S3Response
from moto.s3.utils import compute_checksum

__all__ = ["ALGORITHMS", "apply"]

#: S3's additional checksum algorithms and the size of each digest in bytes.
ALGORITHMS: dict[str, int] = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}
_ALGORITHM_KEY = "x-amz-checksum-algorithm"
_TYPE_KEY = "x-amz-checksum-type"
_NOT_SIGNED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    "<Message>There were headers present in the request which were not signed</Message>"
    "<HeadersNotSigned>{headers}</HeadersNotSigned></Error>"
)
_SIGNATURE_MISMATCH = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>'
    "<Message>The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method.</Message></Error>"
)

_ORIGINAL_KEY_PUT = S3Response._key_response_put
_ORIGINAL_UPLOAD_PART = S3Response.upload_part
_ORIGINAL_LIST_PARTS = S3Response.list_parts
_ORIGINAL_COMPLETE = FakeMultipart.complete


class _S3Error(S3ClientError):
    """An S3 error answered with HTTP 400 (moto's default for codes S3's model lacks)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


def _checksum_type(multipart: FakeMultipart) -> str | None:
    """The upload's checksum type: what it declared, else S3's default for its algorithm."""
    algorithm = multipart.metadata.get(_ALGORITHM_KEY)
    if not algorithm:
        return None
    declared = multipart.metadata.get(_TYPE_KEY)
    if declared:
        return str(declared).upper()
    return "FULL_OBJECT" if algorithm.upper() == "CRC64NVME" else "COMPOSITE"


def _multipart(response: S3Response) -> FakeMultipart | None:
    upload_id = response.querystring.get("uploadId", [None])[0]
    bucket = response.backend.get_bucket(response.bucket_name)
    return bucket.multiparts.get(upload_id) if upload_id else None


def _signature_problem(response: S3Response) -> TYPE_RESPONSE | None:
    """S3's refusal of a query-signed (presigned) request whose headers do not match what
    was signed: an x-amz-* header the signature leaves out, or a signed header missing."""
    signed = response.querystring.get("X-Amz-SignedHeaders", [None])[0]
    if signed is None:
        return None
    names = set(signed.lower().split(";"))
    sent = {h.lower() for h in dict(response.headers)}  # werkzeug Headers iterate pairs
    unsigned = sorted(h for h in sent if h.startswith("x-amz-") and h not in names)
    if unsigned:
        body = _NOT_SIGNED.format(headers=", ".join(unsigned))
        return 403, {"content-type": "application/xml"}, body
    if names - sent - {"host"}:
        return 403, {"content-type": "application/xml"}, _SIGNATURE_MISMATCH
    return None


def _part_checksum(response: S3Response) -> tuple[str, str] | None:
    """(algorithm, value) of the one x-amz-checksum-<algorithm> header the part carries."""
    sent = [
        (algorithm, value)
        for algorithm in ALGORITHMS
        if (value := response.headers.get(f"x-amz-checksum-{algorithm.lower()}"))
    ]
    if len(sent) > 1:
        raise _S3Error(
            "InvalidRequest",
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
        )
    return sent[0] if sent else None


def _well_formed(algorithm: str, value: str) -> bool:
    try:
        return len(base64.b64decode(value, validate=True)) == ALGORITHMS[algorithm]
    except (binascii.Error, ValueError):
        return False


def _key_response_put(self: S3Response, query: dict[str, Any], key_name: str) -> TYPE_RESPONSE:
    return _signature_problem(self) or _ORIGINAL_KEY_PUT(self, query, key_name)


def _upload_part(self: S3Response) -> TYPE_RESPONSE:
    multipart = _multipart(self)
    if multipart is None:
        raise NoSuchUpload(upload_id=self.querystring.get("uploadId", [""])[0])
    declared = (multipart.metadata.get(_ALGORITHM_KEY) or "").upper() or None
    sent = _part_checksum(self)
    if declared and (sent is None or sent[0] != declared):
        actual = sent[0].lower() if sent else "null"
        raise _S3Error(
            "InvalidRequest",
            f"Checksum Type mismatch occurred, expected checksum Type: {declared.lower()}, "
            f"actual checksum Type: {actual}",
        )
    if sent is not None:
        algorithm, value = sent
        if not _well_formed(algorithm, value):
            raise _S3Error(
                "InvalidRequest", f"Value for x-amz-checksum-{algorithm.lower()} header is invalid."
            )
        if compute_checksum(self.body or b"", algorithm).decode() != value:
            raise _S3Error(
                "BadDigest", f"The {algorithm} you specified did not match the calculated checksum."
            )
    status, headers, body = _ORIGINAL_UPLOAD_PART(self)
    if sent is not None:
        part = multipart.parts[self._get_int_param("partNumber")]
        part.checksum_algorithm, part.checksum_value = sent
        headers[f"x-amz-checksum-{sent[0].lower()}"] = sent[1]
    return status, headers, body


def _list_parts(self: S3Response) -> TYPE_RESPONSE:
    multipart = _multipart(self)
    algorithm = (multipart.metadata.get(_ALGORITHM_KEY) or "").upper() if multipart else ""
    if multipart is None or not algorithm:
        return _ORIGINAL_LIST_PARTS(self)
    serialize = self.serialized

    def with_checksums(action_result: Any) -> TYPE_RESPONSE:
        action_result.result["ChecksumAlgorithm"] = algorithm
        action_result.result["ChecksumType"] = _checksum_type(multipart)
        for part in action_result.result.get("Parts", []):
            stored = multipart.parts.get(part["PartNumber"])
            if stored is not None and stored.checksum_value:
                part[f"Checksum{algorithm}"] = stored.checksum_value
        return serialize(action_result)

    self.serialized = with_checksums  # type: ignore[method-assign]
    return _ORIGINAL_LIST_PARTS(self)


def _text(node: Any, tag: str) -> str | None:
    found = node.getElementsByTagName(tag)
    if not found or found[0].firstChild is None:
        return None
    return str(found[0].firstChild.wholeText)


def _complete_multipart_body(self: S3Response, body: bytes) -> Iterator[tuple[int, str]]:
    """moto's parser of the part list, plus S3's checks of the parts' checksums."""
    multipart = _multipart(self)
    algorithm = (multipart.metadata.get(_ALGORITHM_KEY) or "").upper() if multipart else ""
    composite = multipart is not None and _checksum_type(multipart) == "COMPOSITE"
    parts: list[tuple[int, str]] = []
    for node in minidom.parseString(body).getElementsByTagName("Part"):
        number = int(_text(node, "PartNumber") or 0)
        if parts and number <= parts[-1][0]:
            raise InvalidPartOrder()
        etag = _text(node, "ETag") or ""
        given = {a: v for a in ALGORITHMS if (v := _text(node, f"Checksum{a}"))}
        if multipart is not None:
            stored = multipart.parts.get(number)
            if given and not algorithm:
                raise InvalidPart()
            if composite and algorithm not in given:
                raise _S3Error(
                    "InvalidRequest",
                    f"The upload was created using a {algorithm.lower()} checksum. The complete "
                    "request must include the checksum for each part. It was missing for part "
                    f"{number} in the request.",
                )
            if algorithm in given and (stored is None or stored.checksum_value != given[algorithm]):
                raise InvalidPart()
        parts.append((number, etag))
    yield from parts


def _complete(self: FakeMultipart, body: Iterator[tuple[int, str]]) -> Any:
    """A COMPOSITE upload's object and checksum from the parts' stored digests."""
    algorithm = (self.metadata.get(_ALGORITHM_KEY) or "").upper()
    if _checksum_type(self) != "COMPOSITE":
        return _ORIGINAL_COMPLETE(self, body)
    chosen = []
    for number, etag in body:
        part = self.parts.get(number)
        if part is None or part.etag.strip('"') != etag.strip('"'):
            raise InvalidPart()
        if chosen and chosen[-1].contentsize < s3_models.S3_UPLOAD_PART_MIN_SIZE:
            raise EntityTooSmall()
        chosen.append(part)
    if not chosen:
        raise MalformedXML()
    md5s = b"".join(bytes.fromhex(p.etag.strip('"')) for p in chosen)
    etag = f"{hashlib.md5(md5s, usedforsecurity=False).hexdigest()}-{len(chosen)}"
    digests = b"".join(base64.b64decode(p.checksum_value) for p in chosen)
    checksum = compute_checksum(digests, algorithm).decode()
    return b"".join(p.value for p in chosen), etag, ("COMPOSITE", checksum, len(chosen))


def apply() -> None:
    """Install the checksum patches (idempotent)."""
    if getattr(S3Response, "_sandbox_checksums", False):
        return
    S3Response._key_response_put = _key_response_put  # type: ignore[method-assign]
    S3Response.upload_part = _upload_part  # type: ignore[method-assign]
    S3Response.list_parts = _list_parts  # type: ignore[method-assign]
    S3Response._complete_multipart_body = _complete_multipart_body  # type: ignore[method-assign]
    FakeMultipart.complete = _complete  # type: ignore[method-assign]
    S3Response._sandbox_checksums = True  # type: ignore[attr-defined]
