"""Seed the sandbox account: the pipeline's AWS resources and 14 days of believable history.

Resources are created through the public API (as CloudFormation would); history
that the API cannot write with past timestamps (finished Glue runs, 14 days of
per-minute metrics) goes through the fidelity layer's controller and metric
store. The seed is deterministic for a given `rng_seed` and `now`.
"""

from __future__ import annotations

import io
import json
import logging
import random
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from dashapp.config import Dataset, Settings
from dashapp.fileformats import FormatProblem, summarize
from dashapp.schedules import fire_times
from sandbox import behaviour, datagen
from sandbox.account import ACCOUNT_ID, SandboxAccount
from sandbox.catalog import (
    FUNCTIONS,
    GLUE_ROLE,
    JOBS,
    KMS_ALIAS,
    LAMBDA_ROLE,
    TRIGGER_QUEUE,
    FunctionSpec,
    JobSpec,
)
from sandbox.etl import IngestError, ingest_object
from sandbox.fidelity import glue as fglue
from sandbox.fidelity.cloudwatch.store import metric_store

log = logging.getLogger(__name__)

GLUE_NAMESPACE = "Glue"
LAMBDA_NAMESPACE = "AWS/Lambda"


@dataclass
class InFlight:
    """A run the history left running at `now`: the simulator finishes it."""

    run_id: str
    job: str
    started_at: datetime
    plan: behaviour.RunPlan
    ingest: dict[str, Any] | None = None


@dataclass
class SeedReport:
    jobs: int = 0
    functions: int = 0
    runs: int = 0
    failed_runs: int = 0
    objects: int = 0
    log_events: int = 0
    metric_datapoints: int = 0
    kms_key_arn: str = ""
    in_flight: list[InFlight] = field(default_factory=list)


def upload_key(dataset: Dataset, name: str, at: datetime, rng: random.Random) -> str:
    """Where an upload lands: `<prefix>/<yyyy>/<mm>/<dd>/<uuid>-<name>` (as the web app does)."""
    uid = uuid.UUID(int=rng.getrandbits(128), version=4)
    return f"{dataset.prefix}{at:%Y/%m/%d}/{uid}-{name}"


def glue_log_groups(settings: Settings) -> tuple[str, str]:
    return f"{settings.glue_log_group_prefix}/output", f"{settings.glue_log_group_prefix}/error"


def dataset_for_job(settings: Settings, job: str) -> Dataset | None:
    return next((d for d in settings.datasets if d.glue_job == job), None)


# --- resources ------------------------------------------------------------------------------------


