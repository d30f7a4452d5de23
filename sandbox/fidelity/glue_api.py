"""The Glue operations moto serves, rewired onto the sandbox's controllable runs.

Why its own module: ``glue`` owns the run model and its state machine (what
the simulator drives); this module is only the moto side -- the methods
:func:`apply` installs so that plain boto3 sees Glue's behaviour:
``StartJobRun`` creates a STARTING :class:`~sandbox.fidelity.glue.SandboxJobRun`
and counts STARTING/RUNNING/STOPPING runs against ``MaxConcurrentRuns``;
``GetJobRuns`` is newest first, ``MaxResults`` <= 200, with an opaque
``NextToken``; ``BatchStopJobRun`` moves STARTING/RUNNING/WAITING runs to STOPPING.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.glue import models as glue_models
from moto.glue import responses as glue_responses
from moto.glue.exceptions import ConcurrentRunsExceededException, InvalidInputException
from moto.glue.models import FakeJob, GlueBackend

from dashapp.aws.glue import DPU_PER_WORKER

from .glue import ACTIVE_STATES, LOCK, SandboxJobRun, job_capacity, naive_utc, transition

__all__ = ["GET_JOB_RUNS_DEFAULT_PAGE", "GET_JOB_RUNS_MAX_PAGE", "apply"]

GET_JOB_RUNS_DEFAULT_PAGE = 100
GET_JOB_RUNS_MAX_PAGE = 200


def _start_job_run(
    self: FakeJob,
    allocated_capacity: int | None,
    max_capacity: float | None,
    timeout: int | None,
    worker_type: str | None,
    security_configuration: str | None,
    number_of_workers: int | None,
    notification_property: dict[str, int] | None,
    previous_run_id: str | None,
    arguments: dict[str, str] | None,
) -> str:
    """``FakeJob.start_job_run``: a STARTING :class:`SandboxJobRun`; Glue's concurrency rule."""
    with LOCK:
        active = sum(1 for run in self.job_runs if run.status in ACTIVE_STATES)
        if active >= self.execution_property.get("MaxConcurrentRuns", 1):
            raise ConcurrentRunsExceededException(f"Job with name {self.name} already running")
        run_arguments = dict(self.default_arguments)
        run_arguments.update(arguments or {})
        run_arguments.update(self.non_overridable_arguments or {})
        job_allocated, job_max = job_capacity(self)
        if number_of_workers or worker_type:
            workers = number_of_workers or self.number_of_workers or 0
            wtype = worker_type or self.worker_type or "G.1X"
            job_max = workers * DPU_PER_WORKER.get(wtype, 1.0)
            job_allocated = int(job_max)
        # moto resolves the module global at call time: use it, so the run
        # class installed by apply() is what StartJobRun creates.
        run_cls = glue_models.FakeJobRun
        run = run_cls(
            self.name,
            started_on=datetime.now(UTC),
            previous_run_id=previous_run_id,
            arguments=run_arguments or None,
            allocated_capacity=allocated_capacity or job_allocated,
            max_capacity=max_capacity or job_max,
            timeout=timeout or self.timeout,
            worker_type=worker_type or self.worker_type,
            number_of_workers=number_of_workers or self.number_of_workers,
            notification_property=notification_property or self.notification_property,
            security_configuration=security_configuration or self.security_configuration,
            glue_version=self.glue_version,
            execution_class=self.execution_class,
        )
        self.job_runs.append(run)
        return run.job_run_id


