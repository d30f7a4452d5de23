"""Metrics collector cycle at 5,000 Lambda functions and 1,000 running Glue jobs, against the
approach it replaced, on the same data in the same run.

A sandbox process (moto + the fidelity layer's metric store) is seeded with per-minute
AWS/Lambda metrics of N functions (the catalogue's traffic, percentiles included) and
the driver metrics of R running Glue runs; the database (PostgreSQL when given) holds the
functions and runs. Each scenario reads the steady-state window (the last minute plus
the 10-minute re-read) from the same database state:

- baseline: what the collector did before: one GetMetricData call after the other, one
  object a datapoint, a multi-row VALUES upsert (db.upsert) a 5,000-point transaction,
  one UPDATE a run, and a call of its own for runs that started before the window;
- collector: `collectors.metrics.collect_metrics` as it is.

Prints for each: cycle seconds, GetMetricData calls, points written, and the ratio of
the best rounds (the machine's other load only ever adds time); and the naive count
(one GetMetricStatistics call a series) against the calls made.

Usage: .venv/bin/python bench/metrics_cycle.py [--functions 5000] [--runs 1000] [--rounds 2]
       [--database-url postgresql://postgres@127.0.0.1:5432/test]   (default: temporary SQLite)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1")
os.environ.pop("AWS_PROFILE", None)

from sqlalchemy import delete, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from collectors.context import CollectorContext  # noqa: E402
from collectors.metrics import CURSOR, collect_metrics  # noqa: E402
from dashapp.aws import cloudwatch as cw  # noqa: E402
from dashapp.aws.clients import AwsClients  # noqa: E402
from dashapp.clock import FixedClock  # noqa: E402
from dashapp.config import Settings  # noqa: E402
from dashapp.db import make_engine, make_session_factory, upgrade, upsert  # noqa: E402
from dashapp.models import CollectorCursor, JobRun, LambdaFunction, MetricPoint  # noqa: E402
from sandbox.datasets import datasets_json  # noqa: E402

os.environ.setdefault("SMD_DATASETS", datasets_json())
RUN_MINUTES = 30  # the Glue runs started this long ago and publish every minute since
HISTORY_MINUTES = 72


def serve(port: int, functions: int, runs: int, now: int) -> None:
    """Child process: a sandbox server whose metric store holds the workload, until killed."""
    import numpy as np

    from sandbox import behaviour, catalog
    from sandbox.account import ACCOUNT_ID
    from sandbox.fidelity.cloudwatch.store import metric_store
    from sandbox.seed.lambda_history import put_lambda_minutes
    from sandbox.server import SandboxServer

    SandboxServer(port=port).start()
    store = metric_store(ACCOUNT_ID, "us-east-1")
    _, specs = catalog.scaled(10, functions)
    last = now // 60 * 60
    minutes = np.arange(last - HISTORY_MINUTES * 60, last, 60, dtype=np.int64)
    for i, spec in enumerate(specs[:functions]):
        load = behaviour.lambda_minutes(spec, minutes, np.random.default_rng(i))
        put_lambda_minutes(store, {"FunctionName": spec.name}, load)
    rng = np.random.default_rng(7)
    run_minutes = minutes[-RUN_MINUTES:]
    ones = np.ones(run_minutes.size)
    for job, run_id in _runs(runs):
        series = [(m, "Glue", {"Type": kind}) for m, kind, _ in cw.GLUE_RUN_METRICS]
        series.append((cw.ROWS_WRITTEN, "SMD/Ingestion", {}))
        for metric, namespace, extra in series:
            v = rng.integers(0, 1000, run_minutes.size).astype(float)
            dims = {"JobName": job, "JobRunId": run_id, **extra}
            store.put_series(
                namespace, metric, dims, run_minutes, sums=v, counts=ones, mins=v, maxs=v
            )
    print(json.dumps([s.name for s in specs[:functions]]), flush=True)
    while True:
        time.sleep(3600)


def _runs(n: int) -> list[tuple[str, str]]:
    return [(f"bench-job-{i % 500:04d}", f"jr_{i:064x}") for i in range(n)]


@contextmanager
def sandbox(functions: int, runs: int, now: datetime) -> Iterator[tuple[str, list[str]]]:
    from tests.sandbox_process import free_port

    port = free_port()
    args = [sys.executable, __file__, "--serve", str(port), "--functions", str(functions)]
    args += ["--runs", str(runs), "--now", str(int(now.timestamp()))]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        names = json.loads(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}", names
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """A fresh, migrated database: a new one on the PostgreSQL server, or a SQLite file."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="smd-bench-") as tmp:
            path = Path(tmp) / "metrics.sqlite3"
            upgrade(f"sqlite:///{path}")
            yield f"sqlite:///{path}"
        return
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    name = f"smd_bench_metrics_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    fresh = make_url(url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(fresh)
        yield fresh
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def baseline_cycle(ctx: CollectorContext) -> int:
    """The previous collector's steady cycle: sequential calls, a Datapoint a point, VALUES
    upserts, an UPDATE a run, a call of its own for runs started before the window."""
    now, s = ctx.clock.now(), ctx.settings
    with ctx.sessions() as session:
        functions = list(session.scalars(select(LambdaFunction.name)))
        runs = list(session.scalars(select(JobRun)))
        cursor = session.get(CollectorCursor, CURSOR)
        since = datetime.fromisoformat(cursor.value["end"]) if cursor else None
    reread = timedelta(seconds=s.metrics_reread_s)
    start, end = cw.window(
        now, 60, since=since, reread=reread, backfill=timedelta(seconds=s.metrics_backfill_s)
    )
    queries = [q for f in functions for q in cw.lambda_queries(f)]
    recent = [r for r in runs if r.started_at >= start]
    queries += [
        q for r in recent for q in cw.glue_run_queries(r.job_name, r.run_id, "SMD/Ingestion")
    ]
    client = ctx.aws.client("cloudwatch")
    written = _baseline_store(ctx, cw.get_metric_data(client, queries, start, end), recent, now)
    older = [r for r in runs if r.started_at < start]
    for i in range(0, len(older), 100):
        batch = older[i : i + 100]
        batch_queries = [
            q for r in batch for q in cw.glue_run_queries(r.job_name, r.run_id, "SMD/Ingestion")
        ]
        first = cw.align_down(min(r.started_at for r in batch), 60)
        points = cw.get_metric_data(client, batch_queries, first, end)
        written += _baseline_store(ctx, points, batch, now)
    return written


