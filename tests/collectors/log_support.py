"""What the log collector tests put into CloudWatch Logs and the database, and read back."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from sqlalchemy import select

from collectors.context import CollectorContext
from dashapp.db import upsert
from dashapp.models import LambdaFunction, LogEvent, MetricPoint
from tests.collectors.conftest import client


def put_lines(group: str, stream: str, lines: list[tuple[datetime, str]]) -> None:
    """Append `lines` to a stream, creating its group and the stream on first use."""
    logs = client("logs")
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=group)
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    if lines:
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": int(ts.timestamp() * 1000), "message": m} for ts, m in lines],
        )


def lambda_function(
    ctx: CollectorContext,
    name: str,
    invocations: float | None,
    *,
    invoked_at: datetime | None = None,
) -> None:
    """A live function in the inventory and, unless `invocations` is None, its Invocations
    point for the minute `invoked_at` (two minutes ago by default): what the metrics
    collector would have stored."""
    now = ctx.clock.now()
    with ctx.sessions.begin() as s:
        upsert(
            s,
            LambdaFunction,
            [
                {
                    "name": name,
                    "arn": f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
                    "tags": {},
                    "first_seen_at": now,
                    "last_seen_at": now,
                }
            ],
            conflict=["name"],
        )
        if invocations is not None:
            at = invoked_at or now - timedelta(minutes=2)
            s.add(
                MetricPoint(
                    resource_type="lambda_function",
                    resource_name=name,
                    dimension="",
                    metric="Invocations",
                    stat="Sum",
                    ts=at.replace(second=0, microsecond=0),
                    period_s=60,
                    value=invocations,
                )
            )


def lambda_lines(ctx: CollectorContext) -> list[tuple[str, str, str]]:
    """(group, level, message) of every stored Lambda line, oldest first."""
    with ctx.sessions() as s:
        q = (
            select(LogEvent)
            .where(LogEvent.log_group.like("/aws/lambda/%"))
            .order_by(LogEvent.ts, LogEvent.id)
        )
        return [(e.log_group, e.level, e.message) for e in s.scalars(q)]
