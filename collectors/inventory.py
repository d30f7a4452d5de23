"""Inventory: Glue jobs (with schedules) and Lambda functions, with their tags.

Cost per cycle: GetJobs and GetTriggers pages, ListFunctions pages (50 a page),
and GetResources pages for all tags at once — never one call per resource.
Resources that disappear are marked gone (their history stays); ones that come
back are un-marked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import update

from collectors.context import CollectorContext, CycleResult
from dashapp.aws import glue, lambda_, tagging
from dashapp.aws.shape import MalformedResponse
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

    def parse(raw: Any) -> dict[str, Any]:
        name = _name(raw, "Name") or ""
        tagged = (tags or {}).get(("glue", name), {})
        return glue.parse_job(raw, now, schedule=schedules.get(name), tags=tagged)

    rows, skipped = _parse_each(jobs, "Name", "Glue job", parse, result)
    update_cols = [c for c in rows[0] if c not in ("name", *_KEEP_FIRST_SEEN)] if rows else []
    if tags is None:
        update_cols = [c for c in update_cols if c != "tags"]  # keep the tags we knew
    with ctx.sessions.begin() as session:
        result.items += upsert(session, GlueJob, rows, conflict=["name"], update=update_cols)
        _mark_gone(session, GlueJob, now, skipped)


def _lambda_functions(
    ctx: CollectorContext, now: datetime, tags: Tags, result: CycleResult
) -> None:
    client = ctx.aws.client("lambda")

    def parse(raw: Any) -> dict[str, Any]:
        tagged = (tags or {}).get(("lambda", _name(raw, "FunctionName") or ""), {})
        return lambda_.parse_function(raw, now, tags=tagged)

    functions = list(lambda_.iter_functions(client))
    rows, skipped = _parse_each(functions, "FunctionName", "Lambda function", parse, result)
    update_cols = [c for c in rows[0] if c not in ("name", *_KEEP_FIRST_SEEN)] if rows else []
    if tags is None:
        update_cols = [c for c in update_cols if c != "tags"]
    with ctx.sessions.begin() as session:
        result.items += upsert(session, LambdaFunction, rows, conflict=["name"], update=update_cols)
        _mark_gone(session, LambdaFunction, now, skipped)


def _mark_gone(
    session: Any,
    model: type[GlueJob] | type[LambdaFunction],
    now: datetime,
    skipped: list[str | None],
) -> None:
    """The listing completed: whatever we knew and did not see now is gone from the account.
    A resource listed in a shape we could not read is still there; an unnamed one could be
    any of them, so then nothing is marked."""
    if None in skipped:
        return
    session.execute(
        update(model)
        .where(model.gone_at.is_(None), model.last_seen_at < now)
        .where(model.name.not_in(skipped or [""]))
        .values(gone_at=now)
        .execution_options(synchronize_session=False)
    )


def _name(raw: Any, key: str) -> str | None:
    value = raw.get(key) if isinstance(raw, dict) else None
    return value if isinstance(value, str) and value else None


def _parse_each(
    listed: list[Any],
    key: str,
    what: str,
    parse: Callable[[Any], dict[str, Any]],
    result: CycleResult,
) -> tuple[list[dict[str, Any]], list[str | None]]:
    """(rows, names skipped, None for one without a name): a resource AWS describes in a
    shape we cannot read is reported on its own and left as it was; the others are stored."""
    rows: list[dict[str, Any]] = []
    skipped: list[str | None] = []
    for raw in listed:
        try:
            rows.append(parse(raw))
        except MalformedResponse as e:
            name = _name(raw, key)
            result.failed(f"{what} {name or '(unnamed)'}", e)
            skipped.append(name)
    return rows, skipped
