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

Two kinds delay instead of failing (``delay_s``, seconds), for the faults a
server cannot put in an error body:

* ``slow``: the request waits ``delay_s``, then moto answers it as usual.  With
  ``delay_s`` past the client's read timeout the call takes effect but its answer
  is lost: the client times out and retries a call AWS already carried out, the
  case idempotent collectors must survive.
* ``timeout``: the request never reaches moto.  The connection is held silent
  until the client gives up (its read timeout: botocore raises
  ``ReadTimeoutError`` and retries) or ``delay_s`` (default 60 s) has passed,
  then closed unanswered.

The service comes from the SigV4 credential scope (``Authorization`` header or
``X-Amz-Credential`` of a presigned URL); the operation from ``X-Amz-Target``
(JSON), ``Action=`` (query), the ``/service/<svc>/operation/<Op>`` path
(smithy-rpc-v2-cbor) or, for REST services, moto's own operation router.
Requests whose service cannot be recognised (e.g. a browser's presigned POST,
whose credential sits inside the multipart form) are never faulted.
Recognising the request and writing the error live in ``aws_protocols``.

The same server exposes the plan under ``/_sandbox/`` (:class:`SandboxControlApp`):
``POST /_sandbox/faults`` (JSON like :meth:`FaultPlan.add`, e.g.
``{"service": "logs", "operation": "GetLogEvents", "kind": "slow", "delay_s": 2, "count": 3}``),
``GET`` (snapshot),
``DELETE`` (clear) and ``GET /_sandbox/health``; other fidelity modules add their
own routes (``routes=``, e.g. ``/_sandbox/athena``).

For in-process tests under ``moto.mock_aws`` (no server), ``client_faults`` plays
the same kinds from a botocore ``before-send`` hook.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import select
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal, cast, get_args

from .aws_protocols import RequestInfo, classify_request, error_response, normalize_service

__all__ = [
    "FaultInjectingApp",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "SandboxControlApp",
    "checked_delay",
]

FaultKind = Literal["throttle", "server_error", "unavailable", "slow", "timeout"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
ERROR_KINDS = ("throttle", "server_error", "unavailable")
#: How long a ``timeout`` fault holds a request at most when its rule names no ``delay_s``.
TIMEOUT_HOLD_S = 60.0
MAX_DELAY_S = 600.0
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_CONTROL_PREFIX = "/_sandbox/"


# --- the plan --------------------------------------------------------------------


@dataclass
class FaultRule:
    """One rule: fail (or delay by ``delay_s``) the next ``remaining`` matching calls."""

    id: str
    service: str
    operation: str | None
    kind: str
    count: int
    remaining: int
    hits: int = 0
    delay_s: float | None = None

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
        delay_s: float | None = None,
    ) -> FaultRule:
        """Fail or delay the next ``count`` calls of ``service`` (one ``operation``, or any)."""
        if not isinstance(service, str) or not service.strip():
            raise ValueError("service must be a non-empty string, e.g. 'glue'")
        if operation is not None and (not isinstance(operation, str) or not operation):
            raise ValueError("operation must be an API operation name like 'GetJobRuns', or null")
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError("count must be a positive integer")
        delay_s = checked_delay(kind, delay_s)
        with self._lock:
            rule = FaultRule(
                id=str(next(self._ids)),
                service=normalize_service(service),
                operation=operation,
                kind=kind,
                count=count,
                remaining=count,
                delay_s=delay_s,
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

    def take(self, service: str, operation: str | None) -> FaultRule | None:
        """Consume one fault for this call: a copy of the first matching rule, or None."""
        service = normalize_service(service)
        with self._lock:
            for rule in self._rules:
                if rule.matches(service, operation):
                    rule.remaining -= 1
                    rule.hits += 1
                    return FaultRule(**asdict(rule))
        return None


def checked_delay(kind: str, delay_s: Any) -> float | None:
    """The rule's delay: required for ``slow``, defaulted for ``timeout``, none for errors."""
    if delay_s is None:
        if kind == "slow":
            raise ValueError("a slow fault needs delay_s, the seconds its answer is late")
        return TIMEOUT_HOLD_S if kind == "timeout" else None
    if kind in ERROR_KINDS:
        raise ValueError("delay_s applies to the slow and timeout kinds only")
    if (
        isinstance(delay_s, bool)
        or not isinstance(delay_s, int | float)
        or not math.isfinite(delay_s)
        or not 0 < delay_s <= MAX_DELAY_S
    ):
        raise ValueError(f"delay_s must be a number of seconds above 0, at most {MAX_DELAY_S:g}")
    return float(delay_s)


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
            rule = self.plan.take(info.service, info.operation) if info is not None else None
            if info is not None and rule is not None:
                if rule.kind == "timeout":
                    return _hold_unanswered(environ, start_response, info, rule.delay_s or 0.0)
                if rule.kind == "slow":
                    time.sleep(rule.delay_s or 0.0)  # then moto answers, late
                else:
                    return _error(environ, start_response, info, rule.kind)
        return self.wsgi_app(environ, start_response)


def _error(
    environ: dict[str, Any], start_response: Callable[..., Any], info: RequestInfo, kind: str
) -> list[bytes]:
    status, headers, body = error_response(info, kind, head=environ.get("REQUEST_METHOD") == "HEAD")
    start_response(f"{status} {_REASONS.get(status, 'Error')}", list(headers.items()))
    return [body]


def _hold_unanswered(
    environ: dict[str, Any], start_response: Callable[..., Any], info: RequestInfo, hold_s: float
) -> list[bytes]:
    """Say nothing until the client hangs up or ``hold_s`` passes, then close the connection.

    werkzeug hands the connection over as ``werkzeug.socket``; the client hanging up shows as
    the socket turning readable with nothing to read. Raising a ConnectionError makes werkzeug
    drop the connection without writing an answer. Under another server (no socket) the hold
    ends with a 503 instead.
    """
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length > 0:
        environ["wsgi.input"].read(length)  # so what is left to read is the client hanging up
    sock = environ.get("werkzeug.socket")
    deadline = time.monotonic() + hold_s
    if not isinstance(sock, socket.socket):
        time.sleep(hold_s)
        return _error(environ, start_response, info, "unavailable")
    while (left := deadline - time.monotonic()) > 0:
        if _hung_up(sock, min(left, 0.1)):
            break
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionAbortedError("held unanswered by a planned timeout fault")


def _hung_up(sock: socket.socket, wait_s: float) -> bool:
    try:
        readable, _, _ = select.select([sock], [], [], wait_s)
        if not readable:
            return False
        if sock.recv(1, socket.MSG_PEEK):
            time.sleep(wait_s)  # data, not a hang-up: keep holding
            return False
        return True
    except OSError:
        return True


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
        unknown = set(body) - {"service", "operation", "kind", "count", "delay_s"}
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
                body.get("delay_s"),
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
