"""The upload page's part protocol in Python, for tests and bench/upload.py: CRC32 a part,
have the web app sign that part's URL with it (POST /api/uploads/<id>/parts), PUT the part
with the signed header, as assets/smd-upload.js does."""

from __future__ import annotations

import base64
import zlib
from collections.abc import Callable
from typing import Any

import requests

# The JSON body of POST /api/uploads/<id>/parts in, the route's JSON answer out.
Signer = Callable[[dict[str, Any]], dict[str, Any]]


def crc32_base64(data: bytes) -> str:
    """A part's checksum as S3 takes it: base64 of the CRC32's four big-endian bytes."""
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode("ascii")


def sign_part(sign: Signer, plan: dict[str, Any], number: int, crc32: str) -> dict[str, Any]:
    """`{"part_number", "url", "headers"}` for part `number` (1-based) declared as `crc32`."""
    answer = sign(
        {
            "multipart_upload_id": plan["multipart_upload_id"],
            "parts": [{"part_number": number, "crc32": crc32}],
        }
    )
    (signed,) = answer["parts"]
    return signed


def put_part(
    sign: Signer,
    plan: dict[str, Any],
    number: int,
    data: bytes,
    *,
    session: Any = requests,
    timeout_s: float = 300,
) -> requests.Response:
    """Send part `number` (1-based) holding `data`, checksummed and signed as the page does."""
    signed = sign_part(sign, plan, number, crc32_base64(data))
    return session.put(signed["url"], data=data, headers=signed["headers"], timeout=timeout_s)


def part_of(plan: dict[str, Any], body: bytes, number: int) -> bytes:
    """The bytes of part `number` (1-based) of `body` under `plan`."""
    size = plan["part_size"]
    return body[(number - 1) * size : number * size]
