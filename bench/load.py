"""Load: 200 viewers with Overview, a job's detail and /wall open, on gunicorn and PostgreSQL.

What a browser sends is recorded once with real Chromium (bench/browser_capture.py):
the page GETs, the callbacks Dash fires on mount, and each tick's callbacks of the
shared refresh timer. Then N virtual viewers (bench/viewers.py, one asyncio process)
open the three pages and replay every tick for the measured window. Printed: p50/p95/p99
per callback, per whole refresh and overall; errors (any non-2xx or non-callback
answer); each callback alone in-process and its bare SQL on the quiet server, with
the ratio; whether the viewers got their refreshes on time; CPU of gunicorn, of the
database's PostgreSQL backends, and of the client itself.

Usage: .venv/bin/python bench/load.py [--viewers 200] [--duration 120] [--ramp 30]
       [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/smd_bench_load]
       [--workers 2] [--threads 8] [--shared-answer-s 1] [--reseed]
The database is seeded at production size (1,000 jobs, 1,000,000 runs, 5,000,000 metric
points; about 2 minutes) when missing or when it was seeded over 6 hours ago (the pages
show the last 24 h of wall-clock time).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
from sandbox.datasets import datasets_json  # noqa: E402

os.environ.setdefault("SMD_DATASETS", datasets_json())

from sqlalchemy import func, select  # noqa: E402

from bench.loadrun import LoadPlan, report, run_load  # noqa: E402
from bench.ui import busiest_job, ensure_database, ensure_seeded  # noqa: E402
from bench.ui_seed import Sizes  # noqa: E402
from dashapp.config import Settings  # noqa: E402
from dashapp.models import CollectorStatus  # noqa: E402
from dashapp.services import Services  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/smd_bench_load"
MAX_SEED_AGE = timedelta(hours=6)


def prepare(url: str, sizes: Sizes, reseed: bool) -> str:
    """Seed (or reuse) the database; the job whose detail page the viewers keep open."""
    settings = Settings(database_url=url)
    ensure_database(url)
    now = datetime.now(UTC)
    ensure_seeded(url, sizes, reseed, now, settings)
    svc = Services.build(settings)
    try:
        with svc.sessions() as session:  # the seed writes its time as the collectors' success
            seeded_at = session.scalar(select(func.max(CollectorStatus.last_success_at)))
        if seeded_at is None or now - seeded_at > MAX_SEED_AGE:
            print(f"seeded at {seeded_at}: reseeding so the last 24 h hold what they would")
            ensure_seeded(url, sizes, True, now, settings)
        return busiest_job(svc)
    finally:
        svc.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_LOAD_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--duration", type=float, default=120, help="measured seconds")
    parser.add_argument("--ramp", type=float, default=30, help="seconds to open every viewer")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2 cores)")
    parser.add_argument("--threads", type=int, default=8, help="gthread threads per worker")
    parser.add_argument("--interval", type=int, default=5, help="SMD_REFRESH_INTERVAL_S")
    parser.add_argument("--samples", type=int, default=20, help="baseline samples per callback")
    parser.add_argument(
        "--shared-answer-s", type=float, default=1.0, help="SMD_SHARED_ANSWER_S (0: off)"
    )
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()

    job = prepare(args.database_url, Sizes(), args.reseed)
    plan = LoadPlan(
        database_url=args.database_url,
        job=job,
        viewers=args.viewers,
        duration_s=args.duration,
        ramp_s=args.ramp,
        interval_s=args.interval,
        workers=args.workers,
        threads=args.threads,
        samples=args.samples,
        shared_answer_s=args.shared_answer_s,
    )
    with tempfile.TemporaryDirectory(prefix="smd-load-") as tmp:
        result = run_load(plan, Path(tmp))
    for line in report(result):
        print(line)


if __name__ == "__main__":
    main()
