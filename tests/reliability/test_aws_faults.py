"""AWS faults per collector: throttling, 5xx, timeouts and slow answers on its own operations.

Why: the PRD asks retry logic and 99.9 % availability; moto never fails, so without these
the collectors' retry and partial-failure paths are claims. Each test seeds the account
(moto is the ground truth), scripts faults on the collector's operations, runs a faulted
cycle and then a clean one, and checks what a user would notice: the faulted cycle ends
(a resource that stayed broken is named in its failures), the next cycle stores exactly
what AWS holds (nothing lost, nothing twice), and retries stay inside the cycle's API
budget. Figures (calls, retries, cycle time) go to the terminal summary.

Real botocore retries run (adaptive mode, 3 requests a call). Its back-off jitter is
seeded, so calls and retries are the same on every run; cycle times still move by a
second or so with the adaptive rate limiter's clock, hence the wide bound.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, ReadTimeoutError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from collectors.athena import collect_catalog
from collectors.context import CollectorContext, CycleResult
from collectors.glue_runs import collect_glue_runs
from collectors.inventory import collect_inventory
from collectors.metrics import collect_metrics
from dashapp.aws.clients import AwsClients
from dashapp.aws.cloudwatch import align_down
from dashapp.clock import FixedClock
from dashapp.config import Settings
from dashapp.models import CatalogTable, GlueJob, JobRun, LambdaFunction, MetricPoint
from sandbox.fidelity.aws_protocols import RequestInfo, error_response, normalize_service
from tests.collectors.conftest import (
    MakeCtx,
    add_run,
    client,
    create_function,
    create_job,
    put_metric,
    store_inventory,
)

# The collector tests' fixtures, used here by name (the `as` form marks them re-exported).
from tests.collectors.conftest import aws as aws
from tests.collectors.conftest import boto_session as boto_session
from tests.collectors.conftest import clock as clock
from tests.collectors.conftest import make_ctx as make_ctx
from tests.collectors.conftest import t0 as t0
from tests.reliability.figure_report import report

ATTEMPTS = 3  # requests per call: the first and two retries, then the call fails
# botocore reads a client Config's retries.max_attempts as *retries* (it adds one for the
# first request), so SMD_AWS_MAX_ATTEMPTS=N allows N + 1 requests per call.
RETRIES_SETTING = ATTEMPTS - 1
SLOW_S = 0.3  # how long a "slow" answer keeps the caller waiting
CYCLE_BOUND_S = 20.0  # a faulted cycle must still end well inside a collector interval

# --- scripted faults ---------------------------------------------------------------------


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class FaultScript:
    """The next requests of one operation answer, in order, with these faults; then AWS does.

    Beyond the sandbox's error kinds (throttle, server_error, unavailable) it plays the two
    a server cannot send: ``timeout`` (the read times out, as botocore raises it) and
    ``slow`` (the answer comes, SLOW_S late). ``match`` limits it to requests whose body
    names one resource, so the same job or database is the broken one on every run.
    """

    def __init__(
        self,
        boto_client: Any,
        operation: str,
        kinds: Sequence[str],
        *,
        match: str | None = None,
    ) -> None:
        model = boto_client.meta.service_model
        self.info = RequestInfo(
            service=normalize_service(model.service_name),
            operation=operation,
            protocol=str(getattr(model, "resolved_protocol", None) or model.protocol),
            json_version=str(model.metadata.get("jsonVersion", "1.1")),
        )
        self.pending = list(kinds)
        self.injected = 0
        self._match = match.encode() if match else None
        self._lock = threading.Lock()
        self._events = boto_client.meta.events
        self._event = f"before-send.{model.service_id.hyphenize()}.{operation}"
        # First: moto answers on before-send too, and the first answer wins.
        self._events.register_first(self._event, self._before_send, unique_id=str(id(self)))

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        body = request.body if isinstance(request.body, bytes) else str(request.body).encode()
        if self._match is not None and self._match not in body:
            return None
        with self._lock:
            if not self.pending:
                return None
            kind = self.pending.pop(0)
            self.injected += 1
        if kind == "slow":
            time.sleep(SLOW_S)
            return None
        if kind == "timeout":
            raise ReadTimeoutError(endpoint_url=request.url)
        status, headers, payload = error_response(self.info, kind)
        return AWSResponse(request.url, status, headers, _RawBody(payload))

    def remove(self) -> None:
        self._events.unregister(self._event, unique_id=str(id(self)))


@dataclass
class CycleFigures:
    calls: int
    requests: int
    seconds: float
    result: CycleResult

    @property
    def retries(self) -> int:
        return self.requests - self.calls


def run_cycle(
    collect: Callable[[CollectorContext], CycleResult],
    ctx: CollectorContext,
    scripts: Sequence[FaultScript] = (),
) -> CycleFigures:
    """One cycle with its logical calls, HTTP requests (retries included) and wall time;
    every fault in ``scripts`` must have been met."""
    ctx.aws.counter.reset()
    before = ctx.aws.counter.requests
    start = time.monotonic()
    result = collect(ctx)
    seconds = time.monotonic() - start
    after = ctx.aws.counter.requests
    for script in scripts:  # a planned fault the cycle never met would test nothing
        assert not script.pending, f"{script.info.operation} faults never met: {script.pending}"
    return CycleFigures(
        calls=ctx.aws.counter.total(),
        requests=after - before,
        seconds=seconds,
        result=result,
    )


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Lines written to the terminal whatever the capture mode (and kept as properties)."""
    lines: list[str] = []
    yield lines
    report(request, "aws-faults", lines)


