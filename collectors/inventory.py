"""Inventory: Glue jobs (with schedules) and Lambda functions, with their tags.

Cost per cycle: GetJobs and GetTriggers pages, ListFunctions pages (50 a page),
and GetResources pages for all tags at once — never one call per resource.
Resources that disappear are marked gone (their history stays); ones that come
back are un-marked.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from collectors.context import CollectorContext, CycleResult
from dashapp.aws import glue, lambda_, tagging
from dashapp.db import upsert
from dashapp.models import GlueJob, LambdaFunction

_KEEP_FIRST_SEEN = ("first_seen_at",)


def collect_inventory(ctx: CollectorContext) -> CycleResult:
    result = CycleResult()
    now = ctx.clock.now()
    tags: Tags
    try:
        raw_tags = tagging.tags_by_arn(
            ctx.aws.client("resourcegroupstaggingapi"), ["glue:job", "lambda:function"]
        )
        # Keyed by service too: a Glue job and a Lambda function may share a name.
        tags = {(arn.split(":")[2], tagging.name_from_arn(arn)): t for arn, t in raw_tags.items()}
    except Exception as e:  # noqa: BLE001 - without tags the inventory is still worth storing
        result.failed("tags (GetResources)", e)
        tags = None

    try:
        _glue_jobs(ctx, now, tags, result)
    except Exception as e:  # noqa: BLE001 - one source failing must not stop the other
        result.failed("Glue jobs", e)
    try:
        _lambda_functions(ctx, now, tags, result)
    except Exception as e:  # noqa: BLE001
        result.failed("Lambda functions", e)
    if len(result.failures) >= 2 and result.items == 0:
        raise RuntimeError("; ".join(result.failures))
    return result


Tags = dict[tuple[str, str], dict[str, str]] | None  # (service, name) -> tags


def _glue_jobs(ctx: CollectorContext, now: datetime, tags: Tags, result: CycleResult) -> None:
    client = ctx.aws.client("glue")
    jobs = list(glue.iter_jobs(client))
    schedules = glue.job_schedules(glue.iter_triggers(client))
    rows = [
        glue.parse_job(
            j,
            now,
            schedule=schedules.get(j["Name"]),
            tags=(tags or {}).get(("glue", j["Name"]), {}),
        )
        for j in jobs
    ]
    update_cols = [c for c in rows[0] if c not in ("name", *_KEEP_FIRST_SEEN)] if rows else []
    if tags is None:
        update_cols = [c for c in update_cols if c != "tags"]  # keep the tags we knew
    with ctx.sessions.begin() as session:
        result.items += upsert(session, GlueJob, rows, conflict=["name"], update=update_cols)
        # The listing completed: whatever we knew and did not see now is gone from the account.
        session.execute(
            update(GlueJob)
            .where(GlueJob.gone_at.is_(None), GlueJob.last_seen_at < now)
            .values(gone_at=now)
            .execution_options(synchronize_session=False)
        )


def _lambda_functions(
    ctx: CollectorContext, now: datetime, tags: Tags, result: CycleResult
) -> None:
    client = ctx.aws.client("lambda")
    rows = [
        lambda_.parse_function(f, now, tags=(tags or {}).get(("lambda", f["FunctionName"]), {}))
        for f in lambda_.iter_functions(client)
    ]
    update_cols = [c for c in rows[0] if c not in ("name", *_KEEP_FIRST_SEEN)] if rows else []
    if tags is None:
        update_cols = [c for c in update_cols if c != "tags"]
    with ctx.sessions.begin() as session:
        result.items += upsert(session, LambdaFunction, rows, conflict=["name"], update=update_cols)
        session.execute(
            update(LambdaFunction)
            .where(LambdaFunction.gone_at.is_(None), LambdaFunction.last_seen_at < now)
            .values(gone_at=now)
            .execution_options(synchronize_session=False)
        )
