"""Collector cost and freshness on a sandbox with 5,000 Glue jobs and 5,000 Lambda functions.

Prints, all measured in this one run against `python -m sandbox --glue-jobs N
--lambda-functions N` (its own process, as in production):
1. the first cycles (they read the history): time and API calls by operation;
2. every collector scheduled as in production (the bulk ones in the runner's own scheduler
   in this process, the live pollers in a process of their own, the simulator playing the
   pipelines) for a window: cycle time against its interval
   (inside: yes/no) and API calls per cycle against a naive count, defined per collector;
   each glue_runs cycle, in the window and alone, against one cycle over every job; a
   backlog of state changes drained by the events collector, against the same with one
   Glue read at a time, on loopback and with a modelled AWS round trip per call;
3. the Lambda metrics read against a naive collector (one GetMetricStatistics per
   metric and statistic per function, timed on a sample of functions), as ratios;
4. the lag from a Glue state change, and from a new CloudWatch log line, to its row in
   the database (p50/p95 over >= 100 samples each), with `python -m collectors` running
   as its own process and the simulator playing the pipelines.

Usage: .venv/bin/python bench/collectors.py [--jobs 5000] [--functions 5000] [--window-s 330]
       [--samples 120] [--backlog 700] [--rtt-ms 50] [--naive-functions 500]
       [--database-url URL] [--pin]
--pin: the sandbox on the last core, the collectors (this process, its child) on the others, so the
       AWS stand-in cannot take the collectors' CPU (each is one Python process: about one
       core at most, under its GIL); PostgreSQL runs where the kernel puts it.
URL: default a temporary SQLite file; for PostgreSQL an empty database, e.g.
       psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE smd_bench'
       --database-url postgresql://postgres@127.0.0.1:5432/smd_bench
At 5,000 + 5,000 it takes about half an hour on 2 cores (the sandbox seeds in ~1.5 min).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The sandbox takes any credentials; never pick up a real profile by accident.
os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1")
os.environ.pop("AWS_PROFILE", None)

from sqlalchemy import func, select  # noqa: E402

from bench.collector_cycles import (  # noqa: E402
    CycleRecorder,
    drain_backlog,
    full_pass,
    glue_runs_alone,
    interval_of,
    pin_apart,
    print_backlog,
    print_glue_runs,
    print_table,
    run_window_metered,
    start_athena_queries,
    stop_athena_queries,
)
from bench.cycle_overlap import print_overruns  # noqa: E402
from collectors.registry import job as collector_job  # noqa: E402
from collectors.runner import CollectorRunner  # noqa: E402
from dashapp.aws import cloudwatch as cwmod  # noqa: E402
from dashapp.aws.clients import AwsClients  # noqa: E402
from dashapp.config import Settings  # noqa: E402
from dashapp.db import make_engine, upgrade  # noqa: E402
from dashapp.models import GlueJob, JobRun, LambdaFunction, LogEvent, LogWatch  # noqa: E402
from sandbox.datasets import datasets_json  # noqa: E402
from tests.sandbox_process import free_port  # noqa: E402

os.environ.setdefault("SMD_DATASETS", datasets_json())  # the sandbox's datasets, as `make demo`
OLD_EVENTS = "one GetJobRun at a time, 10 messages a batch:"
NEW_EVENTS = "16 Glue reads at once, 100 messages a batch:"
OLD_MODE, NEW_MODE = {"workers": 1, "batch": 10}, {"workers": 16, "batch": 100}
# The scheduler notes every 1 s events tick skipped while a cycle long-polls: noise here.
logging.getLogger("apscheduler").setLevel(logging.ERROR)

# Catalogue jobs that run for many minutes: their driver logs are followed live.
LONG_JOBS = (
    "marketing-attribution-model",
    "finance-ledger-daily-rollup",
    "ml-feature-store-build",
    "s3-small-files-compaction",
)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def start_sandbox(port: int, jobs: int, functions: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SMD_SANDBOX_HISTORY_DAYS": "0.05", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dashapp",
            "sandbox",
            "--port",
            str(port),
            "--glue-jobs",
            str(jobs),
            "--lambda-functions",
            str(functions),
        ],
        cwd=ROOT,
        env=env,
        stdout=open(log, "wb"),  # noqa: SIM115 - the child writes to it until it ends
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"sandbox exited:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sandbox/health", timeout=2) as r:
                health = json.loads(r.read())
                if health.get("ready"):
                    return proc
        except OSError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit("sandbox not ready in 15 minutes")


def cycle(runner: CollectorRunner, name: str) -> tuple[float, dict[str, int], str]:
    ctx = runner.contexts[name]
    t0 = time.perf_counter()
    outcome = runner.run_job(collector_job(name))
    return time.perf_counter() - t0, ctx.aws.counter.snapshot(), outcome


def naive_metrics(
    aws: AwsClients, functions: list[str], start: datetime, end: datetime
) -> tuple[float, int]:
    """One GetMetricStatistics call per function, metric and statistic (what many scripts do)."""
    cw = aws.client("cloudwatch")
    t0 = time.perf_counter()
    for fn in functions:
        # The same series the collector reads, one call each.
        for metric, stat in ((q.metric, q.stat) for q in cwmod.lambda_queries(fn)):
            kwargs = {
                "Namespace": "AWS/Lambda",
                "MetricName": metric,
                "StartTime": start,
                "EndTime": end,
                "Period": 60,
                "Dimensions": [{"Name": "FunctionName", "Value": fn}],
            }
            kwargs["ExtendedStatistics" if stat.startswith("p") else "Statistics"] = [stat]
            cw.get_metric_statistics(**kwargs)
    return time.perf_counter() - t0, aws.counter.total()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--jobs", type=int, default=5000)
    ap.add_argument("--functions", type=int, default=5000)
    ap.add_argument("--window-s", type=float, default=330, help="section 2's scheduled window")
    ap.add_argument("--samples", type=int, default=120)
    ap.add_argument("--backlog", type=int, default=700, help="state changes queued for events")
    ap.add_argument("--rtt-ms", type=float, default=50, help="modelled AWS round trip (backlog)")
    ap.add_argument(
        "--naive-functions", type=int, default=500, help="section 3: naive calls timed on these"
    )
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--pin", action="store_true", help="sandbox and collectors on their own cores")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="smd-bench-"))
    db_url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    upgrade(db_url)
    require_empty(db_url)
    port = free_port()
    t0 = time.perf_counter()
    url = f"http://127.0.0.1:{port}"
    # Settings first: a configuration error must not leave a sandbox running behind us.
    settings = Settings(database_url=db_url, aws_endpoint_url=url, _env_file=None)
    sandbox = start_sandbox(port, args.jobs, args.functions, tmp / "sandbox.log")
    print(
        f"sandbox with {args.jobs} Glue jobs and {args.functions} Lambda functions ready in "
        f"{time.perf_counter() - t0:.0f} s; database {db_url.split('@')[-1]}"
    )
    print(f"load average before: {os.getloadavg()[1]:.2f} (5 min)")
    if args.pin:
        pin_apart(sandbox.pid)
    collectors: subprocess.Popen[bytes] | None = None
    try:
        recorder = CycleRecorder(settings)
        runner = recorder.runner()
        section_first_cycles(runner)
        recorder.take_counts(runner)
        queries = start_athena_queries(runner, settings, url, args.window_s)
        run_window_metered(settings, recorder, args.window_s, sandbox.pid)
        stop_athena_queries(settings, url, queries)
        print_table(recorder, settings, args.window_s)
        print_overruns(recorder.cycles, lambda name: interval_of(settings, name))
        glue_runs_alone(runner, recorder, settings)
        print_glue_runs(recorder, settings, full_pass(runner))
        drains = [
            drain_backlog(runner, settings, args.backlog, how=how, rtt_ms=rtt, **mode)
            for rtt in (0.0, args.rtt_ms)
            for how, mode in ((OLD_EVENTS, OLD_MODE), (NEW_EVENTS, NEW_MODE))
        ]
        print_backlog(drains)
        section_naive(runner, settings, args.naive_functions)
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "AWS_ENDPOINT_URL": url,
            "PYTHONUNBUFFERED": "1",
        }
        # What queued while no consumer ran (sections 1-3) is not what freshness measures.
        purged = purge_events(settings)
        collectors = subprocess.Popen(
            [sys.executable, "-m", "collectors"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp / "collectors.log", "wb"),  # noqa: SIM115 - lives as long as the child
        )
        print("\n4. Freshness: collectors (own process) and simulator running live")
        print(f"   ({purged} events queued during sections 1-3 purged first)")
        wait_for_steady_state(runner)
        aws = AwsClients(settings)
        state_lags = measure_state_changes(aws, runner, args.samples)
        watched_lags, other_lags = measure_log_lines(aws, runner, args.samples)
        with runner.sessions() as s:
            running = s.scalar(select(func.count()).where(JobRun.state == "RUNNING"))
        print(
            f"   ({running} Glue runs running; follower budget "
            f"{settings.log_follow_max_calls_per_s:g} GetLogEvents/s)"
        )
        for label, lags in (
            ("Glue state change -> job_runs", state_lags),
            ("log line, stream in a live view", watched_lags),
            ("log line, other running job", other_lags),
        ):
            print(
                f"   {label:<34} n={len(lags):4d}  p50 {percentile(lags, 50):.3f} s  "
                f"p95 {percentile(lags, 95):.3f} s  max {max(lags, default=float('nan')):.3f} s"
            )
    finally:
        if collectors is not None:
            collectors.terminate()
            collectors.wait(timeout=60)
        sandbox.terminate()
        sandbox.wait(timeout=60)
    return 0


def purge_events(settings: Settings) -> int:
    client = AwsClients(settings).client("sqs")
    url = client.get_queue_url(QueueName=settings.events_queue)["QueueUrl"]
    attrs = client.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    client.purge_queue(QueueUrl=url)
    return int(attrs["ApproximateNumberOfMessages"])


def require_empty(db_url: str) -> None:
    """The first cycles are part of the figures: a database holding a previous run's jobs
    would make them incremental (and mix two accounts)."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            if conn.execute(select(func.count()).select_from(GlueJob)).scalar():
                raise SystemExit(
                    f"{db_url.split('@')[-1]} already holds Glue jobs: give the bench an empty "
                    "database (CREATE DATABASE ...)"
                )
    finally:
        engine.dispose()


