"""Time a piece of page code next to the bare SQL it runs, on the same connection pool.

The ratio (code time / SQL time) shows what our Python adds on top of the database:
building components, figures and rows. The statements are captured with SQLAlchemy's
cursor events during one call, then replayed through the DBAPI with their parameters.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event


@dataclass
class Captured:
    statements: list[tuple[str, Any]] = field(default_factory=list)


def capture_sql(engine: Engine, call: Callable[[], object]) -> Captured:
    """Run `call` once and return every statement it sent to the database."""
    captured = Captured()

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_a: Any) -> None:
        captured.statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return captured


def replay(engine: Engine, captured: Captured) -> None:
    """Execute the captured statements with their parameters and fetch every row."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for statement, parameters in captured.statements:
            cur.execute(statement, parameters)
            if cur.description is not None:
                cur.fetchall()
        raw.rollback()
    finally:
        raw.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


@dataclass(frozen=True)
class Timing:
    name: str
    code_ms: list[float]
    sql_ms: list[float]
    statements: int

    def row(self) -> str:
        c50, c95 = percentile(self.code_ms, 50), percentile(self.code_ms, 95)
        s50, s95 = percentile(self.sql_ms, 50), percentile(self.sql_ms, 95)
        ratio = c50 / s50 if s50 else float("nan")
        return (
            f"{self.name:<28} {c50:8.1f} {c95:8.1f}   {s50:8.1f} {s95:8.1f}   "
            f"{ratio:6.2f}x  {self.statements:3d}  {'OK' if c95 < 150 else 'OVER 150 ms'}"
        )


HEADER = (
    f"{'callback':<28} {'p50 ms':>8} {'p95 ms':>8}   {'SQL p50':>8} {'SQL p95':>8}   "
    f"{'ratio':>7}  {'stm':>3}  p95 < 150 ms"
)


def measure(engine: Engine, name: str, call: Callable[[], object], samples: int) -> Timing:
    """Warm once, then alternate code and bare-SQL runs so both see the same cache state."""
    call()
    captured = capture_sql(engine, call)
    code: list[float] = []
    sql: list[float] = []
    for _ in range(samples):
        t0 = time.perf_counter()
        call()
        code.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        replay(engine, captured)
        sql.append((time.perf_counter() - t0) * 1000)
    return Timing(name, code, sql, len(captured.statements))


def summary(timings: list[Timing]) -> str:
    worst = max(percentile(t.code_ms, 95) for t in timings)
    mean_ratio = statistics.fmean(
        percentile(t.code_ms, 50) / percentile(t.sql_ms, 50) for t in timings
    )
    return f"worst p95 {worst:.1f} ms; mean code/SQL ratio at p50 {mean_ratio:.2f}x"
