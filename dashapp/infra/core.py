"""The core stack (``infra/core.yaml``): key, buckets, the collector's queue and the roles.

Why its own module: it is the larger of the two templates and changes for
different reasons than the per-dataset one -- the collector's permissions come
from ``collectors/registry.py`` (:func:`collector_actions`), the web role's
from the upload and Athena features.
"""

from __future__ import annotations

from typing import Any

from dashapp.config import Settings
from dashapp.infra.cfn import TEMPLATE_VERSION, arn, assume_role, policy, ref, statement, sub

__all__ = ["COLLECTOR_EXTRA_ACTIONS", "collector_actions", "core_template"]


# What each collector calls (collectors/registry.py declares them per job) plus what the
# shared plumbing needs: GetQueueUrl (the queue is configured by name) and kms:Decrypt
# (the queue and the raw objects are encrypted with the stack's key).
COLLECTOR_EXTRA_ACTIONS = ("sqs:GetQueueUrl", "kms:Decrypt")
_LOG_GROUP_ARN = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"


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
        "BucketName": ref(name_param),
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {
                    "ServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": arn("DataKey"),
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
            "Bucket": ref(bucket),
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": [arn(bucket), sub("${" + bucket + ".Arn}/*")],
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
        "sqs": [arn("EventsQueue")],
        "s3": [sub("${RawBucket.Arn}/*")],
        "kms": [arn("DataKey")],
        "logs": [
            sub(_LOG_GROUP_ARN + "${GlueLogGroupPrefix}*"),
            sub(_LOG_GROUP_ARN + "/aws/lambda/*"),
        ],
    }
    statements = []
    for service, actions in sorted(by_service.items()):
        # Glue reads, Lambda listing, tagging and GetMetricData have no narrower resource.
        statements.append(
            statement(actions, resources.get(service, "*"), Sid=f"Collector{service.title()}")
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
                                "AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
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
                                "StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}
                            },
                        },
                    ],
                },
            },
        },
        "DataKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {"AliasName": "alias/smd-data", "TargetKeyId": ref("DataKey")},
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
                "QueueName": sub("${EventsQueueName}-dlq"),
                "KmsMasterKeyId": ref("DataKey"),
                "MessageRetentionPeriod": 1209600,
            },
        },
        "EventsQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": ref("EventsQueueName"),
                "KmsMasterKeyId": ref("DataKey"),
                "MessageRetentionPeriod": 345600,
                "VisibilityTimeout": 60,
                "ReceiveMessageWaitTimeSeconds": 20,
                "RedrivePolicy": {
                    "deadLetterTargetArn": arn("EventsDeadLetterQueue"),
                    "maxReceiveCount": 5,
                },
            },
        },
        "EventsQueuePolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [ref("EventsQueue")],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "OnlyOurRules",
                            "Effect": "Allow",
                            "Principal": {"Service": "events.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": arn("EventsQueue"),
                            "Condition": {
                                "ArnEquals": {
                                    "aws:SourceArn": [
                                        arn("UploadEventsRule"),
                                        arn("GlueStateEventsRule"),
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
                    "detail": {"bucket": {"name": [ref("RawBucket")]}},
                },
                "State": "ENABLED",
                "Targets": [{"Arn": arn("EventsQueue"), "Id": "collector-queue"}],
            },
        },
        "GlueStateEventsRule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Description": "Glue job state changes, for the collector",
                "EventPattern": {"source": ["aws.glue"], "detail-type": ["Glue Job State Change"]},
                "State": "ENABLED",
                "Targets": [{"Arn": arn("EventsQueue"), "Id": "collector-queue"}],
            },
        },
        "GlueJobRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": "What the dataset Glue jobs may do: read raw, write processed, log",
                "AssumeRolePolicyDocument": assume_role("glue.amazonaws.com"),
                "Policies": [
                    policy(
                        "glue-job",
                        [
                            statement(
                                ["s3:GetObject"],
                                [
                                    sub("${RawBucket.Arn}/*"),
                                    sub("arn:${AWS::Partition}:s3:::${ScriptsBucketName}/*"),
                                ],
                                Sid="ReadInputAndScripts",
                            ),
                            statement(
                                ["s3:ListBucket"],
                                [arn("RawBucket"), arn("ProcessedBucket")],
                                Sid="ListData",
                            ),
                            statement(
                                ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
                                [sub("${ProcessedBucket.Arn}/*")],
                                Sid="WriteProcessed",
                            ),
                            statement(
                                ["kms:Decrypt", "kms:GenerateDataKey"],
                                [arn("DataKey")],
                                Sid="UseDataKey",
                            ),
                            statement(
                                [
                                    "logs:CreateLogGroup",
                                    "logs:CreateLogStream",
                                    "logs:PutLogEvents",
                                ],
                                [sub(glue_log_arn), sub(glue_log_arn + ":log-stream:*")],
                                Sid="WriteLogs",
                            ),
                            statement(
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
                "AssumeRolePolicyDocument": assume_role(ref("CollectorPrincipalService")),
                "Policies": [policy("collector", _collector_statements())],
            },
        },
        "WebRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": "The web tier: uploads and Athena (job control: datasets stack)",
                "AssumeRolePolicyDocument": assume_role(ref("WebPrincipalService")),
                "Policies": [
                    policy(
                        "web",
                        [
                            statement(
                                [
                                    "s3:AbortMultipartUpload",
                                    "s3:DeleteObject",
                                    "s3:GetObject",
                                    "s3:ListMultipartUploadParts",
                                    "s3:PutObject",
                                ],
                                [sub("${RawBucket.Arn}/*")],
                                Sid="Uploads",
                            ),
                            statement(
                                ["s3:GetObject"],
                                [sub("${ProcessedBucket.Arn}/*")],
                                Sid="ReadProcessed",
                            ),
                            statement(
                                ["s3:GetBucketLocation", "s3:ListBucket"],
                                [arn("ProcessedBucket"), arn("AthenaResultsBucket")],
                                Sid="ListQueryData",
                            ),
                            statement(
                                ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                                [sub("${AthenaResultsBucket.Arn}/*")],
                                Sid="AthenaResults",
                            ),
                            statement(
                                [
                                    "athena:GetQueryExecution",
                                    "athena:GetQueryResults",
                                    "athena:StartQueryExecution",
                                    "athena:StopQueryExecution",
                                ],
                                [sub(athena_workgroup)],
                                Sid="Athena",
                            ),
                            statement(
                                [
                                    "glue:GetDatabase",
                                    "glue:GetPartitions",
                                    "glue:GetTable",
                                    "glue:GetTables",
                                ],
                                [
                                    sub(catalog + ":catalog"),
                                    sub(catalog + ":database/${AthenaDatabase}"),
                                    sub(catalog + ":table/${AthenaDatabase}/*"),
                                ],
                                Sid="AthenaCatalog",
                            ),
                            statement(
                                ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                                [arn("DataKey")],
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
        "RawBucketName": ref("RawBucket"),
        "ProcessedBucketName": ref("ProcessedBucket"),
        "AthenaResultsBucketName": ref("AthenaResultsBucket"),
        "ScriptsBucketName": ref("ScriptsBucketName"),
        "DataKeyArn": arn("DataKey"),
        "EventsQueueUrl": ref("EventsQueue"),
        "GlueJobRoleArn": arn("GlueJobRole"),
        "CollectorRoleName": ref("CollectorRole"),
        "WebRoleName": ref("WebRole"),
    }
    return {
        "AWSTemplateFormatVersion": TEMPLATE_VERSION,
        "Description": "Serverless Management Dashboard: buckets, key, collector queue and roles "
        "(generated by `python -m dashapp.infra render`; do not edit by hand)",
        "Parameters": parameters,
        "Resources": resources,
        "Outputs": {
            name: {"Value": value, "Export": {"Name": sub("${AWS::StackName}-" + name)}}
            for name, value in exports.items()
        },
    }