@pytest.fixture
def retrying_ctx(
    aws: None,
    db_url: str,
    sessions: sessionmaker[Session],
    clock: FixedClock,
    boto_session: boto3.session.Session,
) -> MakeCtx:
    """As tests/collectors' make_ctx, but with botocore's retries on (ATTEMPTS attempts)."""

    def make(name: str) -> CollectorContext:
        settings = Settings(database_url=db_url, _env_file=None, aws_max_attempts=RETRIES_SETTING)
        return CollectorContext(
            name=name,
            settings=settings,
            sessions=sessions,
            aws=AwsClients(settings, session=boto_session),
            clock=clock,
        )

    return make


@pytest.fixture(autouse=True)
def _seeded_jitter() -> None:
    random.seed(12)  # botocore's back-off jitter draws from the module-level generator


def check_faulted(fig: CycleFigures, *, budget_calls: int, broken: Sequence[str]) -> None:
    """The faulted cycle ended in time, named exactly the broken resources, stayed in budget."""
    assert fig.seconds < CYCLE_BOUND_S, f"faulted cycle took {fig.seconds:.1f} s"
    for resource in broken:
        assert any(resource in f for f in fig.result.failures), (resource, fig.result.failures)
    assert len(fig.result.failures) == len(broken), fig.result.failures
    assert fig.calls <= budget_calls, f"{fig.calls} calls > budget {budget_calls}"
    assert fig.requests <= fig.calls * ATTEMPTS, "a call retried past its attempts"


def describe(label: str, fig: CycleFigures) -> str:
    return (
        f"{label}: calls={fig.calls} retries={fig.retries} "
        f"cycle={fig.seconds:.2f}s failures={len(fig.result.failures)}"
    )


def _count_distinct(ctx: CollectorContext, model: Any, *cols: Any) -> tuple[int, int]:
    with ctx.sessions() as s:
        rows = s.scalar(select(func.count()).select_from(model))
        distinct = len(set(s.execute(select(*cols)).all()))
    return int(rows or 0), distinct


# --- inventory --------------------------------------------------------------------------


def test_inventory_survives_throttled_jobs_and_timed_out_functions(
    retrying_ctx: MakeCtx, figures: list[str]
) -> None:
    for name in ("alpha", "beta", "gamma"):
        create_job(name)
    for name in ("fn-one", "fn-two"):
        create_function(name)
    ctx = retrying_ctx("inventory")
    jobs = FaultScript(ctx.aws.client("glue"), "GetJobs", ["throttle", "server_error"])
    functions = FaultScript(ctx.aws.client("lambda"), "ListFunctions", ["timeout"] * ATTEMPTS)
    tags = FaultScript(
        ctx.aws.client("resourcegroupstaggingapi"), "GetResources", ["unavailable", "slow"]
    )

    faulted = run_cycle(collect_inventory, ctx, [jobs, functions, tags])
    for script in (jobs, functions, tags):
        script.remove()
    clean = run_cycle(collect_inventory, ctx)

    # GetJobs, GetTriggers, ListFunctions, GetResources: one page each.
    check_faulted(faulted, budget_calls=6, broken=["Lambda functions"])
    assert faulted.retries == 2 + (ATTEMPTS - 1) + 1  # jobs, functions (exhausted), tags
    assert clean.result.failures == []
    with ctx.sessions() as s:
        assert set(s.scalars(select(GlueJob.name))) == {"alpha", "beta", "gamma"}
        assert set(s.scalars(select(LambdaFunction.name))) == {"fn-one", "fn-two"}
    assert _count_distinct(ctx, GlueJob, GlueJob.name) == (3, 3)
    assert _count_distinct(ctx, LambdaFunction, LambdaFunction.name) == (2, 2)
    figures.extend([describe("faulted", faulted), describe("clean", clean)])


