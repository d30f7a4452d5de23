"""Every collector's cycles, scheduled as in production, against its interval and a naive count.

Used by `bench/collectors.py` (section 2). Each collector job is wrapped so every cycle is
recorded (time, API calls by operation, outcome); the runner's own APScheduler loop
(`CollectorRunner._lead`) then runs them all at once on their intervals for a window, as
`python -m collectors` does, while the sandbox's simulator plays the pipelines.

The naive count is what a collector doing one call per resource would spend on the same
cycle; each collector's definition is printed beside its figure (`NAIVE`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import statistics
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from bench.procstat import CpuMeter, pids_named, pin, tree
from collectors import events
from collectors.context import CollectorContext, CycleResult
from collectors.glue_runs import collect_glue_runs
from collectors.registry import BULK, JOBS, CollectorJob
from collectors.runner import CollectorRunner
from dashapp.actions.athena import run_query
from dashapp.aws import glue, sqs
from dashapp.aws.clients import AwsClients
from dashapp.config import Settings
from dashapp.identity import Identity, Role
from dashapp.models import AthenaQuery, CatalogTable, GlueJob, JobRun, LambdaFunction

if TYPE_CHECKING:
    from bench.live_window import LiveWindow

BENCH_USER = Identity(user="bench", role=Role.operator)
ATHENA_QUERIES = 100  # unfinished queries the athena collector follows during the window


@dataclass
class Cycle:
    collector: str
    phase: str
    started: float  # seconds since the recorder was made
    took: float
    calls: dict[str, int]
    outcome: str
    naive: int | None
    items: int = 0
    failures: int = 0
    lag_s: float | None = None

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


@dataclass
class Counts:
    """What the account holds, for the naive counts (read from the database)."""

    jobs: int = 0
    functions: int = 0
    tables: int = 0


# collector -> (what a naive collector does, its calls for one cycle)
NAIVE: dict[str, tuple[str, Callable[[Counts, dict[str, int]], int | None]]] = {
    "inventory": ("one describe call per job and per function", lambda c, _: c.jobs + c.functions),
    "glue_runs": ("one GetJobRuns per job", lambda c, _: c.jobs),
    "events": (
        "per message: receive, GetJobRun, delete, one at a time",
        lambda _, d: 3 * d["messages"],
    ),
    "metrics": ("one GetMetricData per function and per job", lambda c, _: c.jobs + c.functions),
    "logs": ("one GetLogEvents per job and per function", lambda c, _: c.jobs + c.functions),
    "log_follow": (
        "one GetLogEvents per stream of a running run (2 a run)",
        lambda _, d: 2 * d["active_runs"],
    ),
    "retries": ("one GetJobRuns per job, to find failed runs", lambda c, _: c.jobs),
    "athena": ("one GetQueryExecution per unfinished query", lambda _, d: d["unfinished"]),
    "catalog": ("GetDatabases, then one GetTable per table", lambda c, _: 1 + c.tables),
    "retention": ("no AWS calls (database only)", lambda _, __: None),
}


class CycleRecorder:
    """Wraps collector jobs so each cycle is recorded with its cost and its naive count."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.t0 = time.perf_counter()
        self.phase = "first"
        self.cycles: list[Cycle] = []
        self.counts = Counts()
        self._lock = threading.Lock()
        self._messages = threading.local()
        self.in_flight = 0

    def runner(self, group: str | None = None) -> CollectorRunner:
        """Every collector, or one group's (under its leader lock)."""
        jobs = [self.wrap(j) for j in JOBS if group in (None, j.group)]
        runner = CollectorRunner(self.settings, jobs=jobs, group=group or BULK)
        if "events" in runner.contexts:
            self._watch_messages(runner.contexts["events"])
        return runner

    def wrap(self, job: CollectorJob) -> CollectorJob:
        def run(ctx: CollectorContext) -> CycleResult:
            phase = self.phase
            with self._lock:
                self.in_flight += 1
            self._messages.count = 0
            started = time.perf_counter()
            outcome, result = "failed", CycleResult()
            try:
                result = job.run(ctx)
                outcome = "partial" if result.failures else "ok"
                return result
            finally:
                took = time.perf_counter() - started
                dynamic = {"messages": self._messages.count, **self._dynamic(ctx, job.name)}
                cycle = Cycle(
                    job.name,
                    phase,
                    started - self.t0,
                    took,
                    ctx.aws.counter.snapshot(),
                    outcome,
                    NAIVE[job.name][1](self.counts, dynamic),
                    result.items,
                    len(result.failures),
                    result.lag_s,
                )
                with self._lock:
                    self.cycles.append(cycle)
                    self.in_flight -= 1

        return replace(job, run=run)

    def wait_idle(self, timeout_s: float = 300) -> None:
        """Until the cycles still running when the window closed have ended."""
        deadline = time.monotonic() + timeout_s
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.2)

    def _dynamic(self, ctx: CollectorContext, name: str) -> dict[str, int]:
        if name not in ("log_follow", "athena"):
            return {}
        with ctx.sessions() as s:
            if name == "log_follow":
                active = JobRun.state.in_(glue.ACTIVE_STATES)
                return {"active_runs": s.scalar(select(func.count()).where(active)) or 0}
            unfinished = AthenaQuery.state.in_(("QUEUED", "RUNNING"))
            return {"unfinished": s.scalar(select(func.count()).where(unfinished)) or 0}

    def _watch_messages(self, ctx: CollectorContext) -> None:
        """Count the messages each events cycle receives (its naive count)."""

        def after(parsed: dict[str, Any], **_: Any) -> None:
            received = len(parsed.get("Messages", []))
            self._messages.count = getattr(self._messages, "count", 0) + received

        ctx.aws.client("sqs").meta.events.register("after-call.sqs.ReceiveMessage", after)

    def take_counts(self, runner: CollectorRunner) -> None:
        with runner.sessions() as s:
            self.counts = Counts(
                jobs=s.scalar(select(func.count()).where(GlueJob.gone_at.is_(None))) or 0,
                functions=s.scalar(select(func.count()).where(LambdaFunction.gone_at.is_(None)))
                or 0,
                tables=s.scalar(select(func.count()).select_from(CatalogTable)) or 0,
            )


