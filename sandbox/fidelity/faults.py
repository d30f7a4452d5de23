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

The same server exposes the plan under ``/_sandbox/`` (:class:`SandboxControlApp`):
``POST /_sandbox/faults`` (JSON like :meth:`FaultPlan.add`), ``GET`` (snapshot),
``DELETE`` (clear) and ``GET /_sandbox/health``.

For in-process tests under ``moto.mock_aws`` (no server),
:func:`inject_client_faults` registers a botocore ``before-send`` handler that
answers the first N calls of one operation with the same error responses.
"""

from __future__ import annotations

import functools
import io
import itertools
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from types import SimpleNamespace
from typing import Any, Literal, cast, get_args
from urllib.parse import parse_qs

from botocore.awsrequest import AWSResponse
from botocore.serialize import CBORSerializer

__all__ = [
    "FaultCounter",
    "FaultInjectingApp",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "RequestInfo",
    "SandboxControlApp",
    "classify_request",
    "error_response",
    "inject_client_faults",
    "normalize_service",
]

FaultKind = Literal["throttle", "server_error", "unavailable"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
Protocol = Literal["json", "query", "rest-json", "rest-xml", "smithy-rpc-v2-cbor"]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: SigV4 signing names (and moto backend names) -> boto3 client names.
_SERVICE_ALIASES = {
    "monitoring": "cloudwatch",
    "email": "ses",
    "states": "stepfunctions",
    "eventbridge": "events",
    "awslambda": "lambda",
    "execute-api": "apigateway",
}
_CBOR_PATH = re.compile(r"^/service/(?P<service>[^/]+)/operation/(?P<operation>[^/?]+)")
_CREDENTIAL = re.compile(r"Credential=([^,\s]+)")
_CONTROL_PREFIX = "/_sandbox/"


def normalize_service(service: str) -> str:
    """Rules and requests compare boto3 client names ("cloudwatch", not "monitoring")."""
    name = service.strip().lower()
    return _SERVICE_ALIASES.get(name, name)


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


# --- recognising a request ----------------------------------------------------------


@dataclass(frozen=True)
class RequestInfo:
    """What the middleware learned about one AWS request."""

    service: str
    operation: str | None
    protocol: str
    json_version: str = "1.1"


@functools.lru_cache(maxsize=128)
def _service_protocol(service: str) -> str | None:
    """The service's wire protocol from its botocore model (None if unknown)."""
    from moto.core.utils import get_service_model

    try:
        return str(get_service_model(service).protocol)
    except Exception:  # noqa: BLE001 - unknown service names are simply not REST-routable
        return None


def _rest_operation(service: str, environ: dict[str, Any]) -> str | None:
    """REST services carry the operation in method + path: ask moto's router."""
    from moto.core.request import Request
    from moto.core.routing import get_service_router

    try:
        operation, _ = get_service_router(service).match(Request(dict(environ)))
        return str(operation.name)
    except Exception:  # noqa: BLE001 - an unroutable request still faults by service
        return None


def _read_form_body(environ: dict[str, Any]) -> str:
    """Read a form body and put it back, so the wrapped app still sees it."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return ""
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body.decode("utf-8", errors="replace")


def classify_request(environ: dict[str, Any]) -> RequestInfo | None:
    """Service, operation and protocol of a signed AWS request (None if not one)."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = _CREDENTIAL.search(auth)
    scope = match.group(1) if match else None
    query = environ.get("QUERY_STRING", "")
    if scope is None and "X-Amz-Credential" in query:
        scope = parse_qs(query).get("X-Amz-Credential", [None])[0]
    if not scope:
        return None
    parts = scope.split("/")
    if len(parts) < 5:
        return None
    service = normalize_service(parts[3])
    path = environ.get("PATH_INFO", "")
    content_type = environ.get("CONTENT_TYPE", "")

    cbor = _CBOR_PATH.match(path)
    if cbor or environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor":
        return RequestInfo(service, cbor.group("operation") if cbor else None, "smithy-rpc-v2-cbor")
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        version = "1.0" if content_type.endswith("1.0") else "1.1"
        return RequestInfo(service, target.rsplit(".", 1)[-1], "json", version)
    action = parse_qs(query).get("Action", [None])[0]
    if action is None and content_type.startswith("application/x-www-form-urlencoded"):
        action = parse_qs(_read_form_body(environ)).get("Action", [None])[0]
    if action:
        return RequestInfo(service, action, "query")
    protocol = _service_protocol(service) or ("rest-xml" if service == "s3" else "rest-json")
    if protocol not in ("rest-json", "rest-xml"):
        protocol = "rest-json"
    return RequestInfo(service, _rest_operation(service, environ), protocol)


