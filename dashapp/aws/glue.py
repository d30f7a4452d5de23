"""AWS Glue: jobs, triggers and job runs — calls, and pure parsers from responses to rows.

Parsers take the raw API dicts (as captured in tests/fixtures) and return plain
dicts keyed by `GlueJob` / `JobRun` columns, so the collector's writes and the
tests share one definition of what a Glue response means.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from dashapp.clock import as_utc

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
    """Job name → schedule expression of its (activated) SCHEDULED trigger."""
    out: dict[str, str] = {}
    for t in triggers:
        if t.get("Type") != "SCHEDULED" or not t.get("Schedule"):
            continue
        if t.get("State") not in SCHEDULE_ACTIVE_STATES:
            continue
        for action in t.get("Actions", []):
            if action.get("JobName"):
                out.setdefault(action["JobName"], t["Schedule"])
    return out


def parse_job(
    raw: dict[str, Any], now: datetime, *, schedule: str | None, tags: dict[str, str] | None
) -> dict[str, Any]:
    """A `glue_jobs` row from a GetJobs/BatchGetJobs job definition."""
    command = raw.get("Command") or {}
    return {
        "name": raw["Name"],
        "description": raw.get("Description") or "",
        "role": raw.get("Role"),
        "command": command.get("Name"),
        "glue_version": raw.get("GlueVersion"),
        "worker_type": raw.get("WorkerType"),
        "number_of_workers": raw.get("NumberOfWorkers"),
        "max_capacity": raw.get("MaxCapacity"),
        "timeout_minutes": raw.get("Timeout"),
        "max_retries": raw.get("MaxRetries"),
        "max_concurrent_runs": (raw.get("ExecutionProperty") or {}).get("MaxConcurrentRuns"),
        "schedule": schedule,
        "default_arguments": dict(raw.get("DefaultArguments") or {}),
        "tags": dict(tags or {}),
        "created_on": as_utc(raw["CreatedOn"]) if raw.get("CreatedOn") else None,
        "last_modified_on": as_utc(raw["LastModifiedOn"]) if raw.get("LastModifiedOn") else None,
        "first_seen_at": now,
        "last_seen_at": now,
        "gone_at": None,
    }


def run_capacity(raw: dict[str, Any]) -> float | None:
    """DPUs a run holds: MaxCapacity, else workers × DPU per worker type."""
    if raw.get("MaxCapacity"):
        return float(raw["MaxCapacity"])
    workers = raw.get("NumberOfWorkers")
    if workers:
        return workers * DPU_PER_WORKER.get(raw.get("WorkerType") or "G.1X", 1.0)
    if raw.get("AllocatedCapacity"):
        return float(raw["AllocatedCapacity"])
    return None


def run_dpu_seconds(raw: dict[str, Any]) -> float | None:
    """DPUSeconds when Glue reports it (auto scaling, Flex), else ExecutionTime × capacity."""
    if raw.get("DPUSeconds") is not None:
        return float(raw["DPUSeconds"])
    if raw.get("JobRunState") not in TERMINAL_STATES:
        return None
    capacity = run_capacity(raw)
    seconds = raw.get("ExecutionTime")
    if capacity is None or not seconds:
        return None
    return float(seconds) * capacity


def parse_run(raw: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A `job_runs` row (Glue's own fields only) from GetJobRun(s)."""
    state = raw["JobRunState"]
    finished = state in TERMINAL_STATES
    execution = raw.get("ExecutionTime")
    return {
        "run_id": raw["Id"],
        "job_name": raw["JobName"],
        "state": state,
        "started_at": as_utc(raw["StartedOn"]),
        "completed_at": as_utc(raw["CompletedOn"]) if finished and raw.get("CompletedOn") else None,
        "last_modified_at": as_utc(raw["LastModifiedOn"]) if raw.get("LastModifiedOn") else None,
        "duration_s": float(execution) if finished and execution is not None else None,
        "dpu_seconds": run_dpu_seconds(raw),
        "max_capacity": run_capacity(raw),
        "worker_type": raw.get("WorkerType"),
        "number_of_workers": raw.get("NumberOfWorkers"),
        "attempt": int(raw.get("Attempt") or 0),
        "previous_run_id": raw.get("PreviousRunId"),
        "trigger_name": raw.get("TriggerName"),
        "arguments": dict(raw.get("Arguments") or {}),
        "error_message": raw.get("ErrorMessage"),
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
