"""Athena workbench tests: in-process moto with the sandbox's Athena engine, both databases.

The collector fixtures (moto with the fidelity layer, fixed clock, contexts) are
reused; the catalog and the processed objects are built as the sandbox seeds them
(`tests.sandbox.athena_support`), so the queries here read what the demo reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from collectors.athena import follow_queries
from collectors.context import CollectorContext
from dashapp.identity import Identity, Role
from dashapp.models import AthenaQuery
from sandbox.fidelity.athena.control import reset_knobs
from tests.collectors.conftest import (  # noqa: F401 (fixtures)
    aws,
    boto_session,
    client,
    clock,
    ctx,
    make_ctx,
    t0,
)
from tests.sandbox.athena_support import OUTPUT, create_catalog, day, ingest_orders

OPERATOR = Identity(user="ana", role=Role.operator)


@pytest.fixture
def catalog(aws: None) -> Iterator[list[str]]:  # noqa: F811
    """The seeded `processed.orders` table with two days of real processed objects."""
    reset_knobs()
    s3, glue = client("s3"), client("glue")
    create_catalog(s3, glue)
    keys = [
        ingest_orders(s3, day(1), 1500, seed=1, run="jr_a"),
        ingest_orders(s3, day(2), 1200, seed=2, run="jr_b"),
    ]
    yield keys
    reset_knobs()


def follow_until_done(
    cycle: CollectorContext,
    sessions: sessionmaker[Session],
    execution_id: str,
    timeout_s: float = 30,
) -> AthenaQuery:
    """Run the collector's follow cycle as its scheduler would, until the query has ended."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        follow_queries(cycle)
        with sessions() as s:
            q = s.get(AthenaQuery, execution_id)
            assert q is not None
            if q.state in ("SUCCEEDED", "FAILED", "CANCELLED"):
                s.expunge(q)
                return q
        time.sleep(0.05)
    raise AssertionError(f"query {execution_id} did not end within {timeout_s} s")


def run_kwargs(now: datetime, token: str, sql: str, **extra: Any) -> dict[str, Any]:
    return {
        "sql": sql,
        "database": "processed",
        "workgroup": "primary",
        "output_location": OUTPUT,
        "now": now,
        "request_token": token,
        **extra,
    }