# --- error responses in each protocol ----------------------------------------------

_MESSAGES = {
    "throttle": "Rate exceeded",
    "server_error": "An internal error occurred (injected by the sandbox fault plan).",
    "unavailable": "Service is unavailable (injected by the sandbox fault plan).",
}


def _error_code(protocol: str, service: str, kind: str) -> tuple[int, str]:
    """(HTTP status, error code) AWS uses for ``kind`` in this protocol/service."""
    if kind == "unavailable":
        return 503, "ServiceUnavailable"
    if service == "s3" or protocol == "rest-xml":
        return (503, "SlowDown") if kind == "throttle" else (500, "InternalError")
    if service == "lambda":
        return (
            (429, "TooManyRequestsException") if kind == "throttle" else (500, "ServiceException")
        )
    if protocol == "query":
        return (400, "Throttling") if kind == "throttle" else (500, "InternalFailure")
    return (400, "ThrottlingException") if kind == "throttle" else (500, "InternalFailure")


def _cbor_encode_map(value: dict[str, str]) -> bytes:
    """CBOR map of text strings, with botocore's own encoder (no new dependency)."""
    text = SimpleNamespace(type_name="string")
    out = bytearray()
    CBORSerializer()._serialize_type_map(out, value, SimpleNamespace(key=text, value=text), None)
    return bytes(out)


def error_response(
    info: RequestInfo, kind: str, *, head: bool = False
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of the AWS error for ``kind`` in ``info.protocol``."""
    status, code = _error_code(info.protocol, info.service, kind)
    message = _MESSAGES[kind]
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-RequestId": request_id, "x-amz-request-id": request_id}
    if info.protocol == "query":
        sender = "Sender" if status < 500 else "Receiver"
        body = (
            "<ErrorResponse><Error>"
            f"<Type>{sender}</Type><Code>{code}</Code><Message>{message}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers["Content-Type"] = "text/xml"
    elif info.protocol == "rest-xml":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers["Content-Type"] = "application/xml"
    elif info.protocol == "smithy-rpc-v2-cbor":
        body = _cbor_encode_map({"__type": code, "message": message})
        headers["Content-Type"] = "application/cbor"
        headers["smithy-protocol"] = "rpc-v2-cbor"
    else:
        payload: dict[str, str] = {"__type": code, "message": message}
        if info.service == "lambda":
            payload = {"Type": "User" if status < 500 else "Service", "message": message}
            if kind == "throttle":
                payload["Reason"] = "CallerRateLimitExceeded"
                headers["Retry-After"] = "1"
        body = json.dumps(payload).encode()
        headers["x-amzn-ErrorType"] = code
        headers["Content-Type"] = (
            f"application/x-amz-json-{info.json_version}"
            if info.protocol == "json"
            else "application/json"
        )
    if head:
        body = b""
    headers["Content-Length"] = str(len(body))
    return status, headers, body


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


class SandboxControlApp:
    """Serves ``/_sandbox/`` (faults, health); everything else goes to ``wsgi_app``."""

    def __init__(
        self,
        wsgi_app: WSGIApp,
        plan: FaultPlan,
        health: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.wsgi_app = wsgi_app
        self.plan = plan
        self.health = health or (lambda: {})

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
        return _json(start_response, 404, {"message": f"no sandbox route {path}"})

    def _add(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length > 0 else b""
            body = json.loads(raw or b"null")
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
