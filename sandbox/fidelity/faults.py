"""Fault injection: make the sandbox throttle and fail the way AWS does.

Why: moto never throttles and never fails, so retry/back-off paths in the
collector (GetMetricData at 50 calls/s, FilterLogEvents at 5 calls/s, Glue
InternalServiceException, S3 SlowDown) would go untested.  A :class:`FaultPlan`
holds rules ("the next 3 GetJobRuns calls are throttled"); the WSGI middleware
:class:`FaultInjectingApp` answers matching requests with an error in the
request's own protocol, so botocore parses the same error code, status and
retryability it gets from AWS:

* ``throttle``: 400 ``ThrottlingException`` (JSON, rpc-v2-cbor, REST-JSON),
  400 ``Throttling`` (query/XML), 503 ``SlowDown`` (S3), 429
  ``TooManyRequestsException`` (Lambda);
* ``server_error``: 500 ``InternalFailure``, 500 ``InternalError`` (S3),
  500 ``ServiceException`` (Lambda, its modelled 5xx);
* ``unavailable``: 503 ``ServiceUnavailable`` everywhere.

The service comes from the SigV4 credential scope (``Authorization`` header or
``X-Amz-Credential`` of a presigned URL); the operation from ``X-Amz-Target``
(JSON), ``Action=`` (query), the ``/service/<svc>/operation/<Op>`` path
(smithy-rpc-v2-cbor) or, for REST services, moto's own operation router.
Requests whose service cannot be recognised (e.g. a browser's presigned POST,
whose credential sits inside the multipart form) are never faulted.
Recognising the request and writing the error live in ``aws_protocols``.

The same server exposes the plan under ``/_sandbox/`` (:class:`SandboxControlApp`):
``POST /_sandbox/faults`` (JSON like :meth:`FaultPlan.add`), ``GET`` (snapshot),
``DELETE`` (clear) and ``GET /_sandbox/health``; other fidelity modules add their
own routes (``routes=``, e.g. ``/_sandbox/athena``).

For in-process tests under ``moto.mock_aws`` (no server),
:func:`inject_client_faults` registers a botocore ``before-send`` handler that
answers the first N calls of one operation with the same error responses.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal, cast, get_args

from botocore.awsrequest import AWSResponse

from .aws_protocols import RequestInfo, classify_request, error_response, normalize_service

__all__ = [
    "FaultCounter",
    "FaultInjectingApp",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "SandboxControlApp",
    "inject_client_faults",
]

FaultKind = Literal["throttle", "server_error", "unavailable"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_CONTROL_PREFIX = "/_sandbox/"


# --- the plan --------------------------------------------------------------------


@dataclass
class FaultRule:
    """One rule: fail the next ``remaining`` matching calls with ``kind``."""

    id: str
    service: str
    operation: str | None
    kind: str
    count: int
    remaining: int
    hits: int = 0

    def matches(self, service: str, operation: str | None) -> bool:
        if self.remaining <= 0 or self.service != service:
            return False
        return self.operation is None or self.operation == operation


class FaultPlan:
    """Thread-safe list of fault rules shared by the middleware and the control routes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def add(
        self,
        service: str,
        operation: str | None = None,
        kind: FaultKind = "throttle",
        count: int = 1,
    ) -> FaultRule:
        """Fail the next ``count`` calls of ``service`` (one ``operation``, or any)."""
        if not isinstance(service, str) or not service.strip():
            raise ValueError("service must be a non-empty string, e.g. 'glue'")
        if operation is not None and (not isinstance(operation, str) or not operation):
            raise ValueError("operation must be an API operation name like 'GetJobRuns', or null")
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError("count must be a positive integer")
        with self._lock:
            rule = FaultRule(
                id=str(next(self._ids)),
                service=normalize_service(service),
                operation=operation,
                kind=kind,
                count=count,
                remaining=count,
            )
            self._rules.append(rule)
            return FaultRule(**asdict(rule))

    def clear(self) -> int:
        """Remove every rule; returns how many there were."""
        with self._lock:
            cleared = len(self._rules)
            self._rules.clear()
            return cleared

    def snapshot(self) -> dict[str, Any]:
        """Rules with their remaining faults and hits (JSON-ready)."""
        with self._lock:
            rules = [asdict(rule) for rule in self._rules]
        return {
            "rules": rules,
            "active": sum(1 for r in rules if r["remaining"] > 0),
            "total_hits": sum(r["hits"] for r in rules),
        }

    def has_active(self) -> bool:
        """Cheap check so the middleware costs nothing while no fault is planned."""
        return any(rule.remaining > 0 for rule in self._rules)

    def take(self, service: str, operation: str | None) -> str | None:
        """Consume one fault for this call, returning its kind (first matching rule wins)."""
        service = normalize_service(service)
        with self._lock:
            for rule in self._rules:
                if rule.matches(service, operation):
                    rule.remaining -= 1
                    rule.hits += 1
                    return rule.kind
        return None


