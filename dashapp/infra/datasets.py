"""The datasets stack (``infra/datasets.yaml``): one job, workflow, trigger and rule per dataset.

Why its own module: CloudFormation has no loops, so this template is the one
generated from ``SMD_DATASETS``; it also grants job control (start/stop exactly
these jobs) to the web and collector roles the core stack exports.
"""

from __future__ import annotations

from typing import Any

from dashapp.config import Dataset, Settings
from dashapp.infra.cfn import (
    TEMPLATE_VERSION,
    arn,
    assume_role,
    import_value,
    logical_id,
    policy,
    ref,
    statement,
    sub,
)

__all__ = ["WORKFLOW_PREFIX", "datasets_template", "workflow_name"]

WORKFLOW_PREFIX = "smd-"


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
            import_value("RawBucketName")
            if settings.dataset_bucket(d) == settings.raw_bucket
            else settings.dataset_bucket(d)
        )
        workflow_arn = sub(f"{glue_arn}:workflow/${{{lid}Workflow}}")
        workflow_arns.append(workflow_arn)
        job_arns.append(sub(f"{glue_arn}:job/${{{lid}Job}}"))
        resources[f"{lid}Job"] = {
            "Type": "AWS::Glue::Job",
            "Properties": {
                "Name": d.glue_job,
                "Description": f"Ingests {d.label} uploads from s3://{settings.dataset_bucket(d)}/{d.prefix}",
                "Role": import_value("GlueJobRoleArn"),
                "Command": {
                    "Name": "glueetl",
                    "PythonVersion": "3",
                    "ScriptLocation": sub("s3://${ScriptsBucketName}/" + d.glue_job + ".py"),
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
                    "--processed_path": sub("s3://${ProcessedBucketName}/" + d.name + "/"),
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
                "WorkflowName": ref(f"{lid}Workflow"),
                "EventBatchingCondition": {"BatchSize": 1, "BatchWindow": 60},
                "Actions": [{"JobName": ref(f"{lid}Job")}],
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
                        "RoleArn": arn("EventBridgeGlueRole"),
                    }
                ],
            },
        }
    resources["EventBridgeGlueRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": "EventBridge may notify exactly the dataset workflows",
            "AssumeRolePolicyDocument": assume_role("events.amazonaws.com"),
            "Policies": [
                policy(
                    "notify-workflows",
                    [statement(["glue:NotifyEvent"], workflow_arns, Sid="NotifyWorkflows")],
                )
            ],
        },
    }
    resources["WebJobControlPolicy"] = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {
            "Description": "Operators start, stop and re-run the dataset jobs",
            "Roles": [import_value("WebRoleName")],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    statement(
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
            "Roles": [import_value("CollectorRoleName")],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [statement(["glue:StartJobRun"], job_arns, Sid="AutoRetry")],
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
