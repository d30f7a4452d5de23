"""Athena: follow every unfinished query until it ends, and keep the Glue catalog cache.

The web only starts and stops queries; this is the one place their state is read
from Athena, so a hundred people watching one query cost one BatchGetQueryExecution
a second (50 ids a call), and a query started from a page that was closed is still
followed to its end. The catalog (databases → tables → columns) is copied so the
schema browser never waits on GetTables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from collectors.context import CollectorContext, CycleResult
from dashapp.aws import athena, glue_catalog
from dashapp.aws.shape import MalformedResponse
from dashapp.db import upsert
from dashapp.models import AthenaQuery, CatalogTable


def follow_queries(ctx: CollectorContext) -> CycleResult:
    """One cycle: read every QUEUED/RUNNING query's execution and store what changed."""
    result = CycleResult()
    with ctx.sessions() as session:
        active = list(
            session.scalars(
                select(AthenaQuery.execution_id).where(
                    AthenaQuery.state.in_(sorted(athena.ACTIVE_STATES))
                )
            )
        )
    if not active:
        return result
    now = ctx.clock.now()
    found, unread = athena.get_executions(ctx.aws.client("athena"), active)
    for execution_id in unread:
        result.failures.append(f"{execution_id}: Athena could not read it (retried next cycle)")
    with ctx.sessions.begin() as session:
        for e in found:
            session.execute(
                update(AthenaQuery)
                .where(AthenaQuery.execution_id == e.execution_id)
                .values(**execution_values(e, now))
            )
            result.items += 1
            if e.state in athena.ACTIVE_STATES and e.submitted_at is not None:
                result.observe_lag((now - e.submitted_at).total_seconds())
    return result


def execution_values(e: athena.Execution, now: datetime) -> dict[str, object]:
    """The `athena_queries` columns an execution sets (what the web and collector both write)."""
    values: dict[str, object] = {
        "state": e.state,
        "state_reason": e.state_reason,
        "data_scanned_bytes": e.data_scanned_bytes,
        "engine_ms": e.engine_ms,
        "reused_result": e.reused_result,
        "checked_at": now,
    }
    if e.output_location:
        values["output_location"] = e.output_location
    if e.workgroup:
        values["workgroup"] = e.workgroup
    if e.state in athena.TERMINAL_STATES:
        values["completed_at"] = e.completed_at or now
    return values


def collect_catalog(ctx: CollectorContext) -> CycleResult:
    """Copy every database's tables; a table gone from the catalog leaves the cache, and one
    database failing leaves the others (and its own last good copy) in place."""
    result = CycleResult()
    client = ctx.aws.client("glue")
    now = ctx.clock.now()
    databases = list(glue_catalog.iter_databases(client))
    for database in databases:
        # kept: tables listed in a shape we cannot read, left as cached
        rows: list[dict[str, Any]] = []
        kept: list[str | None] = []
        try:
            for t in glue_catalog.iter_tables(client, database):
                try:
                    rows.append(glue_catalog.parse_table(database, t, now))
                except MalformedResponse as e:
                    name = t.get("Name") if isinstance(t, dict) else None
                    result.failed(f"catalog table {database}.{name or '(unnamed)'}", e)
                    kept.append(name if isinstance(name, str) else None)
        except Exception as e:  # noqa: BLE001 - one database failing must not stop the others
            result.failed(f"catalog database {database}", e)
            continue
        with ctx.sessions.begin() as session:
            result.items += upsert(session, CatalogTable, rows, conflict=("database", "name"))
            if None not in kept:  # an unnamed table could be any cached one: then drop none
                listed = [r["name"] for r in rows] + [k for k in kept if k]
                session.execute(
                    delete(CatalogTable).where(
                        CatalogTable.database == database,
                        CatalogTable.name.not_in(listed or [""]),
                    )
                )
    with ctx.sessions.begin() as session:
        session.execute(delete(CatalogTable).where(CatalogTable.database.not_in(databases or [""])))
    return result
