"""S3 -> EventBridge fidelity: events shaped and counted as S3 sends them.

Why: the upload flow (browser presigned POST or multipart -> "Object Created"
-> rule -> SQS -> collector/simulator) keys on these events, and moto's differ
from AWS's in ways that hide real bugs:

* every event has the same ``id`` (``17793124-...``), so de-duplication by id
  drops all uploads but the first;
* ``time`` is a float of epoch seconds instead of ``YYYY-MM-DDTHH:MM:SSZ``;
* ``detail.reason`` is ``ObjectCreated`` for every path instead of the API
  (``PutObject``, ``PostObject``, ``CopyObject``, ``CompleteMultipartUpload``;
  ``DeleteObject`` for deletions);
* ``detail.object`` carries ``eTag`` (S3's *notification* spelling) instead of
  EventBridge's ``etag``, a fixed ``sequencer`` and a fixed ``request-id``;
* multipart completion emits *two* Object Created events (moto's internal
  ``put_object`` fires a ``PutObject`` one first) and every PutObject, CopyObject
  and multipart completion also emits an "Object Tags Added" event, which S3
  does not send for tags set at creation;
* events go to every rule of every bus, disabled rules included, and one
  unsupported target (Lambda, Glue) silently drops the targets after it.

Restored here: unique uuid4 ``id``, ISO 8601 UTC ``time``, AWS ``reason``,
``etag``, an increasing ``sequencer``, a random ``request-id``, exactly one
Object Created event per object creation, delivery only to ENABLED rules on the
default bus with each target isolated.  Event-pattern matching stays moto's
(it supports ``{"prefix": ...}`` on ``detail.object.key``; a test proves it).
SQS and CloudWatch Logs targets of moto expect a numeric ``time``; they are
wrapped so an ISO ``time`` passes through unchanged.

What moto emits per path (found in moto 5.2.5's source, ``moto/s3``):

=========================  ==========================================================
S3 path                    moto's events (before this patch)
=========================  ==========================================================
PutObject                  Object Created (Put) + Object Tags Added
presigned POST             Object Created (Post) -- no tagging event
CopyObject                 Object Created (Copy) + Object Tags Added
CompleteMultipartUpload    Object Created (Put) + Object Tags Added + Object Created
                           (CompleteMultipartUpload)
=========================  ==========================================================
"""

from __future__ import annotations

import contextlib
import copy
import logging
import secrets
import string
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from moto.events import models as events_models
from moto.s3 import notifications
from moto.s3.models import S3Backend
from moto.s3.notifications import S3NotificationEvent
from moto.s3.responses import S3Response

__all__ = ["REASONS", "apply"]

log = logging.getLogger(__name__)

_E = S3NotificationEvent
#: ``detail.reason`` per S3 notification event, as S3 sends it to EventBridge.
REASONS: dict[str, str] = {
    _E.OBJECT_CREATED_PUT_EVENT.value: "PutObject",
    _E.OBJECT_CREATED_POST_EVENT.value: "PostObject",
    _E.OBJECT_CREATED_COPY_EVENT.value: "CopyObject",
    _E.OBJECT_CREATED_COMPLETE_MULTIPART_UPLOAD_EVENT.value: "CompleteMultipartUpload",
    _E.OBJECT_REMOVED_DELETE_EVENT.value: "DeleteObject",
    _E.OBJECT_REMOVED_DELETE_MARKER_CREATED_EVENT.value: "DeleteObject",
}
_DELETION_TYPES = {
    _E.OBJECT_REMOVED_DELETE_EVENT.value: "Permanently Deleted",
    _E.OBJECT_REMOVED_DELETE_MARKER_CREATED_EVENT.value: "Delete Marker Created",
}
_PUT = _E.OBJECT_CREATED_PUT_EVENT.value
_TAGGING_PUT = _E.OBJECT_TAGGING_PUT_EVENT.value
_ISO = "%Y-%m-%dT%H:%M:%SZ"
_REQUEST_ID_ALPHABET = string.ascii_uppercase + string.digits

_ORIGINAL_SEND_EVENT = notifications.send_event
_ORIGINAL_TO_SQS = events_models.Rule._send_to_sqs_queue
_ORIGINAL_TO_LOGS = events_models.Rule._send_to_cw_log_group
_ORIGINAL_COMPLETE_MULTIPART = S3Backend.complete_multipart_upload
_ORIGINAL_RESPONSE_PUT_OBJECT = S3Response.put_object
_ORIGINAL_RESPONSE_COPY_OBJECT = S3Response.copy_object

# What the current thread is doing inside S3 (the server is threaded, so the
# context must be per thread): "create" while a PutObject/CopyObject request is
# handled, "multipart" while a multipart upload is being completed.
_context = threading.local()
_sequencer_lock = threading.Lock()
_last_sequencer = 0


def _event_value(event_name: Any) -> str:
    # S3NotificationEvent is a str Enum whose hash is the member *name*, so
    # normalise to the plain value before any dict lookup.
    return str(getattr(event_name, "value", event_name))


@contextlib.contextmanager
def _in(activity: str) -> Iterator[None]:
    stack: list[str] = getattr(_context, "stack", None) or []
    _context.stack = stack
    stack.append(activity)
    try:
        yield
    finally:
        stack.pop()


