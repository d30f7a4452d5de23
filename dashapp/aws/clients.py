"""One factory for every boto3 client, so region, endpoint, retries and timeouts are uniform.

`AWS_ENDPOINT_URL` (the sandbox, moto) is honoured here and nowhere else; nothing
above this layer knows whether it talks to AWS or to the sandbox.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.parsers import DEFAULT_TIMESTAMP_PARSER

from dashapp.config import Settings


def fast_timestamp(value: Any) -> datetime:
    """botocore's default timestamp parser goes through dateutil for every value; a 100,800-
    point GetMetricData page then spends seconds on timestamps. Epoch numbers and ISO strings
    (what AWS sends) are parsed directly; anything else falls back to the default."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return DEFAULT_TIMESTAMP_PARSER(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class ApiCallCounter:
    """Counts API calls per operation (collector cost figures, /metrics).

    Registered on `before-call`, so one logical call counts once however many
    retries botocore made; retries are counted apart on `before-send`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._requests = 0

    def __call__(self, event_name: str, **_: Any) -> None:
        # event_name is "before-call.<service>.<Operation>"
        _, service, operation = event_name.split(".", 2)
        with self._lock:
            self._counts[f"{service}:{operation}"] += 1

    def on_send(self, **_: Any) -> None:
        with self._lock:
            self._requests += 1

    @property
    def requests(self) -> int:
        """HTTP requests sent, retries included."""
        with self._lock:
            return self._requests

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def reset(self) -> dict[str, int]:
        with self._lock:
            counts = dict(self._counts)
            self._counts.clear()
            return counts


class AwsClients:
    """Creates and caches clients; boto3 clients are thread-safe, sessions are not."""

    def __init__(
        self,
        settings: Settings,
        *,
        counter: ApiCallCounter | None = None,
        session: boto3.session.Session | None = None,
    ) -> None:
        self.settings = settings
        self.counter = counter or ApiCallCounter()
        self._session = session or boto3.session.Session()
        self._session._session.get_component("response_parser_factory").set_parser_defaults(
            timestamp_parser=fast_timestamp
        )
        self._lock = threading.Lock()
        self._cache: dict[str, Any] = {}

    def config(self, service: str = "", *, read_timeout_s: float | None = None) -> Config:
        s = self.settings
        config = Config(
            region_name=s.aws_region,
            # total_max_attempts counts the first request; botocore's max_attempts would
            # count only the retries (8 would mean 9 requests).
            retries={"mode": "adaptive", "total_max_attempts": s.aws_max_attempts},
            connect_timeout=s.aws_connect_timeout_s,
            read_timeout=s.aws_read_timeout_s if read_timeout_s is None else read_timeout_s,
            max_pool_connections=32,
            tcp_keepalive=True,
        )
        if service == "s3":
            # botocore presigns S3 with SigV2 in the older regions unless told otherwise. S3
            # refuses SigV2 on buckets created after June 2020, and only a SigV4 presigned URL
            # can carry a CRC32 checksum (the upload page's parts do; docs/uploads.md).
            config = config.merge(Config(signature_version="s3v4"))
        if service == "cloudwatch":
            # Our GetMetricData requests are built by code, 500 queries each: botocore checking
            # every member against the model was a third of the metrics collector's CPU (1.6
            # of 4.6 s for 5,000 functions), time the 1-second pollers beside it waited out.
            config = config.merge(Config(parameter_validation=False))
        return config

    def client(self, service: str, *, read_timeout_s: float | None = None) -> Any:
        """The service's client; `read_timeout_s` for one whose calls may legitimately take
        longer than the configured read timeout (S3 assembling a multi-GB upload). Clients
        share this session, so the service model is loaded once."""
        key = service if read_timeout_s is None else f"{service}@{read_timeout_s}"
        with self._lock:
            if key not in self._cache:
                c = self._session.client(
                    service,
                    region_name=self.settings.aws_region,
                    endpoint_url=self.settings.aws_endpoint_url,
                    config=self.config(service, read_timeout_s=read_timeout_s),
                )
                c.meta.events.register("before-call.*.*", self.counter)
                c.meta.events.register("before-send.*.*", self.counter.on_send)
                self._cache[key] = c
            return self._cache[key]