def section_first_cycles(runner: CollectorRunner) -> None:
    print("\n1. First cycles (they read the history), one collector after the other")
    print(f"   {'collector':<11} {'cycle s':>8} {'calls':>6}  calls by operation")
    for name in ("inventory", "glue_runs", "metrics", "logs", "catalog"):
        took, calls, outcome = cycle(runner, name)
        ops = ", ".join(f"{k.split(':')[1]} {v}" for k, v in sorted(calls.items())) or "-"
        print(f"   {name:<11} {took:8.2f} {sum(calls.values()):6d}  {ops}  [{outcome}]")


def section_naive(runner: CollectorRunner, settings: Settings, sample: int) -> None:
    with runner.sessions() as s:
        functions = list(s.scalars(select(LambdaFunction.name).order_by(LambdaFunction.name)))
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(minutes=10)
    print(f"\n3. Lambda metrics of {len(functions)} functions, 10-minute window, 8 stats each")
    aws = AwsClients(settings)
    queries = [q for f in functions for q in cwmod.lambda_queries(f)]
    t1 = time.perf_counter()
    points = cwmod.get_metric_data(aws.client("cloudwatch"), queries, start, end)
    batched_s, batched_calls = time.perf_counter() - t1, aws.counter.total()
    timed = functions[: max(1, min(sample, len(functions)))]
    naive_s, naive_calls = naive_metrics(AwsClients(settings), timed, start, end)
    scale = len(functions) / len(timed)
    naive_s, naive_calls = naive_s * scale, round(naive_calls * scale)
    print(
        f"   batched GetMetricData:     {batched_calls:6d} calls {batched_s:8.2f} s "
        f"({len(queries)} queries = ceil({len(queries)}/500) calls, {len(points)} datapoints)"
    )
    print(
        f"   naive GetMetricStatistics: {naive_calls:6d} calls {naive_s:8.2f} s"
        + (f" (timed on {len(timed)} functions, x{scale:.1f})" if scale != 1 else "")
    )
    print(
        f"   ratio: {naive_calls / batched_calls:.0f}x fewer calls, "
        f"{naive_s / batched_s:.1f}x less time"
    )