def _activities() -> list[str]:
    return getattr(_context, "stack", None) or []


def _next_sequencer() -> str:
    """Increasing, fixed-width hex (so string order is numeric order, as S3 documents)."""
    global _last_sequencer
    with _sequencer_lock:
        _last_sequencer = max(_last_sequencer + 1, time.time_ns() // 1000)
        return f"{_last_sequencer:016x}"


def _request_id() -> str:
    return "".join(secrets.choice(_REQUEST_ID_ALPHABET) for _ in range(16))


def build_event(account_id: str, bucket: Any, event_name: Any, key: Any) -> dict[str, Any]:
    """The EventBridge event S3 would send for ``event_name`` on ``key``."""
    name = _event_value(event_name)
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": bucket.name},
        "object": {
            "key": key.name,
            "size": key.size,
            "etag": key.etag.replace('"', ""),
            "version-id": key.version_id,
            "sequencer": _next_sequencer(),
        },
        "request-id": _request_id(),
        "requester": account_id,
        "source-ip-address": "127.0.0.1",
        "reason": REASONS.get(name, name.split(":")[1]),
    }
    if name in _DELETION_TYPES:
        detail["object"].pop("size", None)
        detail["deletion-type"] = _DELETION_TYPES[name]
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": notifications._detail_type(name),
        "source": "aws.s3",
        "account": account_id,
        "time": datetime.now(UTC).strftime(_ISO),
        "region": bucket.region_name,
        "resources": [bucket.arn],
        "detail": detail,
    }


def _send_event_bridge_message(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
    """Deliver to ENABLED rules of the default bus, isolating every target."""
    try:
        event = build_event(account_id, bucket, event_name, key)
        backend = events_models.events_backends[account_id][bucket.region_name]
        bus = backend.event_buses.get("default")
    except Exception:
        log.exception("building S3 EventBridge event failed")
        return
    if bus is None:
        return
    for rule in list(bus.rules.values()):
        if rule.state != "ENABLED" or not rule.event_pattern.matches_event(event):
            continue
        for target in list(rule.targets):
            single = copy.copy(rule)
            single.targets = [target]
            try:
                single.send_to_targets(copy.deepcopy(event), transform_input=False)
            except Exception:  # noqa: BLE001 - one bad target must not drop the others
                log.warning(
                    "sandbox: S3 event not delivered to target %s of rule %s (unsupported by moto)",
                    target.get("Arn"),
                    rule.name,
                )


def _send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
    """``notifications.send_event`` minus the events S3 does not send."""
    name = _event_value(event_name)
    activities = _activities()
    if name == _PUT and "multipart" in activities:
        return  # the CompleteMultipartUpload event follows
    if name == _TAGGING_PUT and activities:
        return  # tags set while creating an object are not a tagging event
    _ORIGINAL_SEND_EVENT(account_id, event_name, bucket, key)


def _complete_multipart_upload(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
    with _in("multipart"):
        return _ORIGINAL_COMPLETE_MULTIPART(self, *args, **kwargs)


def _response_put_object(self: S3Response) -> Any:
    with _in("create"):
        return _ORIGINAL_RESPONSE_PUT_OBJECT(self)


def _response_copy_object(self: S3Response) -> Any:
    with _in("create"):
        return _ORIGINAL_RESPONSE_COPY_OBJECT(self)


def _numeric_time(event: dict[str, Any]) -> dict[str, Any]:
    """moto's SQS/Logs targets reformat a numeric ``time``; feed them one.

    The ISO string round-trips exactly (whole seconds, UTC), so the delivered
    message carries the same ``time`` the event had.
    """
    value = event.get("time")
    if isinstance(value, str):
        try:
            parsed = datetime.strptime(value, _ISO).replace(tzinfo=UTC)
        except ValueError:
            return event
        event = dict(event)
        event["time"] = parsed.timestamp()
    return event


def _to_sqs(
    self: Any, resource_id: str, event: dict[str, Any], group_id: str | None = None
) -> None:
    _ORIGINAL_TO_SQS(self, resource_id, _numeric_time(event), group_id)


def _to_logs(self: Any, name: str, event: dict[str, Any]) -> None:
    _ORIGINAL_TO_LOGS(self, name, _numeric_time(event))


def apply() -> None:
    """Install the S3 event patches (idempotent)."""
    if getattr(notifications, "_sandbox_patched", False):
        return
    notifications.send_event = _send_event  # type: ignore[assignment]
    notifications._send_event_bridge_message = _send_event_bridge_message  # type: ignore[assignment]
    S3Backend.complete_multipart_upload = _complete_multipart_upload  # type: ignore[method-assign]
    S3Response.put_object = _response_put_object  # type: ignore[method-assign]
    S3Response.copy_object = _response_copy_object  # type: ignore[method-assign]
    events_models.Rule._send_to_sqs_queue = _to_sqs  # type: ignore[method-assign]
    events_models.Rule._send_to_cw_log_group = _to_logs  # type: ignore[method-assign]
    notifications._sandbox_patched = True  # type: ignore[attr-defined]
