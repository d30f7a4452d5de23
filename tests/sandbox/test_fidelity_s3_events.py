"""S3 -> EventBridge -> SQS event fidelity (in-process, ``mock_aws``).

Against plain moto these fail: every event has the same id, a numeric time,
reason "ObjectCreated", a fixed sequencer/request-id, multipart completion
yields two Object Created events and creations add "Object Tags Added".
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests

BUCKET = "landing"
PATTERN = {
    "source": ["aws.s3"],
    "detail-type": ["Object Created"],
    "detail": {"bucket": {"name": [BUCKET]}, "object": {"key": [{"prefix": "uploads/"}]}},
}


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def _drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not msgs:
            return events
        for m in msgs:
            events.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


@pytest.fixture
def pipeline(aws: None) -> dict[str, Any]:
    s3 = boto3.client("s3", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    events = boto3.client("events", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    url, arn = _queue(sqs, "uploads")
    events.put_rule(Name="uploads", EventPattern=json.dumps(PATTERN))
    events.put_targets(Rule="uploads", Targets=[{"Id": "q", "Arn": arn}])
    return {"s3": s3, "sqs": sqs, "events": events, "queue": url}


def _upload_every_way(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="uploads/put.csv", Body=b"a,b\n1,2\n")
    post = s3.generate_presigned_post(BUCKET, "uploads/post.csv", ExpiresIn=300)
    resp = requests.post(
        post["url"], data=post["fields"], files={"file": ("post.csv", b"a,b\n3,4\n")}, timeout=10
    )
    assert resp.status_code in (200, 204), resp.text
    s3.copy_object(
        Bucket=BUCKET,
        Key="uploads/copy.csv",
        CopySource={"Bucket": BUCKET, "Key": "uploads/put.csv"},
    )
    mpu = s3.create_multipart_upload(Bucket=BUCKET, Key="uploads/multi.csv")
    part = s3.upload_part(
        Bucket=BUCKET,
        Key="uploads/multi.csv",
        UploadId=mpu["UploadId"],
        PartNumber=1,
        Body=b"a,b\n5,6\n",
    )
    s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key="uploads/multi.csv",
        UploadId=mpu["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    s3.put_object(Bucket=BUCKET, Key="elsewhere/ignored.csv", Body=b"x")


def test_one_object_created_event_per_upload_with_aws_reason(pipeline: dict[str, Any]) -> None:
    """AWS: each creation path sends exactly one Object Created event whose reason names the API."""
    _upload_every_way(pipeline["s3"])
    events = _drain(pipeline["sqs"], pipeline["queue"])
    reasons = {e["detail"]["object"]["key"]: e["detail"]["reason"] for e in events}
    assert reasons == {
        "uploads/put.csv": "PutObject",
        "uploads/post.csv": "PostObject",
        "uploads/copy.csv": "CopyObject",
        "uploads/multi.csv": "CompleteMultipartUpload",
    }
    assert len(events) == 4  # no duplicate for multipart, prefix filter respected


def test_event_envelope_matches_aws(pipeline: dict[str, Any]) -> None:
    """AWS: uuid id per event, ISO 8601 UTC time, etag, increasing sequencer, distinct
    request ids.
    """
    before = datetime.now(UTC).replace(microsecond=0)
    _upload_every_way(pipeline["s3"])
    events = _drain(pipeline["sqs"], pipeline["queue"])
    ids = [e["id"] for e in events]
    assert len(set(ids)) == len(ids) == 4
    assert all(uuid.UUID(i).version == 4 for i in ids)
    for e in events:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", e["time"]), e["time"]
        when = datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert before <= when <= datetime.now(UTC) + timedelta(seconds=1)
        assert e["source"] == "aws.s3"
        assert e["detail-type"] == "Object Created"
        assert e["resources"] == [f"arn:aws:s3:::{BUCKET}"]
        assert e["account"] == "123456789012"
        assert e["region"] == "us-east-1"
        obj = e["detail"]["object"]
        assert re.fullmatch(r"[0-9a-f]{32}(-\d+)?", obj["etag"])
        assert "eTag" not in obj
        assert obj["size"] == 8
    sequencers = [e["detail"]["object"]["sequencer"] for e in events]
    assert sequencers == sorted(sequencers)
    assert len(set(sequencers)) == 4
    assert len({e["detail"]["request-id"] for e in events}) == 4


def test_no_tagging_events_for_creations(aws: None) -> None:
    """AWS: tags set while creating an object do not send "Object Tags Added"; PutObjectTagging
    does.
    """
    s3 = boto3.client("s3", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    events = boto3.client("events", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    url, arn = _queue(sqs, "all-s3")
    events.put_rule(Name="all", EventPattern=json.dumps({"source": ["aws.s3"]}))
    events.put_targets(Rule="all", Targets=[{"Id": "q", "Arn": arn}])
    s3.put_object(Bucket=BUCKET, Key="k.csv", Body=b"1", Tagging="team=data")
    assert [e["detail-type"] for e in _drain(sqs, url)] == ["Object Created"]
    s3.put_object_tagging(
        Bucket=BUCKET, Key="k.csv", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}
    )
    assert [e["detail-type"] for e in _drain(sqs, url)] == ["Object Tags Added"]


def test_disabled_rules_and_unsupported_targets(pipeline: dict[str, Any]) -> None:
    """AWS: disabled rules get nothing; a target moto cannot invoke must not drop the
    other targets.
    """
    sqs, events = pipeline["sqs"], pipeline["events"]
    off_url, off_arn = _queue(sqs, "disabled")
    events.put_rule(Name="off", EventPattern=json.dumps(PATTERN), State="DISABLED")
    events.put_targets(Rule="off", Targets=[{"Id": "q", "Arn": off_arn}])
    mixed_url, mixed_arn = _queue(sqs, "mixed")
    events.put_rule(Name="mixed", EventPattern=json.dumps(PATTERN))
    events.put_targets(
        Rule="mixed",
        Targets=[
            {"Id": "fn", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:trigger-glue"},
            {"Id": "q", "Arn": mixed_arn},
        ],
    )
    pipeline["s3"].put_object(Bucket=BUCKET, Key="uploads/x.csv", Body=b"1")
    assert _drain(sqs, off_url) == []
    assert [e["detail"]["object"]["key"] for e in _drain(sqs, mixed_url)] == ["uploads/x.csv"]
    assert len(_drain(sqs, pipeline["queue"])) == 1
