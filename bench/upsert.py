"""`dashapp.db.upsert` (one INSERT … ON CONFLICT, executed with a parameter set per row)
against the multi-row VALUES insert it replaced, measured in this one run.

The collectors store through `upsert`: glue_runs hundreds of runs every 15 s,
inventory 5,000 jobs and functions, the log follower a few lines of 15 streams every
second. A multi-row VALUES statement is a new statement for every row count, so
SQLAlchemy compiled it afresh each time; the executemany form is compiled once.

Usage: .venv/bin/python bench/upsert.py [--database-url URL] [--repeat 5]
URL: default a temporary SQLite file; for PostgreSQL an empty database, e.g.
       --database-url postgresql://postgres@127.0.0.1:5432/smd_bench_upsert
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete  # noqa: E402
from sqlalchemy.dialects import postgresql, sqlite  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from dashapp.db import make_engine, make_session_factory, upgrade, upsert  # noqa: E402
from dashapp.models import LogEvent  # noqa: E402

T0 = datetime(2026, 12, 5, tzinfo=UTC)
KEY = ["event_key"]


def multirow_values(
    session: Session, rows: Sequence[dict[str, Any]], conflict: list[str], update: list[str]
) -> None:
    """The baseline: what `upsert` did before, a multi-row VALUES per 500 rows."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for start in range(0, len(rows), 500):
        stmt = insert(LogEvent.__table__).values(list(rows[start : start + 500]))
        if update:
            stmt = stmt.on_conflict_do_update(
                index_elements=conflict, set_={c: stmt.excluded[c] for c in update}
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=conflict)
        session.execute(stmt)


def log_rows(n: int) -> list[dict[str, Any]]:
    return [
        {
            "event_key": f"bench-{i}",
            "log_group": "/aws-glue/jobs/output",
            "log_stream": f"jr_{i % 50}",
            "ts": T0 + timedelta(seconds=i),
            "ingested_at": T0,
            "level": "INFO",
            "message": f"line {i} " + "x" * 80,
        }
        for i in range(n)
    ]


def timed(sessions: Any, write: Callable[[Session], None], repeat: int) -> float:
    """Median seconds to write the rows into an empty table and then again (all conflicts)."""
    took = []
    for _ in range(repeat):
        with sessions.begin() as s:
            s.execute(delete(LogEvent))
        started = time.perf_counter()
        with sessions.begin() as s:
            write(s)
            write(s)
        took.append(time.perf_counter() - started)
    return statistics.median(took)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'upsert.sqlite3'}"
    upgrade(url)
    sessions = make_session_factory(make_engine(url))
    print(f"log_events on {url.split('@')[-1]}: rows written, then the same rows again")
    print(f"{'rows':>6} {'on conflict':<12} {'upsert ms':>10} {'VALUES ms':>10} {'ratio':>6}")
    for n, repeat in ((20, args.repeat * 20), (500, args.repeat * 4), (5000, args.repeat)):
        rows = log_rows(n)
        for mode, update in (("do nothing", []), ("update", ["message", "level"])):
            ours = timed(
                sessions,
                lambda s, u=update, r=rows: upsert(s, LogEvent, r, conflict=KEY, update=u),
                repeat,
            )
            base = timed(
                sessions,
                lambda s, u=update, r=rows: multirow_values(s, r, KEY, u),
                repeat,
            )
            print(f"{n:6d} {mode:<12} {ours * 1000:10.1f} {base * 1000:10.1f} {base / ours:5.1f}x")
    with sessions.begin() as s:
        s.execute(delete(LogEvent))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
