"""The pipeline's AWS resources, created through the sandbox's public API.

Why its own module: this half of the seed is what CloudFormation (``infra/``)
creates in production -- IAM roles, the KMS key, encrypted buckets, queues,
EventBridge rules, Glue jobs, triggers and catalog tables, Lambda functions
and log groups -- and it goes through plain boto3 only, unlike the history,
which needs the fidelity layer to write the past.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from dashapp.config import Dataset, Settings
from sandbox.account import ACCOUNT_ID, SandboxAccount
from sandbox.catalog import (
    GLUE_ROLE,
    KMS_ALIAS,
    LAMBDA_ROLE,
    TRIGGER_QUEUE,
    FunctionSpec,
    JobSpec,
)
from sandbox.datasets import TABLE_COLUMNS

__all__ = [
    "create_foundation",
    "create_glue",
    "create_lambda",
    "dataset_for_job",
    "enable_upload_events",
]


def dataset_for_job(settings: Settings, job: str) -> Dataset | None:
    return next((d for d in settings.datasets if d.glue_job == job), None)


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
        location = f"s3://{settings.processed_bucket}/{d.name}/"
        glue.create_table(
            DatabaseName=settings.athena_database,
            TableInput={
                "Name": d.name,
                "Description": d.description,
                "TableType": "EXTERNAL_TABLE",
                "PartitionKeys": [{"Name": "ingest_date", "Type": "string"}],
                "Parameters": table_parameters(location),
                "StorageDescriptor": {
                    "Columns": table_columns(d),
                    "Location": location,
                    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
                },
            },
        )


def table_columns(dataset: Dataset) -> list[dict[str, str]]:
    """The dataset's processed columns with types (strings when the sandbox knows no schema)."""
    known = TABLE_COLUMNS.get(dataset.name)
    if known:
        return [{"Name": name, "Type": kind} for name, kind in known]
    return [{"Name": c, "Type": "string"} for c in dataset.expected_columns] or [
        {"Name": "record", "Type": "string"}
    ]


def table_parameters(location: str) -> dict[str, str]:
    """JSON lines partitioned by day, found by partition projection (no crawler, no MSCK).

    Without projection or registered partitions Athena reads no partition of a
    partitioned table; the ingest jobs only write objects, so projection is what
    makes every ``ingest_date=`` prefix they write queryable at once.
    """
    return {
        "classification": "json",
        "projection.enabled": "true",
        "projection.ingest_date.type": "date",
        "projection.ingest_date.format": "yyyy-MM-dd",
        "projection.ingest_date.range": "2020-01-01,NOW",
        "projection.ingest_date.interval": "1",
        "projection.ingest_date.interval.unit": "DAYS",
        "storage.location.template": location + "ingest_date=${ingest_date}/",
    }


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
