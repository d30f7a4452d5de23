"""A large export on both databases: streamed in bounded chunks with flat memory."""

from __future__ import annotations

import tracemalloc
from datetime import timedelta
from itertools import islice
from typing import Any

import dash
import pytest
from sqlalchemy import event, insert
from sqlalchemy.orm import Session, sessionmaker

from dashapp.export.cells import CHUNK_CHARS
from dashapp.models import MetricPoint
from dashapp.queries.sql import YIELD_PER
from dashapp.services import Services
from tests.web.conftest import NOW
from tests.web.export_helpers import METRICS_HEADER

# --- size -----------------------------------------------------------------------------------------

LARGE = 200_000
TRACED_CHUNKS = 50  # ~50k rows: enough to see per-row growth, cheap enough to trace


@pytest.mark.slow
def test_a_large_export_is_streamed_in_bounded_chunks_with_flat_memory(
    app: dash.Dash, svc: Services, sessions: sessionmaker[Session]
) -> None:
    """200k rows leave in ~64 KiB chunks, read through a streaming cursor, memory flat.

    Memory is traced over the first quarter of the download only (tracing every
    allocation makes the whole run four times slower): reading everything up front
    would allocate tens of MB on the first chunk, and per-row growth would show within
    50k rows. On PostgreSQL a client-side cursor would hold every row in libpq, where
    tracemalloc cannot see it, so the cursor itself is checked to be server-side.
    """
    base = NOW - timedelta(hours=23)
    rows = [
        {
            "resource_type": "lambda_function",
            "resource_name": f"fn-{i % 200:03d}",
            "dimension": "",
            "metric": "Invocations",
            "stat": "Sum",
            "ts": base + timedelta(minutes=i // 200),  # 1000 minutes, within the 24 h
            "period_s": 60,
            "value": float(i),
        }
        for i in range(LARGE)
    ]
    with sessions.begin() as session:
        session.execute(insert(MetricPoint), rows)
    del rows

    cursors: list[tuple[str, dict[str, Any]]] = []

    def seen(
        _conn: Any, cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if "FROM metric_points" in statement and "ORDER BY" in statement:
            cursors.append((type(cursor).__name__, dict(context.execution_options)))

    event.listen(svc.engine, "before_cursor_execute", seen)
    server = app.server
    chunks: list[int] = []
    lines = 0
    try:
        with server.test_request_context("/export/metrics.csv?resource_type=lambda_function"):
            response = server.full_dispatch_request()
            assert response.status_code == 200
            assert response.is_streamed
            assert response.content_length is None
            body = iter(response.response)
            tracemalloc.start()
            try:
                for chunk in islice(body, TRACED_CHUNKS):
                    chunks.append(len(chunk))
                    lines += chunk.count(b"\r\n")
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            for chunk in body:
                chunks.append(len(chunk))
                lines += chunk.count(b"\r\n")
            response.close()
    finally:
        event.remove(svc.engine, "before_cursor_execute", seen)

    assert lines == LARGE + 1
    total = sum(chunks)
    assert total > 13_000_000
    assert chunks[0] == len(METRICS_HEADER)  # the header leaves before the query's rows
    assert max(chunks) < CHUNK_CHARS + 200
    assert len(chunks) > total // (CHUNK_CHARS + 200)
    assert peak < 4 * 1024 * 1024, f"{peak} bytes traced over the first {TRACED_CHUNKS} chunks"
    [(cursor_type, options)] = cursors
    assert options.get("yield_per") == YIELD_PER
    if svc.engine.dialect.name == "postgresql":
        assert cursor_type == "ServerCursor"
