"""How sandbox pipelines behave: run plans, Glue log lines, Lambda load — pure and seeded.

The seed (14 days of history) and the simulator (live) both draw from here, so
history and live data look alike. Randomness comes in as a `random.Random` or a
numpy Generator, time as arguments: the same seed gives the same account.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from sandbox.catalog import FunctionSpec, JobSpec

STATE_CHANGE_STATES = ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED")


@dataclass
class LogLine:
    offset_s: float  # seconds after the run started
    stream: str  # "output" (driver stdout) or "error" (driver stderr: log4j, tracebacks)
    message: str


@dataclass
class RunPlan:
    """Everything a run will do, decided when it starts."""

    job: str
    startup_s: float
    execution_s: float
    outcome: str  # SUCCEEDED | FAILED | TIMEOUT
    error_message: str | None
    rows_read: int
    rows_written: int
    bytes_read: int
    failed_tasks: int
    dpu_seconds: float
    lines: list[LogLine] = field(default_factory=list)

    @property
    def total_s(self) -> float:
        return self.startup_s + self.execution_s


def diurnal_factor(when: datetime) -> float:
    """Load relative to the daily peak: quiet nights, an afternoon (UTC) peak, calmer weekends."""
    hour = when.hour + when.minute / 60
    day = max(0.0, math.sin(math.pi * (hour - 5.0) / 18.0)) ** 1.6 if 5 <= hour <= 23 else 0.0
    weekend = 0.55 if when.weekday() >= 5 else 1.0
    return (0.12 + 0.88 * day) * weekend


def dpu_seconds(spec: JobSpec, execution_s: float, rng: random.Random) -> float:
    if spec.command == "pythonshell":
        return round(execution_s * spec.max_capacity, 2)
    # Auto scaling uses fewer executors than the maximum most of the time.
    utilisation = rng.uniform(0.55, 0.95)
    return round(execution_s * spec.max_capacity * utilisation, 2)


def plan_run(
    spec: JobSpec,
    started_at: datetime,
    rng: random.Random,
    *,
    failure_boost: float = 0.0,
    rows: int | None = None,
    error: str | None = None,
    source: str | None = None,
) -> RunPlan:
    """Decide a run's fate: duration, volume, outcome and log lines.

    Ingest runs pass `rows` (and `error` when the file is bad): their outcome is
    what really reading the file gave, and they take seconds, not minutes.
    """
    ingest = rows is not None or error is not None
    if ingest:
        startup = rng.uniform(1.2, 2.5)
        execution = 1.0 + (rows or 0) / 50_000 + rng.uniform(0.2, 1.0)
    else:
        startup = rng.uniform(6, 25) if spec.command == "glueetl" else rng.uniform(2, 6)
        execution = max(8.0, rng.lognormvariate(math.log(spec.median_s), spec.spread))
    # An incident's boost raises the odds to at most 90 %; a job that always fails
    # (failure_rate 1.0) still always does.
    p_fail = max(spec.failure_rate, min(0.9, spec.failure_rate + failure_boost))
    roll = rng.random()
    if error is not None:
        outcome, message = "FAILED", error
    elif ingest:
        outcome, message = "SUCCEEDED", None
    elif roll < spec.timeout_rate:
        outcome = "TIMEOUT"
        execution = spec.timeout_min * 60.0
        message = f"Job run timed out after {spec.timeout_min} minutes"
    elif roll < spec.timeout_rate + p_fail and spec.errors:
        outcome = "FAILED"
        message = rng.choice(spec.errors)
        execution *= rng.uniform(0.15, 0.8)  # failures usually end early
    else:
        outcome, message = "SUCCEEDED", None
    if rows is None:
        rows = 0 if ingest else max(1, int(rng.lognormvariate(math.log(spec.rows), 0.3)))
    done_fraction = 1.0 if outcome == "SUCCEEDED" else rng.uniform(0.1, 0.9)
    rows_read = int(rows * done_fraction)
    rows_written = rows_read if outcome == "SUCCEEDED" else 0
    if outcome == "SUCCEEDED" and not ingest and rows_read > 1000:
        # Real jobs drop a few rows (duplicates, rejected by rules).
        rows_written = rows_read - int(rows_read * rng.uniform(0, 0.002))
    bytes_read = int(rows_read * rng.uniform(180, 420))
    failed_tasks = 0 if outcome == "SUCCEEDED" else rng.randint(1, 8)
    plan = RunPlan(
        job=spec.name,
        startup_s=startup,
        execution_s=execution,
        outcome=outcome,
        error_message=message,
        rows_read=rows_read,
        rows_written=rows_written,
        bytes_read=bytes_read,
        failed_tasks=failed_tasks,
        dpu_seconds=dpu_seconds(spec, execution, rng),
    )
    plan.lines = glue_log_lines(spec, plan, started_at, rng, source=source)
    return plan


def _log4j(at: datetime, level: str, logger: str, text: str) -> str:
    return f"{at:%y/%m/%d %H:%M:%S} {level} {logger}: {text}"


def glue_log_lines(
    spec: JobSpec,
    plan: RunPlan,
    started_at: datetime,
    rng: random.Random,
    *,
    source: str | None = None,
) -> list[LogLine]:
    """Driver log lines as Glue writes them: log4j on the error stream, prints on output."""
    lines: list[LogLine] = []
    t0 = plan.startup_s
    end = plan.total_s

    def at(offset: float) -> datetime:
        return started_at + timedelta(seconds=offset)

    def err(offset: float, level: str, logger: str, text: str) -> None:
        lines.append(LogLine(offset, "error", _log4j(at(offset), level, logger, text)))

    def out(offset: float, text: str) -> None:
        lines.append(LogLine(offset, "output", text))

    spark = spec.command == "glueetl"
    if spark:
        err(t0, "INFO", "GlueContext", "GlueMetrics configured and enabled")
        err(t0 + 0.4, "INFO", "SparkContext", "Running Spark version 3.3.0-amzn-1")
        err(
            t0 + 1.1,
            "INFO",
            "Utils",
            f"Successfully started service 'sparkDriver' on port {rng.randint(32768, 60999)}.",
        )
        err(
            t0 + 2.0,
            "INFO",
            "ExecutorAllocationManager",
            f"Requesting {spec.workers} new executors because tasks are backlogged",
        )
    out(
        t0 + 2.5,
        f"Job {spec.name} started (Glue {spec.glue_version}, "
        f"{spec.workers if spark else 'Python shell'} "
        f"{spec.worker_type if spark else ''} workers)".replace("  ", " "),
    )
    out(t0 + 3.0, f"Reading {source or 's3://smd-raw/' + spec.name.replace('-', '/') + '/'}")
    span = max(1.0, end - t0 - 5.0)
    stages = 4 if spark else 2
    for i in range(1, stages + 1):
        offset = t0 + 3.0 + span * i / (stages + 1)
        if offset >= end - 1:
            break
        if spark:
            tasks = rng.randint(8, 200)
            err(
                offset,
                "INFO",
                "DAGScheduler",
                f"Job {i} finished: save at DataSink.scala:{rng.randint(80, 400)}, "
                f"took {span / (stages + 1):.3f} s ({tasks} tasks)",
            )
            if rng.random() < 0.25:
                err(
                    offset + 0.5,
                    "WARN",
                    "TaskSetManager",
                    f"Lost task {rng.randint(0, tasks)}.0 in stage {i}.0 (executor "
                    f"{rng.randint(1, max(1, spec.workers))}): retrying",
                )
        out(offset + 0.2, f"Stage {i}/{stages}: {int(plan.rows_read * i / stages):,} records read")
    if plan.outcome == "SUCCEEDED":
        out(end - 0.8, f"Read {plan.rows_read:,} records, wrote {plan.rows_written:,} records")
        if spark:
            err(end - 0.4, "INFO", "SparkContext", "Successfully stopped SparkContext")
    elif plan.outcome == "TIMEOUT":
        err(end - 0.5, "WARN", "ApplicationMaster", "Job run exceeded its timeout; stopping")
    else:
        err(
            end - 0.6,
            "ERROR",
            "ProcessLauncher",
            "Error from Python:Traceback (most recent call last):\n"
            f'  File "/tmp/{spec.name}.py", line {rng.randint(40, 220)}, in <module>\n'
            f"    main()\n{plan.error_message}",
        )
        out(end - 0.5, f"Job failed: {plan.error_message}")
    lines.sort(key=lambda ln: ln.offset_s)
    return lines


@dataclass
class LambdaMinutes:
    """One function's load, one value per minute (arrays aligned with `minutes`)."""

    minutes: np.ndarray  # epoch seconds, minute-aligned
    invocations: np.ndarray
    errors: np.ndarray
    throttles: np.ndarray
    concurrency: np.ndarray
    duration_samples: np.ndarray  # (minutes, k) ms: a sample of each minute's invocations
    duration_sum: np.ndarray
    duration_min: np.ndarray
    duration_max: np.ndarray