def _baseline_store(
    ctx: CollectorContext, points: list[cw.Datapoint], runs: list[JobRun], now: datetime
) -> int:
    from collectors.metric_writes import TOTALS

    rows = [
        {
            "resource_type": p.query.resource_type,
            "resource_name": p.query.resource_name,
            "dimension": p.query.dimension,
            "metric": p.query.metric,
            "stat": p.query.stat,
            "ts": p.ts,
            "period_s": p.query.period_s,
            "value": p.value,
        }
        for p in points
    ]
    key = ["resource_type", "resource_name", "dimension", "metric", "stat", "ts"]
    for i in range(0, len(rows), 5000):
        with ctx.sessions.begin() as session:
            upsert(
                session, MetricPoint, rows[i : i + 5000], conflict=key, update=["value", "period_s"]
            )
    with ctx.sessions.begin() as session:
        totals: dict[str, dict[str, float]] = {}
        run_ids = [r.run_id for r in runs]
        for i in range(0, len(run_ids), 500):
            for run_id, metric, value in session.execute(
                select(MetricPoint.dimension, MetricPoint.metric, MetricPoint.value).where(
                    MetricPoint.resource_type == "glue_job",
                    MetricPoint.dimension.in_(run_ids[i : i + 500]),
                    MetricPoint.metric.in_(list(TOTALS)),
                    MetricPoint.stat == "Sum",
                )
            ):
                column = totals.setdefault(run_id, {})
                column[TOTALS[metric]] = column.get(TOTALS[metric], 0.0) + value
        for run_id in run_ids:
            values = {k: round(v) for k, v in totals.get(run_id, {}).items()}
            session.execute(
                update(JobRun)
                .where(JobRun.run_id == run_id)
                .values(metrics_collected_at=now, **values)
                .execution_options(synchronize_session=False)
            )
    return len(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--functions", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--rounds", type=int, default=2, help="each scenario this many times")
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--now", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.functions, args.runs, args.now)
        return 0
    now = datetime.now(UTC).replace(second=17, microsecond=0)
    t0 = time.perf_counter()
    with (
        sandbox(args.functions, args.runs, now) as (url, names),
        database(args.database_url) as db_url,
    ):
        print(
            f"sandbox with {len(names)} functions and {args.runs} running Glue runs seeded in "
            f"{time.perf_counter() - t0:.0f} s; database {db_url.split('@')[-1].split('?')[0]}"
        )
        settings = Settings(database_url=db_url, aws_endpoint_url=url, _env_file=None)
        engine = make_engine(db_url)
        sessions = make_session_factory(engine)
        _seed_database(sessions, names, args.runs, now)

        def fresh_ctx() -> CollectorContext:
            aws = AwsClients(settings)
            return CollectorContext("metrics", settings, sessions, aws, FixedClock(now))

        def reset(clear_points: bool) -> None:
            """The previous cycle ended a minute ago; its runs' metrics were read then."""
            with sessions.begin() as s:
                if clear_points:
                    s.execute(delete(MetricPoint))
                s.execute(update(JobRun).values(metrics_collected_at=now - timedelta(minutes=1)))
                s.merge(
                    CollectorCursor(
                        name=CURSOR,
                        value={"end": (now - timedelta(seconds=60)).isoformat()},
                        updated_at=now,
                    )
                )
            if engine.dialect.name == "postgresql":
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.execute(text("VACUUM ANALYZE metric_points"))

        def measure(label: str, run: Callable[[CollectorContext], int]) -> tuple[float, int]:
            ctx = fresh_ctx()
            start = time.perf_counter()
            written = run(ctx)
            took = time.perf_counter() - start
            calls = ctx.aws.counter.snapshot().get("cloudwatch:GetMetricData", 0)
            print(f"   {label:<10} {took:8.2f} s {calls:6d} calls {written:9d} points written")
            return took, calls

        series = len(names) * len(cw.LAMBDA_SERIES) + args.runs * 5
        for title, clear in (
            ("empty table (every point new)", True),
            ("points stored (a restarted collector)", False),
        ):
            print(f"\n{title}, steady window of 11 minutes:")
            base: list[float] = []
            new: list[float] = []
            for _ in range(args.rounds):  # alternating, so a burst of load hits both
                reset(clear)
                base.append(measure("baseline", baseline_cycle)[0])
                reset(clear)
                took, calls = measure("collector", lambda c: collect_metrics(c).items)
                new.append(took)
            print(
                f"   ratio      {min(base) / min(new):8.1f}x faster (best of {args.rounds}: "
                f"{min(base):.1f} s against {min(new):.1f} s); interval 60 s"
            )
        print(
            f"\nnaive: {series} GetMetricStatistics calls a cycle (one a series) against "
            f"{calls} GetMetricData calls: {series / max(1, calls):.0f}x fewer"
        )
        engine.dispose()
    return 0


def _seed_database(
    sessions: sessionmaker[Session], names: list[str], runs: int, now: datetime
) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:"
    with sessions.begin() as s:
        upsert(
            s,
            LambdaFunction,
            [
                {"name": n, "arn": arn + n, "tags": {}, "first_seen_at": now, "last_seen_at": now}
                for n in names
            ],
            conflict=["name"],
        )
        started = now - timedelta(minutes=RUN_MINUTES)
        upsert(
            s,
            JobRun,
            [
                {
                    "run_id": run_id,
                    "job_name": job,
                    "state": "RUNNING",
                    "started_at": started,
                    "attempt": 0,
                    "arguments": {},
                    "observed_at": now,
                }
                for job, run_id in _runs(runs)
            ],
            conflict=["run_id"],
        )


if __name__ == "__main__":
    sys.exit(main())
