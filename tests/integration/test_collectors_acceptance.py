"""The collectors' acceptance points, against the real sandbox process and both databases.

- After `--once`, the export API returns exactly what AWS holds: every run with its
  fields, metric values equal to what was put, every log line once; a second run
  changes nothing.
- Throttling and 5xx injected on every operation the collectors use: the cycle
  completes and nothing is lost.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from collectors.runner import CollectorRunner
from dashapp.app import create_app
from dashapp.clock import FixedClock, iso_z
from dashapp.config import Settings
from dashapp.models import GlueJob, JobRun, LambdaFunction, LogEvent, MetricPoint, Upload
from tests.sandbox_process import clear_faults, client, fault_state, inject_faults, sandbox_process

# Every operation a collector cycle makes (the events consumer's included).
OPERATIONS = (
    ("glue", "GetJobs"),
    ("glue", "GetTriggers"),
    ("glue", "GetJobRuns"),
    ("tagging", "GetResources"),
    ("lambda", None),  # REST: ListFunctions
    ("monitoring", "GetMetricData"),
    ("logs", "GetLogEvents"),
    ("logs", "DescribeLogStreams"),
    ("sqs", "ReceiveMessage"),
    ("sqs", "GetQueueUrl"),
)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # No simulator: AWS holds still while we compare it with the database.
    with sandbox_process(tmp_path_factory.mktemp("sbx"), history_days=0.25, simulate=False) as url:
        yield url


def _settings(db_url: str, sandbox: str) -> Settings:
    return Settings(database_url=db_url, aws_endpoint_url=sandbox, _env_file=None)


def _export(settings: Settings, path: str, **params: str) -> list[dict[str, str]]:
    app = create_app(settings)
    resp = app.server.test_client().get(path, query_string=params)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))


def _aws_runs(sandbox: str) -> list[dict[str, Any]]:
    glue = client(sandbox, "glue")
    runs = []
    for job in glue.get_paginator("get_jobs").paginate():
        for j in job["Jobs"]:
            for page in glue.get_paginator("get_job_runs").paginate(JobName=j["Name"]):
                runs += page["JobRuns"]
    return runs


def _snapshot(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """Everything collected, minus bookkeeping that records *when* we looked."""
    with sessions() as s:
        return {
            "runs": sorted(
                (
                    r.run_id,
                    r.state,
                    r.started_at,
                    r.completed_at,
                    r.duration_s,
                    r.dpu_seconds,
                    r.rows_read,
                    r.rows_written,
                    r.error_message,
                    r.upload_id,
                )
                for r in s.scalars(select(JobRun))
            ),
            "points": sorted(
                (p.resource_type, p.resource_name, p.dimension, p.metric, p.stat, p.ts, p.value)
                for p in s.scalars(select(MetricPoint))
            ),
            "logs": sorted((e.event_key, e.message) for e in s.scalars(select(LogEvent))),
            "jobs": sorted(
                (j.name, j.schedule, str(j.tags), j.gone_at) for j in s.scalars(select(GlueJob))
            ),
            "functions": sorted(
                (f.name, f.memory_mb, f.gone_at) for f in s.scalars(select(LambdaFunction))
            ),
            "uploads": sorted(
                (u.bucket, u.object_key, u.status, u.run_id) for u in s.scalars(select(Upload))
            ),
        }


def _num(text: str) -> float | None:
    return float(text) if text != "" else None


def test_once_then_exports_equal_what_aws_holds_and_a_second_run_changes_nothing(
    sandbox: str, db_url: str, sessions: sessionmaker[Session]
):
    settings = _settings(db_url, sandbox)
    # One clock for both runs: "nothing changes" must not depend on a minute ticking over.
    clock = FixedClock(datetime.now(UTC))
    assert CollectorRunner(settings, clock=clock).run_once() == 0
    now = clock.now()
    window = {"since": iso_z(now - timedelta(days=2)), "until": iso_z(now + timedelta(hours=1))}

    # Every run with its fields.
    aws_runs = {r["Id"]: r for r in _aws_runs(sandbox)}
    exported = {row["run_id"]: row for row in _export(settings, "/export/job-runs.csv", **window)}
    assert set(exported) == set(aws_runs)
    assert any(r["JobRunState"] == "FAILED" for r in aws_runs.values())
    for run_id, raw in aws_runs.items():
        row = exported[run_id]
        assert row["job_name"] == raw["JobName"]
        assert row["state"] == raw["JobRunState"]
        assert row["started_at"] == iso_z(raw["StartedOn"])
        assert row["completed_at"] == (iso_z(raw["CompletedOn"]) if "CompletedOn" in raw else "")
        assert row["error_message"] == raw.get("ErrorMessage", "")
        assert row["trigger"] == raw.get("TriggerName", "")
        assert int(row["attempt"]) == raw["Attempt"]
        if "DPUSeconds" in raw:
            assert _num(row["dpu_seconds"]) == pytest.approx(raw["DPUSeconds"])

    # Rows read of a finished run = the Sum of its recordsRead datapoints in CloudWatch.
    cw = client(sandbox, "cloudwatch")
    finished = [r for r in aws_runs.values() if r["JobRunState"] == "SUCCEEDED"][:5]
    for raw in finished:
        resp = cw.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "r",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "Glue",
                            "MetricName": "glue.driver.aggregate.recordsRead",
                            "Dimensions": [
                                {"Name": "JobName", "Value": raw["JobName"]},
                                {"Name": "JobRunId", "Value": raw["Id"]},
                                {"Name": "Type", "Value": "count"},
                            ],
                        },
                        "Period": 60,
                        "Stat": "Sum",
                    },
                }
            ],
            StartTime=raw["StartedOn"] - timedelta(minutes=2),
            EndTime=now + timedelta(minutes=5),
        )
        assert _num(exported[raw["Id"]]["rows_read"]) == sum(resp["MetricDataResults"][0]["Values"])

    # Metric values equal what was put (one busy function, every minute of the backfill).
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    start = end - timedelta(hours=2)
    resp = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": s.lower(),
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": m,
                        "Dimensions": [{"Name": "FunctionName", "Value": "orders-api-handler"}],
                    },
                    "Period": 60,
                    "Stat": s,
                },
            }
            for m, s in (("Invocations", "Sum"), ("Duration", "p99"))
        ],
        StartTime=start,
        EndTime=end,
    )
    expected = {
        r["Id"]: {iso_z(ts): v for ts, v in zip(r["Timestamps"], r["Values"], strict=True)}
        for r in resp["MetricDataResults"]
    }
    for metric, stat in (("Invocations", "sum"), ("Duration", "p99")):
        rows = _export(
            settings,
            "/export/metrics.csv",
            resource_type="lambda_function",
            name="orders-api-handler",
            metric=metric,
            since=iso_z(start),
            until=iso_z(end),
        )
        got = {r["timestamp"]: float(r["value"]) for r in rows if r["stat"].lower() == stat}
        assert got == pytest.approx(expected[stat]), metric
        assert len(got) > 60

    # Every log line once, in order, for a failed run's driver error stream.
    failed = next(r for r in aws_runs.values() if r["JobRunState"] == "FAILED")
    events = client(sandbox, "logs").get_log_events(
        logGroupName="/aws-glue/jobs/error", logStreamName=failed["Id"], startFromHead=True
    )["events"]
    rows = _export(
        settings,
        "/export/log-events.csv",
        group="/aws-glue/jobs/error",
        stream=failed["Id"],
        **window,
    )
    assert [r["message"] for r in rows] == [e["message"] for e in events]
    assert events

    before = _snapshot(sessions)
    assert CollectorRunner(settings, clock=clock).run_once() == 0
    assert _snapshot(sessions) == before


@pytest.fixture
def faults_cleared(sandbox: str) -> Iterator[None]:
    clear_faults(sandbox)
    yield
    clear_faults(sandbox)


def test_throttling_and_5xx_on_every_operation_lose_nothing(
    sandbox: str, db_url: str, sessions: sessionmaker[Session], tmp_path, faults_cleared: None
):
    settings = _settings(db_url, sandbox)
    clock = FixedClock(datetime.now(UTC))
    assert CollectorRunner(settings, clock=clock).run_once() == 0
    baseline = _snapshot(sessions)
    # Start over on an empty database, with every operation failing its first three calls.
    from dashapp.db import make_engine
    from tests.conftest import _truncate

    engine = make_engine(db_url)
    _truncate(engine)
    engine.dispose()
    for service, operation in OPERATIONS:
        rule = {"service": service, "count": 1, "kind": "throttle"}
        if operation:
            rule["operation"] = operation
        inject_faults(sandbox, **rule)
        inject_faults(sandbox, **{**rule, "kind": "server_error", "count": 1})
    assert CollectorRunner(settings, clock=clock).run_once() == 0
    state = fault_state(sandbox)
    assert state["active"] == 0, state  # every injected fault was hit, and ridden out
    assert _snapshot(sessions) == baseline
