"""The simulator keeps pipelines alive: schedules fire, runs live through their states, log,
publish metrics, send state-change events, retry, stop on request, and Lambda reports load.

Driven tick by tick with a FixedClock against a real sandbox server, so each step
is observed through plain boto3 exactly as the product's collector will see it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dashapp.clock import FixedClock
from dashapp.config import Settings
from sandbox.account import SandboxAccount
from sandbox.catalog import FUNCTIONS, JOBS, JobSpec
from sandbox.seed import seed
from sandbox.server import SandboxServer
from sandbox.simulator import Simulator


def _start() -> datetime:
    """10 s before a quarter hour, three hours ago: iot-telemetry-compact (*/15) fires next.

    In the past, because CloudWatch Logs (and moto) refuse events more than two
    hours ahead of the real clock, and the tests move the simulated clock forward.
    """
    past = datetime.now(UTC) - timedelta(hours=3)
    quarter = past.replace(minute=past.minute - past.minute % 15, second=0, microsecond=0)
    return quarter + timedelta(minutes=14, seconds=50)


START = _start()
SCHEDULED = "iot-telemetry-compact"
FLAKY = JobSpec(
    name="flaky-nightly-export",
    description="Always fails; retried twice by Glue",
    team="test",
    schedule=None,
    max_retries=2,
    failure_rate=1.0,
    errors=("ConnectTimeoutError: Connect timeout on endpoint URL",),
    median_s=30,
)


@pytest.fixture(scope="module")
def world(sandbox: SandboxServer) -> tuple[Simulator, FixedClock, SandboxAccount]:
    settings = Settings(_env_file=None)
    account = SandboxAccount(sandbox.url)
    seed(
        account,
        settings,
        now=START,
        rng_seed=7,
        history_days=0,
        jobs=[*JOBS, FLAKY],
        functions=list(FUNCTIONS[:3]),
    )
    clock = FixedClock(START)
    # Only one schedule fires, so each test sees exactly the runs it caused.
    jobs = [j if j.name == SCHEDULED else replace(j, schedule=None) for j in JOBS]
    sim = Simulator(
        account,
        settings,
        clock=clock,
        jobs=[*jobs, FLAKY],
        functions=list(FUNCTIONS[:3]),
        rng_seed=7,
        drop_files=False,
    )
    return sim, clock, account


def _runs(client: Callable[..., Any], job: str) -> list[dict[str, Any]]:
    return client("glue").get_job_runs(JobName=job)["JobRuns"]


def _advance_until(
    sim: Simulator,
    clock: FixedClock,
    done: Callable[[], bool],
    *,
    step_s: float = 5,
    limit_s: float = 4 * 3600,
) -> None:
    waited = 0.0
    while not done():
        assert waited < limit_s, "the simulated run never finished"
        clock.advance(step_s)
        waited += step_s
        sim.tick()


def _catch_up(clock: FixedClock) -> None:
    """Bring the simulated clock to the real one before a run is started through the API.

    The API stamps such a run with the real time, so the simulation must reach it; doing
    that first keeps the simulated clock from running hours ahead of the real one over the
    module (CloudWatch Logs refuses events more than two hours in the future).
    """
    clock.set(max(clock.now(), datetime.now(UTC)))


def _state_events(client: Callable[..., Any]) -> list[dict[str, Any]]:
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName="smd-collector-events")["QueueUrl"]
    events = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not msgs:
            return events
        for m in msgs:
            events.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_a_schedule_fires_and_the_run_lives_through_its_states(world, sandbox_client):
    sim, clock, _ = world
    job = SCHEDULED
    assert _runs(sandbox_client, job) == []
    clock.advance(15)  # five seconds past the quarter hour
    sim.tick()
    runs = _runs(sandbox_client, job)
    assert len(runs) == 1
    run = runs[0]
    assert run["JobRunState"] == "STARTING"
    assert run["TriggerName"] == f"{job}-schedule"
    assert "CompletedOn" not in run
    _advance_until(sim, clock, lambda: _runs(sandbox_client, job)[0]["JobRunState"] != "STARTING")
    assert _runs(sandbox_client, job)[0]["JobRunState"] == "RUNNING"
    _advance_until(
        sim,
        clock,
        lambda: _runs(sandbox_client, job)[0]["JobRunState"] not in ("STARTING", "RUNNING"),
    )
    done = _runs(sandbox_client, job)[0]
    assert done["JobRunState"] in ("SUCCEEDED", "FAILED", "TIMEOUT")
    assert done["DPUSeconds"] > 0
    assert done["ExecutionTime"] > 0
    assert done["CompletedOn"] > done["StartedOn"]
    logs = sandbox_client("logs")
    for group in ("/aws-glue/jobs/output", "/aws-glue/jobs/error"):
        events = logs.get_log_events(
            logGroupName=group, logStreamName=done["Id"], startFromHead=True
        )["events"]
        assert events, group
    cw = sandbox_client("cloudwatch")
    resp = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "r",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "Glue",
                        "MetricName": "glue.driver.aggregate.recordsRead",
                        "Dimensions": [
                            {"Name": "JobName", "Value": job},
                            {"Name": "JobRunId", "Value": done["Id"]},
                            {"Name": "Type", "Value": "count"},
                        ],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=START,
        EndTime=clock.now() + timedelta(minutes=1),
    )
    assert sum(resp["MetricDataResults"][0]["Values"]) > 0
    events = [
        e for e in _state_events(sandbox_client) if e["detail-type"] == "Glue Job State Change"
    ]
    assert [(e["detail"]["jobRunId"], e["detail"]["state"]) for e in events] == [
        (done["Id"], done["JobRunState"])
    ]
    assert events[0]["source"] == "aws.glue"


def test_a_run_started_through_the_api_is_run_too(world, sandbox_client):
    sim, clock, _ = world
    glue = sandbox_client("glue")
    _catch_up(clock)
    run_id = glue.start_job_run(JobName="dq-checks-orders", Arguments={"--date": "2026-11-25"})[
        "JobRunId"
    ]
    sim.tick()
    _advance_until(
        sim,
        clock,
        lambda: (
            glue.get_job_run(JobName="dq-checks-orders", RunId=run_id)["JobRun"]["JobRunState"]
            in ("SUCCEEDED", "FAILED", "TIMEOUT")
        ),
    )
    run = glue.get_job_run(JobName="dq-checks-orders", RunId=run_id)["JobRun"]
    assert run["Arguments"]["--date"] == "2026-11-25"


def test_stopping_a_running_run_ends_it_stopped_with_an_event(world, sandbox_client):
    sim, clock, _ = world
    glue = sandbox_client("glue")
    job = "marketing-attribution-model"
    _catch_up(clock)
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    _advance_until(
        sim,
        clock,
        lambda: glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]["JobRunState"] == "RUNNING",
        step_s=2,
    )
    _state_events(sandbox_client)  # drain
    out = glue.batch_stop_job_run(JobName=job, JobRunIds=[run_id])
    assert out["SuccessfulSubmissions"][0]["JobRunId"] == run_id
    assert glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]["JobRunState"] == "STOPPING"
    _advance_until(
        sim,
        clock,
        lambda: glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]["JobRunState"] == "STOPPED",
        step_s=1,
        limit_s=10,
    )
    states = [
        (e["detail"]["jobRunId"], e["detail"]["state"])
        for e in _state_events(sandbox_client)
        if e["detail-type"] == "Glue Job State Change"
    ]
    assert (run_id, "STOPPED") in states


def test_a_failing_job_is_retried_by_glue_up_to_max_retries(world, sandbox_client):
    sim, clock, _ = world
    glue = sandbox_client("glue")
    _catch_up(clock)
    first = glue.start_job_run(JobName=FLAKY.name)["JobRunId"]
    _advance_until(
        sim,
        clock,
        lambda: (
            len([r for r in _runs(sandbox_client, FLAKY.name) if r["JobRunState"] == "FAILED"]) == 3
        ),
    )
    runs = sorted(_runs(sandbox_client, FLAKY.name), key=lambda r: r["Attempt"])
    assert [r["Attempt"] for r in runs] == [0, 1, 2]
    assert runs[0]["Id"] == first
    assert runs[1]["PreviousRunId"] == runs[0]["Id"]
    assert runs[2]["PreviousRunId"] == runs[1]["Id"]
    assert all(r["ErrorMessage"].startswith("ConnectTimeoutError") for r in runs)


def test_lambda_metrics_and_logs_arrive_each_minute(world, sandbox_client):
    sim, clock, _ = world
    before = clock.now()
    clock.advance(180)
    sim.tick()
    cw = sandbox_client("cloudwatch")
    name = "orders-api-handler"  # busy enough to be invoked every minute
    assert name in {f.name for f in FUNCTIONS[:3]}
    resp = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": s.lower(),
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": m,
                        "Dimensions": [{"Name": "FunctionName", "Value": name}],
                    },
                    "Period": 60,
                    "Stat": s,
                },
            }
            for m, s in (("Invocations", "Sum"), ("Duration", "p99"))
        ],
        StartTime=before - timedelta(minutes=1),
        EndTime=clock.now(),
    )
    by_id = {r["Id"]: r for r in resp["MetricDataResults"]}
    assert len(by_id["sum"]["Values"]) >= 2
    assert all(v > 0 for v in by_id["p99"]["Values"])
    streams = sandbox_client("logs").describe_log_streams(logGroupName=f"/aws/lambda/{name}")[
        "logStreams"
    ]
    assert streams
