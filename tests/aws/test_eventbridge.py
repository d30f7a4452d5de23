"""EventBridge event bodies (as SQS delivers them) → GlueStateChange / ObjectCreated / None."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from dashapp.aws.eventbridge import GlueStateChange, ObjectCreated, parse_event
from tests.fixtures.aws import load, raw


def test_glue_job_state_change() -> None:
    event = parse_event(raw("event_glue_job_state_change_failed"))
    assert event == GlueStateChange(
        event_id="2a1d7b8e-5c3f-0a94-6e2b-8f1c4d7a9e03",
        at=datetime(2026, 11, 25, 14, 33, 3, tzinfo=UTC),
        job="sales-orders-ingest",
        run_id="jr_2c7a3e1b9f5d4c6e8a0b2c3d5e7f9a1b2c4d6e8f0a1b3c5d7e9f0a2b4c6d8e0f",
        state="FAILED",
        message=(
            "AnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column or function "
            "parameter with name `amount` cannot be resolved."
        ),
    )
    ok = parse_event(raw("event_glue_job_state_change_succeeded"))
    assert isinstance(ok, GlueStateChange) and ok.state == "SUCCEEDED"


def test_s3_object_created() -> None:
    event = parse_event(raw("event_s3_object_created"))
    assert event == ObjectCreated(
        event_id="9e5f1c3a-7b2d-4e6f-8a0c-1d3e5f7a9b2c",
        at=datetime(2026, 11, 25, 16, 2, 7, tzinfo=UTC),
        bucket="smd-raw",
        key="sales/orders/2026/11/25/8c0e4d2a-1b3f-4a5c-9d7e-6f8a0b2c4d6e-orders-pm.csv",
        size=48213,
        etag="b1946ac92492d2347c6235b4d2611184",
        reason="PostObject",
        requester="123456789012",
    )


def test_numeric_time_and_notification_style_etag_are_accepted() -> None:
    doc = load("event_s3_object_created")
    doc["time"] = 1795622527.0
    doc["detail"]["object"]["eTag"] = doc["detail"]["object"].pop("etag")
    event = parse_event(json.dumps(doc))
    assert isinstance(event, ObjectCreated)
    assert event.at == datetime(2026, 11, 25, 16, 2, 7, tzinfo=UTC)
    assert event.etag == "b1946ac92492d2347c6235b4d2611184"


def _variant(name: str, **changes: object) -> str:
    doc = load(name)
    for path, value in changes.items():
        target = doc
        *parents, leaf = path.split("__")
        for p in parents:
            target = target[p]
        if value is None:
            target.pop(leaf)
        else:
            target[leaf] = value
    return json.dumps(doc)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json",
        "[]",
        "null",
        '"Object Created"',
        "{}",
        json.dumps({"Type": "Notification", "Message": "{}"}),  # an SNS envelope
        _variant("event_s3_object_created", **{"detail-type": "Object Deleted"}),
        _variant("event_s3_object_created", source="aws.ec2"),
        _variant("event_s3_object_created", detail__object=None),
        _variant("event_s3_object_created", detail="not a dict"),
        _variant("event_s3_object_created", time="yesterday"),
        _variant("event_glue_job_state_change_failed", detail__jobRunId=None),
        _variant("event_glue_job_state_change_failed", time=None),
        _variant("event_glue_job_state_change_failed", **{"detail-type": "Glue Job Run Status"}),
    ],
)
def test_anything_else_is_none(body: str) -> None:
    assert parse_event(body) is None
