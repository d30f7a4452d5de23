"""SQS: the queue EventBridge feeds with S3 and Glue events; long polling and batch deletes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def queue_url(client: Any, name_or_url: str) -> str:
    if name_or_url.startswith(("https://", "http://")):
        return name_or_url
    return client.get_queue_url(QueueName=name_or_url)["QueueUrl"]


def receive(client: Any, url: str, *, wait_s: int, max_messages: int = 10) -> list[dict[str, Any]]:
    resp = client.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=max_messages,
        WaitTimeSeconds=wait_s,
        MessageSystemAttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
    )
    return resp.get("Messages", [])


def delete(client: Any, url: str, receipt_handles: Sequence[str]) -> list[str]:
    """Delete handled messages, 10 per call; returns the handles that failed (they come back)."""
    failed: list[str] = []
    for start in range(0, len(receipt_handles), 10):
        part = receipt_handles[start : start + 10]
        resp = client.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(part)]
        )
        failed += [part[int(f["Id"])] for f in resp.get("Failed", [])]
    return failed