def lambda_minutes(
    spec: FunctionSpec,
    minutes: np.ndarray,
    rng: np.random.Generator,
    *,
    samples: int = 24,
    incident: np.ndarray | None = None,
) -> LambdaMinutes:
    """Invocations with a diurnal shape, errors with occasional incidents, durations, throttles.

    `incident` marks minutes of an incident (error spike); by default a few windows
    are drawn over long ranges (history), none over a short one (a live minute).
    """
    n = len(minutes)
    hours = (minutes % 86400) / 3600.0
    weekday = ((minutes // 86400) + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
    day = np.where(
        (hours >= 5) & (hours <= 23), np.clip(np.sin(np.pi * (hours - 5) / 18), 0, 1) ** 1.6, 0.0
    )
    shape = (0.12 + 0.88 * day) * np.where(weekday >= 5, 0.55, 1.0)
    rate = spec.peak_per_min * shape * rng.lognormal(0, 0.08, n)
    invocations = rng.poisson(rate).astype(np.float64)
    # Incidents: a few windows of 10–40 minutes where errors jump.
    if incident is None:
        incident = np.zeros(n, dtype=bool)
        for _ in range(n // 4000):
            start = int(rng.integers(0, max(1, n - 40)))
            incident[start : start + int(rng.integers(10, 40))] = True
    err_rate = np.where(incident, min(0.6, spec.error_rate * 25 + 0.05), spec.error_rate)
    errors = rng.binomial(invocations.astype(np.int64), err_rate).astype(np.float64)
    mean_s = spec.duration_ms / 1000.0 * math.exp(spec.duration_spread**2 / 2)
    concurrency = np.ceil(invocations / 60.0 * mean_s * rng.uniform(1.2, 2.5, n))
    throttles = np.zeros(n)
    if spec.reserved_concurrency:
        over = concurrency > spec.reserved_concurrency * 0.8
        throttles[over] = rng.poisson(invocations[over] * 0.01)
        concurrency = np.minimum(concurrency, spec.reserved_concurrency)
    # A fixed-size sample of each minute's durations (vectorised: 14 days are 20,160 minutes).
    mu = math.log(spec.duration_ms)
    sample = np.round(rng.lognormal(mu, spec.duration_spread, (n, samples)), 2)
    spike = (errors > 0) & (rng.random(n) < 0.3)
    sample[spike, -1] = spec.timeout_s * 1000.0  # a timed-out invocation shows as a spike
    idle = invocations == 0
    d_sum = np.where(idle, 0.0, sample.mean(axis=1) * invocations)
    d_min = np.where(idle, 0.0, sample.min(axis=1))
    d_max = np.where(idle, 0.0, sample.max(axis=1))
    return LambdaMinutes(
        minutes=minutes,
        invocations=invocations,
        errors=errors,
        throttles=throttles,
        concurrency=concurrency,
        duration_samples=sample,
        duration_sum=d_sum,
        duration_min=d_min,
        duration_max=d_max,
    )


def lambda_invocation_log(
    spec: FunctionSpec, at: datetime, rng: random.Random, *, failed: bool, duration_ms: float
) -> list[tuple[datetime, str]]:
    """START / app lines / END / REPORT, as Lambda writes them for one invocation."""
    request_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    lines = [(at, f"START RequestId: {request_id} Version: $LATEST")]
    mid = at + timedelta(milliseconds=max(1.0, duration_ms / 2))
    stamp = f"{mid:%Y-%m-%dT%H:%M:%S}.{mid.microsecond // 1000:03d}Z"
    if failed:
        error = rng.choice(spec.error_lines) if spec.error_lines else "Error: unhandled"
        lines.append((mid, f"[ERROR]\t{stamp}\t{request_id}\t{error}"))
    else:
        text = f"processed request in {duration_ms:.0f} ms"
        lines.append((mid, f"[INFO]\t{stamp}\t{request_id}\t{text}"))
    end = at + timedelta(milliseconds=duration_ms)
    billed = math.ceil(duration_ms)
    used = int(spec.memory_mb * rng.uniform(0.25, 0.8))
    lines.append((end, f"END RequestId: {request_id}"))
    lines.append(
        (
            end,
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {billed} ms\tMemory Size: {spec.memory_mb} MB\t"
            f"Max Memory Used: {used} MB",
        )
    )
    return lines


def generic_spec(job: str) -> JobSpec:
    """Behaviour for a job the catalogue does not know (created by a test or a user)."""
    return JobSpec(
        name=job,
        description="",
        team="unknown",
        schedule=None,
        median_s=20,
        rows=1000,
        failure_rate=0.0,
        max_concurrent_runs=100,
    )
