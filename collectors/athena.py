"""Athena: follow every unfinished query until it ends, and keep the Glue catalog cache.

The web only starts and stops queries; this is the one place their state is read
from Athena, so a hundred people watching one query cost one BatchGetQueryExecution
a second (50 ids a call), and a query started from a page that was closed is still
followed to its end. The catalog (databases → tables → columns) is copied so the
schema browser never waits on GetTables.

Each call of 50 stands alone: a batch that fails is reported with how many queries it
held (they are read again next cycle) and the other batches' states are still stored;
only a cycle in which every batch failed fails. An id Athena lists as unprocessed is
retried while only the read failed (throttled, an internal error). A query Athena no
longer knows (an id it never had, or one past its 45-day history) ends FAILED at once
with that reason, and one Athena keeps failing to read ends so after UNREADABLE_LIMIT:
no query is shown running forever, and none is given up while it may still be read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from collectors.context import CollectorContext, CycleResult, log
from dashapp.aws import athena, glue_catalog
from dashapp.aws.shape import MalformedResponse
from dashapp.db import upsert
from dashapp.models import AthenaQuery, CatalogTable

# How long a query Athena keeps failing to read (throttled, internal errors) is retried
# before it is no longer followed; an id Athena does not know ends at once.
UNREADABLE_LIMIT = timedelta(minutes=10)
UNREADABLE_SINCE = "athena_unreadable_since"  # ctx.memory: execution id -> first unread


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
        ctx.memory.pop(UNREADABLE_SINCE, None)
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
        result.failures += [f"batch {number}: {m}" for m in answer.malformed]
    if len(result.failures) == len(batches):
        raise RuntimeError(f"every batch failed; first: {result.failures[0]}")
    ended = _ended_unreadable(ctx, result, active, found, unread, now)
    with ctx.sessions.begin() as session:
        if found:
            # By primary key, an executemany per set of columns (rows sorted by it): a
            # hundred queries followed every second cost a hundred single UPDATEs.
            rows = [{"execution_id": e.execution_id, **execution_values(e, now)} for e in found]
            session.execute(update(AthenaQuery), sorted(rows, key=sorted))
        for e in found:
            result.items += 1
            if e.state in athena.ACTIVE_STATES and e.submitted_at is not None:
                result.observe_lag((now - e.submitted_at).total_seconds())
        for execution_id, reason in ended.items():
            # Only a query still active: one the web meanwhile saw end keeps Athena's state.
            session.execute(
                update(AthenaQuery)
                .where(
                    AthenaQuery.execution_id == execution_id,
                    AthenaQuery.state.in_(sorted(athena.ACTIVE_STATES)),
                )
                .values(state="FAILED", state_reason=reason, completed_at=now, checked_at=now)
            )
            result.items += 1
    return result


def _ended_unreadable(
    ctx: CollectorContext,
    result: CycleResult,
    active: list[str],
    found: list[athena.Execution],
    unread: list[athena.Unread],
    now: datetime,
) -> dict[str, str]:
    """The ids to stop following, with the reason the page shows; the others are retried.

    An id Athena does not know ends at once. Any other unread id is retried every cycle and
    ends only once it has been unreadable for UNREADABLE_LIMIT: counted from the first cycle
    that could not read it (kept in the context's memory, so a restart counts afresh and a
    query is never given up early), not from its last check, which an outage of the whole
    call also makes old.
    """
    since: dict[str, datetime] = ctx.memory.setdefault(UNREADABLE_SINCE, {})
    still_active, read = set(active), {e.execution_id for e in found}
    for execution_id in list(since):
        if execution_id not in still_active or execution_id in read:
            del since[execution_id]
    ended: dict[str, str] = {}
    for u in unread:
        first = since.setdefault(u.execution_id, now)
        if u.unknown_to_athena:
            ended[u.execution_id] = (
                f"Athena no longer knows this query ({u.reason}). It is older than Athena's "
                "45-day history or was never run in this account and region, so its outcome "
                "cannot be read."
            )
        elif now - first >= UNREADABLE_LIMIT:
            minutes = int((now - first).total_seconds() // 60)
            ended[u.execution_id] = (
                f"No longer followed: Athena could not read this query for {minutes} minutes "
                f"(last answer: {u.reason}). Its outcome is unknown here; Athena's console may "
                "still show it."
            )
        else:
            result.failures.append(
                f"{u.execution_id}: Athena could not read it ({u.reason}); retried next cycle"
            )
            continue
        del since[u.execution_id]
        log.warning("athena query %s: %s", u.execution_id, ended[u.execution_id])
    return ended


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
