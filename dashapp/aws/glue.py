"""AWS Glue: jobs, triggers and job runs — calls, and pure parsers from responses to rows.

Parsers take the raw API dicts (as captured in tests/fixtures) and return plain
dicts keyed by `GlueJob` / `JobRun` columns, so the collector's writes and the
tests share one definition of what a Glue response means.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from dashapp.aws import shape

TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR", "EXPIRED"})
ACTIVE_STATES = frozenset({"STARTING", "RUNNING", "STOPPING", "WAITING"})
ALL_STATES = TERMINAL_STATES | ACTIVE_STATES
# DPUs per worker (AWS Glue pricing): G.025X is a quarter DPU, G.1X one, G.2X two ... and the
# larger (G.12X, G.16X) and memory-optimised (R.*) types; Standard counts as one.
DPU_PER_WORKER = {
    "Standard": 1.0,
    "G.025X": 0.25,
    "G.1X": 1.0,
    "G.2X": 2.0,
    "G.4X": 4.0,
    "G.8X": 8.0,
    "G.12X": 12.0,
    "G.16X": 16.0,
    "R.1X": 1.0,
    "R.2X": 2.0,
    "R.4X": 4.0,
    "R.8X": 8.0,
    "Z.2X": 2.0,
}
# Trigger states in which a schedule fires (CREATED: never started; DEACTIVATED: paused).
SCHEDULE_ACTIVE_STATES = frozenset({"ACTIVATED", "ACTIVATING"})
RUNS_PAGE = 50  # enough to cover a reconciliation cycle's new runs in one call; AWS allows 200


# --- calls ---------------------------------------------------------------------------------------


def iter_jobs(client: Any) -> Iterator[dict[str, Any]]:
    """Every job definition (GetJobs returns full definitions, 1,000 a page at most)."""
    # The largest pages each API allows: fewer calls per inventory cycle.
    for page in client.get_paginator("get_jobs").paginate(PaginationConfig={"PageSize": 1000}):
        yield from page.get("Jobs", [])


def batch_get_jobs(client: Any, names: Iterable[str]) -> list[dict[str, Any]]:
    """Definitions of named jobs, 100 per BatchGetJobs call (for jobs seen first in an event)."""
    names = list(names)
    out: list[dict[str, Any]] = []
    for start in range(0, len(names), 100):
        out.extend(client.batch_get_jobs(JobNames=names[start : start + 100]).get("Jobs", []))
    return out


def iter_triggers(client: Any) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator("get_triggers").paginate(PaginationConfig={"PageSize": 200}):
        yield from page.get("Triggers", [])


def job_runs_page(
    client: Any, job: str, next_token: str | None = None, max_results: int = RUNS_PAGE
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a job's runs, newest first."""
    kwargs: dict[str, Any] = {"JobName": job, "MaxResults": max_results}
    if next_token:
        kwargs["NextToken"] = next_token
    resp = client.get_job_runs(**kwargs)
    return resp.get("JobRuns", []), resp.get("NextToken")


def get_job_run(client: Any, job: str, run_id: str) -> dict[str, Any]:
    return client.get_job_run(JobName=job, RunId=run_id)["JobRun"]


# --- parsers -------------------------------------------------------------------------------------


