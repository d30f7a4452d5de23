"""CloudFormation for the AWS side, rendered from the settings: `python -m dashapp.infra render`.

CloudFormation has no loops, and every dataset needs its own rule, workflow, EVENT
trigger and job, so the templates are generated from `SMD_DATASETS` (and bucket,
queue and job names) instead of copied by hand. Two stacks:

- `infra/core.yaml`: KMS key, raw bucket (EventBridge notifications on), processed
  and Athena-results buckets, the collector's SQS queue with the two rules feeding
  it (S3 "Object Created" on the raw bucket, "Glue Job State Change") and a queue
  policy that admits only those two rules, and the Glue job, collector and web roles.
- `infra/datasets.yaml`: per dataset a Glue job, a workflow with an EVENT trigger
  starting that job, and a rule matching the dataset's prefix whose target is the
  workflow (through a role that may only notify those workflows); plus the job
  control permissions (start/stop exactly these jobs) attached to the web and
  collector roles.

The rendered files are committed; `tests/infra/test_cfn.py` checks they match the
default settings, pass cfn-lint, and wire what a reviewer cares about. Intrinsic
functions are written in their long form (`{"Ref": ...}`) so the YAML is plain.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from dashapp.config import Dataset, Settings

INFRA_DIR = Path(__file__).resolve().parent.parent / "infra"
TEMPLATE_VERSION = "2010-09-09"
WORKFLOW_PREFIX = "smd-"

# What each collector calls (collectors/registry.py declares them per job) plus what the
# shared plumbing needs: GetQueueUrl (the queue is configured by name) and kms:Decrypt
# (the queue and the raw objects are encrypted with the stack's key).
COLLECTOR_EXTRA_ACTIONS = ("sqs:GetQueueUrl", "kms:Decrypt")
_LOG_GROUP_ARN = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def _arn(resource: str, attr: str = "Arn") -> dict[str, list[str]]:
    return {"Fn::GetAtt": [resource, attr]}


def _import(name: str) -> dict[str, Any]:
    return {"Fn::ImportValue": _sub("${CoreStackName}-" + name)}


def logical_id(name: str) -> str:
    """A CloudFormation logical id from a dataset name ('web-clickstream' → 'WebClickstream')."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name))


def _statement(actions: list[str], resources: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": sorted(actions), "Resource": resources, **extra}


def _policy(name: str, statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "PolicyName": name,
        "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
    }


def _assume(service: str | dict[str, Any]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }


def _bucket(name_param: str, *, eventbridge: bool, expire_days: int | None) -> dict[str, Any]:
    lifecycle: list[dict[str, Any]] = [
        {
            "Id": "abort-incomplete-multipart",
            "Status": "Enabled",
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
        }
    ]
    if expire_days:
        lifecycle.append({"Id": "expire", "Status": "Enabled", "ExpirationInDays": expire_days})
    props: dict[str, Any] = {
        "BucketName": _ref(name_param),
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {
                    "ServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": _arn("DataKey"),
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        },
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "VersioningConfiguration": {"Status": "Enabled"},
        "LifecycleConfiguration": {"Rules": lifecycle},
    }
    if eventbridge:
        props["NotificationConfiguration"] = {
            "EventBridgeConfiguration": {"EventBridgeEnabled": True}
        }
    return {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": props,
    }


def _tls_only(bucket: str) -> dict[str, Any]:
    """A bucket policy refusing plain-HTTP requests."""
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": _ref(bucket),
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": [_arn(bucket), _sub("${" + bucket + ".Arn}/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            },
        },
    }


def collector_actions() -> list[str]:
    """Every AWS action the collector process needs (its registry plus shared plumbing)."""
    from collectors.registry import JOBS

    actions = {a for job in JOBS for a in job.aws_permissions} | set(COLLECTOR_EXTRA_ACTIONS)
    # Starting retries is granted per job by the datasets stack, not here.
    return sorted(actions - {"glue:StartJobRun"})


