"""AWS wire protocols as the fault layer needs them: what a request is, what an error looks like.

Why its own module: answering a planned fault "the way AWS does" needs two
protocol-level facts that have nothing to do with planning faults -- which
service, operation and protocol a signed request uses (SigV4 credential scope;
``X-Amz-Target``, ``Action=``, the smithy-rpc-v2-cbor path or moto's REST
router), and how AWS writes a throttling / 5xx error in each protocol (query
XML, REST-XML, JSON, REST-JSON, CBOR) so botocore parses the same code, status
and retryability it gets from AWS.  Both the WSGI middleware and the in-process
``before-send`` hook in ``faults`` use them.
"""

from __future__ import annotations

import functools
import io
import json
import re
import uuid
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Literal
from urllib.parse import parse_qs

from botocore.serialize import CBORSerializer

__all__ = [
    "Protocol",
    "RequestInfo",
    "classify_request",
    "error_response",
    "normalize_service",
]

Protocol = Literal["json", "query", "rest-json", "rest-xml", "smithy-rpc-v2-cbor"]

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


def normalize_service(service: str) -> str:
    """Rules and requests compare boto3 client names ("cloudwatch", not "monitoring")."""
    name = service.strip().lower()
    return _SERVICE_ALIASES.get(name, name)


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