def create_foundation(account: SandboxAccount, settings: Settings) -> str:
    """IAM roles, KMS key, encrypted buckets, queues and EventBridge rules; returns the key ARN."""
    iam = account.client("iam")
    for role, service in ((GLUE_ROLE, "glue.amazonaws.com"), (LAMBDA_ROLE, "lambda.amazonaws.com")):
        iam.create_role(
            RoleName=role,
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": service},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            Description=f"Execution role for the pipeline's {service.split('.')[0]} resources",
        )
    kms = account.client("kms")
    key = kms.create_key(
        Description="Serverless pipeline data key (raw, processed, results)",
        KeyUsage="ENCRYPT_DECRYPT",
    )["KeyMetadata"]
    kms.create_alias(AliasName=KMS_ALIAS, TargetKeyId=key["KeyId"])
    s3 = account.client("s3")
    buckets = {settings.raw_bucket, settings.processed_bucket, settings.athena_results_bucket}
    buckets |= {d.bucket for d in settings.datasets if d.bucket}
    for bucket in sorted(buckets):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": key["Arn"],
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        )
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        s3.put_bucket_tagging(
            Bucket=bucket, Tagging={"TagSet": [{"Key": "app", "Value": "serverless-pipeline"}]}
        )
    sqs = account.client("sqs")
    events = account.client("events")
    queue_arns = {}
    for queue in (_queue_name(settings.events_queue), TRIGGER_QUEUE):
        url = sqs.create_queue(
            QueueName=queue,
            Attributes={
                "MessageRetentionPeriod": "1209600",
                "VisibilityTimeout": "60",
                "KmsMasterKeyId": KMS_ALIAS,
            },
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sqs.set_queue_attributes(
            QueueUrl=url,
            Attributes={
                "Policy": json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Action": "sqs:SendMessage",
                                "Resource": arn,
                            }
                        ],
                    }
                )
            },
        )
        queue_arns[queue] = arn
    collector_arn = queue_arns[_queue_name(settings.events_queue)]
    raw_buckets = sorted(
        {settings.dataset_bucket(d) for d in settings.datasets} | {settings.raw_bucket}
    )
    _rule(
        events,
        "smd-raw-object-created",
        {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": raw_buckets}},
        },
        collector_arn,
        "Uploads to the raw zone, for the dashboard's collector",
    )
    _rule(
        events,
        "smd-glue-job-state-change",
        {
            "source": ["aws.glue"],
            "detail-type": ["Glue Job State Change"],
        },
        collector_arn,
        "Glue job state changes, for the dashboard's collector",
    )
    # Production routes these to the dataset's Glue workflow (infra/); moto cannot target Glue,
    # so the sandbox routes them to a queue its simulated EventBridge → Glue trigger consumes.
    for d in settings.datasets:
        _rule(
            events,
            f"smd-{d.name}-upload-starts-{d.glue_job}"[:64],
            {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {
                    "bucket": {"name": [settings.dataset_bucket(d)]},
                    "object": {"key": [{"prefix": d.prefix}]},
                },
            },
            queue_arns[TRIGGER_QUEUE],
            f"Start {d.glue_job} for uploads under {d.prefix}",
        )
    return key["Arn"]


def _queue_name(queue: str) -> str:
    return queue.rstrip("/").rsplit("/", 1)[-1]


def _rule(
    events: Any, name: str, pattern: dict[str, Any], target_arn: str, description: str
) -> None:
    events.put_rule(
        Name=name, EventPattern=json.dumps(pattern), State="ENABLED", Description=description
    )
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": target_arn}])


def enable_upload_events(account: SandboxAccount, settings: Settings) -> None:
    """Turn on S3 → EventBridge for the raw buckets (after history, so it triggers nothing)."""
    s3 = account.client("s3")
    for bucket in sorted(
        {settings.dataset_bucket(d) for d in settings.datasets} | {settings.raw_bucket}
    ):
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )


