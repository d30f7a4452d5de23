"""Glue job-run fidelity: an explicit, controllable run lifecycle.

Why: moto's ``FakeJobRun`` advances STARTING -> RUNNING -> SUCCEEDED whenever it
is *read*, can never fail, never reports ``ErrorMessage`` or ``DPUSeconds``,
reports ``ExecutionTime`` 123 and a ``CompletedOn`` for runs that are still
running, lists runs oldest first without a real page limit, counts only
STARTING/RUNNING runs against ``MaxConcurrentRuns`` and has no
``BatchStopJobRun``.  The dashboard's job cards, failure view and
reconciliation loop depend on exactly those fields, so the sandbox replaces the
run model with :class:`SandboxJobRun`, whose state only changes when the
simulator (or a test) calls :func:`transition`.

Controller API (used by the simulator; keep stable)::

    TERMINAL_STATES
    glue_backend(account_id, region) -> GlueBackend
    create_run(backend, job_name, *, started_on, arguments=None, trigger_name=None,
               attempt=0, previous_run_id=None, run_id=None, state="STARTING")
    transition(run, state, *, at, error_message=None, dpu_seconds=None,
               execution_time=None)
    runs_in_state(backend, states) -> list[SandboxJobRun]

Through plain boto3 the runs then behave like Glue's (the moto operations that
serve them, and ``apply``, are in ``glue_api``): ``GetJobRun(s)`` return the
real shape, ``GetJobRuns`` is newest first with ``MaxResults`` <= 200 and an
opaque ``NextToken``, ``StartJobRun`` creates a run that stays STARTING until
the controller moves it, ``BatchStopJobRun`` moves STARTING/RUNNING runs to
STOPPING (the simulator later moves them to STOPPED).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.glue import models as glue_models
from moto.glue.models import FakeJob, GlueBackend, glue_backends

from dashapp.aws.glue import DPU_PER_WORKER

__all__ = [
    "ACTIVE_STATES",
    "LEGAL_TRANSITIONS",
    "LOCK",
    "TERMINAL_STATES",
    "SandboxJobRun",
    "create_run",
    "glue_backend",
    "job_capacity",
    "naive_utc",
    "runs_in_state",
    "transition",
]

TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR"})
#: States that occupy a slot against the job's ``MaxConcurrentRuns`` (as in Glue).
ACTIVE_STATES = frozenset({"STARTING", "RUNNING", "STOPPING"})
#: Error-carrying terminal states: only these may have an ``ErrorMessage``.
ERROR_STATES = frozenset({"FAILED", "TIMEOUT", "ERROR"})
ALL_STATES = frozenset({"WAITING", "STARTING", "RUNNING", "STOPPING", "EXPIRED"} | TERMINAL_STATES)
#: The moves Glue itself makes.  Anything else is a simulator bug, so it raises.
LEGAL_TRANSITIONS: Mapping[str, frozenset[str]] = {
    "WAITING": frozenset({"STARTING", "STOPPING", "EXPIRED"}),
    "STARTING": frozenset({"RUNNING", "STOPPING", "FAILED", "ERROR", "TIMEOUT"}),
    "RUNNING": frozenset({"SUCCEEDED", "FAILED", "TIMEOUT", "STOPPING", "ERROR"}),
    "STOPPING": frozenset({"STOPPED", "FAILED", "ERROR"}),
}
#: Glue's documented default job timeout, used when neither job nor run sets one.
DEFAULT_TIMEOUT_MINUTES = 2880
LOG_GROUP_NAME = "/aws-glue/jobs"

_ORIGINAL_FAKE_JOB_RUN = glue_models.FakeJobRun
#: Runs not finished yet, across every backend: the simulator asks for the STARTING and
#: STOPPING ones each tick, and scanning every run of 5,000 jobs for the few was a tenth
#: of the stand-in's CPU.  Weak, so a reset backend's runs leave with it.
_UNFINISHED: weakref.WeakSet[SandboxJobRun] = weakref.WeakSet()
_UNFINISHED_LOCK = threading.Lock()
#: Guards every run-state change (StartJobRun's check-then-append, transition(),
#: BatchStopJobRun): the server is threaded and the simulator runs in its own
#: thread.  Re-entrant, so a caller can hold it around check-then-transition.
LOCK = threading.RLock()


def naive_utc(value: datetime) -> datetime:
    """moto keeps naive-UTC datetimes; aware ones would serialise wrongly."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


