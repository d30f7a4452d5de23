"""GetMetricData request bodies over real HTTP: the stand-in reads botocore's JSON as sent.

Apart from ``test_server.py`` (which holds the other HTTP round trips) only for size.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.fidelity.cloudwatch.store import metric_store
from sandbox.server import SandboxServer

NO_RETRY = Config(retries={"total_max_attempts": 1})


def test_get_metric_data_body_botocore_would_not_send_gets_the_same_answer(
    sandbox: SandboxServer, sandbox_client: Callable[..., Any]
) -> None:
    """The stand-in reads botocore's GetMetricData body as it is, and answers a body of
    another shape alike (ISO timestamps, as a hand-written client may send) or with a
    ValidationError (a timestamp that is no timestamp), never a 500."""
    end = (int(datetime.now(UTC).timestamp()) // 60) * 60
    dims = {"FunctionName": "odd-body"}
    for i, minute in enumerate(range(end - 600, end, 60)):
        metric_store().put("AWS/Lambda", "Duration", dims, minute, values=[i, 2 * i, 50.0])
    query = {
        "Id": "p",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Lambda",
                "MetricName": "Duration",
                "Dimensions": [{"Name": "FunctionName", "Value": "odd-body"}],
            },
            "Period": 60,
            "Stat": "p50",
        },
    }
    window = {
        "StartTime": datetime.fromtimestamp(end - 600, UTC),
        "EndTime": datetime.fromtimestamp(end, UTC),
    }

    def iso_times(request: Any, **_: Any) -> None:
        body = json.loads(request.body)
        for key in ("StartTime", "EndTime"):
            body[key] = datetime.fromtimestamp(body[key], UTC).isoformat()
        request.body = json.dumps(body).encode()
        request.headers["Content-Length"] = str(len(request.body))

    plain = sandbox_client("cloudwatch").get_metric_data(MetricDataQueries=[query], **window)
    odd_client = sandbox_client("cloudwatch")
    odd_client.meta.events.register("before-send.cloudwatch.GetMetricData", iso_times)
    odd = odd_client.get_metric_data(MetricDataQueries=[query], **window)
    assert plain["MetricDataResults"][0]["Values"] == [2.0 * i for i in reversed(range(10))]
    assert odd["MetricDataResults"] == plain["MetricDataResults"]

    def no_start(request: Any, **_: Any) -> None:
        body = json.loads(request.body)
        body["StartTime"] = {"when": "yesterday"}
        request.body = json.dumps(body).encode()
        request.headers["Content-Length"] = str(len(request.body))

    broken = sandbox_client("cloudwatch", config=NO_RETRY)
    broken.meta.events.register("before-send.cloudwatch.GetMetricData", no_start)
    with pytest.raises(ClientError) as raised:
        broken.get_metric_data(MetricDataQueries=[query], **window)
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert "StartTime is required" in raised.value.response["Error"]["Message"]