def job_schedules(triggers: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Job name → schedule expression of its (activated) SCHEDULED trigger; a trigger of
    another shape schedules nothing (it never stops the jobs from being listed)."""
    out: dict[str, str] = {}
    for t in triggers:
        try:
            if t.get("Type") != "SCHEDULED" or t.get("State") not in SCHEDULE_ACTIVE_STATES:
                continue
            schedule = shape.text(t, "Schedule", 256)
            actions = shape.items(t, "Actions")  # a crawler's action names no job
            names = [n for a in actions if (n := shape.optional_text(a, "JobName", 255))]
        except (shape.MalformedResponse, AttributeError):
            continue
        for name in names:
            out.setdefault(name, schedule)
    return out


@shape.parser("Glue job")
def parse_job(
    raw: dict[str, Any], now: datetime, *, schedule: str | None, tags: dict[str, str] | None
) -> dict[str, Any]:
    """A `glue_jobs` row from a GetJobs/BatchGetJobs job definition."""
    text, number, whole, when = (
        shape.optional_text,
        shape.optional_number,
        shape.optional_int,
        shape.optional_time,
    )
    return {
        "name": shape.text(raw, "Name", 255),
        "description": text(raw, "Description") or "",
        "role": text(raw, "Role", 2048),
        "command": text(shape.mapping(raw, "Command"), "Name", 64),
        "glue_version": text(raw, "GlueVersion", 16),
        "worker_type": text(raw, "WorkerType", 32),
        "number_of_workers": whole(raw, "NumberOfWorkers"),
        "max_capacity": number(raw, "MaxCapacity"),
        "timeout_minutes": whole(raw, "Timeout"),
        "max_retries": whole(raw, "MaxRetries"),
        "max_concurrent_runs": whole(shape.mapping(raw, "ExecutionProperty"), "MaxConcurrentRuns"),
        "schedule": schedule,
        "default_arguments": shape.text_map(raw, "DefaultArguments"),
        "tags": dict(tags or {}),
        "created_on": when(raw, "CreatedOn"),
        "last_modified_on": when(raw, "LastModifiedOn"),
        "first_seen_at": now,
        "last_seen_at": now,
        "gone_at": None,
    }


def run_capacity(raw: dict[str, Any]) -> float | None:
    """DPUs a run holds: MaxCapacity, else workers × DPU per worker type."""
    if shape.optional_number(raw, "MaxCapacity"):
        return float(raw["MaxCapacity"])
    workers = shape.optional_number(raw, "NumberOfWorkers")
    if workers:
        worker_type = shape.optional_text(raw, "WorkerType") or "G.1X"
        return workers * DPU_PER_WORKER.get(worker_type, 1.0)
    if shape.optional_number(raw, "AllocatedCapacity"):
        return float(raw["AllocatedCapacity"])
    return None


def run_dpu_seconds(raw: dict[str, Any]) -> float | None:
    """DPUSeconds when Glue reports it (auto scaling, Flex), else ExecutionTime × capacity."""
    if shape.optional_number(raw, "DPUSeconds") is not None:
        return float(raw["DPUSeconds"])
    if raw.get("JobRunState") not in TERMINAL_STATES:
        return None
    capacity = run_capacity(raw)
    seconds = shape.optional_number(raw, "ExecutionTime")
    if capacity is None or not seconds:
        return None
    return float(seconds) * capacity


@shape.parser("Glue job run")
def parse_run(raw: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A `job_runs` row (Glue's own fields only) from GetJobRun(s)."""
    text, when = shape.optional_text, shape.optional_time
    state = shape.text(raw, "JobRunState", 16)
    finished = state in TERMINAL_STATES
    execution = shape.optional_number(raw, "ExecutionTime")
    started = when(raw, "StartedOn")
    if started is None:
        raise shape.MalformedResponse("StartedOn is missing")
    return {
        "run_id": shape.text(raw, "Id", 255),
        "job_name": shape.text(raw, "JobName", 255),
        "state": state,
        "started_at": started,
        "completed_at": when(raw, "CompletedOn") if finished else None,
        "last_modified_at": when(raw, "LastModifiedOn"),
        "duration_s": float(execution) if finished and execution is not None else None,
        "dpu_seconds": run_dpu_seconds(raw),
        "max_capacity": run_capacity(raw),
        "worker_type": text(raw, "WorkerType", 32),
        "number_of_workers": shape.optional_int(raw, "NumberOfWorkers"),
        "attempt": shape.optional_int(raw, "Attempt") or 0,
        "previous_run_id": text(raw, "PreviousRunId", 255),
        "trigger_name": text(raw, "TriggerName", 255),
        "arguments": shape.text_map(raw, "Arguments"),
        "error_message": text(raw, "ErrorMessage"),
        "observed_at": now,
    }


# Columns the Glue API owns; metrics, uploads and retries fill the others.
RUN_API_COLUMNS = (
    "job_name",
    "state",
    "started_at",
    "completed_at",
    "last_modified_at",
    "duration_s",
    "dpu_seconds",
    "max_capacity",
    "worker_type",
    "number_of_workers",
    "attempt",
    "previous_run_id",
    "trigger_name",
    "arguments",
    "error_message",
    "observed_at",
)


def input_object(arguments: dict[str, str]) -> tuple[str, str] | None:
    """The S3 object a run ingests (`--input_path s3://bucket/key`), if it names one."""
    uri = arguments.get("--input_path") or arguments.get("--INPUT_PATH") or ""
    if not uri.startswith("s3://"):
        return None
    bucket, _, key = uri[5:].partition("/")
    return (bucket, key) if bucket and key else None