def _collector_statements() -> list[dict[str, Any]]:
    by_service: dict[str, list[str]] = {}
    for action in collector_actions():
        by_service.setdefault(action.split(":")[0], []).append(action)
    resources: dict[str, Any] = {
        "sqs": [_arn("EventsQueue")],
        "s3": [_sub("${RawBucket.Arn}/*")],
        "kms": [_arn("DataKey")],
        "logs": [
            _sub(_LOG_GROUP_ARN + "${GlueLogGroupPrefix}*"),
            _sub(_LOG_GROUP_ARN + "/aws/lambda/*"),
        ],
    }
    statements = []
    for service, actions in sorted(by_service.items()):
        # Glue reads, Lambda listing, tagging and GetMetricData have no narrower resource.
        statements.append(
            _statement(actions, resources.get(service, "*"), Sid=f"Collector{service.title()}")
        )
    return statements


def core_template(settings: Settings) -> dict[str, Any]:
    """Buckets, key, queue + its two feeding rules, and the three roles."""
    glue_log_arn = _LOG_GROUP_ARN + "${GlueLogGroupPrefix}*"
    athena_workgroup = (
        "arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:workgroup/${AthenaWorkgroup}"
    )
    catalog = "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}"
    resources: dict[str, Any] = {
        "DataKey": {
            "Type": "AWS::KMS::Key",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Description": "Serverless Management Dashboard data (buckets, queue)",
                "EnableKeyRotation": True,
                "KeyPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountAdministers",
                            "Effect": "Allow",
                            "Principal": {
                                "AWS": _sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
                            },
                            "Action": "kms:*",
                            "Resource": "*",
                        },
                        {
                            "Sid": "EventBridgeWritesTheQueue",
                            "Effect": "Allow",
                            "Principal": {"Service": "events.amazonaws.com"},
                            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                            "Resource": "*",
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": _ref("AWS::AccountId")}
                            },
                        },
                    ],
                },
            },
        },
        "DataKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {"AliasName": "alias/smd-data", "TargetKeyId": _ref("DataKey")},
        },
        "RawBucket": _bucket("RawBucketName", eventbridge=True, expire_days=None),
        "RawBucketPolicy": _tls_only("RawBucket"),
        "ProcessedBucket": _bucket("ProcessedBucketName", eventbridge=False, expire_days=None),
        "ProcessedBucketPolicy": _tls_only("ProcessedBucket"),
        "AthenaResultsBucket": _bucket(
            "AthenaResultsBucketName", eventbridge=False, expire_days=30
        ),
        "AthenaResultsBucketPolicy": _tls_only("AthenaResultsBucket"),
        "EventsDeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": _sub("${EventsQueueName}-dlq"),
                "KmsMasterKeyId": _ref("DataKey"),
                "MessageRetentionPeriod": 1209600,
            },
        },
        "EventsQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": _ref("EventsQueueName"),
                "KmsMasterKeyId": _ref("DataKey"),
                "MessageRetentionPeriod": 345600,
                "VisibilityTimeout": 60,
                "ReceiveMessageWaitTimeSeconds": 20,
                "RedrivePolicy": {
                    "deadLetterTargetArn": _arn("EventsDeadLetterQueue"),
                    "maxReceiveCount": 5,
                },
            },
        },
        "EventsQueuePolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [_ref("EventsQueue")],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "OnlyOurRules",
                            "Effect": "Allow",
                            "Principal": {"Service": "events.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": _arn("EventsQueue"),
                            "Condition": {
                                "ArnEquals": {
                                    "aws:SourceArn": [
                                        _arn("UploadEventsRule"),
                                        _arn("GlueStateEventsRule"),
                                    ]
                                }
                            },
                        }
                    ],
                },
            },
        },
        "UploadEventsRule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Description": "Every object created in the raw bucket, for the collector",
                "EventPattern": {
                    "source": ["aws.s3"],
                    "detail-type": ["Object Created"],
                    "detail": {"bucket": {"name": [_ref("RawBucket")]}},
                },
                "State": "ENABLED",
                "Targets": [{"Arn": _arn("EventsQueue"), "Id": "collector-queue"}],
            },
        },
        "GlueStateEventsRule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Description": "Glue job state changes, for the collector",
                "EventPattern": {"source": ["aws.glue"], "detail-type": ["Glue Job State Change"]},
                "State": "ENABLED",
                "Targets": [{"Arn": _arn("EventsQueue"), "Id": "collector-queue"}],
            },
        },
        "GlueJobRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": "What the dataset Glue jobs may do: read raw, write processed, log",
                "AssumeRolePolicyDocument": _assume("glue.amazonaws.com"),
                "Policies": [
                    _policy(
                        "glue-job",
                        [
                            _statement(
                                ["s3:GetObject"],
                                [
                                    _sub("${RawBucket.Arn}/*"),
                                    _sub("arn:${AWS::Partition}:s3:::${ScriptsBucketName}/*"),
                                ],
                                Sid="ReadInputAndScripts",
                            ),
                            _statement(
                                ["s3:ListBucket"],
                                [_arn("RawBucket"), _arn("ProcessedBucket")],
                                Sid="ListData",
                            ),
                            _statement(
                                ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
                                [_sub("${ProcessedBucket.Arn}/*")],
                                Sid="WriteProcessed",
                            ),
                            _statement(
                                ["kms:Decrypt", "kms:GenerateDataKey"],
                                [_arn("DataKey")],
                                Sid="UseDataKey",
                            ),
                            _statement(
                                [
                                    "logs:CreateLogGroup",
                                    "logs:CreateLogStream",
                                    "logs:PutLogEvents",
                                ],
                                [_sub(glue_log_arn), _sub(glue_log_arn + ":log-stream:*")],
                                Sid="WriteLogs",
                            ),
                            _statement(
                                ["cloudwatch:PutMetricData"],
                                "*",
                                Sid="PublishMetrics",
                                Condition={
                                    "StringEquals": {
                                        "cloudwatch:namespace": [
                                            "Glue",
                                            settings.ingestion_metric_namespace,
                                        ]
                                    }
                                },
                            ),
                        ],
                    )
                ],
            },
        },
        "CollectorRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": "The collector process: exactly the read APIs it calls",
                "AssumeRolePolicyDocument": _assume(_ref("CollectorPrincipalService")),
                "Policies": [_policy("collector", _collector_statements())],
            },
        },
        "WebRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": "The web tier: uploads and Athena (job control: datasets stack)",
                "AssumeRolePolicyDocument": _assume(_ref("WebPrincipalService")),
                "Policies": [
                    _policy(
                        "web",
                        [
                            _statement(
                                [
                                    "s3:AbortMultipartUpload",
                                    "s3:DeleteObject",
                                    "s3:GetObject",
                                    "s3:ListMultipartUploadParts",
                                    "s3:PutObject",
                                ],
                                [_sub("${RawBucket.Arn}/*")],
                                Sid="Uploads",
                            ),
                            _statement(
                                ["s3:GetObject"],
                                [_sub("${ProcessedBucket.Arn}/*")],
                                Sid="ReadProcessed",
                            ),
                            _statement(
                                ["s3:GetBucketLocation", "s3:ListBucket"],
                                [_arn("ProcessedBucket"), _arn("AthenaResultsBucket")],
                                Sid="ListQueryData",
                            ),
                            _statement(
                                ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                                [_sub("${AthenaResultsBucket.Arn}/*")],
                                Sid="AthenaResults",
                            ),
                            _statement(
                                [
                                    "athena:GetQueryExecution",
                                    "athena:GetQueryResults",
                                    "athena:StartQueryExecution",
                                    "athena:StopQueryExecution",
                                ],
                                [_sub(athena_workgroup)],
                                Sid="Athena",
                            ),
                            _statement(
                                [
                                    "glue:GetDatabase",
                                    "glue:GetPartitions",
                                    "glue:GetTable",
                                    "glue:GetTables",
                                ],
                                [
                                    _sub(catalog + ":catalog"),
                                    _sub(catalog + ":database/${AthenaDatabase}"),
                                    _sub(catalog + ":table/${AthenaDatabase}/*"),
                                ],
                                Sid="AthenaCatalog",
                            ),
                            _statement(
                                ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                                [_arn("DataKey")],
                                Sid="UseDataKey",
                            ),
                        ],
                    )
                ],
            },
        },
    }
    parameters = {
        "RawBucketName": {
            "Type": "String",
            "Default": settings.raw_bucket,
            "Description": "Bucket users upload into (SMD_RAW_BUCKET).",
        },
        "ProcessedBucketName": {
            "Type": "String",
            "Default": settings.processed_bucket,
            "Description": "Bucket Glue jobs write to (SMD_PROCESSED_BUCKET).",
        },
        "AthenaResultsBucketName": {
            "Type": "String",
            "Default": settings.athena_results_bucket,
            "Description": "Athena query results (SMD_ATHENA_RESULTS_BUCKET).",
        },
        "ScriptsBucketName": {
            "Type": "String",
            "Default": "smd-scripts",
            "Description": "Bucket holding the Glue job scripts.",
        },
        "EventsQueueName": {
            "Type": "String",
            "Default": settings.events_queue,
            "Description": "The collector's queue (SMD_EVENTS_QUEUE).",
        },
        "GlueLogGroupPrefix": {
            "Type": "String",
            "Default": settings.glue_log_group_prefix,
            "Description": "Glue log groups prefix.",
        },
        "AthenaWorkgroup": {
            "Type": "String",
            "Default": settings.athena_workgroup,
            "Description": "Athena workgroup (SMD_ATHENA_WORKGROUP).",
        },
        "AthenaDatabase": {
            "Type": "String",
            "Default": settings.athena_database,
            "Description": "Glue Data Catalog database Athena reads.",
        },
        "CollectorPrincipalService": {
            "Type": "String",
            "Default": "ecs-tasks.amazonaws.com",
            "Description": "Service that runs the collector.",
        },
        "WebPrincipalService": {
            "Type": "String",
            "Default": "ecs-tasks.amazonaws.com",
            "Description": "Service that runs the web tier.",
        },
    }
    exports = {
        "RawBucketName": _ref("RawBucket"),
        "ProcessedBucketName": _ref("ProcessedBucket"),
        "AthenaResultsBucketName": _ref("AthenaResultsBucket"),
        "ScriptsBucketName": _ref("ScriptsBucketName"),
        "DataKeyArn": _arn("DataKey"),
        "EventsQueueUrl": _ref("EventsQueue"),
        "GlueJobRoleArn": _arn("GlueJobRole"),
        "CollectorRoleName": _ref("CollectorRole"),
        "WebRoleName": _ref("WebRole"),
    }
    return {
        "AWSTemplateFormatVersion": TEMPLATE_VERSION,
        "Description": "Serverless Management Dashboard: buckets, key, collector queue and roles "
        "(generated by `python -m dashapp.infra render`; do not edit by hand)",
        "Parameters": parameters,
        "Resources": resources,
        "Outputs": {
            name: {"Value": value, "Export": {"Name": _sub("${AWS::StackName}-" + name)}}
            for name, value in exports.items()
        },
    }