def queue_backlog(runner: CollectorRunner, settings: Settings, count: int) -> int:
    """Re-send the state changes of the newest `count` finished runs, as EventBridge sends
    them, so the events collector starts the window behind (a restart, an outage)."""
    with runner.sessions() as s:
        runs = s.execute(
            select(JobRun.job_name, JobRun.run_id, JobRun.state, JobRun.completed_at)
            .where(JobRun.state.in_(glue.TERMINAL_STATES), JobRun.completed_at.is_not(None))
            .order_by(JobRun.completed_at.desc())
            .limit(count)
        ).all()
    sqs_client = AwsClients(settings).client("sqs")
    url = sqs.queue_url(sqs_client, settings.events_queue)
    bodies = [
        json.dumps(
            {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Glue Job State Change",
                "source": "aws.glue",
                "account": "123456789012",
                "time": completed.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": settings.aws_region,
                "resources": [],
                "detail": {"jobName": job, "jobRunId": run_id, "state": state, "message": ""},
            }
        )
        for job, run_id, state, completed in runs
    ]
    for start in range(0, len(bodies), 10):
        sqs_client.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start : start + 10])
            ],
        )
    return len(bodies)


def _sandbox_athena(url: str, method: str, body: dict[str, Any] | None = None) -> None:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{url}/_sandbox/athena", data=data, method=method)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10):
        pass


def start_athena_queries(
    runner: CollectorRunner, settings: Settings, url: str, window_s: float
) -> list[str]:
    """Queries that stay unfinished through the window, started as the workbench does."""
    _sandbox_athena(url, "POST", {"min_running_s": window_s + 120})
    aws = AwsClients(settings)
    ids = []
    for i in range(ATHENA_QUERIES):
        result = run_query(
            runner.sessions,
            aws.client("athena"),
            BENCH_USER,
            sql=f"SELECT {i} AS n",
            database=settings.athena_database,
            workgroup=settings.athena_workgroup,
            output_location=f"s3://{settings.athena_results_bucket}/results/",
            now=datetime.now(UTC),
            request_token=uuid.uuid4().hex,
        )
        if not result.ok or result.execution_id is None:
            raise SystemExit(f"run_query: {result.message}")
        ids.append(result.execution_id)
    return ids


def stop_athena_queries(settings: Settings, url: str, ids: list[str]) -> None:
    client = AwsClients(settings).client("athena")
    for execution_id in ids:
        with contextlib.suppress(Exception):  # it may have ended meanwhile
            client.stop_query_execution(QueryExecutionId=execution_id)
    _sandbox_athena(url, "DELETE")


