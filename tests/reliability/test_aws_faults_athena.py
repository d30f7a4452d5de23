"""Following Athena queries under AWS faults: every query still reaches its real end state.

Why: the collector is the only reader of a query's state (a hundred people watching one
query cost one BatchGetQueryExecution a second), so a fault there is a query shown as
running forever, or an end state, a byte count or an error text that is not Athena's.
Queries are started as the workbench starts them (validated, recorded QUEUED, audited),
BatchGetQueryExecution is faulted cycle after cycle, and once Athena has finished them
the next clean cycle must hold exactly what Athena says. With more than 50 queries each
call of 50 stands alone: one failing costs only its own queries until the next cycle.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from collectors.athena import follow_queries
from collectors.context import CollectorContext
from dashapp.actions.athena import run_query
from dashapp.models import AthenaQuery
from sandbox.fidelity.athena.runner import KNOBS
from tests.athena.conftest import OPERATOR, run_kwargs
from tests.athena.conftest import catalog as catalog
from tests.collectors.conftest import MakeCtx, client

# The collector tests' fixtures, used here by name (the `as` form marks them re-exported).
from tests.collectors.conftest import aws as aws
from tests.collectors.conftest import boto_session as boto_session
from tests.collectors.conftest import clock as clock
from tests.collectors.conftest import make_ctx as make_ctx
from tests.collectors.conftest import t0 as t0
from tests.reliability.aws_faults_support import (
    ATTEMPTS,
    CycleFigures,
    check_faulted,
    describe,
    run_cycle,
)
from tests.reliability.aws_faults_support import ClientFaults as FaultScript
from tests.reliability.aws_faults_support import figures as figures
from tests.reliability.aws_faults_support import retrying_ctx as retrying_ctx
from tests.reliability.aws_faults_support import seeded_jitter as seeded_jitter

QUERIES = (
    "SELECT count(*) FROM orders",
    "SELECT order_id, amount FROM orders WHERE ingest_date = '2026-03-01'",
    "SELECT no_such_column FROM orders",  # ends FAILED with Athena's message
)


def _athena_truth(ids: list[str]) -> dict[str, tuple[Any, ...]]:
    """Each query's end state as Athena reports it, once every one has ended."""
    athena = client("athena")
    deadline = time.monotonic() + 30
    while True:
        raw = [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]
        if all(r["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED") for r in raw):
            break
        assert time.monotonic() < deadline, "Athena did not finish the queries"
        time.sleep(0.1)
    return {
        r["QueryExecutionId"]: (
            r["Status"]["State"],
            (r["Status"].get("AthenaError") or {}).get("ErrorMessage"),
            r["Statistics"].get("DataScannedInBytes"),
            r["ResultConfiguration"]["OutputLocation"],
        )
        for r in raw
    }


def _stored(ctx: CollectorContext) -> dict[str, tuple[Any, ...]]:
    with ctx.sessions() as s:
        return {
            q.execution_id: (q.state, q.state_reason, q.data_scanned_bytes, q.output_location)
            for q in s.scalars(select(AthenaQuery))
        }


def test_followed_queries_reach_athenas_end_state_through_faults(
    catalog: list[str], retrying_ctx: MakeCtx, t0: Any, figures: list[str]
) -> None:
    ctx = retrying_ctx("athena")
    # Athena's clock is the test's: the queries queue and run until the test moves it on, so
    # every faulted cycle has queries to follow.
    KNOBS.update(clock=ctx.clock, queued_s=1, min_running_s=30)
    ids = []
    for i, sql in enumerate(QUERIES):
        started = run_query(
            ctx.sessions, client("athena"), OPERATOR, **run_kwargs(t0, f"{i}" * 32, sql)
        )
        assert started.ok, started.message
        ids.append(started.execution_id)
    athena = ctx.aws.client("athena")

    # Athena unavailable for a whole call: the cycle (one batch) fails and changes nothing.
    down = FaultScript(athena, "BatchGetQueryExecution", ["unavailable"] * ATTEMPTS)
    with pytest.raises(RuntimeError, match=r"every batch failed.*ServiceUnavailable"):
        follow_queries(ctx)
    down.remove()
    assert not down.pending
    assert {state for state, *_ in _stored(ctx).values()} == {"QUEUED"}

    # Every other kind, ridden out within a call's attempts, cycle after cycle.
    faulted: list[CycleFigures] = []
    for kinds in (["throttle", "timeout"], ["server_error", "slow"], ["timeout", "unavailable"]):
        script = FaultScript(athena, "BatchGetQueryExecution", kinds)
        faulted.append(run_cycle(follow_queries, ctx, [script]))
        script.remove()
        ctx.clock.advance(1)
    after_faults = _stored(ctx)
    ctx.clock.advance(60)
    truth = _athena_truth(ids)
    clean = run_cycle(follow_queries, ctx)
    after_clean = _stored(ctx)
    quiet = run_cycle(follow_queries, ctx)  # nothing left to follow: not one call

    for fig in faulted:
        check_faulted(fig, broken=[], budget_calls=1)
    assert [state for state, *_ in after_faults.values()] == ["RUNNING"] * len(ids)
    assert clean.result.failures == [] and clean.retries == 0
    assert after_clean == truth
    assert {state for state, *_ in truth.values()} == {"SUCCEEDED", "FAILED"}
    assert quiet.calls == 0
    figures.extend(
        [describe(f"faulted {i + 1}", fig) for i, fig in enumerate(faulted)]
        + [describe("clean", clean)]
    )