def wait_for_steady_state(runner: CollectorRunner) -> None:
    """Measure the running system, not its start-up: wait until every collector of the new
    process has finished a cycle (the first cycles read a backlog)."""
    from dashapp.models import CollectorStatus

    started = datetime.now(UTC)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        with runner.sessions() as s:
            done = {
                c.name
                for c in s.scalars(select(CollectorStatus))
                if c.last_success_at
                and c.last_started_at
                and c.last_started_at >= started
                and c.last_success_at >= c.last_started_at
            }
        if done >= {"inventory", "glue_runs", "metrics", "logs", "events", "log_follow"}:
            print(f"   (steady state after {(datetime.now(UTC) - started).total_seconds():.0f} s)")
            return
        time.sleep(1)
    print("   (collectors did not all finish a cycle in 10 minutes)")


class Watcher:
    """Polls the database every 20 ms in a thread and notes when each awaited key first shows."""

    def __init__(self, poll) -> None:
        self.poll = poll
        self.seen: dict[str, tuple[datetime, datetime]] = {}  # key -> (reference, seen)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            found = self.poll()
            now = datetime.now(UTC)
            for key, ref in found.items():
                self.seen.setdefault(key, (ref, now))
            time.sleep(0.02)

    def lags(self, keys: Iterable[str], timeout_s: float) -> list[float]:
        keys = set(keys)
        deadline = time.monotonic() + timeout_s
        while not keys <= set(self.seen) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.stop.set()
        self.thread.join()
        missing = keys - set(self.seen)
        if missing:
            print(f"   {len(missing)} of {len(keys)} never arrived", file=sys.stderr)
        return [(self.seen[k][1] - self.seen[k][0]).total_seconds() for k in keys if k in self.seen]


