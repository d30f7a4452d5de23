"""Soak: the demo under steady traffic for 10 minutes; is the memory of web and collector flat?

Starts `python -m dashapp demo` (sandbox + collectors + gunicorn, SQLite as `make demo`,
or PostgreSQL with --database-url), records its pages with Chromium, then drives viewers
with Overview, a job's detail and /wall open, an upload through the upload API every
20 s (which starts the dataset's Glue job in the sandbox, so the collectors follow new
runs, logs and metrics) and a CSV export every 10 s, on top of the sandbox's own
pipelines. Prints the RSS of the web (arbiter + workers, and each worker) and of the
collector at the start of the window (after warm-up) and the end, the growth, and the
slope of a least-squares line in MB/hour; plus every error.

Usage: .venv/bin/python bench/soak.py [--minutes 10] [--warmup 120] [--viewers 10]
       [--database-url postgresql+psycopg://…] [--history-days N] [--trace-memory DIR]
With --trace-memory the demo's web and collector processes run tracemalloc and write a
snapshot to DIR each minute (bench/memtrace/); `bench/memtrace/compare.py DIR` says what
grew. Tracing slows the demo and adds to its RSS: the growth figure comes from a run
without it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.soakrun import SoakPlan, report, run_soak  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="measured minutes")
    parser.add_argument("--warmup", type=float, default=120, help="seconds before measuring")
    parser.add_argument("--viewers", type=int, default=10)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_SOAK_DATABASE_URL"))
    parser.add_argument(
        "--history-days", type=float, default=None, help="sandbox history (default: the demo's)"
    )
    parser.add_argument("--trace-memory", type=Path, help="write tracemalloc snapshots here")
    args = parser.parse_args()
    if args.trace_memory:
        args.trace_memory.mkdir(parents=True, exist_ok=True)
        os.environ["SMD_MEMTRACE_DIR"] = str(args.trace_memory.resolve())
        hook = str(ROOT / "bench" / "memtrace")
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (hook, os.environ.get("PYTHONPATH")) if p
        )
    plan = SoakPlan(
        duration_s=args.minutes * 60,
        warmup_s=args.warmup,
        viewers=args.viewers,
        history_days=args.history_days,
        database_url=args.database_url,
    )
    with tempfile.TemporaryDirectory(prefix="smd-soak-") as tmp:
        result = run_soak(plan, Path(tmp))
    for line in report(result):
        print(line)


if __name__ == "__main__":
    main()
