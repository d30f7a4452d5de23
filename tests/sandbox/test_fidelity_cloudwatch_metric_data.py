"""CloudWatch GetMetricData fidelity (in-process, ``mock_aws``).

Each test names the CloudWatch behaviour it restores.  Against plain moto they
fail: percentiles raise (HTTP 500), the namespace is ignored when dimensions
are given, GetMetricData never pages.  GetMetricStatistics, ListMetrics and the
store's bulk path are in ``test_fidelity_cloudwatch_statistics_and_store.py``.
No test here asserts on timing (see ``bench/sandbox_metrics.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError

from sandbox.fidelity.cloudwatch.store import metric_store

HOUR0 = 1_790_000_000 // 3600 * 3600  # a fixed, hour-aligned instant (2026-09-21T12:00:00Z)


def _cw() -> Any:
    return boto3.client("cloudwatch", region_name="us-east-1")


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _stat_query(
    qid: str,
    name: str,
    stat: str,
    *,
    ns: str = "App",
    dims: dict[str, str] | None = None,
    period: int = 60,
    **extra: Any,
) -> dict[str, Any]:
    metric = {
        "Namespace": ns,
        "MetricName": name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in (dims or {}).items()],
    }
    return {
        "Id": qid,
        "MetricStat": {"Metric": metric, "Period": period, "Stat": stat, **extra.pop("ms", {})},
        **extra,
    }


def _get(
    client: Any, queries: list[dict[str, Any]], start: float, end: float, **kwargs: Any
) -> dict[str, Any]:
    return client.get_metric_data(
        MetricDataQueries=queries, StartTime=_dt(start), EndTime=_dt(end), **kwargs
    )


def _by_id(resp: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["Id"]: r for r in resp["MetricDataResults"]}


def test_percentiles_are_exact_nearest_rank_from_raw_samples(aws: None) -> None:
    """AWS: pNN/pNN.N are real statistics of the published samples (moto: HTTP 500)."""
    client = _cw()
    values = [float(v) for v in range(1, 101)]  # 1..100 once each
    client.put_metric_data(
        Namespace="App",
        MetricData=[
            {
                "MetricName": "Latency",
                "Timestamp": _dt(HOUR0 + 5),
                "Values": values[:50],
                "Unit": "Milliseconds",
            },
            {
                "MetricName": "Latency",
                "Timestamp": _dt(HOUR0 + 30),
                "Values": values[50:],
                "Unit": "Milliseconds",
            },
            # same minute bucket through Values/Counts: 7 x 1000 -> shifts the top
            {
                "MetricName": "Weighted",
                "Timestamp": _dt(HOUR0 + 1),
                "Values": [1.0, 2.0, 1000.0],
                "Counts": [90, 3, 7],
            },
            {"MetricName": "Single", "Timestamp": _dt(HOUR0 + 1), "Value": 42.5},
        ],
    )
    stats = ["p50", "p95", "p99", "p99.9", "p0", "p100", "p10.5"]
    queries = [_stat_query(f"l{i}", "Latency", s) for i, s in enumerate(stats)]
    queries += [
        _stat_query("w95", "Weighted", "p95"),
        _stat_query("w90", "Weighted", "p90"),
        _stat_query("w93", "Weighted", "p93"),
        _stat_query("w94", "Weighted", "p94"),
        _stat_query("s99", "Single", "p99"),
    ]
    got = _by_id(_get(client, queries, HOUR0, HOUR0 + 60))
    expected = {
        "p50": 50.0,
        "p95": 95.0,
        "p99": 99.0,
        "p99.9": 100.0,
        "p0": 1.0,
        "p100": 100.0,
        "p10.5": 11.0,
    }
    for i, stat in enumerate(stats):
        assert got[f"l{i}"]["Values"] == [expected[stat]], stat
        assert got[f"l{i}"]["Timestamps"] == [_dt(HOUR0)]
    # weights: ranks 1..90 -> 1.0, 91..93 -> 2.0, 94..100 -> 1000.0
    assert got["w90"]["Values"] == [1.0]
    assert got["w93"]["Values"] == [2.0]
    assert got["w94"]["Values"] == [1000.0]
    assert got["w95"]["Values"] == [1000.0]
    assert got["s99"]["Values"] == [42.5]


def test_basic_stats_from_values_counts_and_statistic_sets(aws: None) -> None:
    """AWS: SampleCount/Sum/Average/Minimum/Maximum combine samples and statistic sets."""
    client = _cw()
    client.put_metric_data(
        Namespace="App",
        MetricData=[
            {
                "MetricName": "M",
                "Timestamp": _dt(HOUR0 + 10),
                "Values": [2.0, 4.0],
                "Counts": [3, 1],
            },
            {
                "MetricName": "M",
                "Timestamp": _dt(HOUR0 + 20),
                "StatisticValues": {"SampleCount": 4, "Sum": 40.0, "Minimum": 1.0, "Maximum": 20.0},
            },
            {"MetricName": "M", "Timestamp": _dt(HOUR0 + 70), "Value": 7.0},
        ],
    )
    stats = ["SampleCount", "Sum", "Average", "Minimum", "Maximum"]
    got = _by_id(
        _get(
            client,
            [_stat_query(s.lower(), "M", s) for s in stats],
            HOUR0,
            HOUR0 + 120,
            ScanBy="TimestampAscending",
        )
    )
    assert got["samplecount"]["Values"] == [8.0, 1.0]
    assert got["sum"]["Values"] == [50.0, 7.0]
    assert got["average"]["Values"] == [6.25, 7.0]
    assert got["minimum"]["Values"] == [1.0, 7.0]
    assert got["maximum"]["Values"] == [20.0, 7.0]


def test_statistic_sets_have_no_percentiles(aws: None) -> None:
    """AWS: percentiles are not available for data published as statistic sets, nor for
    periods with negative values (the datapoint is omitted); other stats still are.
    """
    client = _cw()
    client.put_metric_data(
        Namespace="App",
        MetricData=[
            {
                "MetricName": "M",
                "Timestamp": _dt(HOUR0),
                "StatisticValues": {"SampleCount": 2, "Sum": 3.0, "Minimum": 1.0, "Maximum": 2.0},
            },
            {"MetricName": "M", "Timestamp": _dt(HOUR0 + 60), "Values": [5.0, 6.0]},
            {"MetricName": "M", "Timestamp": _dt(HOUR0 + 120), "Values": [-1.0, 6.0]},
        ],
    )
    got = _by_id(
        _get(
            client, [_stat_query("p", "M", "p99"), _stat_query("s", "M", "Sum")], HOUR0, HOUR0 + 180
        )
    )
    assert got["p"]["Values"] == [6.0]
    assert got["p"]["Timestamps"] == [_dt(HOUR0 + 60)]
    assert got["s"]["Values"] == [5.0, 11.0, 3.0]


def test_metric_stat_matches_exact_namespace_name_and_dimension_set(aws: None) -> None:
    """AWS: a metric is namespace + name + exact dimension set (moto ignores the namespace with
    dimensions).
    """
    client = _cw()
    dims = [{"Name": "FunctionName", "Value": "f1"}]
    client.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {"MetricName": "Errors", "Dimensions": dims, "Timestamp": _dt(HOUR0), "Value": 1.0}
        ],
    )
    client.put_metric_data(
        Namespace="Custom",
        MetricData=[
            {"MetricName": "Errors", "Dimensions": dims, "Timestamp": _dt(HOUR0), "Value": 100.0},
            {
                "MetricName": "Errors",
                "Dimensions": [*dims, {"Name": "Version", "Value": "2"}],
                "Timestamp": _dt(HOUR0),
                "Value": 1000.0,
            },
        ],
    )
    got = _by_id(
        _get(
            client,
            [
                _stat_query("lam", "Errors", "Sum", ns="AWS/Lambda", dims={"FunctionName": "f1"}),
                _stat_query("cus", "Errors", "Sum", ns="Custom", dims={"FunctionName": "f1"}),
                _stat_query(
                    "both",
                    "Errors",
                    "Sum",
                    ns="Custom",
                    dims={"FunctionName": "f1", "Version": "2"},
                ),
                _stat_query("none", "Errors", "Sum", ns="Custom"),
                _stat_query("other", "Errors", "Sum", ns="Nope", dims={"FunctionName": "f1"}),
            ],
            HOUR0,
            HOUR0 + 60,
        )
    )
    assert got["lam"]["Values"] == [1.0]
    assert got["cus"]["Values"] == [100.0]
    assert got["both"]["Values"] == [1000.0]
    assert got["none"]["Values"] == []
    assert got["other"]["Values"] == []


def test_buckets_epoch_aligned_only_with_data_scan_label_returndata_unit(aws: None) -> None:
    """AWS: Period buckets aligned to the epoch, empty buckets absent, newest first by default,
    Label defaults to the metric name, ReturnData=false omitted, Unit filters datapoints."""
    client = _cw()
    client.put_metric_data(
        Namespace="App",
        MetricData=[
            {"MetricName": "Req", "Timestamp": _dt(HOUR0 + 290), "Value": 1.0, "Unit": "Count"},
            {"MetricName": "Req", "Timestamp": _dt(HOUR0 + 310), "Value": 2.0, "Unit": "Count"},
            {"MetricName": "Req", "Timestamp": _dt(HOUR0 + 320), "Value": 4.0, "Unit": "Count"},
            {"MetricName": "Req", "Timestamp": _dt(HOUR0 + 1500), "Value": 8.0, "Unit": "Count"},
            {"MetricName": "Req", "Timestamp": _dt(HOUR0 + 1510), "Value": 16.0, "Unit": "Bytes"},
        ],
    )
    resp = _get(
        client,
        [
            _stat_query("a", "Req", "Sum", period=300),
            _stat_query("b", "Req", "Sum", period=300, Label="custom", ReturnData=True),
            _stat_query("hidden", "Req", "Sum", period=300, ReturnData=False),
            _stat_query("counts", "Req", "Sum", period=300, ms={"Unit": "Count"}),
        ],
        HOUR0,
        HOUR0 + 3600,
    )
    got = _by_id(resp)
    assert set(got) == {"a", "b", "counts"}
    assert got["a"]["Timestamps"] == [_dt(HOUR0 + 1500), _dt(HOUR0 + 300), _dt(HOUR0)]
    assert got["a"]["Values"] == [24.0, 6.0, 1.0]
    assert got["a"]["Label"] == "Req"
    assert got["b"]["Label"] == "custom"
    assert got["a"]["StatusCode"] == "Complete"
    assert got["counts"]["Values"] == [8.0, 6.0, 1.0]
    asc = _by_id(
        _get(
            client,
            [_stat_query("a", "Req", "Sum", period=300)],
            HOUR0,
            HOUR0 + 3600,
            ScanBy="TimestampAscending",
        )
    )
    assert asc["a"]["Values"] == [1.0, 6.0, 24.0]


def test_max_datapoints_paginates_across_queries(aws: None) -> None:
    """AWS: MaxDatapoints caps a page; NextToken continues, PartialData marks a cut query (moto: no
    paging).
    """
    client = _cw()
    store = metric_store()
    ts = HOUR0 + 60 * np.arange(100)
    for i in range(5):
        store.put_series(
            "App",
            "M",
            {"i": str(i)},
            ts,
            sums=ts * 0 + i,
            counts=np.ones(100),
            mins=ts * 0 + i,
            maxs=ts * 0 + i,
        )
    queries = [_stat_query(f"q{i}", "M", "Sum", dims={"i": str(i)}) for i in range(5)]
    collected: dict[str, list[tuple[datetime, float]]] = {}
    statuses: list[str] = []
    token = None
    pages = 0
    while True:
        kwargs = {"MaxDatapoints": 130, **({"NextToken": token} if token else {})}
        resp = _get(client, queries, HOUR0, HOUR0 + 6000, **kwargs)
        pages += 1
        assert sum(len(r["Values"]) for r in resp["MetricDataResults"]) <= 130
        for r in resp["MetricDataResults"]:
            collected.setdefault(r["Id"], []).extend(zip(r["Timestamps"], r["Values"], strict=True))
            statuses.append(r["StatusCode"])
        token = resp.get("NextToken")
        if not token:
            break
    assert pages == 4  # 500 points / 130
    assert "PartialData" in statuses
    for i in range(5):
        points = collected[f"q{i}"]
        assert [t for t, _ in points] == [
            _dt(t) for t in ts[::-1]
        ]  # complete, no repeats, newest first
        assert all(v == float(i) for _, v in points)
    with pytest.raises(ClientError) as err:
        _get(client, queries, HOUR0, HOUR0 + 6000, NextToken="bm90LWEtdG9rZW4=")
    assert err.value.response["Error"]["Code"] == "InvalidNextToken"


def test_validation_errors(aws: None) -> None:
    """AWS: at most 500 queries a call; StartTime must be before EndTime; unknown stats rejected."""
    client = _cw()
    too_many = [_stat_query(f"q{i}", "M", "Sum") for i in range(501)]
    with pytest.raises(ClientError) as err:
        _get(client, too_many, HOUR0, HOUR0 + 60)
    assert err.value.response["Error"]["Code"] == "ValidationError"
    for start, end in ((HOUR0 + 60, HOUR0), (HOUR0, HOUR0)):
        with pytest.raises(ClientError) as err:
            _get(client, [_stat_query("q", "M", "Sum")], start, end)
        assert err.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as err:
        _get(
            client, [_stat_query("q", "M", "Sum"), _stat_query("q", "M", "Sum")], HOUR0, HOUR0 + 60
        )
    assert err.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError):
        _get(client, [_stat_query("q", "M", "tm99")], HOUR0, HOUR0 + 60)


def test_expression_queries_delegate_to_moto(aws: None) -> None:
    """Metric math keeps moto's support (an expression naming another query's Id)."""
    client = _cw()
    client.put_metric_data(
        Namespace="App", MetricData=[{"MetricName": "M", "Timestamp": _dt(HOUR0), "Value": 3.0}]
    )
    got = _by_id(
        _get(
            client,
            [
                _stat_query("m1", "M", "Sum", ReturnData=False),
                {"Id": "e1", "Expression": "m1", "Label": "copy"},
            ],
            HOUR0,
            HOUR0 + 60,
        )
    )
    assert set(got) == {"e1"}
    assert got["e1"]["Values"] == [3.0]
    assert got["e1"]["Label"] == "copy"