def measure_state_changes(aws: AwsClients, runner: CollectorRunner, samples: int) -> list[float]:
    """Upload files that start ingest runs; lag = row shows the final state - Glue CompletedOn."""
    since = datetime.now(UTC) - timedelta(seconds=5)

    def poll() -> dict[str, datetime]:
        with runner.sessions() as s:
            rows = s.execute(
                select(JobRun.arguments, JobRun.completed_at).where(
                    JobRun.job_name == "sales-orders-ingest",
                    JobRun.completed_at.is_not(None),
                    JobRun.started_at >= since,
                )
            ).all()
        return {(a or {}).get("--input_path", ""): c for a, c in rows}

    watcher = Watcher(poll)
    watcher.thread.start()
    s3 = aws.client("s3")
    keys = []
    for i in range(samples):
        key = f"sales/orders/{datetime.now(UTC):%Y/%m/%d}/{uuid.uuid4()}-bench-{i}.csv"
        s3.put_object(
            Bucket="smd-raw",
            Key=key,
            Body=(
                b"order_id,customer_id,amount,currency,ordered_at\n"
                b"O1,C1,1.00,EUR,2026-11-25T10:00:00Z\n"
            ),
        )
        keys.append(f"s3://smd-raw/{key}")
        time.sleep(0.1)
    return watcher.lags(keys, 300)


def measure_log_lines(
    aws: AwsClients, runner: CollectorRunner, samples: int
) -> tuple[list[float], list[float]]:
    """Put marked lines into running jobs' driver streams; lag = row visible - line put.

    Half the streams are open in a (simulated) live view, as the log viewer marks them;
    the others are only followed as running jobs, taking turns within the call budget.
    """
    glue, logs = aws.client("glue"), aws.client("logs")
    runs = {}
    for name in LONG_JOBS:
        with contextlib.suppress(glue.exceptions.ConcurrentRunsExceededException):
            runs[glue.start_job_run(JobName=name)["JobRunId"]] = name
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # until the collector follows them as running
        with runner.sessions() as s:
            running = s.scalar(
                select(func.count()).where(JobRun.run_id.in_(list(runs)), JobRun.state == "RUNNING")
            )
        if running == len(runs):
            break
        time.sleep(0.2)
    for run_id in runs:
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_stream(logGroupName="/aws-glue/jobs/output", logStreamName=run_id)
    run_ids = list(runs)
    watched_runs = set(run_ids[: len(run_ids) // 2])
    with runner.sessions.begin() as s:
        for run_id in watched_runs:
            s.add(
                LogWatch(
                    log_group="/aws-glue/jobs/output",
                    log_stream=run_id,
                    watched_until=datetime.now(UTC) + timedelta(minutes=10),
                )
            )
    with runner.sessions() as s:
        last = [s.scalar(select(func.max(LogEvent.id))) or 0]
    written: dict[str, datetime] = {}

    def poll() -> dict[str, datetime]:
        with runner.sessions() as s:  # only rows added since the last look (primary key)
            rows = s.execute(
                select(LogEvent.id, LogEvent.message).where(LogEvent.id > last[0])
            ).all()
        out = {}
        for row_id, message in rows:
            last[0] = max(last[0], row_id)
            if message in written:
                out[message] = written[message]
        return out

    watcher = Watcher(poll)
    watcher.thread.start()
    to_watched: list[str] = []
    to_others: list[str] = []
    for i in range(2 * samples):
        run_id = run_ids[i % len(run_ids)]
        marker = f"bench-marker-{uuid.uuid4().hex[:8]}-{i:05d}"
        at = datetime.now(UTC)
        written[marker] = at
        logs.put_log_events(
            logGroupName="/aws-glue/jobs/output",
            logStreamName=run_id,
            logEvents=[{"timestamp": int(at.timestamp() * 1000), "message": marker}],
        )
        (to_watched if run_id in watched_runs else to_others).append(marker)
        time.sleep(0.05)
    # Past the call budget a stream waits ~N/15 s for its turn (1,100+ streams: 75-100 s).
    watcher.lags(list(written), 180)
    lags = {k: (v[1] - v[0]).total_seconds() for k, v in watcher.seen.items()}
    for run_id, name in runs.items():
        glue.batch_stop_job_run(JobName=name, JobRunIds=[run_id])
    return [lags[m] for m in to_watched if m in lags], [lags[m] for m in to_others if m in lags]


if __name__ == "__main__":
    sys.exit(main())
