"""The sandbox's faults for in-process tests under ``moto.mock_aws``, where no server runs.

Why: the fault plan lives in the sandbox server's WSGI stack, which an in-process test
never crosses. A botocore ``before-send`` handler, registered first (moto answers on
``before-send`` too, and the first answer wins), meets the same requests with the same
kinds: the protocol-correct error bodies of ``aws_protocols`` (so retries, error codes
and back-off behave as against AWS), ``slow`` answers ``delay_s`` late, and ``timeout``
raises botocore's ``ReadTimeoutError``, what a silent server makes the client raise. As
with the server, a refused or timed-out request is never carried out by moto.
botocore's own retries consume faults too, as they do against the server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from .aws_protocols import RequestInfo, error_response, normalize_service
from .faults import FAULT_KINDS, FaultKind, checked_delay

__all__ = ["ClientFaults", "inject_client_faults"]

#: How late a ``slow`` answer comes when the caller names no delay.
DEFAULT_SLOW_S = 0.3
_REFUSED_URL = "https://fault-injected.invalid/"


class _RawBody:
    """The minimal ``raw`` botocore's AWSResponse reads (``stream()``)."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class ClientFaults:
    """The next requests of one operation meet ``kinds``, in order; then moto answers.

    ``match`` limits the faults to requests whose body holds that text (or every one of
    several texts: a group and a stream), so the same resource is the broken one on every
    run. ``pending`` is what
    is still planned, ``hits`` what was met.
    """

    def __init__(
        self,
        client: Any,
        operation: str,
        kinds: Sequence[str],
        *,
        match: str | Sequence[str] | None = None,
        delay_s: float = DEFAULT_SLOW_S,
    ) -> None:
        for kind in kinds:
            if kind not in FAULT_KINDS:
                raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        model = client.meta.service_model
        model.operation_model(operation)  # raises OperationNotFoundError on a typo
        self.info = RequestInfo(
            service=normalize_service(model.service_name),
            operation=operation,
            protocol=str(getattr(model, "resolved_protocol", None) or model.protocol),
            json_version=str(model.metadata.get("jsonVersion", "1.1")),
        )
        self.delay_s = checked_delay("slow", delay_s) or DEFAULT_SLOW_S
        self.pending = list(kinds)
        self.hits = 0
        texts = [match] if isinstance(match, str) else list(match or ())
        self._match = tuple(text.encode() for text in texts)
        self._lock = threading.Lock()
        self._events = client.meta.events
        self._event = f"before-send.{model.service_id.hyphenize()}.{operation}"
        self._unique_id = f"sandbox-fault-{id(self)}"
        self._events.register_first(self._event, self._before_send, unique_id=self._unique_id)

    @property
    def remaining(self) -> int:
        return len(self.pending)

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        body = _body_bytes(request.body)
        if not all(text in body for text in self._match):
            return None
        with self._lock:
            if not self.pending:
                return None
            kind = self.pending.pop(0)
            self.hits += 1
        if kind == "slow":
            time.sleep(self.delay_s)
            return None
        if kind == "timeout":
            raise ReadTimeoutError(endpoint_url=request.url)
        status, headers, body = error_response(self.info, kind, head=request.method == "HEAD")
        answer = AWSResponse(request.url, status, headers, _RawBody(body))
        # botocore runs every before-send handler and takes the first answer: moto's would
        # still carry out the call AWS refused (a refused ReceiveMessage hiding messages).
        # moto leaves alone a URL none of its services serves; the next attempt is a new request.
        request.url = _REFUSED_URL
        return answer

    def remove(self) -> None:
        """Stop injecting (what is still pending is dropped)."""
        with self._lock:
            self.pending.clear()
        self._events.unregister(self._event, unique_id=self._unique_id)


def _body_bytes(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    return body.encode() if isinstance(body, str) else b""


def inject_client_faults(
    client: Any, operation: str, kind: FaultKind, count: int, *, delay_s: float | None = None
) -> ClientFaults:
    """Make the first ``count`` calls of ``operation`` on ``client`` meet ``kind``."""
    if isinstance(count, bool) or count < 1:
        raise ValueError("count must be a positive integer")
    delay = checked_delay(kind, delay_s) if kind == "slow" else None
    return ClientFaults(client, operation, [kind] * count, delay_s=delay or DEFAULT_SLOW_S)