# --- glue_runs --------------------------------------------------------------------------


def _moto_run_ids() -> set[str]:
    glue = client("glue")
    ids: set[str] = set()
    for job in glue.get_jobs()["Jobs"]:
        for page in glue.get_paginator("get_job_runs").paginate(JobName=job["Name"]):
            ids.update(r["Id"] for r in page["JobRuns"])
    return ids


def test_glue_runs_lose_nothing_when_one_job_times_out_and_another_is_throttled(
    make_ctx: MakeCtx, retrying_ctx: MakeCtx, t0: datetime, figures: list[str]
) -> None:
    for name in ("alpha", "beta", "gamma"):
        create_job(name)
        for hours in (3, 2, 1):
            add_run(name, t0 - timedelta(hours=hours), "SUCCEEDED")
    add_run("gamma", t0 - timedelta(minutes=5), "RUNNING")
    store_inventory(make_ctx)
    ctx = retrying_ctx("glue_runs")
    glue = ctx.aws.client("glue")
    beta = FaultScript(glue, "GetJobRuns", ["timeout"] * ATTEMPTS, match='"beta"')
    alpha = FaultScript(glue, "GetJobRuns", ["throttle", "slow"], match='"alpha"')
    gamma = FaultScript(glue, "GetJobRuns", ["server_error"], match='"gamma"')

    faulted = run_cycle(collect_glue_runs, ctx, [beta, alpha, gamma])
    for script in (beta, alpha, gamma):
        script.remove()
    with ctx.sessions() as s:
        after_fault = set(s.scalars(select(JobRun.run_id)))
    truth = _moto_run_ids()
    # A job whose read failed is read again the next cycle (not when its turn in the
    # rotation comes); the loop allows a whole rotation to show how long it took.
    recovery: list[CycleFigures] = []
    while len(recovery) < ctx.settings.glue_full_reconcile_every:
        recovery.append(run_cycle(collect_glue_runs, ctx))
        with ctx.sessions() as s:
            if set(s.scalars(select(JobRun.run_id))) == truth:
                break
    clean = recovery[-1]

    check_faulted(faulted, budget_calls=3, broken=["job beta"])
    assert faulted.retries == (ATTEMPTS - 1) + 1 + 1  # beta (exhausted), alpha, gamma
    assert len(truth) == 10
    assert len(after_fault) == 7, "alpha's and gamma's runs are stored despite beta failing"
    assert all(c.result.failures == [] for c in recovery)
    assert len(recovery) == 1, "beta is retried the cycle after it failed"
    assert all(c.retries == 0 for c in recovery)
    with ctx.sessions() as s:
        assert set(s.scalars(select(JobRun.run_id))) == truth
    assert _count_distinct(ctx, JobRun, JobRun.run_id) == (10, 10)
    figures.append(f"beta's runs stored {len(recovery)} cycle(s) after the fault")
    figures.extend([describe("faulted", faulted), describe("clean", clean)])


# --- catalog ----------------------------------------------------------------------------


def _catalog_account() -> set[tuple[str, str]]:
    glue = client("glue")
    truth: set[tuple[str, str]] = set()
    for database, tables in (("sales", ["orders", "customers"]), ("ops", ["inventory"])):
        glue.create_database(DatabaseInput={"Name": database})
        for table in tables:
            glue.create_table(
                DatabaseName=database,
                TableInput={
                    "Name": table,
                    "StorageDescriptor": {
                        "Columns": [{"Name": "id", "Type": "bigint"}],
                        "Location": f"s3://smd-processed/{database}/{table}/",
                    },
                },
            )
            truth.add((database, table))
    return truth


def test_catalog_keeps_the_healthy_database_when_another_stays_unavailable(
    retrying_ctx: MakeCtx, figures: list[str]
) -> None:
    truth = _catalog_account()
    ctx = retrying_ctx("catalog")
    glue = ctx.aws.client("glue")
    databases = FaultScript(glue, "GetDatabases", ["throttle", "slow"])
    ops = FaultScript(glue, "GetTables", ["unavailable"] * ATTEMPTS, match='"ops"')

    faulted = run_cycle(collect_catalog, ctx, [databases, ops])
    for script in (databases, ops):
        script.remove()
    with ctx.sessions() as s:
        after_fault = set(s.execute(select(CatalogTable.database, CatalogTable.name)).all())
    clean = run_cycle(collect_catalog, ctx)

    check_faulted(faulted, budget_calls=3, broken=["catalog database ops"])
    assert faulted.retries == 1 + (ATTEMPTS - 1)
    assert after_fault == {("sales", "orders"), ("sales", "customers")}
    assert clean.result.failures == []
    with ctx.sessions() as s:
        assert set(s.execute(select(CatalogTable.database, CatalogTable.name)).all()) == truth
    assert _count_distinct(ctx, CatalogTable, CatalogTable.database, CatalogTable.name) == (3, 3)
    figures.extend([describe("faulted", faulted), describe("clean", clean)])


