"""CloudWatch GetMetricStatistics, ListMetrics and the metric store (in-process, ``mock_aws``).

Each API test names the CloudWatch behaviour it restores (plain moto ignores
ExtendedStatistics and does not page ListMetrics); the store tests pin the bulk
seeding path to the PutMetricData path and bound its memory at the dashboard's
scale.  GetMetricData is in ``test_fidelity_cloudwatch_metric_data.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError

from sandbox.fidelity.cloudwatch.aggregation import aggregate, parse_stat
from sandbox.fidelity.cloudwatch.store import MetricStore, metric_store, series_key

HOUR0 = 1_790_000_000 // 3600 * 3600  # a fixed, hour-aligned instant (2026-09-21T12:00:00Z)


def _cw() -> Any:
    return boto3.client("cloudwatch", region_name="us-east-1")


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def test_get_metric_statistics_extended_statistics(aws: None) -> None:
    """AWS: GetMetricStatistics returns ExtendedStatistics (moto ignores them) and enforces 1,440
    datapoints.
    """
    client = _cw()
    client.put_metric_data(
        Namespace="App",
        MetricData=[
            {
                "MetricName": "D",
                "Timestamp": _dt(HOUR0 + 60 * i),
                "Values": [float(v) for v in range(1, 21)],
                "Unit": "Milliseconds",
            }
            for i in range(10)
        ],
    )
    resp = client.get_metric_statistics(
        Namespace="App",
        MetricName="D",
        StartTime=_dt(HOUR0),
        EndTime=_dt(HOUR0 + 600),
        Period=300,
        ExtendedStatistics=["p95", "p50"],
    )
    points = sorted(resp["Datapoints"], key=lambda p: p["Timestamp"])
    assert [p["Timestamp"] for p in points] == [_dt(HOUR0), _dt(HOUR0 + 300)]
    assert all(p["ExtendedStatistics"] == {"p95": 19.0, "p50": 10.0} for p in points)
    assert all(p["Unit"] == "Milliseconds" for p in points)
    basic = client.get_metric_statistics(
        Namespace="App",
        MetricName="D",
        StartTime=_dt(HOUR0),
        EndTime=_dt(HOUR0 + 600),
        Period=600,
        Statistics=["Sum", "SampleCount"],
    )
    assert basic["Datapoints"][0]["Sum"] == 2100.0
    assert basic["Datapoints"][0]["SampleCount"] == 200.0
    with pytest.raises(ClientError) as err:
        client.get_metric_statistics(
            Namespace="App",
            MetricName="D",
            StartTime=_dt(HOUR0),
            EndTime=_dt(HOUR0 + 86400 * 2),
            Period=60,
            Statistics=["Sum"],
        )
    assert err.value.response["Error"]["Code"] == "InvalidParameterCombination"


def test_list_metrics_pages_of_500_and_filters(aws: None) -> None:
    """AWS: ListMetrics returns 500 metrics a page and filters by namespace, name and dimension
    (name or name+value).
    """
    client = _cw()
    store = metric_store()
    ts = np.array([HOUR0])
    one = np.ones(1)
    for i in range(1200):
        store.put_series(
            "AWS/Lambda",
            "Invocations",
            {"FunctionName": f"f{i:04d}"},
            ts,
            sums=one,
            counts=one,
            mins=one,
            maxs=one,
        )
    store.put_series(
        "AWS/Lambda",
        "Errors",
        {"FunctionName": "f0000", "Resource": "f0000:live"},
        ts,
        sums=one,
        counts=one,
        mins=one,
        maxs=one,
    )
    store.put_series(
        "Glue",
        "glue.driver.aggregate.recordsRead",
        {"JobName": "j"},
        ts,
        sums=one,
        counts=one,
        mins=one,
        maxs=one,
    )
    pages = list(
        client.get_paginator("list_metrics").paginate(
            Namespace="AWS/Lambda", MetricName="Invocations"
        )
    )
    assert [len(p["Metrics"]) for p in pages] == [500, 500, 200]
    names = [m["Dimensions"][0]["Value"] for p in pages for m in p["Metrics"]]
    assert len(set(names)) == 1200
    by_dim = client.list_metrics(Dimensions=[{"Name": "Resource"}])["Metrics"]
    assert [m["MetricName"] for m in by_dim] == ["Errors"]
    by_value = client.list_metrics(
        Namespace="AWS/Lambda", Dimensions=[{"Name": "FunctionName", "Value": "f0000"}]
    )
    assert sorted(m["MetricName"] for m in by_value["Metrics"]) == ["Errors", "Invocations"]
    glue = client.list_metrics(Namespace="Glue")["Metrics"]
    assert glue == [
        {
            "Namespace": "Glue",
            "MetricName": "glue.driver.aggregate.recordsRead",
            "Dimensions": [{"Name": "JobName", "Value": "j"}],
        }
    ]


def test_put_series_matches_api_puts_and_unordered_appends() -> None:
    """The bulk seeding path and PutMetricData-style puts aggregate identically, in any order."""
    bulk, single = MetricStore(), MetricStore()
    rng = np.random.default_rng(7)
    ts = HOUR0 + 60 * np.arange(30)
    samples = rng.integers(0, 1000, size=(30, 20)).astype(float)
    bulk.put_series(
        "N",
        "M",
        {"a": "b"},
        ts,
        sums=samples.sum(1),
        counts=np.full(30, 20.0),
        mins=samples.min(1),
        maxs=samples.max(1),
        samples=samples,
    )
    for i in rng.permutation(30):
        single.put("N", "M", {"a": "b"}, float(ts[i]), values=list(samples[i]))
    stats = [parse_stat(s) for s in ("Sum", "p50", "p99", "Minimum", "SampleCount")]
    key = series_key("N", "M", {"a": "b"})
    for period in (60, 300):
        a = aggregate(bulk.snapshot(key), HOUR0, HOUR0 + 1800, period, stats, None)
        b = aggregate(single.snapshot(key), HOUR0, HOUR0 + 1800, period, stats, None)
        assert a.timestamps.tolist() == b.timestamps.tolist()
        for s in stats:
            assert a.values[s.label].tolist() == b.values[s.label].tolist(), s.label
        if period == 300:  # nearest rank over the 100 samples of each 5-minute bucket
            merged = np.sort(samples[:5].ravel())
            assert a.values["p99"][0] == merged[98]
            assert a.values["p50"][0] == merged[49]


def test_dashboard_scale_store_fits_in_memory() -> None:
    """12 functions x 14 days x 1-minute x 5 Lambda metrics (Duration with 20 raw samples) stays
    small.
    """
    store = MetricStore()
    ts = HOUR0 + 60 * np.arange(14 * 1440)
    n = ts.size
    ones = np.ones(n)
    rng = np.random.default_rng(3)
    for f in range(12):
        dims = {"FunctionName": f"fn{f}"}
        for metric in ("Invocations", "Errors", "Throttles", "ConcurrentExecutions"):
            store.put_series(
                "AWS/Lambda", metric, dims, ts, sums=ones, counts=ones, mins=ones, maxs=ones
            )
        d = rng.gamma(2.0, 40.0, size=(n, 20))
        store.put_series(
            "AWS/Lambda",
            "Duration",
            dims,
            ts,
            sums=d.sum(1),
            counts=np.full(n, 20.0),
            mins=d.min(1),
            maxs=d.max(1),
            samples=d,
            unit="Milliseconds",
        )
    assert len(store) == 60
    assert store.memory_bytes() < 150 * 2**20