# --- WSGI ---------------------------------------------------------------------------

_REASONS = {
    400: "Bad Request",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


#: Requests carrying the header ``X-Smd-Sandbox-Internal: 1`` (see sandbox/account.py) bypass
#: planned faults.
INTERNAL_ENVIRON_KEY = "HTTP_X_SMD_SANDBOX_INTERNAL"


class FaultInjectingApp:
    """WSGI middleware answering planned faults before the wrapped app sees the call."""

    def __init__(self, wsgi_app: WSGIApp, plan: FaultPlan) -> None:
        self.wsgi_app = wsgi_app
        self.plan = plan

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        # The sandbox's own simulator plays AWS itself; faults are for the product's clients.
        internal = environ.get(INTERNAL_ENVIRON_KEY) == "1"
        if (
            self.plan.has_active()
            and not internal
            and not path.startswith((_CONTROL_PREFIX, "/moto-api"))
        ):
            info = classify_request(environ)
            if info is not None:
                kind = self.plan.take(info.service, info.operation)
                if kind is not None:
                    head = environ.get("REQUEST_METHOD") == "HEAD"
                    status, headers, body = error_response(info, kind, head=head)
                    start_response(
                        f"{status} {_REASONS.get(status, 'Error')}", list(headers.items())
                    )
                    return [body]
        return self.wsgi_app(environ, start_response)


#: A further control route: (method, JSON body or None) -> (HTTP status, JSON payload).
ControlRoute = Callable[[str, Any], tuple[int, dict[str, Any]]]


class SandboxControlApp:
    """Serves ``/_sandbox/`` (faults, health, ``routes``); everything else goes to ``wsgi_app``."""

    def __init__(
        self,
        wsgi_app: WSGIApp,
        plan: FaultPlan,
        health: Callable[[], dict[str, Any]] | None = None,
        routes: dict[str, ControlRoute] | None = None,
    ) -> None:
        self.wsgi_app = wsgi_app
        self.plan = plan
        self.health = health or (lambda: {})
        self.routes = dict(routes or {})

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(_CONTROL_PREFIX):
            return self.wsgi_app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        route = path[len(_CONTROL_PREFIX) :].rstrip("/")
        if route == "health":
            if method != "GET":
                return _json(start_response, 405, {"message": "use GET"})
            return _json(start_response, 200, {"status": "ok", **self.health()})
        if route == "faults":
            if method == "GET":
                return _json(start_response, 200, self.plan.snapshot())
            if method == "DELETE":
                return _json(start_response, 200, {"cleared": self.plan.clear()})
            if method == "POST":
                return self._add(environ, start_response)
            return _json(start_response, 405, {"message": "use GET, POST or DELETE"})
        if route in self.routes:
            try:
                body = _body(environ) if method == "POST" else None
            except (ValueError, UnicodeDecodeError):
                return _json(start_response, 400, {"message": "body must be a JSON object"})
            status, payload = self.routes[route](method, body)
            return _json(start_response, status, payload)
        return _json(start_response, 404, {"message": f"no sandbox route {path}"})

    def _add(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            body = _body(environ)
        except (ValueError, UnicodeDecodeError):
            return _json(start_response, 400, {"message": "body must be a JSON object"})
        if not isinstance(body, dict):
            return _json(start_response, 400, {"message": "body must be a JSON object"})
        unknown = set(body) - {"service", "operation", "kind", "count"}
        if unknown:
            return _json(start_response, 400, {"message": f"unknown fields: {sorted(unknown)}"})
        if "service" not in body:
            return _json(start_response, 400, {"message": "service is required"})
        try:
            rule = self.plan.add(
                body["service"],
                body.get("operation"),
                cast(FaultKind, body.get("kind", "throttle")),
                body.get("count", 1),
            )
        except ValueError as exc:
            return _json(start_response, 400, {"message": str(exc)})
        return _json(start_response, 201, {"rule": asdict(rule)})


def _body(environ: dict[str, Any]) -> Any:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    return json.loads(raw or b"null")


def _json(
    start_response: Callable[..., Any], status: int, payload: dict[str, Any]
) -> Iterator[bytes]:
    body = json.dumps(payload).encode()
    reasons = {
        200: "OK",
        201: "Created",
        404: "Not Found",
        405: "Method Not Allowed",
        400: "Bad Request",
    }
    start_response(
        f"{status} {reasons.get(status, 'OK')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return iter([body])


# --- in-process (mock_aws) helper ----------------------------------------------------


class _RawBody:
    """The minimal ``raw`` botocore's AWSResponse reads (``stream()``)."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@dataclass
class FaultCounter:
    """Live view of an :func:`inject_client_faults` registration."""

    operation: str
    kind: str
    remaining: int
    hits: int = 0
    _unregister: Callable[[], None] | None = None

    def remove(self) -> None:
        """Stop injecting (remaining faults are dropped)."""
        self.remaining = 0
        if self._unregister is not None:
            self._unregister()
            self._unregister = None


def inject_client_faults(client: Any, operation: str, kind: FaultKind, count: int) -> FaultCounter:
    """Make the first ``count`` calls of ``operation`` on ``client`` fail with ``kind``.

    For in-process tests with ``moto.mock_aws`` (no server): a botocore
    ``before-send`` handler returns the same protocol-correct error response
    the sandbox server would, so retries, error codes and back-off behave as
    against AWS.  Note botocore's own retries consume faults too.
    """
    if kind not in FAULT_KINDS:
        raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
    if count < 1:
        raise ValueError("count must be a positive integer")
    model = client.meta.service_model
    model.operation_model(operation)  # raises OperationNotFoundError on a typo
    protocol = str(getattr(model, "resolved_protocol", None) or model.protocol)
    info = RequestInfo(
        service=normalize_service(model.service_name),
        operation=operation,
        protocol=protocol,
        json_version=str(model.metadata.get("jsonVersion", "1.1")),
    )
    counter = FaultCounter(operation=operation, kind=kind, remaining=count)
    lock = threading.Lock()

    def _before_send(request: Any, **_: Any) -> AWSResponse | None:
        with lock:
            if counter.remaining <= 0:
                return None
            counter.remaining -= 1
            counter.hits += 1
        status, headers, body = error_response(info, kind, head=request.method == "HEAD")
        return AWSResponse(request.url, status, headers, _RawBody(body))

    event = f"before-send.{model.service_id.hyphenize()}.{operation}"
    unique_id = f"sandbox-fault-{uuid.uuid4()}"
    client.meta.events.register_first(event, _before_send, unique_id=unique_id)
    counter._unregister = lambda: client.meta.events.unregister(event, unique_id=unique_id)
    return counter
