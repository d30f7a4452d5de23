"""AWS Lambda inventory: ListFunctions (50 a page) and its parser."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any


def iter_functions(client: Any) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 50}):
        yield from page.get("Functions", [])


def parse_last_modified(value: str | None) -> datetime | None:
    """Lambda's LastModified is a string like 2026-11-25T18:30:00.000+0000."""
    if not value:
        return None
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    return datetime.fromisoformat(text)


def parse_function(
    raw: dict[str, Any], now: datetime, *, tags: dict[str, str] | None
) -> dict[str, Any]:
    """A `lambda_functions` row from a ListFunctions entry."""
    architectures = raw.get("Architectures") or []
    return {
        "name": raw["FunctionName"],
        "arn": raw["FunctionArn"],
        "runtime": raw.get("Runtime"),
        "handler": raw.get("Handler"),
        "description": raw.get("Description") or "",
        "memory_mb": raw.get("MemorySize"),
        "timeout_s": raw.get("Timeout"),
        "architecture": architectures[0] if architectures else None,
        "code_size": raw.get("CodeSize"),
        "last_modified": parse_last_modified(raw.get("LastModified")),
        "tags": dict(tags or {}),
        "first_seen_at": now,
        "last_seen_at": now,
        "gone_at": None,
    }
