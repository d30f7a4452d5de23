"""Server-side time of the monitoring pages' callbacks at production size, against their bare SQL.

With 1,000 Glue jobs, 1,000,000 runs and 5,000,000 metric points in PostgreSQL,
prints p50/p95 of the work each callback does on the server (query, building the
components, figures or rows it returns, and Dash's JSON encoding of them) next to
the p50/p95 of replaying the exact SQL it ran, as a ratio. The target is p95 < 150 ms for each.

Usage: .venv/bin/python bench/ui.py [--database-url postgresql+psycopg://…/smd_bench_ui]
       [--samples 40] [--reseed]
The database is created if missing and seeded once (about 2.5 minutes); later runs reuse it.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")

import psycopg  # noqa: E402
from dash._utils import to_json  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.sqltiming import HEADER, Timing, measure, summary  # noqa: E402
from bench.ui_seed import Sizes, pg_conninfo, seed, seeded_sizes  # noqa: E402
from dashapp.clock import FixedClock  # noqa: E402
from dashapp.config import Settings  # noqa: E402
from dashapp.db import upgrade  # noqa: E402
from dashapp.models import JobRun, LogEvent  # noqa: E402
from dashapp.queries import cards as job_cards  # noqa: E402
from dashapp.services import Services  # noqa: E402
from pages.job_detail import callbacks as job_detail  # noqa: E402
from pages.logs import callbacks as logs  # noqa: E402
from pages.overview import callbacks as overview  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/smd_bench_ui"


def ensure_database(url: str) -> None:
    """Create the benchmark database on the server when it does not exist yet."""
    u = make_url(url)
    admin = pg_conninfo(u.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (u.database,))
        if exists.fetchone() is None:
            conn.execute(f'CREATE DATABASE "{u.database}"')


def ensure_seeded(url: str, sizes: Sizes, reseed: bool, now: datetime, settings: Settings) -> None:
    upgrade(url)
    with psycopg.connect(pg_conninfo(url)) as conn:
        have = seeded_sizes(conn)
    want = (sizes.jobs, sizes.runs - sizes.runs % sizes.jobs, sizes.metric_points)
    if reseed or have[0] != want[0] or have[1] != want[1] or have[2] < want[2] * 0.95:
        print(f"seeding {sizes} (have jobs/runs/points {have}) …", flush=True)
        t0 = time.perf_counter()
        seed(url, sizes, now, tuple(d.glue_job for d in settings.datasets))
        print(f"seeded in {time.perf_counter() - t0:.0f} s", flush=True)
    else:
        print(f"reusing seeded database: jobs/runs/points {have}", flush=True)


def newest_seed_time(svc: Services) -> datetime:
    """The benchmark's 'now': the newest run start, so relative ranges cover seeded data."""
    with svc.sessions() as session:
        newest = session.scalar(select(JobRun.started_at).order_by(JobRun.started_at.desc()))
    assert newest is not None, "no runs seeded"
    return newest


def busiest_job(svc: Services) -> str:
    with svc.sessions() as session:
        job = session.scalar(select(JobRun.job_name).order_by(JobRun.started_at.desc()).limit(1))
    assert job is not None
    return job


def tail_source(svc: Services) -> tuple[str, int]:
    """The run whose log is tailed and a cursor four lines before its end."""
    with svc.sessions() as session:
        newest = session.scalars(select(LogEvent).order_by(LogEvent.id.desc()).limit(5)).all()
    assert newest, "no log events seeded"
    return newest[0].log_stream, newest[-1].id - 1


def answered(call: Callable[[], Any]) -> Callable[[], str]:
    """The call followed by the JSON encoding Dash gives a callback's return value: on a
    page of components the encoding costs as much as building them."""

    def run() -> str:
        result = call()
        if is_dataclass(result) and not isinstance(result, type):
            result = [getattr(result, f.name) for f in fields(result)]
        return to_json(result)

    return run


def targets(svc: Services) -> list[tuple[str, Any]]:
    job = busiest_job(svc)
    run_id, cursor = tail_source(svc)
    grid_first = {"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": {}}
    grid_deep = {
        "startRow": 400,
        "endRow": 500,
        "sortModel": [{"colId": "duration_s", "sort": "desc"}],
        "filterModel": {"state": {"filterType": "text", "type": "equals", "filter": "FAILED"}},
    }
    loaded = logs.load_view(svc, f"run:{run_id}", None, None, "7d")
    assert loaded.view is not None, "the tailed run has no view"
    log_view = {**loaded.view, "cursor": cursor}
    no_filter = job_cards.CardFilter(None, None, None, None)
    out: list[tuple[str, Any]] = [
        ("overview 24h", lambda: overview.overview_view(svc, "24h", no_filter)),
        ("overview 7d", lambda: overview.overview_view(svc, "7d", no_filter)),
        ("job detail 30d", lambda: job_detail.job_view(svc, job, "30d", False)),
        ("grid page first 100", lambda: job_detail.grid_response(svc, job, "400d", grid_first)),
        (
            "grid page sorted+filtered",
            lambda: job_detail.grid_response(svc, job, "400d", grid_deep),
        ),
    ]
    out.append(("log tail (4 new lines)", lambda: logs.tail_outputs(svc, log_view)))
    out.append(("log tail (nothing new)", lambda: logs.tail_outputs(svc, loaded.view)))
    out.append(("log first read", lambda: logs.load_view(svc, f"run:{run_id}", None, None, "7d")))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_UI_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()

    settings = Settings(database_url=args.database_url)
    ensure_database(args.database_url)
    ensure_seeded(args.database_url, Sizes(), args.reseed, datetime.now(UTC), settings)
    probe = Services.build(settings)
    svc = Services.build(settings, clock=FixedClock(newest_seed_time(probe)))
    probe.engine.dispose()

    # As the served app does after start-up (wsgi.py): long-lived objects out of full GC passes.
    gc.freeze()
    timings: list[Timing] = []
    print(HEADER)
    for name, call in targets(svc):
        timing = measure(svc.engine, name, answered(call), args.samples)
        timings.append(timing)
        print(timing.row(), flush=True)
    print(summary(timings))


if __name__ == "__main__":
    main()
