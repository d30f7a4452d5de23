"""The parts of a large upload: how a file is cut, and the CRC32s the browser declares.

A file over `MULTIPART_THRESHOLD` goes to S3 in numbered parts, sent in parallel and
each retried alone. The page computes each part's CRC32 before sending it, and the
part's URL must be signed with that value (S3 refuses an x-amz-* header a presigned
URL did not sign), so the URLs are asked for part by part. `parse_part_checksums`
is pure: the request body in, the parts to sign or one `UploadRejected` naming the
first bad field out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from dashapp.actions.uploads.problems import UploadRejected

MIB = 1024 * 1024
MULTIPART_THRESHOLD = 64 * MIB  # larger files go in parts: parallel, each retried alone
MIN_PART_SIZE = 16 * MIB  # S3 needs ≥ 5 MiB per part (but the last)
MAX_PARTS = 10_000  # S3's limit
MAX_PARTS_PER_REQUEST = 100  # the page asks for one at a time; a client may batch a few
# base64 of 4 bytes: six characters carrying 32 bits, then the padding.
_CRC32_BASE64 = re.compile(r"[A-Za-z0-9+/]{5}[AQgw]==")


def is_multipart(size: int) -> bool:
    """Whether a file of `size` bytes goes in parts (else as one presigned POST)."""
    return size > MULTIPART_THRESHOLD


def part_plan(size: int) -> tuple[int, int]:
    """(part size, number of parts) for a multipart upload of `size` bytes."""
    part = max(MIN_PART_SIZE, math.ceil(size / MAX_PARTS / MIB) * MIB)
    return part, max(1, math.ceil(size / part))


@dataclass(frozen=True)
class PartChecksum:
    """Part `number` (1-based) of the upload, whose bytes have this CRC32 (base64)."""

    number: int
    crc32: str


def _part(entry: Any, part_count: int) -> PartChecksum:
    if not isinstance(entry, dict):
        raise UploadRejected('Each part to sign is an object {"part_number", "crc32"}.')
    number = entry.get("part_number")
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= part_count:
        raise UploadRejected(
            f"The part number {repr(number)[:20]} is not a whole number from 1 to {part_count}."
        )
    crc32 = entry.get("crc32")
    if not isinstance(crc32, str) or not _CRC32_BASE64.fullmatch(crc32):
        raise UploadRejected(
            f"The CRC32 of part {number} must be the base64 of its four big-endian bytes "
            "(8 characters ending in '==')."
        )
    return PartChecksum(number, crc32)


def parse_part_checksums(parts: Any, part_count: int) -> list[PartChecksum]:
    """The parts of an upload of `part_count` parts to sign; UploadRejected when malformed."""
    if not isinstance(parts, list) or not parts:
        raise UploadRejected('Send the parts to sign as a list of {"part_number", "crc32"}.')
    if len(parts) > MAX_PARTS_PER_REQUEST:
        raise UploadRejected(
            f"Ask for at most {MAX_PARTS_PER_REQUEST} parts at a time ({len(parts)} were asked)."
        )
    checked = [_part(entry, part_count) for entry in parts]
    numbers = [p.number for p in checked]
    if len(set(numbers)) != len(numbers):
        raise UploadRejected("Each part number may be asked for only once per request.")
    return checked
