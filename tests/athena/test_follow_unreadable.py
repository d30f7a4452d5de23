"""Queries Athena lists as unprocessed: retried while the read only failed, ended with a
reason once Athena no longer knows them or cannot read them for ten minutes.

Why: before, every unprocessed id stayed QUEUED/RUNNING forever — shown running on the
page, re-read and reported as a collector failure every second — even an id Athena will
never answer again (one past its 45-day history, or never in this account). Equally, a
query whose read merely failed for a moment must never be given up.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from collectors.athena import UNREADABLE_LIMIT, follow_queries
from collectors.context import CollectorContext
from dashapp.actions.athena import run_query
from dashapp.clock import as_utc
from dashapp.models import AthenaQuery
from pages.athena.views import status_panel
from sandbox.fidelity.athena import read_faults
from sandbox.fidelity.athena.runner import KNOBS
from tests.athena.conftest import OPERATOR, run_kwargs
from tests.collectors.conftest import client
from tests.web.tree import text


@pytest.fixture
def asked(ctx: CollectorContext) -> Iterator[list[bytes]]:
    """The body of every BatchGetQueryExecution request the collector sends."""
    bodies: list[bytes] = []

    def record(request: Any, **_: Any) -> None:
        body = request.body
        bodies.append(body if isinstance(body, bytes) else str(body or "").encode())

    events = ctx.aws.client("athena").meta.events
    events.register("before-send.athena.BatchGetQueryExecution", record, unique_id="asked")
    yield bodies
    events.unregister("before-send.athena.BatchGetQueryExecution", unique_id="asked")


def _start(ctx: CollectorContext, token: str, sql: str = "SELECT count(*) FROM orders") -> str:
    started = run_query(
        ctx.sessions, client("athena"), OPERATOR, **run_kwargs(ctx.clock.now(), token * 32, sql)
    )
    assert started.ok, started.message
    return str(started.execution_id)


def _wait_in_athena(execution_id: str, state: str) -> None:
    deadline = time.monotonic() + 30
    athena = client("athena")
    while (
        athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"][
            "State"
        ]
        != state
    ):
        assert time.monotonic() < deadline, f"{execution_id} never reached {state} in Athena"
        time.sleep(0.05)


def _stored(sessions: sessionmaker[Session], execution_id: str) -> AthenaQuery:
    with sessions() as s:
        q = s.get(AthenaQuery, execution_id)
        assert q is not None
        s.expunge(q)
        return q


def test_a_query_athena_no_longer_knows_ends_failed_with_the_reason_and_is_not_asked_again(
    catalog: list[str], ctx: CollectorContext, sessions: sessionmaker[Session], asked: list[bytes]
) -> None:
    known = _start(ctx, "k")
    now = ctx.clock.now()
    gone = "1b6f7c9e-0d4a-4f0e-9a57-3c2d8e5b7a10"  # ran 50 days ago: past Athena's history
    with sessions.begin() as s:
        s.add(
            AthenaQuery(
                execution_id=gone,
                sql="SELECT * FROM orders",
                submitted_by="ana",
                state="RUNNING",
                submitted_at=now - timedelta(days=50),
                checked_at=now - timedelta(days=50),
            )
        )
    _wait_in_athena(known, "SUCCEEDED")

    first = follow_queries(ctx)
    ended = _stored(sessions, gone)
    ctx.clock.advance(1)
    asked.clear()
    again = follow_queries(ctx)

    assert first.failures == []  # handled, not a failure of the collector
    assert ended.state == "FAILED"
    assert ended.state_reason is not None
    assert ended.state_reason.startswith(
        f"Athena no longer knows this query (InvalidRequestException: QueryExecution {gone} "
        "was not found)."
    )
    assert "45-day history" in ended.state_reason
    assert as_utc(ended.completed_at) == now  # type: ignore[arg-type]
    assert _stored(sessions, known).state == "SUCCEEDED"  # the other query was stored
    assert asked == [] and again.failures == [] and again.items == 0
    kept = _stored(sessions, gone)
    assert (kept.state, kept.state_reason, kept.completed_at) == (
        ended.state,
        ended.state_reason,
        ended.completed_at,
    )
    # The page shows why: the Failed badge and Athena's answer in the error notice.
    shown = text(status_panel(kept, ctx.clock.now(), 5.0))
    assert "Failed" in shown and "Athena no longer knows this query" in shown
    assert f"QueryExecution {gone} was not found" in shown


def test_a_query_whose_read_failed_for_a_moment_is_retried_and_stored_when_readable(
    catalog: list[str], ctx: CollectorContext, sessions: sessionmaker[Session]
) -> None:
    """Last read 20 minutes ago (Athena was unreachable meanwhile), then two throttled reads:
    the query is still followed (its unreadable time starts at the first failed read, not
    at its last check) and stored once Athena answers for it."""
    KNOBS.update(clock=ctx.clock, queued_s=0, min_running_s=600)
    query = _start(ctx, "t")
    _wait_in_athena(query, "RUNNING")
    follow_queries(ctx)
    assert _stored(sessions, query).state == "RUNNING"
    ctx.clock.advance(timedelta(minutes=20))
    _wait_in_athena(query, "SUCCEEDED")
    read_faults.fail_reads(query, 2, code="ThrottlingException", message="Rate exceeded")

    throttled = [follow_queries(ctx), follow_queries(ctx)]
    while_throttled = _stored(sessions, query)
    ctx.clock.advance(1)
    readable = follow_queries(ctx)
    stored = _stored(sessions, query)

    for cycle in throttled:
        assert cycle.failures == [
            f"{query}: Athena could not read it (ThrottlingException: Rate exceeded); "
            "retried next cycle"
        ]
    assert while_throttled.state == "RUNNING"
    assert readable.failures == [] and readable.items == 1
    truth = client("athena").get_query_execution(QueryExecutionId=query)["QueryExecution"]
    assert (stored.state, stored.data_scanned_bytes, stored.state_reason) == (
        "SUCCEEDED",
        truth["Statistics"]["DataScannedInBytes"],
        None,
    )


def test_a_query_athena_cannot_read_for_ten_minutes_is_no_longer_followed(
    catalog: list[str], ctx: CollectorContext, sessions: sessionmaker[Session], asked: list[bytes]
) -> None:
    query = _start(ctx, "u")
    read_faults.fail_reads(query, 1000)
    _wait_in_athena(query, "SUCCEEDED")  # its outcome exists: only the reads fail
    start = ctx.clock.now()
    cycles = [follow_queries(ctx)]
    ctx.clock.advance(UNREADABLE_LIMIT - timedelta(seconds=1))
    cycles.append(follow_queries(ctx))
    still_followed = _stored(sessions, query).state
    ctx.clock.advance(1)
    cycles.append(follow_queries(ctx))
    ended = _stored(sessions, query)
    asked.clear()
    ctx.clock.advance(1)
    follow_queries(ctx)

    assert [len(c.failures) for c in cycles] == [1, 1, 0]
    assert "InternalServerException" in cycles[0].failures[0]
    assert still_followed == "QUEUED"
    assert ended.state == "FAILED"
    assert ended.state_reason == (
        "No longer followed: Athena could not read this query for 10 minutes (last answer: "
        "InternalServerException: An internal error occurred while reading the query "
        "execution). Its outcome is unknown here; Athena's console may still show it."
    )
    assert as_utc(ended.completed_at) == start + UNREADABLE_LIMIT  # type: ignore[arg-type]
    assert asked == []
    assert "No longer followed" in text(status_panel(ended, ctx.clock.now(), 5.0))
