"""Keeps the sandbox's pipelines alive: Glue runs start, run, log, publish metrics and finish.

Plays the parts of AWS that moto does not: Glue's scheduler and job runtime,
EventBridge → Glue triggering from uploads, Glue's state-change events, Lambda's
metrics and logs, and the partner systems that drop files into the raw zone.
Ingest runs really read the uploaded object and write the processed output.

Everything goes through the sandbox's public API (internal-marked boto3 clients)
except what the API cannot express (moving a Glue run through its states), which
goes through the fidelity layer's controller.

This module is the Glue side (schedules, run lifecycles, retries, stops, state
events); Lambda's load is ``lambda_traffic``, the upload path ``uploads``.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from dashapp.clock import Clock
from dashapp.config import Settings
from dashapp.schedules import next_fire_time
from sandbox import behaviour
from sandbox.account import ACCOUNT_ID, SandboxAccount
from sandbox.behaviour import generic_spec
from sandbox.catalog import TRIGGER_QUEUE, FunctionSpec, JobSpec
from sandbox.etl import IngestError
from sandbox.fidelity import glue as fglue
from sandbox.lambda_traffic import LambdaTraffic
from sandbox.seed.glue_history import glue_log_groups, glue_run_metrics
from sandbox.seed.report import InFlight
from sandbox.uploads import PartnerDrops, ingest_run_plan, upload_run, write_prepared_output

log = logging.getLogger(__name__)

TICK_S = 0.25
STATE_MESSAGES = {
    "SUCCEEDED": ("INFO", "Job run succeeded"),
    "TIMEOUT": ("WARN", "Job run timed out"),
    "STOPPED": ("INFO", "Job run stopped"),
}


@dataclass
class ActiveRun:
    run: Any  # fidelity SandboxJobRun
    spec: JobSpec
    started_at: datetime
    plan: behaviour.RunPlan | None  # None while an ingest run is still reading its file
    ingest: dict[str, Any] | None = None
    lines_done: int = 0
    metrics: list[tuple[str, float, dict[str, str], datetime]] = field(default_factory=list)
    metrics_done: int = 0
    ingest_finished_at: datetime | None = None

    @property
    def run_id(self) -> str:
        return self.run.job_run_id


class Simulator:
    def __init__(
        self,
        account: SandboxAccount,
        settings: Settings,
        *,
        clock: Clock,
        jobs: list[JobSpec],
        functions: list[FunctionSpec],
        rng_seed: int = 42,
        in_flight: list[InFlight] | None = None,
        drop_files: bool = True,
    ) -> None:
        self.account = account
        self.settings = settings
        self.clock = clock
        self.jobs = {j.name: j for j in jobs}
        self.functions = functions
        self.rng = random.Random(rng_seed + 1)
        self.np_rng = np.random.default_rng(rng_seed + 2)
        self.drop_files = drop_files
        self.backend = fglue.glue_backend(ACCOUNT_ID, account.region)
        self.output_group, self.error_group = glue_log_groups(settings)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ingest")
        self.active: dict[str, ActiveRun] = {}
        self.handled: set[str] = set()
        now = clock.now()
        self.next_fire: dict[str, datetime | None] = {
            j.name: next_fire_time(j.schedule, now) for j in jobs if j.schedule
        }
        self.partner_drops = PartnerDrops(account, settings, self.rng, now)
        self.lambda_traffic = LambdaTraffic(account, functions, self.rng, self.np_rng, now)
        self.errors = 0
        for item in in_flight or []:
            self._adopt_in_flight(item, now)

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        for target, name in ((self._tick_loop, "sim-tick"), (self._trigger_loop, "sim-triggers")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout_s: float = 5) -> None:
        """A step still running after `timeout_s` is left to die with the process (daemon)."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _tick_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                if self._stop.is_set():
                    return  # the server may be gone already: an error now means nothing
                self.errors += 1
                log.exception("simulator tick failed")
            self._stop.wait(TICK_S)

    def _trigger_loop(self) -> None:
        sqs = self.account.client("sqs")
        url = None
        while not self._stop.is_set():
            try:
                if url is None:
                    url = sqs.get_queue_url(QueueName=TRIGGER_QUEUE)["QueueUrl"]
                resp = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
                for msg in resp.get("Messages", []):
                    self.on_upload_event(json.loads(msg["Body"]))
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
            except Exception:
                if self._stop.is_set():
                    return
                self.errors += 1
                log.exception("simulator trigger loop failed")
                self._stop.wait(1)

    # --- one step -------------------------------------------------------------------------------
    def tick(self) -> None:
        now = self.clock.now()
        self._fire_schedules(now)
        self._adopt_external_runs(now)
        self._stop_requested_runs(now)
        with self._lock:
            runs = list(self.active.values())
        metrics: list[tuple[str, float, dict[str, str], datetime]] = []
        finishing = [a for a in runs if self._progress(a, now, metrics)]
        # Metrics first (one PutMetricData per namespace for the whole tick), so a run's final
        # datapoints are in CloudWatch before its state-change event announces it.
        self._put_metrics(metrics)
        for active in finishing:
            self._finish(active)
        self.lambda_traffic.publish(now)
        if self.drop_files:
            self.partner_drops.drop_due(now)

    def _fire_schedules(self, now: datetime) -> None:
        for name, when in list(self.next_fire.items()):
            if when is None or when > now:
                continue
            spec = self.jobs[name]
            self.next_fire[name] = next_fire_time(spec.schedule or "", when)
            if self._running_count(name) >= spec.max_concurrent_runs:
                log.info(
                    "schedule of %s skipped: %d run(s) still going", name, spec.max_concurrent_runs
                )
                continue
            self._start(spec, now, trigger=f"{name}-schedule")

    def _running_count(self, job: str) -> int:
        with self._lock:
            return sum(1 for a in self.active.values() if a.spec.name == job)

    def _start(
        self,
        spec: JobSpec,
        now: datetime,
        *,
        trigger: str | None,
        arguments: dict[str, str] | None = None,
        attempt: int = 0,
        previous_run_id: str | None = None,
        ingest: dict[str, Any] | None = None,
        failure_boost: float = 0.0,
    ) -> ActiveRun:
        run = fglue.create_run(
            self.backend,
            spec.name,
            started_on=now,
            arguments=arguments,
            trigger_name=trigger,
            attempt=attempt,
            previous_run_id=previous_run_id,
        )
        return self._track(run, spec, now, ingest, failure_boost)

    def _track(
        self,
        run: Any,
        spec: JobSpec,
        now: datetime,
        ingest: dict[str, Any] | None,
        failure_boost: float = 0.0,
    ) -> ActiveRun:
        started = _aware(run.started_on)
        plan = (
            None
            if ingest
            else behaviour.plan_run(spec, started, self.rng, failure_boost=failure_boost)
        )
        active = ActiveRun(run=run, spec=spec, started_at=started, plan=plan, ingest=ingest)
        if plan:
            active.metrics = self._metrics_for(active)
        with self._lock:
            self.active[run.job_run_id] = active
            self.handled.add(run.job_run_id)
        if ingest:
            self._pool.submit(self._ingest, active)
        return active

    def _metrics_for(self, active: ActiveRun) -> list[tuple[str, float, dict[str, str], datetime]]:
        assert active.plan is not None
        end = active.started_at + timedelta(seconds=active.plan.total_s)
        return glue_run_metrics(
            active.spec.name,
            active.run_id,
            active.started_at,
            active.plan,
            end,
            self.settings.ingestion_metric_namespace,
        )

    def _adopt_in_flight(self, item: InFlight, now: datetime) -> None:
        run = self.backend.get_job_run(item.job, item.run_id)
        spec = self.jobs[item.job]
        active = ActiveRun(
            run=run, spec=spec, started_at=item.started_at, plan=item.plan, ingest=item.ingest
        )
        elapsed = (now - item.started_at).total_seconds()
        active.lines_done = sum(1 for ln in item.plan.lines if ln.offset_s <= elapsed)
        active.metrics = self._metrics_for(active)
        if item.ingest:
            # History already read the file; only the output remains to be written at the end.
            active.ingest = {**item.ingest, "prepared": True}
        self.active[item.run_id] = active
        self.handled.add(item.run_id)

    def _adopt_external_runs(self, now: datetime) -> None:
        """Runs started through the API (the web app's direct mode, job control) run too."""
        for run in fglue.runs_in_state(self.backend, ["STARTING"]):
            if run.job_run_id in self.handled:
                continue
            spec = self.jobs.get(run.job_name) or generic_spec(run.job_name)
            args = run.arguments or {}
            ingest = None
            if "--input_path" in args:
                ingest = {"uri": args["--input_path"], "dataset": args.get("--dataset")}
            self._track(run, spec, now, ingest)

    def _stop_requested_runs(self, now: datetime) -> None:
        for run in fglue.runs_in_state(self.backend, ["STOPPING"]):
            modified = _aware(run.modified_on)
            if (now - modified).total_seconds() < 1.5:
                continue
            with self._lock:
                active = self.active.pop(run.job_run_id, None)
            self.handled.add(run.job_run_id)
            with fglue.LOCK:
                if run.status != "STOPPING":
                    continue
                fglue.transition(
                    run,
                    "STOPPED",
                    at=now,
                    dpu_seconds=active.plan.dpu_seconds * 0.5 if active and active.plan else None,
                )
            self._log(
                run.job_run_id,
                "error",
                now,
                f"{now:%y/%m/%d %H:%M:%S} WARN "
                "ApplicationMaster: Job run stopped by request (BatchStopJobRun)",
            )
            self._state_event(run.job_name, run.job_run_id, "STOPPED", now, None)

    def _progress(
        self,
        active: ActiveRun,
        now: datetime,
        metrics: list[tuple[str, float, dict[str, str], datetime]],
    ) -> bool:
        """Move a run along; True when it has reached its end and should finish now."""
        run = active.run
        if run.status in fglue.TERMINAL_STATES or run.status == "STOPPING":
            with self._lock:
                self.active.pop(active.run_id, None)
            return False
        plan = active.plan
        elapsed = (now - active.started_at).total_seconds()
        startup = plan.startup_s if plan else 1.5
        if run.status == "STARTING" and elapsed >= startup:
            with fglue.LOCK:
                if run.status != "STARTING":
                    return False  # stopped meanwhile
                fglue.transition(run, "RUNNING", at=active.started_at + timedelta(seconds=startup))
        if plan is None:
            return False
        self._emit_lines(active, elapsed)
        end = active.started_at + timedelta(seconds=plan.total_s)
        finished = now >= end
        if (
            finished
            and active.ingest
            and not active.ingest.get("written", active.ingest.get("prepared"))
        ):
            finished = False  # still reading the file
        metrics += self._due_metrics(active, end + timedelta(days=1) if finished else now)
        return finished

    def _finish(self, active: ActiveRun) -> None:
        run, plan = active.run, active.plan
        assert plan is not None
        now = self.clock.now()  # when it really ends, not when the tick began
        if active.ingest and active.ingest.get("prepared") and plan.outcome == "SUCCEEDED":
            self._write_prepared_output(active, now)
        self._emit_lines(active, float("inf"))
        elapsed = (now - active.started_at).total_seconds()
        with fglue.LOCK:
            if run.status != "RUNNING":
                return  # stopped meanwhile; _stop_requested_runs finishes it
            fglue.transition(
                run,
                plan.outcome,
                at=now,
                error_message=plan.error_message,
                dpu_seconds=plan.dpu_seconds,
                execution_time=round(max(1.0, elapsed - plan.startup_s)),
            )
        self._state_event(active.spec.name, active.run_id, plan.outcome, now, plan.error_message)
        with self._lock:
            self.active.pop(active.run_id, None)
        if plan.outcome == "FAILED" and run_attempt(run) < active.spec.max_retries:
            self._start(
                active.spec,
                now + timedelta(seconds=1),
                trigger=run.trigger_name,
                arguments=run.arguments,
                attempt=run_attempt(run) + 1,
                previous_run_id=active.run_id,
                ingest=None
                if not active.ingest
                else {"uri": active.ingest.get("uri"), "dataset": active.ingest.get("dataset")},
            )

    def _emit_lines(self, active: ActiveRun, elapsed: float) -> None:
        assert active.plan is not None
        lines = active.plan.lines
        due = [ln for ln in lines[active.lines_done :] if ln.offset_s <= elapsed]
        if not due:
            return
        for stream in ("output", "error"):
            group = self.output_group if stream == "output" else self.error_group
            batch = [
                (active.started_at + timedelta(seconds=ln.offset_s), ln.message)
                for ln in due
                if ln.stream == stream
            ]
            if batch:
                self.account.put_logs(group, active.run_id, batch)
        active.lines_done += len(due)

    def _due_metrics(
        self, active: ActiveRun, now: datetime
    ) -> list[tuple[str, float, dict[str, str], datetime]]:
        due = [m for m in active.metrics[active.metrics_done :] if m[3] <= now]
        active.metrics_done += len(due)
        return due

    def _put_metrics(self, metrics: list[tuple[str, float, dict[str, str], datetime]]) -> None:
        by_ns: dict[str, list[dict[str, Any]]] = {}
        for name, value, dims, at in metrics:
            d = dict(dims)
            ns = d.pop("__namespace")
            by_ns.setdefault(ns, []).append(
                {
                    "MetricName": name,
                    "Timestamp": at,
                    "Value": value,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in d.items()],
                    "Unit": "Milliseconds" if "elapsed" in name else "Count",
                }
            )
        for ns, data in by_ns.items():
            self.account.put_metrics(ns, data)

    def _state_event(
        self, job: str, run_id: str, state: str, at: datetime, error: str | None
    ) -> None:
        severity, message = STATE_MESSAGES.get(state, ("ERROR", error or state))
        self.account.put_event(
            "aws.glue",
            "Glue Job State Change",
            {
                "jobName": job,
                "severity": severity,
                "state": state,
                "jobRunId": run_id,
                "message": error if state == "FAILED" and error else message,
            },
            at,
        )

    def _log(self, run_id: str, stream: str, at: datetime, message: str) -> None:
        group = self.output_group if stream == "output" else self.error_group
        self.account.put_logs(group, run_id, [(at, message)])

    # --- ingest ---------------------------------------------------------------------------------
    def on_upload_event(self, event: dict[str, Any]) -> None:
        """An S3 "Object Created" event reached the trigger queue: start the dataset's job."""
        run = upload_run(self.settings, event)
        if run is None:
            return
        spec = self.jobs.get(run.job) or generic_spec(run.job)
        now = self.clock.now()
        self._start(spec, now, trigger=run.trigger, arguments=run.arguments, ingest=run.ingest)

    def _ingest(self, active: ActiveRun) -> None:
        ingest = active.ingest or {}
        plan = ingest_run_plan(
            self.account,
            self.settings,
            active.spec,
            active.run_id,
            active.started_at,
            ingest,
            self.rng,
        )
        with self._lock:
            active.plan = plan
            active.metrics = self._metrics_for(active)
            ingest["written"] = True

    def _write_prepared_output(self, active: ActiveRun, now: datetime) -> None:
        try:
            write_prepared_output(
                self.account,
                self.settings,
                active.spec,
                active.run_id,
                active.started_at,
                active.ingest or {},
            )
        except (IngestError, KeyError):
            log.exception("could not write the output of %s", active.run_id)


def _aware(value: datetime) -> datetime:
    """moto keeps naive UTC datetimes."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def run_attempt(run: Any) -> int:
    return int(getattr(run, "attempt", 0) or 0)