def run_window(recorder: CycleRecorder, seconds: float, live: LiveWindow) -> None:
    """Every collector on its interval for `seconds`, as `python -m collectors` runs them:
    the bulk ones in this process, in the runner's own scheduler, and the live pollers in
    a process of their own (`live`, started here)."""
    from collectors.leader import lock_for

    runner = recorder.runner(BULK)
    recorder.phase = "window"
    thread = threading.Thread(target=runner.run_forever, args=(lock_for(runner.engine),))
    thread.start()
    live.start()
    time.sleep(seconds)
    recorder.phase = "after"
    runner.request_stop()
    live_cycles = live.close()
    thread.join(timeout=120)
    recorder.wait_idle()
    with recorder._lock:
        recorder.cycles.extend(live_cycles)


def run_window_metered(
    settings: Settings, recorder: CycleRecorder, seconds: float, sandbox_pid: int
) -> None:
    """`run_window`, printing the CPU the collectors (this process and the live pollers'),
    the sandbox and PostgreSQL used meanwhile: whose cores the cycles waited on."""
    from bench.live_window import LiveWindow

    live = LiveWindow(settings, recorder)
    meters = {
        "bulk collectors (this process)": (CpuMeter([os.getpid()]), lambda: [os.getpid()]),
        "sandbox": (CpuMeter(tree(sandbox_pid)), lambda: tree(sandbox_pid)),
        "PostgreSQL (all of it)": (
            CpuMeter(pids_named("postgres")),
            lambda: pids_named("postgres"),
        ),
    }
    for meter, _ in meters.values():
        meter.start()
    opened = time.perf_counter()
    run_window(recorder, seconds, live)
    took = time.perf_counter() - opened
    print(f"   (load average during the window: {os.getloadavg()[1]:.2f}, 5 min)")
    used = [
        f"{name} {m.stop(pids()):.0f} s = {m.used_s / took:.2f} cores"
        for name, (m, pids) in meters.items()
    ]
    used.insert(1, f"live pollers (own process) {live.cpu_s:.0f} s = {live.cpu_s / took:.2f} cores")
    print(f"   CPU in the window ({took:.0f} s, until its last cycle ended): " + "; ".join(used))


def pin_apart(sandbox_pid: int) -> None:
    """The sandbox on the last core, this process (the collectors) on the others."""
    cpus = sorted(os.sched_getaffinity(0))
    pin(sandbox_pid, {cpus[-1]})
    pin(os.getpid(), set(cpus[:-1]) or {cpus[-1]})
    print(f"pinned: sandbox on CPU {cpus[-1]}, collectors on {cpus[:-1] or cpus[-1:]}")


def glue_runs_alone(runner: CollectorRunner, recorder: CycleRecorder, settings: Settings) -> None:
    """`glue_full_reconcile_every` consecutive glue_runs cycles with no other collector
    running, each started one interval after the last: what a cycle costs by itself."""
    recorder.phase = "alone"
    job = next(j for j in runner.jobs if j.name == "glue_runs")
    interval = job.interval(settings)
    for _ in range(settings.glue_full_reconcile_every):
        started = time.monotonic()
        runner.run_job(job)
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


def full_pass(runner: CollectorRunner) -> Cycle:
    """One glue_runs cycle over every job (what every 4th cycle used to be), for comparison."""
    ctx = runner.contexts["glue_runs"]
    ctx.aws.counter.reset()
    ctx.once = True
    started = time.perf_counter()
    try:
        result = collect_glue_runs(ctx)
    finally:
        ctx.once = False
    took = time.perf_counter() - started
    return Cycle(
        "glue_runs", "full pass", 0, took, ctx.aws.counter.snapshot(), "ok", None, result.items
    )


@dataclass
class Backlog:
    how: str
    rtt_ms: float
    messages: int
    took: float
    calls: dict[str, int]


def drain_backlog(
    runner: CollectorRunner,
    settings: Settings,
    count: int,
    *,
    workers: int,
    batch: int,
    how: str,
    rtt_ms: float = 0.0,
) -> Backlog:
    """Queue `count` state changes, then time the events collector until the queue is empty,
    reading Glue with `workers` threads in batches of `batch` messages.

    `rtt_ms` models the round trip to AWS, which the sandbox on loopback does not have: each
    call first waits that long (in its own thread, as a network wait does)."""
    queued = queue_backlog(runner, settings, count)
    ctx = runner.contexts["events"]
    clients = [ctx.aws.client("glue"), ctx.aws.client("sqs"), ctx.aws.client("cloudwatch")]

    def round_trip(**_: Any) -> None:
        time.sleep(rtt_ms / 1000)

    saved = (events.FETCH_WORKERS, events.BATCH_MESSAGES, ctx.once)
    events.FETCH_WORKERS, events.BATCH_MESSAGES, ctx.once = workers, batch, True
    ctx.stop.clear()
    ctx.aws.counter.reset()
    if rtt_ms:
        for c in clients:
            c.meta.events.register("before-send.*.*", round_trip)
    try:
        started = time.perf_counter()
        events.consume_events(ctx)
        took = time.perf_counter() - started
    finally:
        events.FETCH_WORKERS, events.BATCH_MESSAGES, ctx.once = saved
        for c in clients:
            c.meta.events.unregister("before-send.*.*", round_trip)
    return Backlog(how, rtt_ms, queued, took, ctx.aws.counter.snapshot())


