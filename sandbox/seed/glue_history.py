"""Glue history: finished (and still running) runs with their logs, metrics and files.

Why its own module: the API cannot write the past, so the seed's Glue history
goes through the fidelity layer's controller (runs with past timestamps) and
the metric store (their metrics), and really stores and ingests the files the
dataset jobs read.  Scheduled jobs get their fire times (with one bad stretch
each and Glue's retries), dataset jobs one run per dropped file.
:func:`glue_run_metrics` and :func:`glue_log_groups` are shared with the
simulator, so live runs look like the history.
"""

from __future__ import annotations

import io
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from dashapp.config import Dataset, Settings
from dashapp.fileformats import FormatProblem, summarize
from dashapp.schedules import fire_times
from sandbox import behaviour, datagen
from sandbox.account import ACCOUNT_ID, SandboxAccount
from sandbox.catalog import JOBS, JobSpec
from sandbox.etl import IngestError, ingest_object
from sandbox.fidelity import glue as fglue
from sandbox.fidelity.cloudwatch.store import metric_store
from sandbox.uploads import upload_key

from .report import InFlight, SeedReport

__all__ = [
    "GLUE_NAMESPACE",
    "HistoryWriter",
    "glue_log_groups",
    "glue_run_metrics",
    "seed_dataset_history",
    "seed_scheduled_history",
]

GLUE_NAMESPACE = "Glue"


def glue_log_groups(settings: Settings) -> tuple[str, str]:
    return f"{settings.glue_log_group_prefix}/output", f"{settings.glue_log_group_prefix}/error"


class HistoryWriter:
    """Writes finished (or still running) Glue runs with their logs and metrics."""

    def __init__(
        self, account: SandboxAccount, settings: Settings, now: datetime, report: SeedReport
    ) -> None:
        self.account = account
        self.settings = settings
        self.now = now
        self.report = report
        self.backend = fglue.glue_backend(ACCOUNT_ID, account.region)
        self.output_group, self.error_group = glue_log_groups(settings)
        self.store = metric_store(ACCOUNT_ID, account.region)

    def run(
        self,
        spec: JobSpec,
        started: datetime,
        plan: behaviour.RunPlan,
        *,
        arguments: dict[str, str] | None = None,
        trigger: str | None = None,
        attempt: int = 0,
        previous_run_id: str | None = None,
        ingest: dict[str, Any] | None = None,
        run_id: str | None = None,
    ) -> str:
        run = fglue.create_run(
            self.backend,
            spec.name,
            started_on=started,
            arguments=arguments,
            trigger_name=trigger,
            attempt=attempt,
            previous_run_id=previous_run_id,
            run_id=run_id,
        )
        run_id = run.job_run_id
        self.report.runs += 1
        end = started + timedelta(seconds=plan.total_s)
        running_at = started + timedelta(seconds=plan.startup_s)
        if running_at <= self.now:
            fglue.transition(run, "RUNNING", at=running_at)
        if end > self.now:
            # Still going at `now`: write what has happened so far; the simulator does the rest.
            self._logs(run_id, started, plan, until=self.now)
            self.report.in_flight.append(InFlight(run_id, spec.name, started, plan, ingest))
            return run_id
        fglue.transition(
            run,
            plan.outcome,
            at=end,
            error_message=plan.error_message,
            dpu_seconds=plan.dpu_seconds,
            execution_time=round(plan.execution_s),
        )
        if plan.outcome != "SUCCEEDED":
            self.report.failed_runs += 1
        self._logs(run_id, started, plan, until=end)
        self._metrics(spec.name, run_id, started, plan, until=end)
        return run_id

    def _logs(
        self, run_id: str, started: datetime, plan: behaviour.RunPlan, until: datetime
    ) -> None:
        by_stream: dict[str, list[tuple[datetime, str]]] = {"output": [], "error": []}
        for line in plan.lines:
            at = started + timedelta(seconds=line.offset_s)
            if at <= until:
                by_stream[line.stream].append((at, line.message))
        self.report.log_events += self.account.put_logs(
            self.output_group, run_id, by_stream["output"]
        )
        self.report.log_events += self.account.put_logs(
            self.error_group, run_id, by_stream["error"]
        )

    def _metrics(
        self, job: str, run_id: str, started: datetime, plan: behaviour.RunPlan, until: datetime
    ) -> None:
        """History goes straight into the metric store: one series per run and metric."""
        series: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[tuple[float, float]]] = {}
        for name, value, dims, at in glue_run_metrics(
            job, run_id, started, plan, until, self.settings.ingestion_metric_namespace
        ):
            ns = dims.pop("__namespace")
            series.setdefault((ns, name, tuple(sorted(dims.items()))), []).append(
                (at.timestamp(), value)
            )
        for (ns, name, dims), points in series.items():
            ts = np.array([p[0] for p in points])
            values = np.array([p[1] for p in points])
            self.store.put_series(
                ns,
                name,
                dict(dims),
                ts,
                sums=values,
                counts=np.ones(ts.size),
                mins=values,
                maxs=values,
                samples=values.reshape(-1, 1),
                unit="Milliseconds" if "elapsed" in name else "Count",
            )
            self.report.metric_datapoints += ts.size