def _encode_token(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _decode_token(token: str) -> dict[str, Any]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputException("GetJobRuns", "Invalid NextToken") from exc
    if not isinstance(payload, dict) or "after" not in payload:
        raise InvalidInputException("GetJobRuns", "Invalid NextToken")
    return payload


def _get_job_runs(
    self: GlueBackend,
    job_name: str,
    next_token: str | None = None,
    max_results: int | None = None,
) -> tuple[list[Any], str | None]:
    """``GetJobRuns``: newest first by StartedOn, <= 200 a page, opaque token."""
    if max_results is None:
        max_results = GET_JOB_RUNS_DEFAULT_PAGE
    if not 1 <= int(max_results) <= GET_JOB_RUNS_MAX_PAGE:
        raise InvalidInputException(
            "GetJobRuns",
            f"1 validation error detected: Value '{max_results}' at 'maxResults' "
            f"failed to satisfy constraint: Member must have value less than or "
            f"equal to {GET_JOB_RUNS_MAX_PAGE}",
        )
    job = self.get_job(job_name)
    # (started_on, insertion index) descending: newest first, stable for ties.
    ordered = sorted(
        enumerate(job.job_runs),
        key=lambda item: (item[1].started_on, item[0]),
        reverse=True,
    )
    start = 0
    if next_token:
        after = _decode_token(next_token)["after"]
        ids = [run.job_run_id for _, run in ordered]
        if after not in ids:
            raise InvalidInputException("GetJobRuns", "Invalid NextToken")
        start = ids.index(after) + 1
    page = [run for _, run in ordered[start : start + int(max_results)]]
    token = None
    if start + int(max_results) < len(ordered) and page:
        token = _encode_token({"after": page[-1].job_run_id})
    return page, token


def _batch_stop_job_run(
    self: GlueBackend, job_name: str, job_run_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """``BatchStopJobRun``: STARTING/RUNNING/WAITING -> STOPPING; errors per run otherwise."""
    with LOCK:
        return _batch_stop_locked(self.get_job(job_name), job_name, job_run_ids)


def _batch_stop_locked(
    job: FakeJob, job_name: str, job_run_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    runs = {run.job_run_id: run for run in job.job_runs}
    now = naive_utc(datetime.now(UTC))
    successes: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for run_id in job_run_ids:
        run = runs.get(run_id)
        if run is None:
            errors.append(
                {
                    "JobName": job_name,
                    "JobRunId": run_id,
                    "ErrorDetail": {
                        "ErrorCode": "EntityNotFoundException",
                        "ErrorMessage": f"Job Run {run_id} not found.",
                    },
                }
            )
            continue
        state = run.status
        if state == "STOPPING":
            successes.append({"JobName": job_name, "JobRunId": run_id})
        elif state in ("STARTING", "RUNNING", "WAITING"):
            if isinstance(run, SandboxJobRun):
                transition(run, "STOPPING", at=max(now, run.started_on))
            else:
                run.status = "STOPPING"
            successes.append({"JobName": job_name, "JobRunId": run_id})
        else:
            errors.append(
                {
                    "JobName": job_name,
                    "JobRunId": run_id,
                    "ErrorDetail": {
                        "ErrorCode": "InvalidInputException",
                        "ErrorMessage": (
                            f"Job run {run_id} is in {state} state and cannot be stopped."
                        ),
                    },
                }
            )
    return {"SuccessfulSubmissions": successes, "Errors": errors}


def _response_batch_stop_job_run(self: Any) -> ActionResult:
    job_name = self._get_param("JobName")
    run_ids = self._get_param("JobRunIds") or []
    if not run_ids:
        raise InvalidInputException("BatchStopJobRun", "JobRunIds must not be empty")
    return ActionResult(self.glue_backend.batch_stop_job_run(job_name, list(run_ids)))


def apply() -> None:
    """Install the Glue patches (idempotent)."""
    if getattr(FakeJob, "_sandbox_patched", False):
        return
    glue_models.FakeJobRun = SandboxJobRun  # type: ignore[misc]
    FakeJob.start_job_run = _start_job_run  # type: ignore[method-assign, assignment]
    GlueBackend.get_job_runs = _get_job_runs  # type: ignore[method-assign, assignment]
    GlueBackend.batch_stop_job_run = _batch_stop_job_run  # type: ignore[attr-defined]
    glue_responses.GlueResponse.batch_stop_job_run = _response_batch_stop_job_run  # type: ignore[attr-defined]
    FakeJob._sandbox_patched = True  # type: ignore[attr-defined]
