"""The EventBridge events the collector consumes, parsed from SQS message bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class GlueStateChange:
    event_id: str
    at: datetime
    job: str
    run_id: str
    state: str
    message: str


@dataclass(frozen=True)
class ObjectCreated:
    event_id: str
    at: datetime
    bucket: str
    key: str
    size: int | None
    etag: str | None
    reason: str | None
    requester: str | None


Event = GlueStateChange | ObjectCreated


def _time(value: Any) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def parse_event(body: str) -> Event | None:
    """The event in an SQS body, or None for anything we do not handle (it is then dropped)."""
    try:
        doc = json.loads(body)
    except json.JSONDecodeError:
        return None
    if not isinstance(doc, dict):
        return None
    detail = doc.get("detail") or {}
    kind = doc.get("detail-type")
    try:
        if doc.get("source") == "aws.glue" and kind == "Glue Job State Change":
            return GlueStateChange(
                event_id=str(doc.get("id", "")),
                at=_time(doc["time"]),
                job=detail["jobName"],
                run_id=detail["jobRunId"],
                state=detail["state"],
                message=detail.get("message", ""),
            )
        if doc.get("source") == "aws.s3" and kind == "Object Created":
            obj = detail["object"]
            return ObjectCreated(
                event_id=str(doc.get("id", "")),
                at=_time(doc["time"]),
                bucket=detail["bucket"]["name"],
                key=obj["key"],
                size=obj.get("size"),
                etag=obj.get("etag") or obj.get("eTag"),
                reason=detail.get("reason"),
                requester=detail.get("requester"),
            )
    except (KeyError, TypeError, ValueError):
        return None
    return None
