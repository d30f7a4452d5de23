"""Slow answers and timeouts through the sandbox server's fault plan (real HTTP).

AWS is not only wrong sometimes, it is late: an answer can come after the client's read
timeout (the call took effect, the client never hears it), or never. moto answers at
once; these tests state what the ``slow`` and ``timeout`` kinds restore, through plain
boto3 as the collectors use it. The bounds on elapsed time are lower bounds (a delay
that did not happen), never speed requirements.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

from sandbox.server import SandboxServer

ROLE = "arn:aws:iam::123456789012:role/smd-glue"


@pytest.fixture(autouse=True)
def _no_leftover_faults(sandbox: SandboxServer) -> Iterator[None]:
    sandbox.fault_plan.clear()
    yield
    sandbox.fault_plan.clear()


def _add_fault(sandbox: SandboxServer, **rule: Any) -> dict[str, Any]:
    resp = requests.post(f"{sandbox.url}/_sandbox/faults", json=rule, timeout=5)
    resp.raise_for_status()
    return resp.json()["rule"]


def _glue(make: Callable[..., Any], *, read_timeout: float = 10, attempts: int = 1) -> Any:
    retries = {"mode": "standard", "total_max_attempts": attempts}
    return make("glue", config=Config(read_timeout=read_timeout, retries=retries))


def _create_job(glue: Any) -> str:
    name = f"job-{uuid.uuid4().hex[:8]}"
    glue.create_job(Name=name, Role=ROLE, Command={"Name": "glueetl", "ScriptLocation": "s3://x"})
    return name


def _job_exists(glue: Any, name: str) -> bool:
    return name in glue.list_jobs()["JobNames"]


def test_slow_answers_late_and_only_the_planned_operation(
    sandbox: SandboxServer, sandbox_client: Callable[..., Any]
) -> None:
    """A slow rule delays its own operation's answers by delay_s, `count` times; the answer
    itself is moto's, unchanged."""
    glue = _glue(sandbox_client)
    rule = _add_fault(sandbox, service="glue", operation="GetJobs", kind="slow", delay_s=0.4)
    assert rule["delay_s"] == 0.4
    glue.list_jobs()  # another operation: not delayed, and the rule is not spent on it
    start = time.monotonic()
    assert glue.get_jobs()["Jobs"] == []
    assert time.monotonic() - start >= 0.4
    snapshot = requests.get(f"{sandbox.url}/_sandbox/faults", timeout=5).json()
    assert [(r["kind"], r["hits"], r["remaining"]) for r in snapshot["rules"]] == [("slow", 1, 0)]


def test_slow_past_the_read_timeout_takes_effect_but_the_answer_is_lost(
    sandbox: SandboxServer, sandbox_client: Callable[..., Any]
) -> None:
    """The client times out and raises ReadTimeoutError, yet the call was carried out: what
    a retry after a timeout must be idempotent against."""
    glue = _glue(sandbox_client, read_timeout=0.3)
    _add_fault(sandbox, service="glue", operation="CreateJob", kind="slow", delay_s=1.0)
    name = f"job-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ReadTimeoutError):
        glue.create_job(
            Name=name, Role=ROLE, Command={"Name": "glueetl", "ScriptLocation": "s3://x"}
        )
    deadline = time.monotonic() + 10
    while not _job_exists(glue, name):
        assert time.monotonic() < deadline, "the late call never took effect"
        time.sleep(0.1)


def test_timeout_is_never_answered_and_never_carried_out(
    sandbox: SandboxServer, sandbox_client: Callable[..., Any]
) -> None:
    """A timeout rule holds the request silent until the client's read timeout; moto never
    sees it."""
    glue = _glue(sandbox_client, read_timeout=0.3)
    _add_fault(sandbox, service="glue", operation="CreateJob", kind="timeout")
    name = f"job-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ReadTimeoutError):
        glue.create_job(
            Name=name, Role=ROLE, Command={"Name": "glueetl", "ScriptLocation": "s3://x"}
        )
    time.sleep(0.5)
    assert not _job_exists(glue, name)


def test_timeout_shorter_than_the_read_timeout_closes_the_connection_unanswered(
    sandbox: SandboxServer, sandbox_client: Callable[..., Any]
) -> None:
    glue = _glue(sandbox_client, read_timeout=10)
    _add_fault(sandbox, service="glue", operation="GetJobs", kind="timeout", delay_s=0.3)
    start = time.monotonic()
    with pytest.raises(ConnectionClosedError):
        glue.get_jobs()
    assert time.monotonic() - start >= 0.3


def test_botocore_retries_a_timed_out_call(
    sandbox: SandboxServer, sandbox_client: Callable[..., Any]
) -> None:
    """Timeouts are transient errors to botocore: the retry gets moto's answer."""
    glue = _glue(sandbox_client, read_timeout=0.3, attempts=3)
    _add_fault(sandbox, service="glue", operation="GetJobs", kind="timeout", count=2)
    resp = glue.get_jobs()
    assert resp["ResponseMetadata"]["RetryAttempts"] == 2


def test_delays_for_other_protocols_and_services(
    sandbox: SandboxServer, sandbox_client: Callable[..., Any]
) -> None:
    """Per-operation targeting works the same for query (SQS's JSON), REST and CBOR services."""
    sqs = sandbox_client("sqs", config=Config(read_timeout=0.3, retries={"total_max_attempts": 1}))
    url = sqs.create_queue(QueueName="delays")["QueueUrl"]
    _add_fault(sandbox, service="sqs", operation="ReceiveMessage", kind="timeout")
    with pytest.raises(ReadTimeoutError):
        sqs.receive_message(QueueUrl=url)
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
    lam = sandbox_client(
        "lambda", config=Config(read_timeout=0.3, retries={"total_max_attempts": 1})
    )
    _add_fault(sandbox, service="lambda", operation="ListFunctions", kind="timeout")
    with pytest.raises(ReadTimeoutError):
        lam.list_functions()
    assert lam.list_functions()["Functions"] == []


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"service": "glue", "kind": "slow"}, "needs delay_s"),
        ({"service": "glue", "kind": "slow", "delay_s": "2"}, "delay_s must be"),
        ({"service": "glue", "kind": "timeout", "delay_s": -1}, "delay_s must be"),
        ({"service": "glue", "kind": "throttle", "delay_s": 1}, "slow and timeout kinds only"),
    ],
)
def test_malformed_delays_are_refused_with_a_message(
    sandbox: SandboxServer, rule: dict[str, Any], message: str
) -> None:
    resp = requests.post(f"{sandbox.url}/_sandbox/faults", json=rule, timeout=5)
    assert resp.status_code == 400
    assert message in resp.json()["message"]
    assert requests.get(f"{sandbox.url}/_sandbox/faults", timeout=5).json()["rules"] == []