def glue_run_metrics(
    job: str,
    run_id: str,
    started: datetime,
    plan: behaviour.RunPlan,
    until: datetime,
    ingestion_namespace: str,
) -> list[tuple[str, float, dict[str, str], datetime]]:
    """The per-run metrics Glue emits every 30 s (deltas) and our ingestion metric at the end."""
    out: list[tuple[str, float, dict[str, str], datetime]] = []
    begin = started + timedelta(seconds=plan.startup_s)
    end = started + timedelta(seconds=plan.total_s)
    ticks: list[datetime] = []
    t = begin + timedelta(seconds=30)
    while t < end and t <= until:
        ticks.append(t)
        t += timedelta(seconds=30)
    if end <= until:
        ticks.append(end)
    if not ticks:
        return out
    n = len(ticks)
    per_tick = [plan.rows_read // n] * n
    per_tick[-1] += plan.rows_read - sum(per_tick)
    bytes_tick = [plan.bytes_read // n] * n
    bytes_tick[-1] += plan.bytes_read - sum(bytes_tick)
    for i, at in enumerate(ticks):
        count = {"JobName": job, "JobRunId": run_id, "Type": "count", "__namespace": GLUE_NAMESPACE}
        gauge = {"JobName": job, "JobRunId": run_id, "Type": "gauge", "__namespace": GLUE_NAMESPACE}
        out.append(("glue.driver.aggregate.recordsRead", float(per_tick[i]), dict(count), at))
        out.append(("glue.driver.aggregate.bytesRead", float(bytes_tick[i]), dict(count), at))
        out.append(
            (
                "glue.driver.aggregate.elapsedTime",
                float(int((at - begin).total_seconds() * 1000)),
                dict(gauge),
                at,
            )
        )
        failed = plan.failed_tasks if (i == n - 1 and at == end) else 0
        out.append(("glue.driver.aggregate.numFailedTasks", float(failed), dict(count), at))
    if end <= until:
        out.append(
            (
                "RowsWritten",
                float(plan.rows_written),
                {"JobName": job, "JobRunId": run_id, "__namespace": ingestion_namespace},
                end,
            )
        )
    return out


def seed_scheduled_history(
    writer: HistoryWriter, specs: list[JobSpec], start: datetime, rng: random.Random
) -> None:
    for spec in specs:
        if not spec.schedule:
            continue
        # One bad stretch per job: a few hours where a dependency is down.
        incident_start = start + timedelta(
            hours=rng.uniform(0, max(1, (writer.now - start).total_seconds() / 3600 - 6))
        )
        incident_end = incident_start + timedelta(hours=rng.uniform(2, 6))
        for fire in fire_times(spec.schedule, start, writer.now):
            started = fire + timedelta(seconds=rng.uniform(2, 40))
            if started > writer.now:
                continue
            boost = 0.5 if incident_start <= started <= incident_end else 0.0
            _write_with_retries(
                writer, spec, started, rng, boost, arguments=None, trigger=f"{spec.name}-schedule"
            )


def _write_with_retries(
    writer: HistoryWriter,
    spec: JobSpec,
    started: datetime,
    rng: random.Random,
    boost: float,
    *,
    arguments: dict[str, str] | None,
    trigger: str | None,
) -> None:
    previous: str | None = None
    for attempt in range(spec.max_retries + 1):
        plan = behaviour.plan_run(spec, started, rng, failure_boost=boost if attempt == 0 else 0)
        previous = writer.run(
            spec,
            started,
            plan,
            arguments=arguments,
            trigger=trigger,
            attempt=attempt,
            previous_run_id=previous,
        )
        end = started + timedelta(seconds=plan.total_s)
        if plan.outcome == "SUCCEEDED" or end > writer.now:
            return
        started = end + timedelta(seconds=rng.uniform(20, 90))
        if started > writer.now:
            return


@dataclass
class _Drop:
    dataset: Dataset
    spec: JobSpec
    dropped: datagen.DroppedFile
    bucket: str
    key: str
    run_id: str
    started: datetime
    rows: int = 0
    error: str | None = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def seed_dataset_history(writer: HistoryWriter, start: datetime, rng: random.Random) -> None:
    """Files dropped into each dataset's raw prefix, each really read (and written) by its job.

    Files and plans are drawn in order from `rng` (deterministic); the S3 round trips in
    between run on a few threads, since they dominate the seed's time.
    """
    settings = writer.settings
    drops: list[_Drop] = []
    for dataset in settings.datasets:
        spec = next((j for j in JOBS if j.name == dataset.glue_job), None)
        if spec is None:
            continue
        every = datagen.HISTORY_DROP_EVERY_S.get(dataset.name, 3600)
        t = start + timedelta(seconds=rng.uniform(0, every))
        while t < writer.now - timedelta(seconds=5):
            dropped = datagen.drop(dataset.name, rng, t, scale=0.25)
            drops.append(
                _Drop(
                    dataset=dataset,
                    spec=spec,
                    dropped=dropped,
                    bucket=settings.dataset_bucket(dataset),
                    key=upload_key(dataset, dropped.name, t, rng),
                    run_id=f"jr_{rng.getrandbits(256):064x}",
                    started=t + timedelta(seconds=rng.uniform(1, 4)),
                )
            )
            t += timedelta(seconds=every * rng.uniform(0.6, 1.4))
    s3 = writer.account.client("s3")
    with ThreadPoolExecutor(max_workers=6, thread_name_prefix="seed-s3") as pool:
        list(pool.map(lambda d: _store_and_ingest(s3, settings, writer.now, d), drops))
    for d in drops:
        plan = behaviour.plan_run(d.spec, d.started, rng, rows=d.rows, error=d.error, source=d.uri)
        args = {
            "--input_path": d.uri,
            "--dataset": d.dataset.name,
            "--output_path": f"s3://{settings.processed_bucket}/{d.dataset.name}/",
        }
        writer.run(
            d.spec,
            d.started,
            plan,
            arguments=args,
            trigger=f"{d.dataset.name}-upload-trigger",
            run_id=d.run_id,
            ingest={"bucket": d.bucket, "key": d.key, "dataset": d.dataset.name},
        )
    writer.report.objects += len(drops)


def _store_and_ingest(s3: Any, settings: Settings, now: datetime, d: _Drop) -> None:
    s3.put_object(
        Bucket=d.bucket,
        Key=d.key,
        Body=d.dropped.body,
        Metadata={"uploaded-by": f"{d.dataset.name}-export"},
    )
    try:
        if d.started + timedelta(seconds=10) <= now:
            d.rows = ingest_object(
                s3,
                input_uri=d.uri,
                output_bucket=settings.processed_bucket,
                dataset=d.dataset.name,
                run_id=d.run_id,
                expected_columns=d.dataset.expected_columns,
                at=d.started,
            ).rows_read
        else:
            # Still running at `now`: the simulator writes its output when it finishes.
            d.rows = summarize(
                io.BytesIO(d.dropped.body),
                d.dropped.name,
                expected_columns=d.dataset.expected_columns,
            ).rows
    except IngestError as e:
        d.error = f"IngestError: {e}"
    except FormatProblem as e:
        d.error = f"IngestError: {d.uri} {e}"
