"""Pruning: metric points, log events and runs older than their retention settings.

Deletes go in chunks so a large backlog never holds a long lock (SQLite) or a
giant transaction (PostgreSQL) while pages are reading.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from collectors.context import CollectorContext, CycleResult
from dashapp.models import JobRun, LogEvent, LogStream, MetricPoint

CHUNK = 5000


def collect_retention(ctx: CollectorContext) -> CycleResult:
    result = CycleResult()
    now = ctx.clock.now()
    s = ctx.settings
    result.items += _prune(
        ctx,
        MetricPoint,
        MetricPoint.id,
        MetricPoint.ts,
        now - timedelta(days=s.retention_metrics_days),
    )
    result.items += _prune(
        ctx, LogEvent, LogEvent.id, LogEvent.ts, now - timedelta(days=s.retention_logs_days)
    )
    logs_cutoff = now - timedelta(days=s.retention_logs_days)
    with ctx.sessions.begin() as session:
        result.items += (
            session.execute(delete(LogStream).where(LogStream.last_event_at < logs_cutoff)).rowcount
            or 0
        )
    result.items += _prune(
        ctx, JobRun, JobRun.run_id, JobRun.started_at, now - timedelta(days=s.retention_runs_days)
    )
    return result


def _prune(ctx: CollectorContext, model: Any, key: Any, ts: Any, cutoff: Any) -> int:
    total = 0
    while not ctx.stop.is_set():
        with ctx.sessions.begin() as session:
            ids = list(session.scalars(select(key).where(ts < cutoff).limit(CHUNK)))
            if not ids:
                return total
            session.execute(delete(model).where(key.in_(ids)))
            total += len(ids)
    return total
