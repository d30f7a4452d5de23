"""Running the collectors against the sandbox server, and reading what the sandbox holds.

Why apart from the test: a round of every collector with its figures, the ground truth
read through the sandbox's internal (never faulted) clients, and a pacer that starts a
collector every interval as the scheduler does are what any end-to-end fault test needs;
the test keeps only what it plans and checks.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from collectors.registry import CollectorJob
from collectors.runner import CollectorRunner
from dashapp.models import LogEvent
from sandbox.account import SandboxAccount

Stream = tuple[str, str]
LogLines = Counter[tuple[str, str, str]]


@dataclass
class Cycle:
    outcome: str
    calls: int
    requests: int
    seconds: float


@dataclass
class Round:
    cycles: dict[str, Cycle] = field(default_factory=dict)

    def outcomes(self) -> dict[str, str]:
        return {name: c.outcome for name, c in self.cycles.items()}

    def lines(self, label: str) -> list[str]:
        """One figure line per collector: calls, retries, cycle time, outcome."""
        return [
            f"{label} {name}: calls={c.calls} retries={c.requests - c.calls} "
            f"cycle={c.seconds:.2f}s {c.outcome}"
            for name, c in self.cycles.items()
        ]


def run_round(runner: CollectorRunner) -> Round:
    """Every collector once, in registry order, as `python -m collectors --once` does
    (outcomes recorded in collector_status), with each one's calls, requests and time."""
    result = Round()
    for job in runner.jobs:
        ctx = runner.contexts[job.name]
        ctx.once = True
        before = ctx.aws.counter.requests
        start = time.monotonic()
        outcome = runner.run_job(job)
        result.cycles[job.name] = Cycle(
            outcome=outcome,
            calls=ctx.aws.counter.total(),  # reset by run_job when the cycle starts
            requests=ctx.aws.counter.requests - before,
            seconds=time.monotonic() - start,
        )
    return result


class Pacer:
    """Starts a cycle of `job` every interval, never two at once, as the scheduler does
    (coalesced: a cycle that overruns is followed at once by the next)."""

    def __init__(self, runner: CollectorRunner, job: CollectorJob, interval_s: float) -> None:
        self.runner, self.job, self.interval_s = runner, job, interval_s
        self._stop = threading.Event()
        self._cycle_started = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"pacer-{job.name}", daemon=True)

    def __enter__(self) -> Pacer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        """Waits for the cycle in flight to end."""
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self._cycle_started.set()
            self.runner.run_job(self.job)
            self._stop.wait(max(0.0, started + self.interval_s - time.monotonic()))

    def requests_per_s(self, seconds: float, *, from_a_cycle_start: bool = False) -> float:
        """HTTP requests (retries included) the job sends per second over the next `seconds`;
        counted from the next cycle's start, a window of whole intervals holds whole cycles."""
        counter = self.runner.contexts[self.job.name].aws.counter
        if from_a_cycle_start:
            self._cycle_started.clear()
            self._cycle_started.wait(timeout=60)
            seconds -= self.interval_s / 10  # ends before the cycle after the last one
        before, start = counter.requests, time.monotonic()
        time.sleep(seconds)
        return (counter.requests - before) / (time.monotonic() - start)


def start_runs(account: SandboxAccount, n: int) -> list[tuple[str, str]]:
    """`n` runs of a new job: STARTING for good, as no simulator moves them on."""
    glue = account.client("glue")
    name = f"faults-{uuid.uuid4().hex[:8]}"
    glue.create_job(
        Name=name,
        Role="arn:aws:iam::123456789012:role/smd-glue",
        Command={"Name": "glueetl", "ScriptLocation": f"s3://smd-scripts/{name}.py"},
        ExecutionProperty={"MaxConcurrentRuns": n},
    )
    return [(name, glue.start_job_run(JobName=name)["JobRunId"]) for _ in range(n)]


def put_lines(account: SandboxAccount, stream: Stream, lines: list[tuple[datetime, str]]) -> None:
    """Append lines to a stream over HTTP (the account's own `put_logs` writes to the moto
    of the process it runs in: the sandbox's, not a test's)."""
    logs = account.client("logs")
    group, name = stream
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=group)
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=group, logStreamName=name)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=name,
        logEvents=[{"timestamp": int(at.timestamp() * 1000), "message": m} for at, m in lines],
    )


def aws_runs(account: SandboxAccount) -> dict[str, str]:
    """Every run in the account with its state."""
    glue = account.client("glue")
    runs: dict[str, str] = {}
    for page in glue.get_paginator("get_jobs").paginate():
        for j in page["Jobs"]:
            for runs_page in glue.get_paginator("get_job_runs").paginate(JobName=j["Name"]):
                runs.update({r["Id"]: r["JobRunState"] for r in runs_page["JobRuns"]})
    return runs


def aws_log_lines(account: SandboxAccount, streams: Iterable[Stream]) -> LogLines:
    """Every line the streams hold (a stream that does not exist holds none)."""
    logs = account.client("logs")
    lines: LogLines = Counter()
    for group, stream in streams:
        with contextlib.suppress(logs.exceptions.ResourceNotFoundException):
            events = logs.get_log_events(
                logGroupName=group, logStreamName=stream, startFromHead=True
            )["events"]
            lines.update((group, stream, e["message"]) for e in events)
    return lines


def stored_log_lines(sessions: sessionmaker[Session], streams: Iterable[Stream]) -> LogLines:
    wanted = set(streams)
    with sessions() as s:
        return Counter(
            (e.log_group, e.log_stream, e.message)
            for e in s.scalars(select(LogEvent))
            if (e.log_group, e.log_stream) in wanted
        )
