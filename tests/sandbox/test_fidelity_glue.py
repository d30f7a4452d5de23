"""Glue job-run fidelity (in-process, ``mock_aws``).

Each test names the AWS Glue behaviour it restores; each fails against plain
moto (runs advance on read, never fail, list oldest first, no BatchStopJobRun).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.glue.models import FakeJob, FakeJobRun

from sandbox.fidelity import apply_fidelity, glue_api
from sandbox.fidelity import glue as g

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _glue() -> Any:
    return boto3.client("glue", region_name="us-east-1")


def _job(client: Any, name: str = "ingest", **kwargs: Any) -> None:
    client.create_job(
        Name=name,
        Role="arn:aws:iam::123456789012:role/glue",
        Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/ingest.py"},
        GlueVersion="4.0",
        WorkerType="G.1X",
        NumberOfWorkers=10,
        **kwargs,
    )


def test_started_run_stays_starting_until_the_controller_moves_it(aws: None) -> None:
    """AWS: a run's state reflects the job, not how often it is read (moto advances on
    every read).
    """
    client = _glue()
    _job(client)
    run_id = client.start_job_run(JobName="ingest")["JobRunId"]
    for _ in range(5):
        run = client.get_job_run(JobName="ingest", RunId=run_id)["JobRun"]
        assert run["JobRunState"] == "STARTING"
    assert "CompletedOn" not in run  # moto always sets CompletedOn
    assert run["ExecutionTime"] == 0  # moto: always 123
    assert "DPUSeconds" not in run
    assert "ErrorMessage" not in run
    assert isinstance(g.runs_in_state(g.glue_backend(), ["STARTING"])[0], g.SandboxJobRun)


def test_failed_run_has_glue_shape(aws: None) -> None:
    """AWS: a FAILED run reports ErrorMessage, CompletedOn, ExecutionTime (s) and DPUSeconds."""
    client = _glue()
    _job(client, Timeout=60)
    backend = g.glue_backend()
    run = g.create_run(
        backend, "ingest", started_on=T0, arguments={"--upload_id": "u1"}, trigger_name="on-upload"
    )
    g.transition(run, "RUNNING", at=T0 + timedelta(seconds=20))
    running = client.get_job_run(JobName="ingest", RunId=run.job_run_id)["JobRun"]
    assert running["JobRunState"] == "RUNNING"
    assert "CompletedOn" not in running
    assert running["LastModifiedOn"] == T0 + timedelta(seconds=20)

    g.transition(
        run,
        "FAILED",
        at=T0 + timedelta(seconds=95),
        error_message="AnalysisException: no such column",
    )
    failed = client.get_job_run(JobName="ingest", RunId=run.job_run_id)["JobRun"]
    assert failed["JobRunState"] == "FAILED"
    assert failed["ErrorMessage"] == "AnalysisException: no such column"
    assert failed["StartedOn"] == T0
    assert failed["CompletedOn"] == T0 + timedelta(seconds=95)
    assert failed["ExecutionTime"] == 95
    assert failed["DPUSeconds"] == 95 * 10.0  # 10 G.1X workers = 10 DPUs
    assert failed["Arguments"] == {"--upload_id": "u1"}
    assert failed["TriggerName"] == "on-upload"
    assert failed["Timeout"] == 60
    assert failed["WorkerType"] == "G.1X"
    assert failed["NumberOfWorkers"] == 10
    assert failed["MaxCapacity"] == 10.0
    assert failed["AllocatedCapacity"] == 10
    assert failed["GlueVersion"] == "4.0"
    assert failed["LogGroupName"] == "/aws-glue/jobs"
    assert failed["ExecutionClass"] == "STANDARD"
    assert failed["Attempt"] == 0
    assert failed["PredecessorRuns"] == []


def test_succeeded_run_has_no_error_and_explicit_figures(aws: None) -> None:
    """AWS: SUCCEEDED runs carry DPUSeconds/ExecutionTime but no ErrorMessage."""
    client = _glue()
    _job(client)
    run = g.create_run(
        g.glue_backend(), "ingest", started_on=T0, attempt=1, previous_run_id="jr_prev"
    )
    g.transition(run, "RUNNING", at=T0)
    g.transition(
        run, "SUCCEEDED", at=T0 + timedelta(minutes=5), dpu_seconds=1234.5, execution_time=290
    )
    got = client.get_job_run(JobName="ingest", RunId=run.job_run_id)["JobRun"]
    assert got["JobRunState"] == "SUCCEEDED"
    assert got["DPUSeconds"] == 1234.5
    assert got["ExecutionTime"] == 290
    assert "ErrorMessage" not in got
    assert got["Attempt"] == 1
    assert got["PreviousRunId"] == "jr_prev"


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ([], "SUCCEEDED"),  # STARTING cannot succeed without running
        (["RUNNING"], "STOPPED"),  # must go through STOPPING
        (["RUNNING", "SUCCEEDED"], "RUNNING"),  # terminal is terminal
        (["STOPPING"], "RUNNING"),
    ],
)
def test_illegal_transitions_raise(aws: None, path: list[str], bad: str) -> None:
    """AWS Glue only moves runs along its lifecycle; the controller refuses anything else."""
    _job(_glue())
    run = g.create_run(g.glue_backend(), "ingest", started_on=T0)
    for state in path:
        g.transition(run, state, at=T0)
    with pytest.raises(ValueError):
        g.transition(run, bad, at=T0)


def test_transition_guards(aws: None) -> None:
    """ErrorMessage belongs to FAILED/TIMEOUT/ERROR only; time cannot run backwards."""
    _job(_glue())
    run = g.create_run(g.glue_backend(), "ingest", started_on=T0)
    with pytest.raises(ValueError):
        g.transition(run, "RUNNING", at=T0 - timedelta(seconds=1))
    g.transition(run, "RUNNING", at=T0)
    with pytest.raises(ValueError):
        g.transition(run, "SUCCEEDED", at=T0, error_message="not an error")
    g.transition(run, "TIMEOUT", at=T0 + timedelta(hours=1), error_message="Job run timed out")
    assert run.status == "TIMEOUT"
    assert run.error_message == "Job run timed out"
    assert frozenset({"SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR"}) == g.TERMINAL_STATES


def test_get_job_runs_newest_first_and_paginated_at_200(aws: None) -> None:
    """AWS: GetJobRuns lists newest first, at most 200 a page, with NextToken (moto:
    oldest first).
    """
    client = _glue()
    _job(client)
    backend = g.glue_backend()
    # insert out of order so insertion order != time order
    offsets = list(range(0, 450, 2)) + list(range(1, 450, 2))
    for minutes in offsets:
        g.create_run(
            backend,
            "ingest",
            started_on=T0 + timedelta(minutes=minutes),
            run_id=f"jr_{minutes:04d}",
        )
    pages = list(
        client.get_paginator("get_job_runs").paginate(
            JobName="ingest", PaginationConfig={"PageSize": 200}
        )
    )
    assert [len(p["JobRuns"]) for p in pages] == [200, 200, 50]
    ids = [r["Id"] for p in pages for r in p["JobRuns"]]
    assert ids == [f"jr_{m:04d}" for m in range(449, -1, -1)]
    default_page = client.get_job_runs(JobName="ingest")
    assert len(default_page["JobRuns"]) == 100
    assert "NextToken" in default_page
    with pytest.raises(ClientError) as err:
        client.get_job_runs(JobName="ingest", MaxResults=201)
    assert err.value.response["Error"]["Code"] == "InvalidInputException"
    with pytest.raises(ClientError) as err:
        client.get_job_runs(JobName="ingest", NextToken="garbage!")
    assert err.value.response["Error"]["Code"] == "InvalidInputException"


def test_max_concurrent_runs_counts_stopping(aws: None) -> None:
    """AWS: STARTING, RUNNING and STOPPING runs all occupy MaxConcurrentRuns (moto ignores
    STOPPING).
    """
    client = _glue()
    _job(client, ExecutionProperty={"MaxConcurrentRuns": 1})
    run_id = client.start_job_run(JobName="ingest")["JobRunId"]
    with pytest.raises(ClientError) as err:
        client.start_job_run(JobName="ingest")
    assert err.value.response["Error"]["Code"] == "ConcurrentRunsExceededException"
    client.batch_stop_job_run(JobName="ingest", JobRunIds=[run_id])
    assert client.get_job_run(JobName="ingest", RunId=run_id)["JobRun"]["JobRunState"] == "STOPPING"
    with pytest.raises(ClientError):
        client.start_job_run(JobName="ingest")
    run = g.runs_in_state(g.glue_backend(), ["STOPPING"])[0]
    g.transition(run, "STOPPED", at=datetime.now(UTC))
    assert client.start_job_run(JobName="ingest")["JobRunId"] != run_id


def test_batch_stop_job_run(aws: None) -> None:
    """AWS: BatchStopJobRun stops STARTING/RUNNING runs and reports unknown or finished runs as
    Errors.
    """
    client = _glue()
    _job(client, ExecutionProperty={"MaxConcurrentRuns": 5})
    backend = g.glue_backend()
    starting = g.create_run(backend, "ingest", started_on=T0)
    running = g.create_run(backend, "ingest", started_on=T0)
    g.transition(running, "RUNNING", at=T0)
    done = g.create_run(backend, "ingest", started_on=T0)
    g.transition(done, "RUNNING", at=T0)
    g.transition(done, "SUCCEEDED", at=T0 + timedelta(minutes=1))
    resp = client.batch_stop_job_run(
        JobName="ingest",
        JobRunIds=[starting.job_run_id, running.job_run_id, done.job_run_id, "jr_missing"],
    )
    assert {s["JobRunId"] for s in resp["SuccessfulSubmissions"]} == {
        starting.job_run_id,
        running.job_run_id,
    }
    errors = {e["JobRunId"]: e["ErrorDetail"]["ErrorCode"] for e in resp["Errors"]}
    assert errors == {
        done.job_run_id: "InvalidInputException",
        "jr_missing": "EntityNotFoundException",
    }
    assert starting.status == running.status == "STOPPING"
    assert done.status == "SUCCEEDED"
    g.transition(running, "STOPPED", at=datetime.now(UTC))
    assert (
        client.get_job_run(JobName="ingest", RunId=running.job_run_id)["JobRun"]["JobRunState"]
        == "STOPPED"
    )


def test_create_run_copies_job_settings_and_runs_in_state_spans_jobs(aws: None) -> None:
    """The simulator's seeding path: runs look like StartJobRun's, across every job."""
    client = _glue()
    _job(client, "a")
    client.create_job(
        Name="b",
        Role="r",
        Command={"Name": "glueetl", "ScriptLocation": "s3://x/y.py"},
        MaxCapacity=2.0,
        Timeout=15,
    )
    backend = g.glue_backend()
    ra = g.create_run(backend, "a", started_on=T0)
    rb = g.create_run(backend, "b", started_on=T0, state="RUNNING")
    assert ra.worker_type == "G.1X"
    assert ra.number_of_workers == 10
    assert ra.glue_version == "4.0"
    assert rb.max_capacity == 2.0
    assert rb.timeout == 15
    assert {r.job_run_id for r in g.runs_in_state(backend, ["STARTING", "RUNNING"])} == {
        ra.job_run_id,
        rb.job_run_id,
    }
    assert g.runs_in_state(backend, g.TERMINAL_STATES) == []
    with pytest.raises(ValueError):  # a second run of that id is refused and never listed
        g.create_run(backend, "a", started_on=T0, run_id=ra.job_run_id)
    assert len(g.runs_in_state(backend, ["STARTING"])) == 1
    g.transition(rb, "SUCCEEDED", at=T0 + timedelta(minutes=3))
    assert [r.job_run_id for r in g.runs_in_state(backend, ["RUNNING"])] == []
    assert [r.job_run_id for r in g.runs_in_state(backend, ["SUCCEEDED"])] == [rb.job_run_id]
    # Another region's backend holds its own runs only.
    assert g.runs_in_state(g.glue_backend(region="eu-west-1"), ["STARTING"]) == []


def test_apply_fidelity_is_idempotent(aws: None) -> None:
    """Calling apply_fidelity again must not wrap or replace anything twice."""
    before = (FakeJob.start_job_run, FakeJobRun)
    apply_fidelity()
    apply_fidelity()
    import moto.glue.models as glue_models

    assert (FakeJob.start_job_run, glue_models.FakeJobRun) == (
        glue_api._start_job_run,
        g.SandboxJobRun,
    )
    assert before[0] is glue_api._start_job_run
    client = _glue()
    _job(client)
    client.start_job_run(JobName="ingest")