def workflow_name(dataset: Dataset) -> str:
    return f"{WORKFLOW_PREFIX}{dataset.name}"


def datasets_template(settings: Settings) -> dict[str, Any]:
    """Per dataset: job, workflow, EVENT trigger, prefix rule → workflow; job-control grants."""
    resources: dict[str, Any] = {}
    workflow_arns: list[Any] = []
    job_arns: list[Any] = []
    glue_arn = "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}"
    for d in settings.datasets:
        lid = logical_id(d.name)
        bucket = (
            _import("RawBucketName")
            if settings.dataset_bucket(d) == settings.raw_bucket
            else settings.dataset_bucket(d)
        )
        workflow_arn = _sub(f"{glue_arn}:workflow/${{{lid}Workflow}}")
        workflow_arns.append(workflow_arn)
        job_arns.append(_sub(f"{glue_arn}:job/${{{lid}Job}}"))
        resources[f"{lid}Job"] = {
            "Type": "AWS::Glue::Job",
            "Properties": {
                "Name": d.glue_job,
                "Description": f"Ingests {d.label} uploads from s3://{settings.dataset_bucket(d)}/{d.prefix}",
                "Role": _import("GlueJobRoleArn"),
                "Command": {
                    "Name": "glueetl",
                    "PythonVersion": "3",
                    "ScriptLocation": _sub("s3://${ScriptsBucketName}/" + d.glue_job + ".py"),
                },
                "GlueVersion": "4.0",
                "WorkerType": "G.1X",
                "NumberOfWorkers": 2,
                "Timeout": 60,
                # Transient failures are re-run by the dashboard's auto-retry (SMD_RETRY_POLICIES).
                "MaxRetries": 0,
                "ExecutionProperty": {"MaxConcurrentRuns": 5},
                "DefaultArguments": {
                    "--dataset": d.name,
                    "--processed_path": _sub("s3://${ProcessedBucketName}/" + d.name + "/"),
                    "--enable-metrics": "true",
                    "--enable-continuous-cloudwatch-log": "true",
                },
            },
        }
        resources[f"{lid}Workflow"] = {
            "Type": "AWS::Glue::Workflow",
            "Properties": {
                "Name": workflow_name(d),
                "Description": f"Started by uploads under {d.prefix}",
            },
        }
        resources[f"{lid}Trigger"] = {
            "Type": "AWS::Glue::Trigger",
            "Properties": {
                "Name": f"{workflow_name(d)}-upload",
                "Type": "EVENT",
                "WorkflowName": _ref(f"{lid}Workflow"),
                "EventBatchingCondition": {"BatchSize": 1, "BatchWindow": 60},
                "Actions": [{"JobName": _ref(f"{lid}Job")}],
            },
        }
        resources[f"{lid}UploadRule"] = {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Description": f"An upload under {d.prefix} starts {d.glue_job}",
                "EventPattern": {
                    "source": ["aws.s3"],
                    "detail-type": ["Object Created"],
                    "detail": {
                        "bucket": {"name": [bucket]},
                        "object": {"key": [{"prefix": d.prefix}]},
                    },
                },
                "State": "ENABLED",
                "Targets": [
                    {
                        "Arn": workflow_arn,
                        "Id": "glue-workflow",
                        "RoleArn": _arn("EventBridgeGlueRole"),
                    }
                ],
            },
        }
    resources["EventBridgeGlueRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": "EventBridge may notify exactly the dataset workflows",
            "AssumeRolePolicyDocument": _assume("events.amazonaws.com"),
            "Policies": [
                _policy(
                    "notify-workflows",
                    [_statement(["glue:NotifyEvent"], workflow_arns, Sid="NotifyWorkflows")],
                )
            ],
        },
    }
    resources["WebJobControlPolicy"] = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {
            "Description": "Operators start, stop and re-run the dataset jobs",
            "Roles": [_import("WebRoleName")],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    _statement(
                        ["glue:BatchStopJobRun", "glue:StartJobRun"], job_arns, Sid="JobControl"
                    )
                ],
            },
        },
    }
    resources["CollectorAutoRetryPolicy"] = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {
            "Description": "The collector's auto-retry re-runs the dataset jobs",
            "Roles": [_import("CollectorRoleName")],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [_statement(["glue:StartJobRun"], job_arns, Sid="AutoRetry")],
            },
        },
    }
    return {
        "AWSTemplateFormatVersion": TEMPLATE_VERSION,
        "Description": "Serverless Management Dashboard: one Glue job, workflow, EVENT trigger and "
        "upload rule per dataset (generated by `python -m dashapp.infra render`; do not edit)",
        "Parameters": {
            "CoreStackName": {
                "Type": "String",
                "Default": "smd-core",
                "Description": "Name of the stack deployed from core.yaml.",
            },
            "ScriptsBucketName": {
                "Type": "String",
                "Default": "smd-scripts",
                "Description": "Bucket holding the Glue job scripts.",
            },
            "ProcessedBucketName": {
                "Type": "String",
                "Default": settings.processed_bucket,
                "Description": "Bucket Glue jobs write to.",
            },
        },
        "Resources": resources,
    }


def to_yaml(template: dict[str, Any]) -> str:
    """Stable YAML (keys in insertion order, no anchors, wide lines)."""

    class _NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return yaml.dump(template, Dumper=_NoAliases, sort_keys=False, width=120, allow_unicode=True)


def render(settings: Settings) -> dict[str, str]:
    """File name under infra/ → its text."""
    return {
        "core.yaml": to_yaml(core_template(settings)),
        "datasets.yaml": to_yaml(datasets_template(settings)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dashapp.infra", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "action", choices=["render", "check"], help="write infra/*.yaml, or check they are current"
    )
    parser.add_argument("--out", type=Path, default=INFRA_DIR)
    args = parser.parse_args(argv)
    from dashapp.config import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    stale = []
    for name, text in render(settings).items():
        path = args.out / name
        if args.action == "render":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    if stale:
        print(
            f"out of date: {', '.join(stale)}; run python -m dashapp.infra render", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
