"""Fault injection: plan, request recognition, protocol-correct errors (no server).

moto never throttles or fails; these tests prove the errors the sandbox
injects parse in botocore exactly like AWS's (code, status, retryability).
End-to-end through the HTTP server is in ``test_server.py``.
"""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HeadersDict
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.parsers import create_parser

from sandbox.fidelity.aws_protocols import RequestInfo, classify_request, error_response
from sandbox.fidelity.client_faults import inject_client_faults
from sandbox.fidelity.faults import FaultInjectingApp, FaultPlan, FaultRule

NO_RETRY = Config(retries={"total_max_attempts": 1})


def _kind(rule: FaultRule | None) -> str | None:
    return None if rule is None else rule.kind


def test_fault_plan_counts_down_and_snapshots() -> None:
    """A rule fails exactly `count` matching calls, first matching rule first."""
    plan = FaultPlan()
    plan.add("glue", "GetJobRuns", "throttle", count=2)
    plan.add("monitoring", None, "server_error", count=1)  # signing name is normalised
    assert plan.take("glue", "GetJobs") is None
    assert _kind(plan.take("glue", "GetJobRuns")) == "throttle"
    assert _kind(plan.take("cloudwatch", "GetMetricData")) == "server_error"
    assert plan.take("cloudwatch", "GetMetricData") is None
    snap = plan.snapshot()
    assert [(r["service"], r["remaining"], r["hits"]) for r in snap["rules"]] == [
        ("glue", 1, 1),
        ("cloudwatch", 0, 1),
    ]
    assert snap["active"] == 1
    assert snap["total_hits"] == 2
    assert plan.clear() == 2
    assert plan.snapshot()["rules"] == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"service": ""},
        {"service": "glue", "kind": "explode"},
        {"service": "glue", "count": 0},
        {"service": "glue", "count": True},
        {"service": "glue", "operation": ""},
        {"service": "glue", "kind": "slow"},  # how slow?
        {"service": "glue", "kind": "slow", "delay_s": 0},
        {"service": "glue", "kind": "slow", "delay_s": float("nan")},
        {"service": "glue", "kind": "timeout", "delay_s": 601},
        {"service": "glue", "kind": "throttle", "delay_s": 1},
    ],
)
def test_fault_plan_rejects_malformed_rules(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        FaultPlan().add(**kwargs)


def test_fault_plan_is_thread_safe() -> None:
    """Concurrent requests never consume more faults than planned."""
    plan = FaultPlan()
    plan.add("glue", None, "throttle", count=500)
    taken: list[str | None] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(100):
            kind = _kind(plan.take("glue", "GetJob"))
            with lock:
                taken.append(kind)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert taken.count("throttle") == 500
    assert plan.snapshot()["rules"][0]["hits"] == 500


def _signed_environ(
    method: str, url: str, service: str, *, body: bytes = b"", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    SigV4Auth(Credentials("testing", "testing"), service, "us-east-1").add_auth(request)
    path, _, query = url.split("://", 1)[1].partition("/")[2].partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/" + path,
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "5000",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "localhost:5000",
    }
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        else:
            environ[f"HTTP_{key}"] = value
    return environ


def test_classify_request_for_every_protocol() -> None:
    """Service from the SigV4 scope; operation from X-Amz-Target, Action=, the CBOR path or the REST
    route.
    """
    json_env = _signed_environ(
        "POST",
        "http://localhost:5000/",
        "glue",
        body=b"{}",
        headers={
            "X-Amz-Target": "AWSGlue.GetJobRuns",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    assert classify_request(json_env) == RequestInfo("glue", "GetJobRuns", "json", "1.1")
    query_body = b"Action=GetCallerIdentity&Version=2011-06-15"
    query_env = _signed_environ(
        "POST",
        "http://localhost:5000/",
        "sts",
        body=query_body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert classify_request(query_env) == RequestInfo("sts", "GetCallerIdentity", "query")
    assert query_env["wsgi.input"].read() == query_body  # body left for moto
    cbor_env = _signed_environ(
        "POST",
        "http://localhost:5000/service/GraniteServiceVersion20100801/operation/GetMetricData",
        "monitoring",
        body=b"\xa0",
        headers={"smithy-protocol": "rpc-v2-cbor"},
    )
    assert classify_request(cbor_env) == RequestInfo(
        "cloudwatch", "GetMetricData", "smithy-rpc-v2-cbor"
    )
    lambda_env = _signed_environ("GET", "http://localhost:5000/2015-03-31/functions/", "lambda")
    assert classify_request(lambda_env) == RequestInfo("lambda", "ListFunctions", "rest-json")
    s3_env = _signed_environ("PUT", "http://localhost:5000/bucket/key.csv", "s3", body=b"x")
    info = classify_request(s3_env)
    assert info is not None
    assert (info.service, info.protocol) == ("s3", "rest-xml")
    assert classify_request({"PATH_INFO": "/", "REQUEST_METHOD": "GET"}) is None


def _parse_error(protocol: str, service: str, kind: str) -> tuple[int, str]:
    model = botocore.session.get_session().get_service_model(service)
    op = model.operation_model(next(iter(model.operation_names)))
    info = RequestInfo(service, op.name, protocol, str(model.metadata.get("jsonVersion", "1.1")))
    status, headers, body = error_response(info, kind)
    parsed = create_parser(protocol).parse(
        {"status_code": status, "headers": HeadersDict(headers), "body": body}, op.output_shape
    )
    return status, parsed["Error"]["Code"]


@pytest.mark.parametrize(
    ("protocol", "service", "kind", "expected"),
    [
        ("json", "glue", "throttle", (400, "ThrottlingException")),
        ("json", "glue", "server_error", (500, "InternalFailure")),
        ("json", "logs", "unavailable", (503, "ServiceUnavailable")),
        ("query", "sts", "throttle", (400, "Throttling")),
        ("query", "sts", "server_error", (500, "InternalFailure")),
        ("rest-xml", "s3", "throttle", (503, "SlowDown")),
        ("rest-xml", "s3", "server_error", (500, "InternalError")),
        ("rest-json", "lambda", "throttle", (429, "TooManyRequestsException")),
        ("rest-json", "lambda", "server_error", (500, "ServiceException")),
        ("smithy-rpc-v2-cbor", "cloudwatch", "throttle", (400, "ThrottlingException")),
        ("smithy-rpc-v2-cbor", "cloudwatch", "unavailable", (503, "ServiceUnavailable")),
    ],
)
def test_error_bodies_parse_in_botocore(
    protocol: str, service: str, kind: str, expected: tuple[int, str]
) -> None:
    """Each protocol's error body yields AWS's error code in botocore's own parser."""
    assert _parse_error(protocol, service, kind) == expected


def test_middleware_answers_planned_faults_then_passes_through() -> None:
    plan = FaultPlan()
    plan.add("glue", "GetJobRuns", "throttle", count=1)
    calls: list[str] = []

    def inner(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        calls.append(environ["PATH_INFO"])
        start_response("200 OK", [])
        return [b"{}"]

    app = FaultInjectingApp(inner, plan)
    statuses: list[str] = []
    headers = {"X-Amz-Target": "AWSGlue.GetJobRuns", "Content-Type": "application/x-amz-json-1.1"}
    for _ in range(2):
        env = _signed_environ("POST", "http://localhost:5000/", "glue", body=b"{}", headers=headers)
        body = b"".join(app(env, lambda status, hdrs: statuses.append(status)))
    assert statuses == ["400 Bad Request", "200 OK"]
    assert calls == ["/"]
    assert body == b"{}"


def test_inject_client_faults_with_mock_aws(aws: None) -> None:
    """In-process: the first N calls fail like AWS; botocore's retries consume faults like against
    AWS.
    """
    glue = boto3.client("glue", region_name="us-east-1", config=NO_RETRY)
    counter = inject_client_faults(glue, "GetJobs", "throttle", count=2)
    for _ in range(2):
        with pytest.raises(ClientError) as err:
            glue.get_jobs()
        assert err.value.response["Error"]["Code"] == "ThrottlingException"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert glue.get_jobs()["Jobs"] == []
    assert (counter.hits, counter.remaining) == (2, 0)

    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        config=Config(retries={"mode": "standard", "max_attempts": 3}),
    )
    s3.create_bucket(Bucket="bkt")
    slow = inject_client_faults(s3, "ListObjectsV2", "throttle", count=2)
    resp = s3.list_objects_v2(Bucket="bkt")  # standard retry mode rides out two SlowDowns
    assert resp["ResponseMetadata"]["RetryAttempts"] == 2
    assert slow.hits == 2

    lam = boto3.client("lambda", region_name="us-east-1", config=NO_RETRY)
    busy = inject_client_faults(lam, "ListFunctions", "server_error", count=1)
    with pytest.raises(ClientError) as err:
        lam.list_functions()
    assert err.value.response["Error"]["Code"] == "ServiceException"
    busy.remove()
    with pytest.raises(ValueError):
        inject_client_faults(lam, "ListFunctions", "boom", 1)  # type: ignore[arg-type]


def test_inject_client_faults_slow_and_timeout_with_mock_aws(aws: None) -> None:
    """In-process, `slow` answers late with moto's answer and `timeout` raises what a silent
    server makes botocore raise; both are met per request, retries included."""
    glue = boto3.client("glue", region_name="us-east-1", config=NO_RETRY)
    slow = inject_client_faults(glue, "GetJobs", "slow", count=1, delay_s=0.2)
    start = time.monotonic()
    assert glue.get_jobs()["Jobs"] == []
    assert time.monotonic() - start >= 0.2
    assert (slow.hits, slow.remaining) == (1, 0)
    timeout = inject_client_faults(glue, "GetJobs", "timeout", count=1)
    with pytest.raises(ReadTimeoutError):
        glue.get_jobs()
    assert timeout.hits == 1
    retrying = boto3.client(
        "glue", region_name="us-east-1", config=Config(retries={"total_max_attempts": 3})
    )
    inject_client_faults(retrying, "GetJobs", "timeout", count=2)
    assert retrying.get_jobs()["ResponseMetadata"]["RetryAttempts"] == 2
    with pytest.raises(ValueError):
        inject_client_faults(glue, "GetJobs", "slow", count=1)  # how slow?


def test_a_refused_or_timed_out_call_is_not_carried_out_in_process(aws: None) -> None:
    """As with the server, moto never sees a request the plan refused: a throttled
    ReceiveMessage hides no message, a timed-out SendMessage queues none."""
    sqs = boto3.client("sqs", region_name="us-east-1", config=NO_RETRY)
    url = sqs.create_queue(QueueName="refused")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="kept")
    inject_client_faults(sqs, "ReceiveMessage", "throttle", count=1)
    with pytest.raises(ClientError):
        sqs.receive_message(QueueUrl=url)
    inject_client_faults(sqs, "SendMessage", "timeout", count=1)
    with pytest.raises(ReadTimeoutError):
        sqs.send_message(QueueUrl=url, MessageBody="lost")
    bodies = [
        m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    ]
    assert bodies == ["kept"]
