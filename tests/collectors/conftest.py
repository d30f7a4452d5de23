"""Collector tests: in-process moto with the fidelity layer, the parametrised databases and a
fixed clock.

The clock starts at the current minute (not a date in the past): CloudWatch rounds old
windows and CloudWatch Logs rejects events older than 14 days by the wall clock, in moto as
in AWS, so a test's "now" must be near the real one. Within a test it moves only by hand.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from sqlalchemy.orm import Session, sessionmaker

from collectors.context import CollectorContext
from collectors.registry import JOBS, CollectorJob
from collectors.runner import CollectorRunner
from dashapp.aws.clients import AwsClients
from dashapp.clock import FixedClock
from dashapp.config import Settings
from sandbox.fidelity import apply_fidelity
from sandbox.fidelity import glue as fglue

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/smd-glue"
_TEST_SESSION = boto3.session.Session()


@pytest.fixture
def aws() -> Iterator[None]:
    """In-process moto with the fidelity layer (as tests/sandbox's `aws`)."""
    apply_fidelity()
    with mock_aws():
        yield


@pytest.fixture
def t0() -> datetime:
    """The test's "now": the start of the current wall-clock minute, plus 17 s."""
    return datetime.now(UTC).replace(second=17, microsecond=0)


@pytest.fixture
def clock(t0: datetime) -> FixedClock:
    return FixedClock(t0)


MakeCtx = Callable[..., CollectorContext]


@pytest.fixture(scope="session")
def boto_session() -> boto3.session.Session:
    """One boto3 session for every context: it caches the service models it loaded, which a
    fresh session per context would parse again (a tenth of a second per service)."""
    return _TEST_SESSION


@pytest.fixture
def make_ctx(
    aws: None,
    db_url: str,
    sessions: sessionmaker[Session],
    clock: FixedClock,
    boto_session: boto3.session.Session,
) -> MakeCtx:
    """A CollectorContext on the test database and moto; settings overridable per context.

    One attempt per call: a fault a test injects fails the call at once (no back-off sleeps).
    """

    def make(name: str = "test", *, once: bool = False, **overrides: Any) -> CollectorContext:
        overrides = {"aws_max_attempts": 1, **overrides}
        settings = Settings(database_url=db_url, _env_file=None, **overrides)
        return CollectorContext(
            name=name,
            settings=settings,
            sessions=sessions,
            aws=AwsClients(settings, session=boto_session),
            clock=clock,
            once=once,
        )

    return make


@pytest.fixture
def ctx(make_ctx: MakeCtx) -> CollectorContext:
    return make_ctx()


@pytest.fixture
def make_runner(
    aws: None,
    db_url: str,
    sessions: sessionmaker[Session],
    clock: FixedClock,
    boto_session: boto3.session.Session,
) -> Iterator[Callable[..., CollectorRunner]]:
    runners: list[CollectorRunner] = []

    def make(jobs: tuple[CollectorJob, ...] | list[CollectorJob] = JOBS) -> CollectorRunner:
        settings = Settings(database_url=db_url, _env_file=None, aws_max_attempts=1)
        runner = CollectorRunner(settings, clock=clock, jobs=jobs, sessions=sessions)
        for ctx in runner.contexts.values():  # shared model cache: faster, same behaviour
            ctx.aws = AwsClients(settings, session=boto_session)
        runners.append(runner)
        return runner

    yield make
    for r in runners:
        r.engine.dispose()


# --- AWS helpers -------------------------------------------------------------------------------


@functools.cache
def client(service: str) -> Any:
    """A plain boto3 client (the test's own hands on the account, not counted). Cached:
    moto intercepts every client's calls while a mock is active, whenever it was made."""
    return _TEST_SESSION.client(service, region_name=REGION)


def create_job(name: str, **kwargs: Any) -> None:
    params: dict[str, Any] = {
        "Name": name,
        "Role": ROLE,
        "Command": {"Name": "glueetl", "ScriptLocation": f"s3://smd-scripts/{name}.py"},
        "GlueVersion": "4.0",
        "WorkerType": "G.1X",
        "NumberOfWorkers": 2,
    }
    params.update(kwargs)
    client("glue").create_job(**params)


def add_run(
    job: str,
    started: datetime,
    state: str = "RUNNING",
    *,
    finished: datetime | None = None,
    error: str | None = None,
    dpu_seconds: float | None = None,
    **kwargs: Any,
) -> fglue.SandboxJobRun:
    """A run of `job` started at `started`, moved (legally) to `state`."""
    run = fglue.create_run(fglue.glue_backend(), job, started_on=started, **kwargs)
    if state == "STARTING":
        return run
    fglue.transition(run, "RUNNING", at=started + timedelta(seconds=5))
    if state != "RUNNING":
        finish(run, state, finished or started + timedelta(minutes=2), error, dpu_seconds)
    return run


def finish(
    run: fglue.SandboxJobRun,
    state: str,
    at: datetime,
    error: str | None = None,
    dpu_seconds: float | None = None,
) -> None:
    if error is None and state in fglue.ERROR_STATES:
        error = f"{state.title()}: injected by the test"
    fglue.transition(run, state, at=at, error_message=error, dpu_seconds=dpu_seconds)


class Fault(list[dict[str, Any]]):
    """The parameters of every call a `fail_calls` handler failed; `remove()` heals the API."""

    def __init__(self, boto_client: Any, event: str, handler: Any) -> None:
        super().__init__()
        self._events, self._event, self._handler = boto_client.meta.events, event, handler

    def remove(self) -> None:
        self._events.unregister(self._event, self._handler)


def fail_calls(
    boto_client: Any,
    operation: str,
    *,
    code: str = "AccessDeniedException",
    when: Callable[[dict[str, Any]], bool] = lambda _: True,
) -> Fault:
    """Answer `operation` calls whose (JSON) parameters satisfy `when` with an AWS error,
    through a before-call handler (no retries, counted like a real call)."""
    service = boto_client.meta.service_model.service_id.hyphenize()
    event = f"before-call.{service}.{operation}"

    def handler(params: dict[str, Any], **_: Any) -> Any:
        body = params.get("body") or b"{}"
        args = json.loads(body) if isinstance(body, bytes | str) and body else {}
        if not when(args):
            return None
        fault.append(args)
        parsed = {
            "Error": {"Code": code, "Message": f"injected {code} for {operation}"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("https://injected.invalid", 400, {}, None), parsed

    fault = Fault(boto_client, event, handler)
    boto_client.meta.events.register(event, handler)
    return fault


LAMBDA_ROLE = "arn:aws:iam::123456789012:role/smd-lambda"


def create_function(name: str, **kwargs: Any) -> None:
    """A Lambda function (its role created on first use; moto checks it exists)."""
    import io
    import zipfile

    iam = client("iam")
    try:
        iam.get_role(RoleName="smd-lambda")
    except iam.exceptions.NoSuchEntityException:
        iam.create_role(
            RoleName="smd-lambda",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return {'ok': True}\n")
    params: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": LAMBDA_ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": buf.getvalue()},
    }
    params.update(kwargs)
    client("lambda").create_function(**params)


def watch_calls(boto_client: Any, operation: str) -> list[dict[str, Any]]:
    """Record the (JSON) parameters of every `operation` call made through `boto_client`."""
    seen: list[dict[str, Any]] = []
    service = boto_client.meta.service_model.service_id.hyphenize()

    def handler(params: dict[str, Any], **_: Any) -> None:
        body = params.get("body") or b"{}"
        seen.append(json.loads(body) if body else {})

    boto_client.meta.events.register(f"before-call.{service}.{operation}", handler)
    return seen


def store_inventory(make_ctx: MakeCtx) -> None:
    """Run the inventory collector once, so other collectors know the account's jobs."""
    from collectors.inventory import collect_inventory

    result = collect_inventory(make_ctx("inventory"))
    assert result.failures == []


def put_metric(
    namespace: str,
    name: str,
    dimensions: dict[str, str],
    at: datetime,
    value: float | None = None,
    *,
    values: list[float] | None = None,
) -> None:
    datum: dict[str, Any] = {
        "MetricName": name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
        "Timestamp": at,
    }
    if values is not None:
        datum["Values"] = values
    else:
        datum["Value"] = value
    client("cloudwatch").put_metric_data(Namespace=namespace, MetricData=[datum])


def put_run_metrics(
    job: str,
    run_id: str,
    at: datetime,
    *,
    rows_read: float,
    rows_written: float,
    bytes_read: float = 0.0,
    failed_tasks: float = 0.0,
) -> None:
    """The driver metrics Glue publishes for a run, and our ingestion job's rows written."""
    dims = {"JobName": job, "JobRunId": run_id, "Type": "count"}
    put_metric("Glue", "glue.driver.aggregate.recordsRead", dims, at, rows_read)
    put_metric("Glue", "glue.driver.aggregate.bytesRead", dims, at, bytes_read)
    put_metric("Glue", "glue.driver.aggregate.numFailedTasks", dims, at, failed_tasks)
    put_metric(
        "SMD/Ingestion", "RowsWritten", {"JobName": job, "JobRunId": run_id}, at, rows_written
    )
