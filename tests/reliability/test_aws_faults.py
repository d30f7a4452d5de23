"""AWS faults per collector: throttling, 5xx, timeouts and slow answers on its own operations.

Why: the PRD asks retry logic and 99.9 % availability; moto never fails, so without these
the collectors' retry and partial-failure paths are claims. Each test seeds the account
(moto is the ground truth), scripts faults on the collector's operations, runs a faulted
cycle and then a clean one, and checks what a user would notice: the faulted cycle ends
(a resource that stayed broken is named in its failures), the next cycle stores exactly
what AWS holds (nothing lost, nothing twice), and retries stay inside the cycle's API
budget. Figures (calls, retries, cycle time) go to the terminal summary. The shared
machinery and its retry settings are in `aws_faults_support`; the event consumer, logs
and Athena are in the sibling files, and the same faults through the sandbox server in
`test_aws_faults_sandbox.py`.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import func, select

from collectors.athena import collect_catalog
from collectors.context import CollectorContext
from collectors.glue_runs import collect_glue_runs
from collectors.inventory import collect_inventory
from collectors.metrics import collect_metrics
from dashapp.aws.cloudwatch import align_down
from dashapp.models import CatalogTable, GlueJob, JobRun, LambdaFunction, MetricPoint
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
from tests.reliability.aws_faults_support import (
    ATTEMPTS,
    CYCLE_BOUND_S,
    CycleFigures,
    check_faulted,
    describe,
    run_cycle,
)
from tests.reliability.aws_faults_support import ClientFaults as FaultScript
from tests.reliability.aws_faults_support import count_distinct as _count_distinct
from tests.reliability.aws_faults_support import figures as figures
from tests.reliability.aws_faults_support import retrying_ctx as retrying_ctx
from tests.reliability.aws_faults_support import seeded_jitter as seeded_jitter

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