class SandboxJobRun(_ORIGINAL_FAKE_JOB_RUN):  # type: ignore[misc, valid-type]
    """A Glue job run whose state changes only through :func:`transition`.

    It subclasses moto's ``FakeJobRun`` so every moto code path that handles
    runs (``GetJobRun``, ``GetJobRuns``, isinstance checks) keeps working, but
    reading it never advances it and ``as_dict`` returns Glue's real shape.
    """

    def __init__(
        self,
        job_name: str,
        *,
        started_on: datetime,
        run_id: str | None = None,
        previous_run_id: str | None = None,
        attempt: int = 0,
        trigger_name: str | None = None,
        arguments: dict[str, str] | None = None,
        allocated_capacity: int | None = None,
        max_capacity: float | None = None,
        timeout: int | None = None,
        worker_type: str | None = None,
        number_of_workers: int | None = None,
        notification_property: dict[str, int] | None = None,
        security_configuration: str | None = None,
        glue_version: str | None = None,
        execution_class: str | None = None,
        state: str = "STARTING",
    ) -> None:
        super().__init__(
            job_name=job_name,
            job_run_id=previous_run_id,
            arguments=arguments,
            allocated_capacity=allocated_capacity,
            max_capacity=max_capacity,
            timeout=timeout,
            worker_type=worker_type,
            notification_property=notification_property,
            security_configuration=security_configuration,
            number_of_workers=number_of_workers,
        )
        if state not in ALL_STATES:
            raise ValueError(f"unknown Glue job run state {state!r}")
        if run_id is not None:
            self.job_run_id = run_id
        self.attempt = attempt
        self.trigger_name = trigger_name
        self.glue_version = glue_version
        self.execution_class = execution_class or "STANDARD"
        self.started_on = naive_utc(started_on)
        self.modified_on = self.started_on
        self.completed_on: datetime | None = None
        self.error_message: str | None = None
        self.dpu_seconds: float | None = None
        self.execution_time = 0
        self.status = state
        if state in TERMINAL_STATES:
            # Seeded directly as finished: it finished the moment it started.
            self.completed_on = self.started_on

    # moto's ManagedState advances on every read; a sandbox run never does.
    @property  # type: ignore[override]
    def status(self) -> str:
        return self._status  # type: ignore[return-value]

    @status.setter
    def status(self, value: str) -> None:
        self._status = value
        with _UNFINISHED_LOCK:
            if value in TERMINAL_STATES:
                _UNFINISHED.discard(self)
            else:
                _UNFINISHED.add(self)

    def advance(self) -> None:
        """Reads never move a sandbox run (moto's runs advance on read)."""

    @property
    def is_finished(self) -> bool:
        return self._status in TERMINAL_STATES

    def capacity_dpus(self) -> float:
        """DPUs the run holds: MaxCapacity, else workers x DPU per worker."""
        if self.max_capacity:
            return float(self.max_capacity)
        workers = self.number_of_workers or 0
        return workers * DPU_PER_WORKER.get(self.worker_type or "G.1X", 1.0)

    def as_dict(self) -> dict[str, Any]:
        """The ``JobRun`` structure as Glue returns it."""
        result: dict[str, Any] = {
            "Id": self.job_run_id,
            "Attempt": self.attempt,
            "JobName": self.job_name,
            "StartedOn": self.started_on,
            "LastModifiedOn": self.modified_on,
            "JobRunState": self._status,
            "PredecessorRuns": [],
            "ExecutionTime": self.execution_time,
            "Timeout": self.timeout or DEFAULT_TIMEOUT_MINUTES,
            "LogGroupName": LOG_GROUP_NAME,
            "ExecutionClass": self.execution_class,
        }
        if self.previous_run_id:
            result["PreviousRunId"] = self.previous_run_id
        if self.trigger_name:
            result["TriggerName"] = self.trigger_name
        if self.completed_on is not None:
            result["CompletedOn"] = self.completed_on
        if self.arguments:
            result["Arguments"] = self.arguments
        if self.error_message is not None:
            result["ErrorMessage"] = self.error_message
        if self.allocated_capacity is not None:
            result["AllocatedCapacity"] = self.allocated_capacity
        if self.max_capacity is not None:
            result["MaxCapacity"] = self.max_capacity
        if self.worker_type:
            result["WorkerType"] = self.worker_type
        if self.number_of_workers:
            result["NumberOfWorkers"] = self.number_of_workers
        if self.glue_version:
            result["GlueVersion"] = self.glue_version
        if self.dpu_seconds is not None:
            result["DPUSeconds"] = self.dpu_seconds
        if self.notification_property:
            result["NotificationProperty"] = self.notification_property
        if self.security_configuration:
            result["SecurityConfiguration"] = self.security_configuration
        return result


def glue_backend(account_id: str = DEFAULT_ACCOUNT_ID, region: str = "us-east-1") -> GlueBackend:
    """The moto Glue backend the sandbox server (or ``mock_aws``) serves."""
    return glue_backends[account_id][region]


