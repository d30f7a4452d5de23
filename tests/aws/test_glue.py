"""Glue parsers on captured GetJobs / GetJobRuns / GetJobRun / GetTriggers responses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from dashapp.aws import glue
from tests.fixtures.aws import load

NOW = datetime(2026, 11, 25, 18, 32, 17, tzinfo=UTC)


def _runs() -> dict[str, dict[str, Any]]:
    return {r["JobRunState"]: r for r in load("get_job_runs")["JobRuns"]}


def test_parse_job_maps_every_column_of_a_spark_job() -> None:
    raw = load("get_jobs")["Jobs"][0]
    row = glue.parse_job(raw, NOW, schedule="cron(0 2 * * ? *)", tags={"team": "sales-data"})
    assert row == {
        "name": "sales-orders-ingest",
        "description": "Order lines exported nightly by the shop system",
        "role": "arn:aws:iam::123456789012:role/smd-glue-ingest",
        "command": "glueetl",
        "glue_version": "4.0",
        "worker_type": "G.1X",
        "number_of_workers": 10,
        "max_capacity": 10.0,
        "timeout_minutes": 60,
        "max_retries": 1,
        "max_concurrent_runs": 3,
        "schedule": "cron(0 2 * * ? *)",
        "default_arguments": {
            "--job-language": "python",
            "--enable-metrics": "true",
            "--enable-continuous-cloudwatch-log": "true",
            "--output_path": "s3://smd-processed/sales/orders/",
        },
        "tags": {"team": "sales-data"},
        "created_on": datetime(2026, 9, 1, 8, 12, 45, 318000, tzinfo=UTC),
        "last_modified_on": datetime(2026, 11, 2, 16, 40, 3, 7000, tzinfo=UTC),
        "first_seen_at": NOW,
        "last_seen_at": NOW,
        "gone_at": None,
    }


def test_parse_job_pythonshell_has_capacity_and_no_workers() -> None:
    raw = load("get_jobs")["Jobs"][1]
    row = glue.parse_job(raw, NOW, schedule=None, tags=None)
    assert row["command"] == "pythonshell"
    assert row["max_capacity"] == 0.0625
    assert row["worker_type"] is None and row["number_of_workers"] is None
    assert row["description"] == ""  # absent in the response, never None in the table
    assert row["tags"] == {} and row["schedule"] is None


def test_parse_run_running_has_no_completion_duration_or_cost_yet() -> None:
    row = glue.parse_run(_runs()["RUNNING"], NOW)
    assert row["state"] == "RUNNING"
    assert row["started_at"] == datetime(2026, 11, 25, 18, 20, 4, 512000, tzinfo=UTC)
    assert row["last_modified_at"] == datetime(2026, 11, 25, 18, 21, 11, 904000, tzinfo=UTC)
    assert row["completed_at"] is None
    assert row["duration_s"] is None
    assert row["dpu_seconds"] is None
    assert row["trigger_name"] is None
    assert row["error_message"] is None
    assert row["arguments"] == {
        "--input_path": (
            "s3://smd-raw/sales/orders/2026/11/25/3f2b8c1e-9d4a-4e7b-8a61-0c5d2e9f7b13-orders.csv"
        )
    }
    assert row["observed_at"] == NOW


def test_parse_run_succeeded_prefers_reported_dpu_seconds() -> None:
    row = glue.parse_run(_runs()["SUCCEEDED"], NOW)
    assert row["completed_at"] == datetime(2026, 11, 25, 16, 5, 29, 880000, tzinfo=UTC)
    assert row["duration_s"] == 187.0
    # Auto scaling: Glue's DPUSeconds (1212.5), not ExecutionTime x MaxCapacity (1870).
    assert row["dpu_seconds"] == 1212.5
    assert row["trigger_name"] == "sales-orders-on-upload"
    assert row["attempt"] == 0


def test_parse_run_failed_keeps_error_retry_chain_and_derives_cost_from_workers() -> None:
    row = glue.parse_run(_runs()["FAILED"], NOW)
    assert row["error_message"].startswith("AnalysisException: [UNRESOLVED_COLUMN")
    assert row["attempt"] == 1
    assert row["previous_run_id"] == (
        "jr_3d8b4f2c0a6e5d7f9b1c3d4e6f8a0b2c3d5e7f9a1b2c4d6e8f0a1b3c5d7e9f0a"
    )
    assert row["worker_type"] == "G.2X" and row["number_of_workers"] == 5
    # No DPUSeconds, no MaxCapacity: 71 s x 5 workers x 2 DPU (G.2X).
    assert row["max_capacity"] == 10.0
    assert row["dpu_seconds"] == 710.0
    assert row["duration_s"] == 71.0


def test_parse_run_timeout_is_terminal_with_its_message() -> None:
    row = glue.parse_run(_runs()["TIMEOUT"], NOW)
    assert row["completed_at"] == datetime(2026, 11, 25, 3, 0, 15, tzinfo=UTC)
    assert row["error_message"] == "Job run timed out"
    assert row["dpu_seconds"] == 3600 * 10.0
    assert row["arguments"] == {}


def test_pythonshell_run_cost_is_execution_time_times_max_capacity() -> None:
    raw = load("get_job_run_pythonshell")["JobRun"]
    assert glue.run_dpu_seconds(raw) == 60 * 0.0625
    assert glue.parse_run(raw, NOW)["dpu_seconds"] == 3.75


def test_parse_run_returns_only_known_columns() -> None:
    row = glue.parse_run(_runs()["SUCCEEDED"], NOW)
    assert set(row) == {"run_id", *glue.RUN_API_COLUMNS}


@pytest.mark.parametrize(
    ("worker_type", "workers", "dpus"),
    [
        ("G.025X", 2, 0.5),
        ("G.1X", 10, 10.0),
        ("G.2X", 5, 10.0),
        ("G.4X", 3, 12.0),
        ("G.8X", 2, 16.0),
        ("G.12X", 2, 24.0),
        ("G.16X", 2, 32.0),
        ("R.1X", 4, 4.0),
        ("R.2X", 4, 8.0),
        ("R.4X", 2, 8.0),
        ("R.8X", 2, 16.0),
        ("Z.2X", 3, 6.0),
        ("Standard", 4, 4.0),
        (None, 4, 4.0),
    ],
)
def test_dpu_seconds_fallback_uses_dpu_per_worker_type(
    worker_type: str | None, workers: int, dpus: float
) -> None:
    raw: dict[str, Any] = {
        "JobRunState": "SUCCEEDED",
        "ExecutionTime": 100,
        "NumberOfWorkers": workers,
    }
    if worker_type:
        raw["WorkerType"] = worker_type
    assert glue.run_capacity(raw) == dpus
    assert glue.run_dpu_seconds(raw) == pytest.approx(100 * dpus)


def test_dpu_seconds_unknown_without_capacity_or_time() -> None:
    assert glue.run_dpu_seconds({"JobRunState": "SUCCEEDED", "ExecutionTime": 100}) is None
    assert (
        glue.run_dpu_seconds({"JobRunState": "FAILED", "ExecutionTime": 0, "MaxCapacity": 2.0})
        is None
    )
    # Legacy jobs report only AllocatedCapacity.
    assert glue.run_dpu_seconds(
        {"JobRunState": "SUCCEEDED", "ExecutionTime": 30, "AllocatedCapacity": 4}
    ) == pytest.approx(120.0)
    # A running run has no cost yet, whatever ExecutionTime says so far.
    assert (
        glue.run_dpu_seconds({"JobRunState": "RUNNING", "ExecutionTime": 50, "MaxCapacity": 2.0})
        is None
    )


def test_schedules_come_only_from_activated_scheduled_triggers() -> None:
    schedules = glue.job_schedules(load("get_triggers")["Triggers"])
    assert schedules == {
        "sales-orders-ingest": "cron(0 2 * * ? *)",
        "ops-inventory-snapshot": "cron(0 6 * * ? *)",
        # A crawler action next to a job action: the job is still scheduled.
        "daily-report": "cron(15 3 * * ? *)",
    }
    # DEACTIVATED and CREATED (never activated) schedules never fire; CONDITIONAL and
    # ON_DEMAND triggers have no schedule.
    for job in ("crm-customers-ingest", "web-clickstream-ingest", "sales-orders-report"):
        assert job not in schedules


def test_first_activated_schedule_of_a_job_wins() -> None:
    triggers = [
        {
            "Type": "SCHEDULED",
            "State": "ACTIVATED",
            "Schedule": "cron(0 1 * * ? *)",
            "Actions": [{"JobName": "a"}],
        },
        {
            "Type": "SCHEDULED",
            "State": "ACTIVATED",
            "Schedule": "cron(0 9 * * ? *)",
            "Actions": [{"JobName": "a"}],
        },
    ]
    assert glue.job_schedules(triggers) == {"a": "cron(0 1 * * ? *)"}


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"--input_path": "s3://smd-raw/sales/orders/x.csv"}, ("smd-raw", "sales/orders/x.csv")),
        ({"--INPUT_PATH": "s3://b/k/with spaces.json"}, ("b", "k/with spaces.json")),
        ({"--input_path": "s3://smd-raw/"}, None),
        ({"--input_path": "s3://smd-raw"}, None),
        ({"--input_path": "https://smd-raw.s3.amazonaws.com/x.csv"}, None),
        ({"--input_path": ""}, None),
        ({"--output_path": "s3://smd-processed/x/"}, None),
        ({}, None),
    ],
)
def test_input_object(arguments: dict[str, str], expected: tuple[str, str] | None) -> None:
    assert glue.input_object(arguments) == expected


def test_input_object_of_a_captured_run() -> None:
    assert glue.input_object(_runs()["SUCCEEDED"]["Arguments"]) == (
        "smd-raw",
        "sales/orders/2026/11/25/8c0e4d2a-1b3f-4a5c-9d7e-6f8a0b2c4d6e-orders-pm.csv",
    )


class _GlueStub:
    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages
        self.calls: list[dict[str, Any]] = []

    def get_job_runs(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return self.pages[len(self.calls) - 1]


def test_job_runs_page_passes_token_and_page_size() -> None:
    stub = _GlueStub([load("get_job_runs"), {"JobRuns": []}])
    runs, token = glue.job_runs_page(stub, "sales-orders-ingest", max_results=200)
    assert [r["JobRunState"] for r in runs] == ["RUNNING", "SUCCEEDED", "FAILED", "TIMEOUT"]
    assert token == load("get_job_runs")["NextToken"]
    runs, token = glue.job_runs_page(stub, "sales-orders-ingest", token)
    assert runs == [] and token is None
    assert stub.calls == [
        {"JobName": "sales-orders-ingest", "MaxResults": 200},
        {
            "JobName": "sales-orders-ingest",
            "MaxResults": glue.RUNS_PAGE,
            "NextToken": load("get_job_runs")["NextToken"],
        },
    ]
