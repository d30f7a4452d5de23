"""The sandbox's own handle on its AWS: boto3 clients marked internal, plus log/metric helpers.

The seed and the simulator act like AWS itself (Glue writing its logs, Lambda
publishing its metrics), so their calls carry a header the fault injector lets
through: a test that throttles GetJobRuns throttles the collector, not Glue.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config

INTERNAL_HEADER = "X-Smd-Sandbox-Internal"
ACCOUNT_ID = "123456789012"
_MAX_BATCH_EVENTS = 10_000
_MAX_BATCH_BYTES = 900_000


def _mark_internal(request: Any, **_: Any) -> None:
    request.headers[INTERNAL_HEADER] = "1"


class SandboxAccount:
    def __init__(self, endpoint_url: str, region: str = "us-east-1") -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self._session = boto3.session.Session(
            aws_access_key_id="sandbox", aws_secret_access_key="sandbox", region_name=region
        )
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._streams: set[tuple[str, str]] = set()
        self._groups: set[str] = set()

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                c = self._session.client(
                    service,
                    endpoint_url=self.endpoint_url,
                    region_name=self.region,
                    config=Config(
                        retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=16
                    ),
                )
                c.meta.events.register("before-send.*.*", _mark_internal)
                self._clients[service] = c
            return self._clients[service]

    # --- CloudWatch Logs -----------------------------------------------------------------------
    # Glue and Lambda write their logs from inside AWS; the sandbox does the same by writing to
    # the logs backend directly (an HTTP round trip per run would make seeding take minutes).
    def _logs_backend(self) -> Any:
        from moto.logs.models import logs_backends

        return logs_backends[ACCOUNT_ID][self.region]

    def ensure_log_group(self, group: str, retention_days: int | None = None) -> None:
        with self._lock:
            if group in self._groups:
                return
            backend = self._logs_backend()
            if group not in backend.groups:
                backend.create_log_group(group, {})
            if retention_days:
                backend.put_retention_policy(group, retention_days)
            self._groups.add(group)

    def ensure_log_stream(self, group: str, stream: str) -> None:
        self.ensure_log_group(group)
        with self._lock:
            if (group, stream) in self._streams:
                return
            backend = self._logs_backend()
            if stream not in backend.groups[group].streams:
                backend.create_log_stream(group, stream)
            self._streams.add((group, stream))

    def put_logs(self, group: str, stream: str, events: Iterable[tuple[datetime, str]]) -> int:
        """Append lines (sorted by time) to a stream, in batches within PutLogEvents' limits."""
        rows = sorted(
            ({"timestamp": int(at.timestamp() * 1000), "message": msg} for at, msg in events),
            key=lambda e: e["timestamp"],
        )
        if not rows:
            return 0
        self.ensure_log_stream(group, stream)
        backend = self._logs_backend()
        batch: list[dict[str, Any]] = []
        size = 0
        for row in rows:
            row_size = len(row["message"].encode()) + 26
            if batch and (len(batch) >= _MAX_BATCH_EVENTS or size + row_size > _MAX_BATCH_BYTES):
                self._put_batch(backend, group, stream, batch)
                batch, size = [], 0
            batch.append(row)
            size += row_size
        self._put_batch(backend, group, stream, batch)
        return len(rows)

    def _put_batch(
        self, backend: Any, group: str, stream: str, batch: list[dict[str, Any]]
    ) -> None:
        _, rejected = backend.put_log_events(group, stream, batch)
        if rejected:
            raise ValueError(f"CloudWatch Logs rejected events for {group}/{stream}: {rejected}")

    # --- CloudWatch metrics and EventBridge -----------------------------------------------------
    # Published from inside "AWS" too: straight to the backends, so an event leaves the moment
    # its run changes state (an HTTP round trip to our own busy server would delay it).
    def put_metrics(self, namespace: str, data: Sequence[dict[str, Any]]) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        backend = cloudwatch_backends[ACCOUNT_ID][self.region]
        for start in range(0, len(data), 1000):
            backend.put_metric_data(namespace, list(data[start : start + 1000]))

    def put_event(
        self,
        source: str,
        detail_type: str,
        detail: dict[str, Any],
        at: datetime,
        resources: Sequence[str] = (),
    ) -> None:
        import json

        from moto.events.models import events_backends

        events_backends[ACCOUNT_ID][self.region].put_events(
            [
                {
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                    # moto's input template needs a number here (AWS itself sends ISO text).
                    "Time": at.timestamp(),
                    "Resources": list(resources),
                }
            ]
        )