def job_capacity(job: FakeJob) -> tuple[int | None, float | None]:
    """(AllocatedCapacity, MaxCapacity) a run of ``job`` gets, as Glue derives them."""
    max_capacity = job.max_capacity
    if max_capacity is None and job.number_of_workers:
        max_capacity = job.number_of_workers * DPU_PER_WORKER.get(job.worker_type or "G.1X", 1.0)
    allocated = job.allocated_capacity
    if allocated is None and max_capacity is not None:
        allocated = int(max_capacity)
    return allocated, (float(max_capacity) if max_capacity is not None else None)


def create_run(
    backend: GlueBackend,
    job_name: str,
    *,
    started_on: datetime,
    arguments: dict[str, str] | None = None,
    trigger_name: str | None = None,
    attempt: int = 0,
    previous_run_id: str | None = None,
    run_id: str | None = None,
    state: str = "STARTING",
) -> SandboxJobRun:
    """Insert a run directly (history seeding, simulator-started runs).

    ``MaxConcurrentRuns`` is deliberately not checked: history holds many
    finished runs and the simulator decides concurrency itself.  Worker type,
    workers, capacity, timeout and Glue version are copied from the job.
    """
    job = backend.get_job(job_name)
    allocated, max_capacity = job_capacity(job)
    run = SandboxJobRun(
        job_name,
        started_on=started_on,
        run_id=run_id,
        previous_run_id=previous_run_id,
        attempt=attempt,
        trigger_name=trigger_name,
        arguments=dict(arguments) if arguments else None,
        allocated_capacity=allocated,
        max_capacity=max_capacity,
        timeout=job.timeout,
        worker_type=job.worker_type,
        number_of_workers=job.number_of_workers,
        notification_property=job.notification_property,
        security_configuration=job.security_configuration,
        glue_version=job.glue_version,
        execution_class=job.execution_class,
        state=state,
    )
    with LOCK:
        if run_id is not None and any(r.job_run_id == run_id for r in job.job_runs):
            raise ValueError(f"job run {run_id!r} already exists for job {job_name!r}")
        job.job_runs.append(run)
    return run


def transition(
    run: SandboxJobRun,
    state: str,
    *,
    at: datetime,
    error_message: str | None = None,
    dpu_seconds: float | None = None,
    execution_time: int | None = None,
) -> None:
    """Move ``run`` to ``state`` at time ``at``, as Glue would record it.

    Only Glue's own moves are legal (:data:`LEGAL_TRANSITIONS`); anything else
    raises ``ValueError`` so simulator bugs surface instead of producing runs
    real Glue could never show.  Terminal states set ``CompletedOn``,
    ``ExecutionTime`` (seconds; default ``at - StartedOn``), ``DPUSeconds``
    (default execution time x allocated DPUs) and, for FAILED/TIMEOUT/ERROR,
    ``ErrorMessage``.
    """
    with LOCK:
        current = run.status
        if state not in LEGAL_TRANSITIONS.get(current, frozenset()):
            raise ValueError(f"illegal Glue job run transition {current} -> {state}")
        at = naive_utc(at)
        if at < run.started_on:
            raise ValueError("transition time is before the run started")
        if error_message is not None and state not in ERROR_STATES:
            raise ValueError(f"ErrorMessage is only recorded for {sorted(ERROR_STATES)}")
        run.status = state
        run.modified_on = at
        if state in TERMINAL_STATES:
            run.completed_on = at
            if execution_time is None:
                execution_time = round((at - run.started_on).total_seconds())
            run.execution_time = int(execution_time)
            if dpu_seconds is None:
                dpu_seconds = float(run.execution_time) * run.capacity_dpus()
            run.dpu_seconds = float(dpu_seconds)
            if state in ERROR_STATES:
                run.error_message = error_message


def runs_in_state(backend: GlueBackend, states: Iterable[str]) -> list[SandboxJobRun]:
    """Every sandbox run (across all jobs) currently in one of ``states``, oldest first."""
    wanted = frozenset(states)
    if wanted & TERMINAL_STATES:
        runs = [
            run
            for job in list(backend.jobs.values())
            for run in list(job.job_runs)
            if isinstance(run, SandboxJobRun) and run.status in wanted
        ]
    else:
        with _UNFINISHED_LOCK:
            unfinished = list(_UNFINISHED)
        runs = [run for run in unfinished if run.status in wanted and _held(backend, run)]
    return sorted(runs, key=lambda run: (run.started_on, run.job_name, run.job_run_id))


def _held(backend: GlueBackend, run: SandboxJobRun) -> bool:
    job = backend.jobs.get(run.job_name)
    return job is not None and any(r is run for r in job.job_runs)
