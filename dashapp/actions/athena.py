"""Athena actions: run a query, cancel it, save it. Validated here, role-checked at the edge.

A run is recorded in `athena_queries` in the same transaction as its audit entry, as
QUEUED, the moment Athena accepts it, so its id can go into the URL at once; the
collector then follows it to its end. StartQueryExecution gets a client request
token, so a double click or a retried request starts one query, not two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dashapp.actions import audit
from dashapp.aws import athena
from dashapp.identity import Identity
from dashapp.models import AthenaQuery, SavedQuery

MAX_SQL_BYTES = 262_144  # Athena's limit on a query string
MAX_REUSE_MINUTES = 10_080  # result reuse looks back at most 7 days
PARAMETER_TYPES = ("string", "integer", "decimal", "boolean", "date", "timestamp")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$")
_STRINGS_AND_COMMENTS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.S)


class QueryError(ValueError):
    """A query the user must change before it can run, in words they can act on."""


@dataclass(frozen=True)
class RunResult:
    ok: bool
    message: str
    execution_id: str | None = None


def placeholders(sql: str) -> int:
    """How many `?` execution parameters the query has (outside strings and comments)."""
    return _STRINGS_AND_COMMENTS.sub("", sql).count("?")


def parameter_literal(kind: str, value: str) -> str:
    """A typed parameter as the Athena literal ExecutionParameters carries, or QueryError."""
    text = (value or "").strip()
    if kind == "string":
        return "'" + (value or "").replace("'", "''") + "'"
    if kind == "integer" and re.fullmatch(r"[+-]?\d{1,19}", text):
        return text
    if kind == "decimal" and re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        return text
    if kind == "boolean" and text.lower() in ("true", "false"):
        return text.lower()
    if kind == "date" and _DATE.match(text):
        return f"DATE '{text}'"
    if kind == "timestamp" and _TIMESTAMP.match(text):
        return f"TIMESTAMP '{text.replace('T', ' ')}'"
    if kind not in PARAMETER_TYPES:
        raise QueryError(f"parameter type {kind!r} is not one of {', '.join(PARAMETER_TYPES)}")
    raise QueryError(f"{value!r} is not a {kind}")


def _utf8(text: str, what: str) -> bytes:
    """The text as Athena receives it; a lone UTF-16 surrogate (pasted from a broken file,
    sent by a crafted request) cannot be encoded, and would fail the call after the click."""
    try:
        return text.encode()
    except UnicodeEncodeError as e:
        raise QueryError(
            f"{what} holds a character that is not text (U+{ord(text[e.start]):04X} at "
            f"position {e.start + 1}); delete it or type it again"
        ) from None


def validate(
    sql: str | None, parameters: list[dict[str, str]] | None, reuse_minutes: int | None
) -> tuple[str, list[str]]:
    """The SQL to send and its parameter literals, or QueryError naming what to change."""
    text = (sql or "").strip().rstrip(";").strip()
    if not text:
        raise QueryError("write a query first")
    if len(_utf8(text, "the query")) > MAX_SQL_BYTES:
        raise QueryError(f"the query is longer than Athena's {MAX_SQL_BYTES:,} bytes")
    params = parameters or []
    wanted = placeholders(text)
    if wanted != len(params):
        raise QueryError(
            f"the query has {wanted} parameter{'s' if wanted != 1 else ''} (?) "
            f"but {len(params)} value{'s were' if len(params) != 1 else ' was'} given"
        )
    literals = []
    for i, p in enumerate(params, 1):
        try:
            literal = parameter_literal(p.get("type", "string"), p.get("value", ""))
            literals.append(_utf8(literal, "the value").decode())
        except QueryError as e:
            raise QueryError(f"parameter {i}: {e}") from None
    if reuse_minutes is not None and not 1 <= reuse_minutes <= MAX_REUSE_MINUTES:
        raise QueryError(f"result reuse must be 1 to {MAX_REUSE_MINUTES} minutes")
    return text, literals


def run_query(
    sessions: sessionmaker[Session],
    client: Any,
    identity: Identity,
    *,
    sql: str | None,
    database: str,
    workgroup: str,
    output_location: str,
    now: datetime,
    request_token: str,
    parameters: list[dict[str, str]] | None = None,
    reuse_minutes: int | None = None,
    saved_query_id: int | None = None,
    forked_from: str | None = None,
) -> RunResult:
    """Validate, start the query in Athena, record it (QUEUED) and audit it."""
    target = database
    try:
        text, literals = validate(sql, parameters, reuse_minutes)
    except QueryError as e:
        return RunResult(False, f"Not run: {e}.")
    try:
        execution_id = athena.start_query(
            client,
            text,
            database=database,
            workgroup=workgroup,
            output_location=output_location,
            parameters=literals,
            reuse_minutes=reuse_minutes,
            request_token=request_token,
        )
    except (ClientError, BotoCoreError) as e:
        with sessions.begin() as session:
            audit.record(
                session,
                identity,
                action="athena.run",
                target=target,
                outcome="error",
                at=now,
                detail={"error": str(e), "sql": text[:2000]},
            )
        return RunResult(False, f"Athena refused the query: {e}")
    with sessions.begin() as session:
        if session.get(AthenaQuery, execution_id) is None:
            session.add(
                AthenaQuery(
                    execution_id=execution_id,
                    sql=text,
                    database=database,
                    workgroup=workgroup,
                    submitted_by=identity.user,
                    state="QUEUED",
                    submitted_at=now,
                    parameters=list(parameters or []),
                    reuse_minutes=reuse_minutes,
                    saved_query_id=saved_query_id,
                    forked_from=forked_from,
                )
            )
            audit.record(
                session,
                identity,
                action="athena.run",
                target=execution_id,
                outcome="ok",
                at=now,
                detail={"database": database, "sql": text[:2000]},
            )
    return RunResult(True, "Query started.", execution_id)


def cancel_query(
    sessions: sessionmaker[Session],
    client: Any,
    identity: Identity,
    execution_id: str,
    now: datetime,
) -> RunResult:
    """StopQueryExecution on an unfinished query; the collector records the CANCELLED state."""
    with sessions() as session:
        found = session.get(AthenaQuery, execution_id)
        state = found.state if found else None
    if found is None:
        return RunResult(False, f"No query {execution_id!r} was run from here.")
    if state in athena.TERMINAL_STATES:
        return RunResult(False, f"The query already ended ({state}); there is nothing to cancel.")
    try:
        athena.stop_query(client, execution_id)
    except (ClientError, BotoCoreError) as e:
        outcome, message = "error", f"Athena refused to cancel: {e}"
    else:
        outcome, message = "ok", "Cancel requested; waiting for Athena to confirm."
    with sessions.begin() as session:
        audit.record(
            session, identity, action="athena.cancel", target=execution_id, outcome=outcome, at=now
        )
    return RunResult(outcome == "ok", message, execution_id)


def save_query(
    sessions: sessionmaker[Session],
    identity: Identity,
    *,
    name: str | None,
    sql: str | None,
    database: str | None,
    shared: bool,
    now: datetime,
    description: str = "",
) -> RunResult:
    """Save (or update, by owner and name) a named query, private or shared with the team."""
    title = (name or "").strip()
    text = (sql or "").strip()
    if not title:
        return RunResult(False, "Not saved: give the query a name.")
    if len(title) > 255:
        return RunResult(False, "Not saved: the name is longer than 255 characters.")
    if not text:
        return RunResult(False, "Not saved: the query is empty.")
    if database is not None and len(database) > 255:  # no catalog database is named longer
        return RunResult(False, "Not saved: the database name is longer than 255 characters.")
    with sessions.begin() as session:
        found = session.scalar(
            select(SavedQuery).where(SavedQuery.owner == identity.user, SavedQuery.name == title)
        )
        if found is None:
            found = SavedQuery(name=title, owner=identity.user, created_at=now, sql=text)
            session.add(found)
        found.sql, found.database, found.shared = text, database, shared
        found.description, found.updated_at = description, now
        session.flush()
        audit.record(
            session,
            identity,
            action="athena.save",
            target=title,
            outcome="ok",
            at=now,
            detail={"shared": shared, "id": found.id},
        )
        saved_id = found.id
    return RunResult(
        True, f"Saved as “{title}”" + (" (shared)." if shared else " (private)."), str(saved_id)
    )
