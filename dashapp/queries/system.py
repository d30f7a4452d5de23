"""Collector freshness and the database itself: what `/readyz` and the System page read.

Interpretation that needs no database (`assess_freshness`) is a separate pure
function so it is tested without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from dashapp.db import current_revision, head_revision
from dashapp.models import CollectorStatus

FreshnessState = Literal["empty", "fresh", "stale"]


# --- collectors ---------------------------------------------------------------


def database_read_only(session: Session) -> bool:
    """Whether the database accepts no writes: a standby, or transactions read-only by
    default (`default_transaction_read_only`). SQLite has no such mode."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    sql = "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'"
    return bool(session.execute(text(sql)).scalar())


def error_since_success(status: CollectorStatus) -> str | None:
    """The first line of the collector's last error when it came after its last success."""
    if not status.last_error or status.last_error_at is None:
        return None
    if status.last_success_at is not None and status.last_error_at <= status.last_success_at:
        return None
    return status.last_error.splitlines()[0]


def collector_statuses(session: Session) -> list[CollectorStatus]:
    """Every collector's last reported status, by name."""
    return list(session.scalars(select(CollectorStatus).order_by(CollectorStatus.name)))


def collector_age_s(status: CollectorStatus, now: datetime) -> float | None:
    """Seconds since the collector last succeeded; None when it never has."""
    if status.last_success_at is None:
        return None
    return (now - status.last_success_at).total_seconds()


def staleness_limit_s(status: CollectorStatus, stale_after_s: int) -> float:
    """How old a collector's last success may be: `stale_after_s`, or two of its intervals.

    A job that runs hourly (retention) is not late after three minutes.
    """
    return max(float(stale_after_s), 2.0 * (status.interval_s or 0.0))


def is_collector_stale(status: CollectorStatus, now: datetime, stale_after_s: int) -> bool:
    """Stale when it never succeeded or its last success is older than its limit."""
    age = collector_age_s(status, now)
    return age is None or age > staleness_limit_s(status, stale_after_s)


@dataclass(frozen=True)
class LaggingCollector:
    """A collector whose data can no longer be trusted to be current."""

    name: str
    last_success_at: datetime | None
    age_s: float | None


@dataclass(frozen=True)
class Freshness:
    """How current the data on screen is, as the shell's "data as of" indicator shows it.

    `as_of` is the oldest last success among the collectors that have succeeded:
    every page is at least that current, which is the honest promise to make.
    """

    state: FreshnessState
    as_of: datetime | None
    age_s: float | None
    stale_after_s: int
    collectors: int
    lagging: tuple[LaggingCollector, ...] = ()


def assess_freshness(
    statuses: Sequence[CollectorStatus], now: datetime, stale_after_s: int
) -> Freshness:
    """Interpret collector statuses: empty (none reported), fresh, or stale (any lagging)."""
    if not statuses:
        return Freshness("empty", None, None, stale_after_s, 0)
    successes = [s.last_success_at for s in statuses if s.last_success_at is not None]
    as_of = min(successes) if successes else None
    lagging = tuple(
        LaggingCollector(s.name, s.last_success_at, collector_age_s(s, now))
        for s in statuses
        if is_collector_stale(s, now, stale_after_s)
    )
    return Freshness(
        state="stale" if lagging else "fresh",
        as_of=as_of,
        age_s=(now - as_of).total_seconds() if as_of is not None else None,
        stale_after_s=stale_after_s,
        collectors=len(statuses),
        lagging=lagging,
    )


def freshness(session: Session, now: datetime, stale_after_s: int) -> Freshness:
    """The freshness of the data in the database at `now`."""
    return assess_freshness(collector_statuses(session), now, stale_after_s)


# --- the database itself ------------------------------------------------------


@dataclass(frozen=True)
class DatabaseInfo:
    """Which database the app talks to and whether its schema matches the code."""

    backend: str
    server_version: str
    revision: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.revision == self.head


_BACKEND_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}


def database_info(engine: Engine) -> DatabaseInfo:
    """Backend, server version and migration revision (raises when unreachable)."""
    dialect = engine.dialect.name
    with engine.connect() as conn:
        if dialect == "sqlite":
            version = str(conn.execute(text("SELECT sqlite_version()")).scalar())
        elif dialect == "postgresql":
            # "16.4 (Debian 16.4-1.pgdg120+1)": the packager's suffix is noise on a status page.
            version = str(conn.execute(text("SHOW server_version")).scalar()).split(" ")[0]
        else:
            version = ".".join(str(p) for p in engine.dialect.server_version_info or ())
    return DatabaseInfo(
        backend=_BACKEND_NAMES.get(dialect, dialect),
        server_version=version,
        revision=current_revision(engine),
        head=head_revision(),
    )
