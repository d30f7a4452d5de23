"""AWS Lambda inventory: ListFunctions (50 a page) and its parser."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from dashapp.aws import shape


def iter_functions(client: Any) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 50}):
        yield from page.get("Functions", [])


def parse_last_modified(value: object) -> datetime | None:
    """Lambda's LastModified is a string like 2026-11-25T18:30:00.000+0000."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise shape.MalformedResponse("LastModified is not text")
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    try:
        return shape.as_time(datetime.fromisoformat(text), "LastModified")
    except ValueError:
        raise shape.MalformedResponse(f"LastModified {value[:40]!r} is not a timestamp") from None


@shape.parser("Lambda function")
def parse_function(
    raw: dict[str, Any], now: datetime, *, tags: dict[str, str] | None
) -> dict[str, Any]:
    """A `lambda_functions` row from a ListFunctions entry."""
    text, whole = shape.optional_text, shape.optional_int
    architectures = shape.items(raw, "Architectures")
    architecture = shape.as_text(architectures[0], "Architectures", 16) if architectures else None
    return {
        "name": shape.text(raw, "FunctionName", 170),
        "arn": shape.text(raw, "FunctionArn", 2048),
        "runtime": text(raw, "Runtime", 32),
        "handler": text(raw, "Handler", 256),
        "description": text(raw, "Description") or "",
        "memory_mb": whole(raw, "MemorySize"),
        "timeout_s": whole(raw, "Timeout"),
        "architecture": architecture,
        "code_size": whole(raw, "CodeSize"),
        "last_modified": parse_last_modified(raw.get("LastModified")),
        "tags": dict(tags or {}),
        "first_seen_at": now,
        "last_seen_at": now,
        "gone_at": None,
    }