def create_glue(account: SandboxAccount, settings: Settings, jobs: list[JobSpec]) -> None:
    glue = account.client("glue")
    role_arn = f"arn:aws:iam::{ACCOUNT_ID}:role/{GLUE_ROLE}"
    for spec in jobs:
        dataset = dataset_for_job(settings, spec.name)
        args = {
            "--job-language": "python",
            "--enable-metrics": "true",
            "--enable-continuous-cloudwatch-log": "true",
            "--enable-auto-scaling": "true",
            "--TempDir": f"s3://{settings.processed_bucket}/_glue_tmp/",
        }
        if dataset:
            args["--dataset"] = dataset.name
            args["--output_path"] = f"s3://{settings.processed_bucket}/{dataset.name}/"
        params: dict[str, Any] = {
            "Name": spec.name,
            "Description": spec.description,
            "Role": role_arn,
            "Command": {
                "Name": spec.command,
                "PythonVersion": "3",
                "ScriptLocation": f"s3://{settings.processed_bucket}/_scripts/{spec.name}.py",
            },
            "DefaultArguments": args,
            "ExecutionProperty": {"MaxConcurrentRuns": spec.max_concurrent_runs},
            "MaxRetries": spec.max_retries,
            "Timeout": spec.timeout_min,
            "GlueVersion": spec.glue_version,
            "Tags": {
                "team": spec.team,
                "app": "serverless-pipeline",
                **({"dataset": dataset.name} if dataset else {}),
            },
        }
        if spec.command == "pythonshell":
            params["MaxCapacity"] = spec.max_capacity
        else:
            params["WorkerType"] = spec.worker_type
            params["NumberOfWorkers"] = spec.workers
        glue.create_job(**params)
        if spec.schedule:
            glue.create_trigger(
                Name=f"{spec.name}-schedule",
                Type="SCHEDULED",
                Schedule=spec.schedule,
                Actions=[{"JobName": spec.name}],
                StartOnCreation=True,
                Description=f"Runs {spec.name} on {spec.schedule}",
            )
    glue.create_database(
        DatabaseInput={
            "Name": settings.athena_database,
            "Description": "Processed zone written by the ingest jobs",
            "LocationUri": f"s3://{settings.processed_bucket}/",
        }
    )
    for d in settings.datasets:
        columns = [{"Name": c, "Type": "string"} for c in d.expected_columns] or [
            {"Name": "record", "Type": "string"}
        ]
        glue.create_table(
            DatabaseName=settings.athena_database,
            TableInput={
                "Name": d.name,
                "Description": d.description,
                "TableType": "EXTERNAL_TABLE",
                "PartitionKeys": [{"Name": "ingest_date", "Type": "string"}],
                "StorageDescriptor": {
                    "Columns": columns,
                    "Location": f"s3://{settings.processed_bucket}/{d.name}/",
                    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
                },
            },
        )


def _lambda_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return {'ok': True}\n")
    return buf.getvalue()


def create_lambda(account: SandboxAccount, functions: list[FunctionSpec]) -> None:
    lam = account.client("lambda")
    code = _lambda_zip()
    role_arn = f"arn:aws:iam::{ACCOUNT_ID}:role/{LAMBDA_ROLE}"
    for spec in functions:
        lam.create_function(
            FunctionName=spec.name,
            Runtime=spec.runtime,
            Role=role_arn,
            Handler=spec.handler,
            Code={"ZipFile": code},
            Description=spec.description,
            Timeout=spec.timeout_s,
            MemorySize=spec.memory_mb,
            Tags={"team": spec.team, "app": "serverless-pipeline"},
        )
        if spec.reserved_concurrency:
            lam.put_function_concurrency(
                FunctionName=spec.name, ReservedConcurrentExecutions=spec.reserved_concurrency
            )
        account.ensure_log_group(f"/aws/lambda/{spec.name}", retention_days=30)


# --- history --------------------------------------------------------------------------------------


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


def seed_lambda_history(
    account: SandboxAccount,
    functions: list[FunctionSpec],
    start: datetime,
    now: datetime,
    seed: int,
    report: SeedReport,
) -> None:
    """Per-minute AWS/Lambda metrics (with raw duration samples for percentiles) and sample logs."""
    store = metric_store(ACCOUNT_ID, account.region)
    first = int(start.timestamp()) // 60 * 60
    last = int(now.timestamp()) // 60 * 60  # the current minute is not complete yet
    minutes = np.arange(first, last, 60, dtype=np.int64)
    rng_log = random.Random(seed)
    for i, spec in enumerate(functions):
        rng = np.random.default_rng(seed + i)
        load = behaviour.lambda_minutes(spec, minutes, rng)
        dims = {"FunctionName": spec.name}
        put_lambda_minutes(store, dims, load)
        report.metric_datapoints += int((load.invocations > 0).sum()) * 7
        _lambda_sample_logs(account, spec, load, rng_log, report)


