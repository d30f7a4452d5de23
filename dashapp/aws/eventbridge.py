"""The EventBridge events the collector consumes, parsed from SQS message bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dashapp.aws import shape


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
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        raise shape.MalformedResponse("time is not a timestamp")
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def parse_event(body: str) -> Event | None:
    """The event in an SQS body, or None for anything we do not handle (it is then dropped)."""
    try:
        doc = json.loads(body)
    except json.JSONDecodeError:
        return None
    if not isinstance(doc, dict):
        return None
    kind = doc.get("detail-type")
    try:
        detail = shape.mapping(doc, "detail")
        if doc.get("source") == "aws.glue" and kind == "Glue Job State Change":
            return GlueStateChange(
                event_id=str(doc.get("id", "")),
                at=_time(doc["time"]),
                job=shape.text(detail, "jobName", 255),
                run_id=shape.text(detail, "jobRunId", 255),
                state=shape.text(detail, "state", 16),
                message=shape.optional_text(detail, "message") or "",
            )
        if doc.get("source") == "aws.s3" and kind == "Object Created":
            obj = shape.mapping(detail, "object")
            return ObjectCreated(
                event_id=str(doc.get("id", "")),
                at=_time(doc["time"]),
                bucket=shape.text(shape.mapping(detail, "bucket"), "name"),
                key=shape.text(obj, "key"),
                size=shape.optional_int(obj, "size"),
                etag=shape.optional_text(obj, "etag") or shape.optional_text(obj, "eTag"),
                reason=shape.optional_text(detail, "reason"),
                requester=shape.optional_text(detail, "requester"),
            )
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError):
        return None  # MalformedResponse is a ValueError: the event is dropped like any other
    return None
