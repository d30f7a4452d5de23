"""CloudWatch Logs: follow streams with GetLogEvents cursors; find active Lambda streams.

FilterLogEvents is never used in loops (5 calls/s per account): a stream is read
forward from its stored token, so each call returns only what is new.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dashapp.aws import shape

_ERROR = re.compile(
    r"(\bERROR\b|\[ERROR\]|Traceback \(most recent call last\)|\bFATAL\b|\bCRITICAL\b|"
    r"Exception:|\bpanic:|Task timed out)"
)
_WARN = re.compile(r"(\bWARN(ING)?\b|\[WARN(ING)?\])")
# Structured loggers write the level as a lower-case field: logrus/slog `level=error`,
# zap/JSON `"level":"error"`.
_LEVEL_FIELD = re.compile(r"""\blevel"?\s*[=:]\s*"?([a-z]+)""")
_FIELD_LEVELS = {
    "error": "ERROR",
    "fatal": "ERROR",
    "panic": "ERROR",
    "critical": "ERROR",
    "dpanic": "ERROR",
    "warn": "WARN",
    "warning": "WARN",
}


@dataclass(frozen=True)
class LogLine:
    ts: datetime
    ingested_at: datetime | None
    message: str


def level_of(message: str) -> str:
    """ERROR / WARN / INFO from the line's own words (log4j, Python, Lambda runtime, Go formats)."""
    if _ERROR.search(message):
        return "ERROR"
    if _WARN.search(message):
        return "WARN"
    field = _LEVEL_FIELD.search(message)
    if field:
        return _FIELD_LEVELS.get(field.group(1), "INFO")
    return "INFO"


def _ms(raw: Any, key: str) -> datetime | None:
    value = shape.optional_int(raw, key)
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, ValueError, OSError):
        raise shape.MalformedResponse(f"{key} {value} is out of range") from None


@shape.parser("log events")
def parse_events(events: Iterable[dict[str, Any]]) -> list[LogLine]:
    lines = []
    for e in events:
        ts = _ms(e, "timestamp")
        if ts is None:
            raise shape.MalformedResponse("timestamp is missing")
        lines.append(LogLine(ts, _ms(e, "ingestionTime"), shape.optional_text(e, "message") or ""))
    return lines


def event_keys(group: str, stream: str, lines: Iterable[LogLine]) -> list[str]:
    """Stable unique keys: GetLogEvents has no event ids, so the line itself (and its
    occurrence among identical lines of the batch) names it; re-reads never duplicate."""
    seen: Counter[tuple[Any, ...]] = Counter()
    keys = []
    for line in lines:
        ident = (
            line.ts.timestamp(),
            line.ingested_at.timestamp() if line.ingested_at else None,
            line.message,
        )
        seen[ident] += 1
        raw = f"{group}\x00{stream}\x00{ident[0]}\x00{ident[1]}\x00{line.message}\x00{seen[ident]}"
        keys.append(hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest())
    return keys


PAGE_LIMIT = 10_000


def read_forward(
    client: Any, group: str, stream: str, token: str | None, *, max_pages: int = 20
) -> tuple[list[LogLine], str | None]:
    """New lines of a stream after `token` (from its start when None) and the next token.

    One call per stream and cycle unless a page comes back full: the token is kept,
    so whatever is left is read next time (GetLogEvents answers the token it was
    given at the end of the stream). Raises the client's ResourceNotFoundException
    when the stream does not exist (yet).
    """
    lines: list[LogLine] = []
    for _ in range(max_pages):
        kwargs: dict[str, Any] = {
            "logGroupName": group,
            "logStreamName": stream,
            "startFromHead": True,
            "limit": PAGE_LIMIT,
        }
        if token:
            kwargs["nextToken"] = token
        resp = client.get_log_events(**kwargs)
        events = resp.get("events", [])
        lines.extend(parse_events(events))
        token = resp.get("nextForwardToken") or token
        if len(events) < PAGE_LIMIT:
            break
    return lines, token


@dataclass(frozen=True)
class StreamInfo:
    name: str
    last_event_at: datetime | None


def recent_streams(
    client: Any, group: str, since: datetime, *, limit: int = 50
) -> list[StreamInfo]:
    """Streams of a group with events after `since`, newest first (DescribeLogStreams by
    LastEventTime, stopping at the first older stream)."""
    out: list[StreamInfo] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "logGroupName": group,
            "orderBy": "LastEventTime",
            "descending": True,
            "limit": limit,
        }
        if token:
            kwargs["nextToken"] = token
        resp = client.describe_log_streams(**kwargs)
        for s in resp.get("logStreams", []):
            last = _ms(s, "lastEventTimestamp")
            if last is None or last <= since:
                return out
            out.append(StreamInfo(s["logStreamName"], last))
        token = resp.get("nextToken")
        if not token:
            return out