def put_lambda_minutes(store: Any, dims: dict[str, str], load: behaviour.LambdaMinutes) -> None:
    """Write one function's minutes into the metric store as Lambda would have emitted them."""
    active = load.invocations > 0
    ts = load.minutes[active]
    if ts.size == 0:
        return
    inv = load.invocations[active]
    ones = np.ones(ts.size)

    def counter(name: str, values: np.ndarray, unit: str = "Count") -> None:
        store.put_series(
            LAMBDA_NAMESPACE,
            name,
            dims,
            ts,
            sums=values,
            counts=ones,
            mins=values,
            maxs=values,
            unit=unit,
        )

    counter("Invocations", inv)
    counter("Errors", load.errors[active])
    counter("Throttles", load.throttles[active])
    store.put_series(
        LAMBDA_NAMESPACE,
        "ConcurrentExecutions",
        dims,
        ts,
        sums=load.concurrency[active],
        counts=ones,
        mins=load.concurrency[active],
        maxs=load.concurrency[active],
        unit="Count",
    )
    samples = load.duration_samples[active]
    store.put_series(
        LAMBDA_NAMESPACE,
        "Duration",
        dims,
        ts,
        sums=load.duration_sum[active],
        counts=inv,
        mins=load.duration_min[active],
        maxs=load.duration_max[active],
        samples=samples,
        unit="Milliseconds",
    )


def _lambda_sample_logs(
    account: SandboxAccount,
    spec: FunctionSpec,
    load: behaviour.LambdaMinutes,
    rng: random.Random,
    report: SeedReport,
) -> None:
    """A few logged invocations an hour (and most errors) per execution environment stream."""
    group = f"/aws/lambda/{spec.name}"
    streams: dict[str, list[tuple[datetime, str]]] = {}
    hour_stream: dict[int, str] = {}
    for idx in range(len(load.minutes)):
        n = int(load.invocations[idx])
        if n == 0:
            continue
        errors = int(load.errors[idx])
        take_ok = 1 if rng.random() < 0.05 else 0  # about three logged invocations an hour
        take_err = 1 if errors and rng.random() < 0.15 else 0
        if not (take_ok or take_err):
            continue
        minute = datetime.fromtimestamp(int(load.minutes[idx]), UTC)
        hour = int(load.minutes[idx]) // 3600
        if hour not in hour_stream:
            hour_stream[hour] = f"{minute:%Y/%m/%d}/[$LATEST]{rng.getrandbits(128):032x}"
        stream = hour_stream[hour]
        samples = load.duration_samples[idx]
        for k in range(take_ok + take_err):
            at = minute + timedelta(seconds=rng.uniform(0, 59))
            dur = float(samples[k % len(samples)]) if len(samples) else spec.duration_ms
            streams.setdefault(stream, []).extend(
                behaviour.lambda_invocation_log(spec, at, rng, failed=k >= take_ok, duration_ms=dur)
            )
    for stream, lines in streams.items():
        report.log_events += account.put_logs(group, stream, lines)


def seed(
    account: SandboxAccount,
    settings: Settings,
    *,
    now: datetime,
    rng_seed: int,
    history_days: float,
    jobs: list[JobSpec] | None = None,
    functions: list[FunctionSpec] | None = None,
) -> SeedReport:
    """Create everything and write `history_days` of history ending at `now`."""
    jobs = list(JOBS if jobs is None else jobs)
    functions = list(FUNCTIONS if functions is None else functions)
    report = SeedReport(jobs=len(jobs), functions=len(functions))
    rng = random.Random(rng_seed)
    report.kms_key_arn = create_foundation(account, settings)
    create_glue(account, settings, jobs)
    for group in glue_log_groups(settings):
        account.ensure_log_group(group, retention_days=90)
    create_lambda(account, functions)
    # CloudWatch Logs refuses events older than 14 days; keep an hour's margin.
    start = now - min(timedelta(days=history_days), timedelta(days=14) - timedelta(hours=1))
    if history_days > 0:
        writer = HistoryWriter(account, settings, now, report)
        seed_scheduled_history(writer, [j for j in jobs if j.schedule], start, rng)
        seed_dataset_history(writer, start, rng)
        seed_lambda_history(account, functions, start, now, rng_seed, report)
    enable_upload_events(account, settings)
    return report
