"""The CloudFormation in infra/: current, lint-clean, and wired the way a reviewer expects.

Each dataset prefix must start its own job (rule → workflow → EVENT trigger → job),
the collector's queue must accept only the two rules meant to feed it, and no role
may hold a wildcard action.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashapp import infra
from dashapp.config import Settings
from dashapp.infra.core import COLLECTOR_EXTRA_ACTIONS

INFRA = Path(__file__).resolve().parents[2] / "infra"
TEMPLATES = sorted(INFRA.glob("*.yaml"))


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((INFRA / name).read_text(encoding="utf-8"))


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(_env_file=None)


def test_committed_templates_are_what_the_settings_render(settings):
    rendered = infra.render(settings)
    assert sorted(rendered) == [p.name for p in TEMPLATES]
    for name, text in rendered.items():
        assert (INFRA / name).read_text(encoding="utf-8") == text, (
            f"infra/{name} is stale: run python -m dashapp.infra render"
        )


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_cfn_lint_reports_nothing(template):
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--format", "parseable", str(template)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_every_dataset_prefix_starts_its_own_job_through_a_workflow(settings):
    t = load("datasets.yaml")
    rules = of_type(t, "AWS::Events::Rule")
    triggers = of_type(t, "AWS::Glue::Trigger")
    jobs = of_type(t, "AWS::Glue::Job")
    assert len(settings.datasets) == len(rules) == len(triggers) == len(jobs)
    for d in settings.datasets:
        [rule] = [
            r["Properties"]
            for r in rules.values()
            if r["Properties"]["EventPattern"]["detail"]["object"]["key"] == [{"prefix": d.prefix}]
        ]
        pattern = rule["EventPattern"]
        assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
        assert pattern["detail"]["bucket"]["name"] == [
            {"Fn::ImportValue": {"Fn::Sub": "${CoreStackName}-RawBucketName"}}
        ]
        [target] = rule["Targets"]
        assert target["RoleArn"] == {"Fn::GetAtt": ["EventBridgeGlueRole", "Arn"]}
        workflow_ref = target["Arn"]["Fn::Sub"].rsplit(":workflow/${", 1)[1].rstrip("}")
        workflow = t["Resources"][workflow_ref]
        assert workflow["Type"] == "AWS::Glue::Workflow"
        [trigger] = [
            tr["Properties"]
            for tr in triggers.values()
            if tr["Properties"]["WorkflowName"] == {"Ref": workflow_ref}
        ]
        assert trigger["Type"] == "EVENT"
        [action] = trigger["Actions"]
        assert t["Resources"][action["JobName"]["Ref"]]["Properties"]["Name"] == d.glue_job
    # EventBridge may notify exactly these workflows, nothing else.
    role = t["Resources"]["EventBridgeGlueRole"]["Properties"]
    [statement] = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["glue:NotifyEvent"]
    assert len(statement["Resource"]) == len(settings.datasets)


def test_the_queue_admits_only_the_two_rules_that_feed_it():
    t = load("core.yaml")
    [policy] = of_type(t, "AWS::SQS::QueuePolicy").values()
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    allowed = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert allowed == [
        {"Fn::GetAtt": ["UploadEventsRule", "Arn"]},
        {"Fn::GetAtt": ["GlueStateEventsRule", "Arn"]},
    ]
    rules = of_type(t, "AWS::Events::Rule")
    feeding = {
        name
        for name, r in rules.items()
        for target in r["Properties"]["Targets"]
        if target["Arn"] == {"Fn::GetAtt": ["EventsQueue", "Arn"]}
    }
    assert feeding == {"UploadEventsRule", "GlueStateEventsRule"}
    uploads = rules["UploadEventsRule"]["Properties"]["EventPattern"]
    assert uploads["detail-type"] == ["Object Created"]
    assert uploads["detail"]["bucket"]["name"] == [{"Ref": "RawBucket"}]
    glue = rules["GlueStateEventsRule"]["Properties"]["EventPattern"]
    assert glue == {"source": ["aws.glue"], "detail-type": ["Glue Job State Change"]}
    raw = t["Resources"]["RawBucket"]["Properties"]
    assert raw["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
    sse = raw["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {
        "Fn::GetAtt": ["DataKey", "Arn"]
    }


def _statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    props = resource["Properties"]
    if resource["Type"] == "AWS::IAM::ManagedPolicy":
        return props["PolicyDocument"]["Statement"]
    return [s for p in props.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_no_role_holds_a_wildcard_action():
    for name in ("core.yaml", "datasets.yaml"):
        t = load(name)
        iam = {**of_type(t, "AWS::IAM::Role"), **of_type(t, "AWS::IAM::ManagedPolicy")}
        assert iam
        for logical, resource in iam.items():
            for statement in _statements(resource):
                assert statement["Effect"] == "Allow"
                for action in _actions(statement):
                    assert "*" not in action, f"{name} {logical} grants {action}"


def test_the_collector_role_grants_exactly_what_the_collectors_call():
    from collectors.registry import JOBS

    core = load("core.yaml")
    granted = {a for s in _statements(core["Resources"]["CollectorRole"]) for a in _actions(s)}
    used = {a for j in JOBS for a in j.aws_permissions}
    # glue:StartJobRun (auto-retry) is granted per dataset job by the datasets stack.
    assert granted == (used - {"glue:StartJobRun"}) | set(COLLECTOR_EXTRA_ACTIONS)
    datasets = load("datasets.yaml")
    retry = _statements(datasets["Resources"]["CollectorAutoRetryPolicy"])
    assert [_actions(s) for s in retry] == [["glue:StartJobRun"]]
    web = _statements(datasets["Resources"]["WebJobControlPolicy"])
    assert [_actions(s) for s in web] == [["glue:BatchStopJobRun", "glue:StartJobRun"]]
    web_core = {a for s in _statements(core["Resources"]["WebRole"]) for a in _actions(s)}
    assert {"s3:PutObject", "athena:StartQueryExecution", "athena:StopQueryExecution"} <= web_core
