"""Inventory: Glue jobs (schedule, tags, capacity) and Lambda functions; gone and back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from collectors.inventory import collect_inventory
from dashapp.models import GlueJob, LambdaFunction
from sandbox.fidelity import glue as fglue
from tests.collectors.conftest import (
    MakeCtx,
    client,
    create_function,
    create_job,
    fail_calls,
)


def _jobs(ctx) -> dict[str, GlueJob]:  # type: ignore[no-untyped-def]
    with ctx.sessions() as s:
        return {j.name: j for j in s.scalars(select(GlueJob))}


def _functions(ctx) -> dict[str, LambdaFunction]:  # type: ignore[no-untyped-def]
    with ctx.sessions() as s:
        return {f.name: f for f in s.scalars(select(LambdaFunction))}


def _account() -> None:
    create_job(
        "sales-orders-ingest",
        Description="Order lines",
        WorkerType="G.2X",
        NumberOfWorkers=5,
        Timeout=60,
        MaxRetries=1,
        ExecutionProperty={"MaxConcurrentRuns": 3},
        DefaultArguments={"--output_path": "s3://smd-processed/orders/"},
        Tags={"team": "sales-data", "dataset": "orders"},
    )
    client("glue").create_job(
        Name="ops-inventory-snapshot",
        Role="arn:aws:iam::123456789012:role/smd-glue",
        Command={"Name": "pythonshell", "ScriptLocation": "s3://smd-scripts/inv.py"},
        MaxCapacity=0.0625,
    )
    glue = client("glue")
    glue.create_trigger(
        Name="orders-nightly",
        Type="SCHEDULED",
        Schedule="cron(0 2 * * ? *)",
        Actions=[{"JobName": "sales-orders-ingest"}],
        StartOnCreation=True,
    )
    # Created but never started: its schedule does not fire.
    glue.create_trigger(
        Name="inventory-hourly",
        Type="SCHEDULED",
        Schedule="cron(0 * * * ? *)",
        Actions=[{"JobName": "ops-inventory-snapshot"}],
    )
    create_function(
        "smd-upload-validator",
        MemorySize=512,
        Timeout=30,
        Description="Checks uploads",
        Architectures=["arm64"],
        Tags={"team": "platform"},
    )
    create_function("smd-notifier")


def test_stores_jobs_with_schedule_tags_capacity_and_functions(make_ctx: MakeCtx) -> None:
    _account()
    ctx = make_ctx()
    result = collect_inventory(ctx)
    assert result.failures == []
    assert result.items == 4

    jobs = _jobs(ctx)
    orders = jobs["sales-orders-ingest"]
    assert orders.description == "Order lines"
    assert orders.command == "glueetl"
    assert (orders.worker_type, orders.number_of_workers) == ("G.2X", 5)
    assert orders.timeout_minutes == 60 and orders.max_retries == 1
    assert orders.max_concurrent_runs == 3
    assert orders.schedule == "cron(0 2 * * ? *)"
    assert orders.tags == {"team": "sales-data", "dataset": "orders"}
    assert orders.default_arguments == {"--output_path": "s3://smd-processed/orders/"}
    assert orders.first_seen_at == orders.last_seen_at == ctx.clock.now()
    assert orders.gone_at is None
    inventory = jobs["ops-inventory-snapshot"]
    assert inventory.command == "pythonshell"
    assert inventory.max_capacity == 0.0625
    assert inventory.schedule is None  # its trigger was never activated
    assert inventory.tags == {}

    functions = _functions(ctx)
    assert set(functions) == {"smd-upload-validator", "smd-notifier"}
    validator = functions["smd-upload-validator"]
    assert (validator.runtime, validator.handler) == ("python3.12", "app.handler")
    assert (validator.memory_mb, validator.timeout_s) == (512, 30)
    assert validator.architecture == "arm64"
    assert validator.tags == {"team": "platform"}
    assert validator.arn.endswith(":function:smd-upload-validator")
    assert validator.last_modified is not None and validator.last_modified.tzinfo is not None
    assert functions["smd-notifier"].tags == {}


def test_deleted_resources_are_marked_gone_and_come_back(make_ctx: MakeCtx) -> None:
    _account()
    ctx = make_ctx()
    first = ctx.clock.now()
    collect_inventory(ctx)

    client("glue").delete_job(JobName="sales-orders-ingest")
    client("lambda").delete_function(FunctionName="smd-notifier")
    gone_at = ctx.clock.advance(300)
    assert collect_inventory(ctx).failures == []
    jobs, functions = _jobs(ctx), _functions(ctx)
    # Rows stay (their history refers to them), marked gone.
    assert jobs["sales-orders-ingest"].gone_at == gone_at
    assert jobs["sales-orders-ingest"].last_seen_at == first
    assert jobs["ops-inventory-snapshot"].gone_at is None
    assert functions["smd-notifier"].gone_at == gone_at
    assert functions["smd-upload-validator"].gone_at is None

    # A third cycle keeps the first "gone" time.
    ctx.clock.advance(300)
    collect_inventory(ctx)
    assert _jobs(ctx)["sales-orders-ingest"].gone_at == gone_at

    create_job("sales-orders-ingest", Description="Recreated")
    create_function("smd-notifier")
    back = ctx.clock.advance(300)
    collect_inventory(ctx)
    orders = _jobs(ctx)["sales-orders-ingest"]
    assert orders.gone_at is None
    assert orders.description == "Recreated"
    assert orders.last_seen_at == back
    assert orders.first_seen_at == first
    assert _functions(ctx)["smd-notifier"].gone_at is None


def test_tags_failure_keeps_the_previous_tags_and_reports_partial(make_ctx: MakeCtx) -> None:
    _account()
    ctx = make_ctx()
    collect_inventory(ctx)

    glue = client("glue")
    arn = "arn:aws:glue:us-east-1:123456789012:job/sales-orders-ingest"
    glue.tag_resource(ResourceArn=arn, TagsToAdd={"team": "renamed"})
    # Changed meanwhile (moto has no UpdateJob: edit its record).
    job = fglue.glue_backend().jobs["sales-orders-ingest"]
    job.description = "Changed meanwhile"
    job.number_of_workers = 8
    create_job("web-clickstream-ingest", Tags={"team": "web"})
    failed = fail_calls(ctx.aws.client("resourcegroupstaggingapi"), "GetResources")
    ctx.clock.advance(300)
    result = collect_inventory(ctx)

    assert failed, "the fault was never hit"
    assert len(result.failures) == 1
    assert result.failures[0].startswith("tags (GetResources): AccessDeniedException")
    jobs = _jobs(ctx)
    orders = jobs["sales-orders-ingest"]
    assert orders.tags == {"team": "sales-data", "dataset": "orders"}  # not wiped, not guessed
    assert orders.description == "Changed meanwhile"  # the rest was stored
    assert orders.number_of_workers == 8
    assert jobs["web-clickstream-ingest"].tags == {}  # new: tags unknown until next cycle
    assert _functions(ctx)["smd-upload-validator"].tags == {"team": "platform"}

    # The next cycle with tags readable again catches up.
    failed_before = len(failed)
    ctx.aws.client("resourcegroupstaggingapi").meta.events.unregister(
        "before-call.resource-groups-tagging-api.GetResources"
    )
    ctx2 = make_ctx()
    ctx2.clock.advance(300)
    assert collect_inventory(ctx2).failures == []
    assert len(failed) == failed_before
    jobs = _jobs(ctx2)
    assert jobs["sales-orders-ingest"].tags == {"team": "renamed", "dataset": "orders"}
    assert jobs["web-clickstream-ingest"].tags == {"team": "web"}


def test_a_failed_job_listing_marks_nothing_gone(make_ctx: MakeCtx) -> None:
    _account()
    ctx = make_ctx()
    collect_inventory(ctx)
    fail_calls(ctx.aws.client("glue"), "GetJobs", code="InternalServiceException")
    client("lambda").delete_function(FunctionName="smd-notifier")
    ctx.clock.advance(timedelta(minutes=5))
    result = collect_inventory(ctx)
    assert [f.split(":")[0] for f in result.failures] == ["Glue jobs"]
    assert all(j.gone_at is None for j in _jobs(ctx).values())
    assert _functions(ctx)["smd-notifier"].gone_at == ctx.clock.now()


def test_a_job_and_a_function_of_the_same_name_keep_their_own_tags(make_ctx: MakeCtx) -> None:
    create_job("orders-ingest", Tags={"team": "data", "kind": "glue"})
    create_function("orders-ingest", Tags={"team": "platform"})
    ctx = make_ctx()
    assert collect_inventory(ctx).failures == []
    assert _jobs(ctx)["orders-ingest"].tags == {"team": "data", "kind": "glue"}
    assert _functions(ctx)["orders-ingest"].tags == {"team": "platform"}