def test_fault_script_answers_in_the_requests_own_protocol(aws: None) -> None:
    """The script's errors parse as AWS's: a throttled call that exhausts its attempts
    surfaces botocore's ThrottlingException, not a parse error."""
    import boto3
    from botocore.config import Config

    glue = boto3.client(
        "glue", region_name="us-east-1", config=Config(retries={"total_max_attempts": 1})
    )
    script = FaultScript(glue, "GetDatabases", ["throttle"])
    with pytest.raises(ClientError) as raised:
        glue.get_databases()
    script.remove()
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert json.loads(json.dumps(glue.get_databases()["DatabaseList"])) == []


# --- metrics ----------------------------------------------------------------------------


def _lambda_points(t0: datetime) -> set[tuple[str, str, datetime]]:
    """Invocations of two functions in two past minutes: what CloudWatch holds."""
    minute = align_down(t0, 60) - timedelta(minutes=4)
    truth: set[tuple[str, str, datetime]] = set()
    for name in ("fn-one", "fn-two"):
        for offset in (0, 2):
            at = minute + timedelta(minutes=offset)
            put_metric("AWS/Lambda", "Invocations", {"FunctionName": name}, at, 3)
            truth.add((name, "Invocations", at))
    return truth


def _stored_points(ctx: CollectorContext) -> set[tuple[str, str, datetime]]:
    with ctx.sessions() as s:
        return {
            (p.resource_name, p.metric, p.ts)
            for p in s.scalars(select(MetricPoint).where(MetricPoint.metric == "Invocations"))
        }


def test_metrics_retry_a_throttled_read_and_a_failed_cycle_loses_no_minute(
    make_ctx: MakeCtx, retrying_ctx: MakeCtx, t0: datetime, figures: list[str]
) -> None:
    for name in ("fn-one", "fn-two"):
        create_function(name)
    truth = _lambda_points(t0)
    store_inventory(make_ctx)
    ctx = retrying_ctx("metrics")
    cw_client = ctx.aws.client("cloudwatch")

    down = FaultScript(cw_client, "GetMetricData", ["unavailable"] * ATTEMPTS)
    sent_before = ctx.aws.counter.requests
    start = time.monotonic()
    with pytest.raises(ClientError) as raised:  # the runner records it as the cycle's failure
        collect_metrics(ctx)
    down_s = time.monotonic() - start
    down_requests = ctx.aws.counter.requests - sent_before
    down.remove()
    assert raised.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert not down.pending

    ctx.clock.advance(60)
    throttled = FaultScript(cw_client, "GetMetricData", ["throttle", "server_error", "slow"])
    recovered = run_cycle(collect_metrics, ctx, [throttled])
    throttled.remove()
    after_recovery = _stored_points(ctx)
    ctx.clock.advance(60)
    clean = run_cycle(collect_metrics, ctx)  # re-reads the recent window: must not duplicate

    assert recovered.result.failures == [] and recovered.retries == 2
    assert recovered.requests <= recovered.calls * ATTEMPTS
    assert down_s < CYCLE_BOUND_S
    assert down_requests == ATTEMPTS, "one call, its retries, then the cycle gives up"
    assert clean.result.failures == [] and clean.retries == 0
    assert after_recovery == truth, "the failed cycle's window is read by the next one"
    assert _stored_points(ctx) == truth
    with ctx.sessions() as s:
        rows = s.scalar(select(func.count()).select_from(MetricPoint))
        keys = len(
            set(
                s.execute(
                    select(
                        MetricPoint.resource_name,
                        MetricPoint.metric,
                        MetricPoint.stat,
                        MetricPoint.ts,
                    )
                ).all()
            )
        )
    assert rows == keys, "no point twice"
    figures.extend(
        [
            describe("throttled", recovered),
            f"unavailable: the cycle raised after {down_requests} requests in {down_s:.2f}s",
            describe("clean", clean),
        ]
    )