def _p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _p99(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def interval_of(settings: Settings, name: str) -> float:
    return next(j.interval(settings) for j in JOBS if j.name == name)


def print_table(recorder: CycleRecorder, settings: Settings, window_s: float) -> None:
    c = recorder.counts
    print(
        f"\n2. Every collector scheduled as in production for {window_s:.0f} s "
        f"({c.jobs:,} Glue jobs, {c.functions:,} Lambda functions, {c.tables} catalog tables)"
    )
    print(
        "   steady state: each collector's cycles in the window after its first one (a "
        "collector with one cycle: that one)"
    )
    head = (
        f"   {'collector':<10} {'interval':>9} {'cycles':>6} {'p50 s':>7} {'p99 s':>7} {'max s':>7}"
        f"  {'inside interval':<22} {'calls p50':>9} {'max':>6} {'naive':>7}  naive ="
    )
    print(head)
    for name, (definition, _) in NAIVE.items():
        window = [x for x in recorder.cycles if x.collector == name and x.phase == "window"]
        steady = window[1:] if len(window) > 1 else window
        interval = interval_of(settings, name)
        budget = interval
        label = f"{interval:g} s"
        if name == "events":  # continuous: a cycle long-polls until its deadline, then ends
            budget = settings.collect_events_wait_s + 5.0
            label = "continuous"
        if not steady:
            print(f"   {name:<10} {label:>9} {0:>6}  (no cycle in the window)")
            continue
        times = [x.took for x in steady]
        calls = [float(x.total_calls) for x in steady]
        naive = [x.naive for x in steady if x.naive is not None]
        over = sum(1 for t in times if t > budget)
        inside = "yes" if not over else f"no: {over} of {len(times)} over"
        if name == "events":
            inside += f" (<= {budget:g} s)"
        failed = sum(1 for x in steady if x.outcome != "ok")
        note = f"  [{failed} not ok]" if failed else ""
        naive_text = f"{_p50([float(n) for n in naive]):>7,.0f}" if naive else f"{'-':>7}"
        print(
            f"   {name:<10} {label:>9} {len(steady):>6} {_p50(times):>7.2f} {_p99(times):>7.2f}"
            f" {max(times):>7.2f}  {inside:<22} {_p50(calls):>9,.0f} {max(calls):>6,.0f}"
            f" {naive_text}  {definition}{note}"
        )


def print_glue_runs(recorder: CycleRecorder, settings: Settings, baseline: Cycle) -> None:
    every = settings.glue_full_reconcile_every
    jobs = recorder.counts.jobs
    print(
        f"\n   glue_runs, each cycle (interval {interval_of(settings, 'glue_runs'):g} s; every job "
        f"within {every} cycles: ceil({jobs:,}/{every}) = {math.ceil(jobs / every):,} a cycle, "
        "plus jobs with active runs and failed ones)"
    )
    for phase, label in (("window", "in the window"), ("alone", "alone, after the window")):
        for x in recorder.cycles:
            if x.collector != "glue_runs" or x.phase != phase:
                continue
            print(
                f"     {label:<24} {x.took:6.2f} s  {x.calls.get('glue:GetJobRuns', 0):>6,} "
                f"GetJobRuns  ({x.items} runs stored, {x.outcome})"
            )
    print(
        f"     {'every job in one cycle':<24} {baseline.took:6.2f} s  "
        f"{baseline.calls.get('glue:GetJobRuns', 0):>6,} GetJobRuns  (the old full "
        "reconciliation, every 4th cycle; alone, after the window)"
    )


def print_backlog(results: list[Backlog]) -> None:
    print(
        "\n   events, draining a backlog (the state changes of the newest finished runs, "
        "queued as EventBridge sends them), measured after the window:"
    )
    for r in results:
        ops = ", ".join(f"{k.split(':')[1]} {v}" for k, v in sorted(r.calls.items()))
        rtt = f"+{r.rtt_ms:g} ms a call" if r.rtt_ms else "loopback"
        print(
            f"     {r.how:<44} {rtt:<14} {r.messages} messages in {r.took:6.2f} s, "
            f"{sum(r.calls.values())} calls ({ops})"
        )
