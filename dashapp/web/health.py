"""`/healthz` and `/readyz`: what a load balancer and an orchestrator ask the web tier.

`/healthz` answers from the process alone, so a slow database never gets a healthy
worker killed. `/readyz` says whether the pages would show current data: the
database answers, its schema is the one this code expects, and every collector
succeeded recently. Each failed check becomes a plain sentence an operator can
act on; `readiness()` is a pure function of a database handle, a time and the
settings so both backends are tested directly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dashapp.clock import iso_z
from dashapp.config import Settings
from dashapp.db import current_revision, db_error_line, head_revision
from dashapp.queries import system as queries
from dashapp.services import services

UPGRADE_HINT = "run `python -m dashapp db upgrade`"


def readiness(
    bind: Engine | Session, now: datetime, settings: Settings
) -> tuple[bool, list[str], dict[str, Any]]:
    """Check database reachability, migration state and collector freshness.

    Returns (ready, reasons, details): `reasons` are sentences naming what is wrong
    and, where there is one, the fix; `details` is JSON-ready context for humans
    reading the probe's output.
    """
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    session = bind if isinstance(bind, Session) else Session(engine)
    reasons: list[str] = []
    details: dict[str, Any] = {
        "checked_at": iso_z(now),
        "database": {"backend": engine.dialect.name},
    }
    try:
        session.execute(text("SELECT 1"))
        revision = current_revision(engine)
        head = head_revision()
        details["database"].update(revision=revision, head=head)
        if revision is None:
            reasons.append(f"database has no schema (never migrated): {UPGRADE_HINT}")
            return False, reasons, details
        if revision != head:
            reasons.append(f"database at revision {revision}, code expects {head}: {UPGRADE_HINT}")
            return False, reasons, details
        read_only = queries.database_read_only(session)
        details["database"]["read_only"] = read_only
        statuses = queries.collector_statuses(session)
    except SQLAlchemyError as e:
        reasons.append(f"database unreachable: {db_error_line(e)}")
        return False, reasons, details
    finally:
        if session is not bind:
            session.close()

    details["collectors"] = [
        {
            "name": s.name,
            "last_success_at": iso_z(s.last_success_at) if s.last_success_at else None,
            "age_s": _round(queries.collector_age_s(s, now)),
            "limit_s": queries.staleness_limit_s(s, settings.stale_after_s),
        }
        for s in statuses
    ]
    if read_only:
        reasons.append(
            "database is read-only (a standby, or default_transaction_read_only is on): "
            "collectors cannot store anything and actions are refused"
        )
    if not statuses:
        reasons.append("no collector has reported yet: start one with `python -m collectors`")
    for s in statuses:
        age = queries.collector_age_s(s, now)
        if age is None:
            last_error = f" (last error: {s.last_error.splitlines()[0]})" if s.last_error else ""
            reasons.append(f"collector {s.name} has not succeeded yet{last_error}")
        elif age > (limit := queries.staleness_limit_s(s, settings.stale_after_s)):
            error = queries.error_since_success(s)
            reasons.append(
                f"collector {s.name} last succeeded {age:.0f} s ago (limit {limit:.0f} s)"
                + (f"; last error: {error}" if error else "")
            )
    return not reasons, reasons, details


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _json(status: int, body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def health_blueprint() -> Blueprint:
    """A fresh blueprint per app, so apps in one process share nothing."""
    bp = Blueprint("health", __name__)

    @bp.get("/healthz")
    def healthz() -> Response:
        return _json(200, {"status": "ok"})

    @bp.get("/readyz")
    def readyz() -> Response:
        svc = services()
        ok, reasons, details = readiness(svc.engine, svc.clock.now(), svc.settings)
        if ok:
            return _json(200, {"status": "ready", **details})
        return _json(503, {"status": "unready", "reasons": reasons, **details})

    return bp
