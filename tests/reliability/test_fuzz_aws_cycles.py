"""A collector cycle when AWS describes one resource in a shape we cannot read.

moto answers as AWS does; an `after-call` hook then retypes one resource in the parsed
answer, as an API change, a proxy or a half-created resource could. The cycle must
store every other resource, report the odd one by name, and leave what it knew of that
one as it was (never marked gone, never dropped from the cache). Before, the first odd
resource raised out of the parser and the whole listing (every job, every function,
every table, every run of the job) was lost for the cycle, and again each cycle after.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from collectors.athena import collect_catalog
from collectors.context import CycleResult
from collectors.events import handle_messages
from collectors.glue_runs import collect_glue_runs
from collectors.inventory import collect_inventory
from dashapp.models import CatalogTable, GlueJob, JobRun, LambdaFunction
from tests.collectors import conftest as collector_fixtures
from tests.collectors.conftest import MakeCtx, add_run, client, create_function, create_job
from tests.fixtures.aws import raw

# The collectors' moto account, clock and contexts (their clock starts at t0, as add_run's runs).
aws, boto_session, clock, make_ctx, t0 = (
    collector_fixtures.aws,
    collector_fixtures.boto_session,
    collector_fixtures.clock,
    collector_fixtures.make_ctx,
    collector_fixtures.t0,
)


def mangle(boto_client: Any, operation: str, edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit every parsed `operation` answer of `boto_client` in place, before the caller
    sees it."""
    service = boto_client.meta.service_model.service_id.hyphenize()

    def handler(parsed: dict[str, Any], **_: Any) -> None:
        edit(parsed)

    boto_client.meta.events.register(f"after-call.{service}.{operation}", handler)


def _where(items: list[dict[str, Any]], key: str, name: str) -> dict[str, Any]:
    return next(i for i in items if i.get(key) == name)


def _names(ctx: Any, model: type) -> dict[str, Any]:
    with ctx.sessions() as s:
        return {row.name: row for row in s.scalars(select(model))}


def test_an_odd_job_or_function_is_reported_and_the_others_are_stored(make_ctx: MakeCtx) -> None:
    for name in ("a-ingest", "b-ingest"):
        create_job(name)
    for name in ("fn-a", "fn-b"):
        create_function(name)
    ctx = make_ctx()
    collect_inventory(ctx)  # a clean cycle first: both are known
    create_job("c-ingest")
    mangle(
        ctx.aws.client("glue"),
        "GetJobs",
        lambda p: _where(p["Jobs"], "Name", "b-ingest").update(CreatedOn="yesterday"),
    )
    mangle(
        ctx.aws.client("lambda"),
        "ListFunctions",
        lambda p: _where(p["Functions"], "FunctionName", "fn-b").update(MemorySize="lots"),
    )
    ctx.clock.advance(timedelta(minutes=5))

    result = collect_inventory(ctx)

    assert [f.split(":")[0] for f in result.failures] == [
        "Glue job b-ingest",
        "Lambda function fn-b",
    ]
    assert "CreatedOn is not a timestamp" in result.failures[0]
    jobs, functions = _names(ctx, GlueJob), _names(ctx, LambdaFunction)
    assert set(jobs) == {"a-ingest", "b-ingest", "c-ingest"}  # the new one stored
    assert jobs["b-ingest"].gone_at is None and functions["fn-b"].gone_at is None
    assert jobs["a-ingest"].last_seen_at == ctx.clock.now()


def test_an_odd_run_is_reported_and_the_jobs_other_runs_are_stored(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    create_job("orders-ingest")
    good = add_run("orders-ingest", t0 - timedelta(hours=2), "SUCCEEDED")
    odd = add_run("orders-ingest", t0 - timedelta(hours=1), "FAILED")
    ctx = make_ctx()
    collect_inventory(ctx)
    mangle(
        ctx.aws.client("glue"),
        "GetJobRuns",
        lambda p: _where(p["JobRuns"], "Id", odd.job_run_id).update(StartedOn=None),
    )

    result = collect_glue_runs(ctx)

    assert result.failures == [
        f"run {odd.job_run_id} of job orders-ingest: MalformedResponse: "
        "Glue job run: StartedOn is missing"
    ]
    with ctx.sessions() as s:
        assert list(s.scalars(select(JobRun.run_id))) == [good.job_run_id]


def test_an_odd_catalog_table_is_reported_and_stays_cached(make_ctx: MakeCtx) -> None:
    glue = client("glue")
    glue.create_database(DatabaseInput={"Name": "processed"})
    for name in ("orders", "customers"):
        glue.create_table(
            DatabaseName="processed",
            TableInput={"Name": name, "StorageDescriptor": {"Columns": [{"Name": "id"}]}},
        )
    ctx = make_ctx()
    collect_catalog(ctx)
    glue.create_table(DatabaseName="processed", TableInput={"Name": "returns"})
    mangle(
        ctx.aws.client("glue"),
        "GetTables",
        lambda p: _where(p["TableList"], "Name", "customers").update(PartitionKeys="id"),
    )

    result = collect_catalog(ctx)

    assert [f.split(":")[0] for f in result.failures] == ["catalog table processed.customers"]
    with ctx.sessions() as s:
        cached = set(s.scalars(select(CatalogTable.name)))
    assert cached == {"orders", "customers", "returns"}


def test_an_event_whose_time_no_calendar_holds_is_dropped_not_the_batch(
    make_ctx: MakeCtx,
) -> None:
    """`time: 1e300` raised OverflowError out of the event parser: the whole batch failed
    and stayed queued, to fail again on every receive."""
    doc = json.loads(raw("event_s3_object_created"))
    odd = json.dumps({**doc, "time": 1e300})
    ctx = make_ctx()
    result = CycleResult()
    done = handle_messages(ctx, [{"Body": odd, "ReceiptHandle": "h-odd"}], result)
    assert done == ["h-odd"] and result.failures == []


def test_a_state_change_whose_run_glue_describes_oddly_is_reported_the_others_stored(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    """Two runs of one job change state in one batch (read with one GetJobRuns); Glue's
    record of one lacks its start. The other is stored, the odd one is named, and both
    messages go: asking Glue again cannot mend its record, and the reconciliation reports
    the run on every pass."""
    create_job("orders-ingest")
    good = add_run("orders-ingest", t0 - timedelta(minutes=5), "SUCCEEDED")
    odd = add_run("orders-ingest", t0 - timedelta(minutes=4), "FAILED", error="boom")
    ctx = make_ctx()
    collect_inventory(ctx)
    mangle(
        ctx.aws.client("glue"),
        "GetJobRuns",
        lambda p: _where(p["JobRuns"], "Id", odd.job_run_id).update(StartedOn=None),
    )
    messages = []
    for run, state in ((good, "SUCCEEDED"), (odd, "FAILED")):
        doc = json.loads(raw("event_glue_job_state_change_succeeded"))
        doc["detail"].update(jobName="orders-ingest", jobRunId=run.job_run_id, state=state)
        messages.append({"Body": json.dumps(doc), "ReceiptHandle": f"h-{state}"})
    result = CycleResult()

    done = handle_messages(ctx, messages, result)

    assert sorted(done) == ["h-FAILED", "h-SUCCEEDED"]
    assert result.failures == [
        f"run {odd.job_run_id} of orders-ingest: MalformedResponse: "
        "Glue job run: StartedOn is missing"
    ]
    with ctx.sessions() as s:
        assert list(s.scalars(select(JobRun.run_id))) == [good.job_run_id]
