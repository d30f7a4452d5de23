"""Athena: follow every unfinished query until it ends, and keep the Glue catalog cache.

The web only starts and stops queries; this is the one place their state is read
from Athena, so a hundred people watching one query cost one BatchGetQueryExecution
a second (50 ids a call), and a query started from a page that was closed is still
followed to its end. The catalog (databases → tables → columns) is copied so the
schema browser never waits on GetTables.

Each call of 50 stands alone: a batch that fails is reported with how many queries it
held (they are read again next cycle) and the other batches' states are still stored;
only a cycle in which every batch failed fails. An id Athena lists as unprocessed is
reported with Athena's reason and read again next cycle.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from collectors.context import CollectorContext, CycleResult
from dashapp.aws import athena, glue_catalog
from dashapp.db import upsert
from dashapp.models import AthenaQuery, CatalogTable


def follow_queries(ctx: CollectorContext) -> CycleResult:
    """One cycle: read every QUEUED/RUNNING query's execution and store what changed."""
    result = CycleResult()
    with ctx.sessions() as session:
        active = list(
            session.scalars(
                select(AthenaQuery.execution_id)
                .where(AthenaQuery.state.in_(sorted(athena.ACTIVE_STATES)))
                .order_by(AthenaQuery.submitted_at, AthenaQuery.execution_id)
            )
        )
    if not active:
        return result
    now = ctx.clock.now()
    client = ctx.aws.client("athena")
    batches = athena.execution_batches(active)
    found: list[athena.Execution] = []
    unread: list[athena.Unread] = []
    for number, ids in enumerate(batches, 1):
        try:
            answer = athena.get_execution_batch(client, ids)
        except Exception as e:  # noqa: BLE001 - one batch failing must not lose the others
            result.failed(
                f"BatchGetQueryExecution batch {number} of {len(batches)} ({len(ids)} queries "
                f"from {ids[0]}, retried next cycle)",
                e,
            )
            continue
        found += answer.found
        unread += answer.unread
    if len(result.failures) == len(batches):
        raise RuntimeError(f"every batch failed; first: {result.failures[0]}")
    for u in unread:
        result.failures.append(
            f"{u.execution_id}: Athena could not read it ({u.reason}); retried next cycle"
        )
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
        try:
            rows = [
                glue_catalog.parse_table(database, t, now)
                for t in glue_catalog.iter_tables(client, database)
            ]
        except Exception as e:  # noqa: BLE001 - one database failing must not stop the others
            result.failed(f"catalog database {database}", e)
            continue
        with ctx.sessions.begin() as session:
            result.items += upsert(session, CatalogTable, rows, conflict=("database", "name"))
            session.execute(
                delete(CatalogTable).where(
                    CatalogTable.database == database,
                    CatalogTable.name.not_in([r["name"] for r in rows] or [""]),
                )
            )
    with ctx.sessions.begin() as session:
        session.execute(delete(CatalogTable).where(CatalogTable.database.not_in(databases or [""])))
    return result