def _athena_states(ids: list[str]) -> dict[str, str]:
    """Each query's state as Athena reports it, once every one has ended (50 ids a read)."""
    athena = client("athena")
    deadline = time.monotonic() + 30
    while True:
        states = {
            e["QueryExecutionId"]: e["Status"]["State"]
            for start in range(0, len(ids), 50)
            for e in athena.batch_get_query_execution(QueryExecutionIds=ids[start : start + 50])[
                "QueryExecutions"
            ]
        }
        if set(states.values()) <= {"SUCCEEDED", "FAILED", "CANCELLED"}:
            return states
        assert time.monotonic() < deadline, "Athena did not finish the queries"
        time.sleep(0.1)


def test_one_failed_batch_of_fifty_keeps_the_other_batches_states(
    catalog: list[str], make_ctx: MakeCtx, t0: Any, figures: list[str]
) -> None:
    """120 followed queries are read in three calls (50, 50, 20). One call failing must cost
    only its own 50 queries this cycle: before, the whole cycle raised and the other
    batches' states, already read, were thrown away."""
    ctx = make_ctx("athena")  # one request a call: a fault fails its call
    KNOBS.update(clock=ctx.clock, queued_s=1, min_running_s=0, max_concurrent=16)
    ids = []
    for i in range(120):  # submitted a second apart: followed oldest first
        started = run_query(
            ctx.sessions,
            client("athena"),
            OPERATOR,
            **run_kwargs(t0 + timedelta(seconds=i), f"{i:032d}", f"SELECT {i}"),
        )
        assert started.ok, started.message
        ids.append(started.execution_id)
    ctx.clock.advance(2)  # Athena's clock is the test's: now the queries run
    truth = _athena_states(ids)
    assert set(truth.values()) == {"SUCCEEDED"}
    athena = ctx.aws.client("athena")

    def stored_states() -> dict[str, str]:
        return {i: state for i, (state, *_) in _stored(ctx).items()}

    # Every batch failing is a failed cycle (the collector status says so), nothing written.
    down = FaultScript(athena, "BatchGetQueryExecution", ["unavailable"] * 3)
    with pytest.raises(RuntimeError, match="every batch failed"):
        follow_queries(ctx)
    down.remove()
    assert Counter(stored_states().values()) == {"QUEUED": 120}

    # Only the batch holding query 75 (the second: queries 50-99) fails.
    broken = FaultScript(athena, "BatchGetQueryExecution", ["unavailable"], match=ids[75])
    faulted = run_cycle(follow_queries, ctx, [broken])
    broken.remove()
    after_fault = stored_states()
    clean = run_cycle(follow_queries, ctx)
    after_clean = stored_states()

    assert faulted.calls == 3
    [failure] = faulted.result.failures
    assert "batch 2 of 3 (50 queries" in failure and "ServiceUnavailable" in failure, failure
    assert faulted.result.items == 70
    assert [after_fault[i] for i in ids[:50] + ids[100:]] == ["SUCCEEDED"] * 70
    assert [after_fault[i] for i in ids[50:100]] == ["QUEUED"] * 50
    assert clean.result.failures == [] and clean.calls == 1  # only the 50 left to read
    assert after_clean == truth
    figures.extend([describe("one batch faulted", faulted), describe("clean", clean)])
