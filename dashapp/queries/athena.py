"""Reads of the Athena workbench: a query, the history, cost totals, the catalog, saved queries.

History lives here beyond Athena's 45 days; costs are summed per query (each query is
billed rounded up to the MB with a 10 MB minimum, so a sum of bytes would under-count).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dashapp.aws.athena import STATES, billed_bytes
from dashapp.models import AthenaQuery, CatalogTable, SavedQuery
from dashapp.queries.sql import contains

HISTORY_LIMIT = 200


@dataclass(frozen=True)
class HistoryFilter:
    since: datetime
    until: datetime
    user: str | None = None
    state: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class CostTotals:
    """Bytes billed and queries run: today for the user, today for everyone, per day."""

    user_today_bytes: int
    user_today_queries: int
    team_today_bytes: int
    team_today_queries: int
    per_day: list[tuple[str, int, int]]  # (YYYY-MM-DD, bytes billed, queries), newest first


def query(session: Session, execution_id: str) -> AthenaQuery | None:
    return session.get(AthenaQuery, execution_id)


def history(session: Session, f: HistoryFilter, limit: int = HISTORY_LIMIT) -> list[AthenaQuery]:
    stmt = select(AthenaQuery).where(
        AthenaQuery.submitted_at >= f.since, AthenaQuery.submitted_at < f.until
    )
    if f.user:
        stmt = stmt.where(AthenaQuery.submitted_by == f.user)
    if f.state in STATES:
        stmt = stmt.where(AthenaQuery.state == f.state)
    if f.text:
        stmt = stmt.where(contains(AthenaQuery.sql, f.text))
    return list(session.scalars(stmt.order_by(AthenaQuery.submitted_at.desc()).limit(limit)))


def history_users(session: Session) -> list[str]:
    return list(
        session.scalars(select(AthenaQuery.submitted_by).distinct().order_by("submitted_by"))
    )


def cost_totals(session: Session, user: str, now: datetime, days: int = 7) -> CostTotals:
    """Billed bytes per query summed per user today, team today and per UTC day."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    since = today - timedelta(days=days - 1)
    rows = session.execute(
        select(
            AthenaQuery.submitted_by, AthenaQuery.submitted_at, AthenaQuery.data_scanned_bytes
        ).where(AthenaQuery.submitted_at >= since)
    )
    per_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    mine = [0, 0]
    team = [0, 0]
    for who, at, scanned in rows:
        billed = billed_bytes(scanned)
        day = per_day[at.strftime("%Y-%m-%d")]
        day[0] += billed
        day[1] += 1
        if at >= today:
            team[0] += billed
            team[1] += 1
            if who == user:
                mine[0] += billed
                mine[1] += 1
    days_listed = sorted(per_day.items(), reverse=True)
    return CostTotals(mine[0], mine[1], team[0], team[1], [(d, b, n) for d, (b, n) in days_listed])


def databases(session: Session) -> list[str]:
    return list(session.scalars(select(CatalogTable.database).distinct().order_by("database")))


def tables(session: Session, database: str | None = None) -> list[CatalogTable]:
    stmt = select(CatalogTable).order_by(CatalogTable.database, CatalogTable.name)
    if database:
        stmt = stmt.where(CatalogTable.database == database)
    return list(session.scalars(stmt))


def saved_queries(session: Session, user: str) -> list[SavedQuery]:
    """The user's own saved queries and every one shared with the team."""
    stmt = (
        select(SavedQuery)
        .where(or_(SavedQuery.owner == user, SavedQuery.shared.is_(True)))
        .order_by(SavedQuery.name)
    )
    return list(session.scalars(stmt))


def saved_query(session: Session, saved_id: int, user: str) -> SavedQuery | None:
    """A saved query the user may open: their own, or a shared one."""
    found = session.get(SavedQuery, saved_id)
    if found is None or (found.owner != user and not found.shared):
        return None
    return found


def partitioned_tables(catalog: Sequence[CatalogTable]) -> dict[str, list[str]]:
    """`table` and `database.table` → its partition key names, for the tables that have any."""
    found: dict[str, list[str]] = {}
    for t in catalog:
        keys = [k["name"] for k in t.partition_keys or []]
        if keys:
            found[t.name.lower()] = keys
            found[f"{t.database}.{t.name}".lower()] = keys
    return found
