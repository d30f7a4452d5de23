"""What the sandbox account holds, read through boto3, against what the database stored.

Why: "no lost or duplicated rows" after a database fault means nothing unless it is
checked against the source. The account must hold still (a sandbox without its
simulator) and its history must be shorter than the collectors' backfill windows, so a
complete collection holds all of it: every Glue run, every line of every log stream
(Glue runs' output and error streams, Lambda functions' streams), every datapoint of
every series the collectors read. Lines and datapoints are compared as multisets, so a
line stored twice (under two keys) counts as well as one lost.

Datapoints are asked for with the product's own query list and batching
(`dashapp.aws.cloudwatch`); `tests/integration/test_collectors_acceptance.py` checks
those against raw GetMetricData answers.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from dashapp.aws import cloudwatch as cw
from dashapp.models import JobRun, LogEvent, MetricPoint
from tests.sandbox_process import client

GLUE_LOG_GROUPS = ("/aws-glue/jobs/output", "/aws-glue/jobs/error")
INGESTION_NAMESPACE = "SMD/Ingestion"
PointKey = tuple[str, str, str, str, str, datetime]


@dataclass
class Holdings:
    """Runs by id, lines by stream (a multiset of (time, message)), datapoints by key."""

    runs: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    lines: dict[tuple[str, str], Counter[tuple[datetime, str]]] = field(default_factory=dict)
    points: dict[PointKey, float] = field(default_factory=dict)

    def sizes(self) -> str:
        lines = sum(sum(c.values()) for c in self.lines.values())
        return (
            f"{len(self.runs)} runs, {lines} log lines in {len(self.lines)} streams, "
            f"{len(self.points)} datapoints"
        )


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _run(job: str, state: str, started: datetime | None, completed: datetime | None) -> tuple:
    return (job, state, _utc(started), _utc(completed))


def in_aws(url: str, namespace: str = INGESTION_NAMESPACE) -> Holdings:
    """Everything the collectors are meant to copy from the account at `url`."""
    truth = Holdings()
    glue = client(url, "glue")
    for page in glue.get_paginator("get_jobs").paginate():
        for job in page["Jobs"]:
            for runs in glue.get_paginator("get_job_runs").paginate(JobName=job["Name"]):
                for r in runs["JobRuns"]:
                    truth.runs[r["Id"]] = _run(
                        r["JobName"], r["JobRunState"], r.get("StartedOn"), r.get("CompletedOn")
                    )
    functions = [
        f["FunctionName"]
        for page in client(url, "lambda").get_paginator("list_functions").paginate()
        for f in page["Functions"]
    ]
    logs = client(url, "logs")
    for group in (*GLUE_LOG_GROUPS, *(f"/aws/lambda/{f}" for f in functions)):
        try:
            streams = [
                s["logStreamName"]
                for page in logs.get_paginator("describe_log_streams").paginate(logGroupName=group)
                for s in page["logStreams"]
            ]
        except logs.exceptions.ResourceNotFoundException:
            continue
        for stream in streams:
            lines = _stream_lines(logs, group, stream)
            if lines:
                truth.lines[(group, stream)] = lines
    queries = [q for f in functions for q in cw.lambda_queries(f)]
    queries += [
        q for run_id, (job, *_) in truth.runs.items()
        for q in cw.glue_run_queries(job, run_id, namespace)
    ]  # fmt: skip
    now = datetime.now(UTC)
    # The account's whole history: it is shorter than a day and holds still.
    for p in cw.get_metric_data(
        client(url, "cloudwatch"), queries, now - timedelta(days=1), now + timedelta(hours=1)
    ):
        q = p.query
        truth.points[(q.resource_type, q.resource_name, q.dimension, q.metric, q.stat, p.ts)] = (
            p.value
        )
    return truth


def _stream_lines(logs: Any, group: str, stream: str) -> Counter[tuple[datetime, str]]:
    lines: Counter[tuple[datetime, str]] = Counter()
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"logGroupName": group, "logStreamName": stream}
        kwargs.update(startFromHead=True, **({"nextToken": token} if token else {}))
        resp = logs.get_log_events(**kwargs)
        for e in resp["events"]:
            lines[(datetime.fromtimestamp(e["timestamp"] / 1000, UTC), e["message"])] += 1
        if not resp["events"] or resp.get("nextForwardToken") in (None, token):
            return lines
        token = resp["nextForwardToken"]


def in_database(engine: Engine) -> Holdings:
    held = Holdings()
    with Session(engine) as s:
        for r in s.scalars(select(JobRun)):
            held.runs[r.run_id] = _run(r.job_name, r.state, r.started_at, r.completed_at)
        for group, stream, ts, message in s.execute(
            select(LogEvent.log_group, LogEvent.log_stream, LogEvent.ts, LogEvent.message)
        ):
            held.lines.setdefault((group, stream), Counter())[(_utc(ts), message)] += 1
        for p in s.scalars(select(MetricPoint)):
            key = (p.resource_type, p.resource_name, p.dimension, p.metric, p.stat, _utc(p.ts))
            held.points[key] = p.value  # type: ignore[index]
    return held


def differences(truth: Holdings, held: Holdings) -> list[str]:
    """What the database lost, holds twice, holds wrongly or invented; [] when it is exact."""
    found: list[str] = []
    lost = truth.runs.keys() - held.runs.keys()
    extra = held.runs.keys() - truth.runs.keys()
    changed = [k for k in truth.runs.keys() & held.runs.keys() if truth.runs[k] != held.runs[k]]
    if lost or extra or changed:
        found.append(f"runs: {len(lost)} lost, {len(extra)} unknown, {len(changed)} differ "
                     f"(e.g. {sorted(lost | extra)[:3] or changed[:3]})")  # fmt: skip
    for stream in sorted(truth.lines.keys() | held.lines.keys()):
        want, got = truth.lines.get(stream, Counter()), held.lines.get(stream, Counter())
        if want != got:
            missing, twice = want - got, got - want
            found.append(
                f"log stream {stream[0]}/{stream[1]}: {sum(missing.values())} lines lost, "
                f"{sum(twice.values())} extra or twice (of {sum(want.values())})"
            )
    lost_points = truth.points.keys() - held.points.keys()
    extra_points = held.points.keys() - truth.points.keys()
    wrong = [k for k in truth.points.keys() & held.points.keys()
             if truth.points[k] != held.points[k]]  # fmt: skip
    if lost_points or extra_points or wrong:
        found.append(
            f"datapoints: {len(lost_points)} lost, {len(extra_points)} unknown, "
            f"{len(wrong)} differ (e.g. {sorted(lost_points | extra_points)[:2] or wrong[:2]})"
        )
    return found


def wait_until_held(truth: Holdings, engine: Engine, timeout_s: float) -> float:
    """Poll (each second) until the database holds exactly `truth`; the seconds it took.
    Fails the test with the differences left when it does not within `timeout_s`."""
    began = time.monotonic()
    while diffs := differences(truth, in_database(engine)):
        if time.monotonic() - began > timeout_s:
            pytest.fail(
                f"the database differs from AWS after {timeout_s} s: " + "; ".join(diffs[:5])
            )
        time.sleep(1)
    return time.monotonic() - began
