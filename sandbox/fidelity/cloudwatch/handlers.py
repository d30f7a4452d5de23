"""The CloudWatch operations moto serves, rewired onto the metric store.

Why its own module: these are the functions :func:`sandbox.fidelity.cloudwatch.apply`
installs on moto's ``CloudWatchBackend`` / ``CloudWatchResponse``, so they keep
moto's signatures and speak its request and response formats (including the
fast JSON body for GetMetricData); the semantics live in ``metric_data``,
``aggregation`` and ``store``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from datetime import UTC, datetime
from typing import Any

from botocore.utils import parse_timestamp
from moto.cloudwatch.exceptions import InvalidParameterCombination, InvalidParameterValue
from moto.cloudwatch.models import CloudWatchBackend
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult
from moto.core.utils import get_service_model

from .aggregation import aggregate, epoch, parse_stat, rounded_start, validate_period
from .metric_data import Engine, MetricDataPage, get_metric_data_page
from .store import SeriesKey, provider_store, series_key, store_of, unit_name

__all__ = [
    "GET_METRIC_STATISTICS_LIMIT",
    "LIST_METRICS_PAGE_SIZE",
    "backend_get_metric_data",
    "backend_get_metric_statistics",
    "backend_list_metrics",
    "backend_put_metric_data",
    "response_get_metric_data",
    "response_get_metric_statistics",
    "response_list_metrics",
    "response_parse_parameters",
]

LIST_METRICS_PAGE_SIZE = 500
GET_METRIC_STATISTICS_LIMIT = 1_440


# --- GetMetricData ----------------------------------------------------------------------

_MOTO_PARSE_PARAMETERS = CloudWatchResponse.parse_parameters
_JSON_1_0 = "application/x-amz-json-1.0"


def _plain_query(q: Any) -> bool:
    if not isinstance(q, dict):
        return False
    stat = q.get("MetricStat")
    if stat is None:
        return True
    metric = stat.get("Metric") if isinstance(stat, dict) else None
    dims = (metric.get("Dimensions") or []) if isinstance(metric, dict) else None
    return isinstance(dims, list) and all(
        isinstance(d, dict) and isinstance(d.get("Name"), str) and isinstance(d.get("Value"), str)
        for d in dims
    )


def _plain_metric_data_request(body: bytes) -> dict[str, Any] | None:
    """The request as sent, when its queries have the shape botocore sends (else None);
    a timestamp that is neither epoch seconds nor ISO 8601 is left out."""
    try:
        params = json.loads(body)
    except ValueError:
        return None
    if not isinstance(params, dict):
        return None
    for key in ("StartTime", "EndTime"):
        value = params.get(key)
        if isinstance(value, str):  # ISO 8601, as a hand-written client may send
            try:
                params[key] = parse_timestamp(value)
            except (ValueError, OverflowError):
                params.pop(key)
        elif not isinstance(value, int | float) or isinstance(value, bool):
            params.pop(key, None)  # GetMetricData says which one it needs
    queries = params.get("MetricDataQueries")
    if not isinstance(queries, list) or not all(_plain_query(q) for q in queries):
        return None
    return params


def response_parse_parameters(self: CloudWatchResponse, request: Any) -> None:
    """GetMetricData's JSON body is read as it is.

    moto's parser walks the botocore shape of every member of up to 500 queries to build
    the same dicts (only the two timestamps become datetimes, which
    :func:`get_metric_data_page` reads either way): a fifth of the stand-in's CPU under
    the 5,000-function bench.  A body whose queries have another shape still goes
    through moto; a timestamp moto would fail on with a 500 is a ValidationError here.
    """
    if self._get_action() == "GetMetricData" and request.content_type == _JSON_1_0:
        params = _plain_metric_data_request(request.data)
        if params is not None:
            self.params = params
            return
    _MOTO_PARSE_PARAMETERS(self, request)


def _page_json(page: MetricDataPage) -> bytes:
    body: dict[str, Any] = {
        "MetricDataResults": [
            {
                "Id": r["Id"],
                "Label": r["Label"],
                "Timestamps": r["Timestamps"].tolist(),
                "Values": r["Values"].tolist(),
                "StatusCode": r["StatusCode"],
            }
            for r in page.results
        ],
        "Messages": page.messages,
    }
    if page.next_token:
        body["NextToken"] = page.next_token
    return json.dumps(body, separators=(",", ":")).encode()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


def _page_action_result(page: MetricDataPage) -> ActionResult:
    return ActionResult(
        {
            "MetricDataResults": [
                {
                    "Id": r["Id"],
                    "Label": r["Label"],
                    "Timestamps": [_dt(t) for t in r["Timestamps"].tolist()],
                    "Values": r["Values"].tolist(),
                    "StatusCode": r["StatusCode"],
                }
                for r in page.results
            ],
            "Messages": page.messages,
            "NextToken": page.next_token,
        }
    )


def response_get_metric_data(self: CloudWatchResponse) -> Any:
    params = self._get_params()
    page = get_metric_data_page(self.cloudwatch_backend, params)
    protocol = self.determine_response_protocol(get_service_model(self.boto3_service_name))
    if protocol == "json":
        # moto's serializer walks the shape per value: ~100k values a page made
        # it the bottleneck.  Bytes also skip moto's RequestId regex over the body.
        return _page_json(page), {"status": 200, "Content-Type": "application/x-amz-json-1.0"}
    return _page_action_result(page)


def backend_get_metric_data(
    self: CloudWatchBackend,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampAscending",
) -> list[dict[str, Any]]:
    """moto's backend signature, unpaginated, moto's result format."""
    page = get_metric_data_page(
        self,
        {
            "MetricDataQueries": queries,
            "StartTime": start_time,
            "EndTime": end_time,
            "ScanBy": scan_by,
            "MaxDatapoints": 10**12,
        },
    )
    return [
        {
            "id": r["Id"],
            "label": r["Label"],
            "values": r["Values"].tolist(),
            "timestamps": [_dt(t) for t in r["Timestamps"].tolist()],
            "status_code": r["StatusCode"],
        }
        for r in page.results
    ]


# --- PutMetricData -----------------------------------------------------------------------


def backend_put_metric_data(
    self: CloudWatchBackend, namespace: str, metric_data: list[dict[str, Any]]
) -> None:
    for i, datum in enumerate(metric_data):
        self._validate_parameters_put_metric_data(datum, i + 1)
    store = store_of(self)
    for datum in metric_data:
        dims = {d["Name"]: d["Value"] for d in datum.get("Dimensions") or []}
        kwargs: dict[str, Any] = {"unit": datum.get("Unit")}
        if datum.get("Values"):
            kwargs["values"] = [float(v) for v in datum["Values"]]
            kwargs["counts"] = [float(c) for c in datum.get("Counts") or []] or None
        elif datum.get("StatisticValues"):
            kwargs["statistic_values"] = {k: float(v) for k, v in datum["StatisticValues"].items()}
        else:
            kwargs["value"] = float(datum.get("Value", 0))
        store.put(namespace, datum["MetricName"], dims, datum.get("Timestamp"), **kwargs)


# --- GetMetricStatistics --------------------------------------------------------------------


def backend_get_metric_statistics(
    self: CloudWatchBackend,
    namespace: str,
    metric_name: str,
    start_time: datetime,
    end_time: datetime,
    period: int,
    stats: list[str],
    dimensions: list[dict[str, str]],
    unit: str | None = None,
    extended_statistics: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Datapoints (ascending) with the requested statistics and percentiles."""
    start = epoch(start_time)
    end = epoch(end_time)
    if start >= end:
        raise InvalidParameterValue(
            "The parameter StartTime must be less than the parameter EndTime."
        )
    period = validate_period(period, "GetMetricStatistics")
    requested = math.ceil((end - start) / period)
    if requested > GET_METRIC_STATISTICS_LIMIT:
        raise InvalidParameterCombination(
            f"You have requested up to {requested} datapoints, which exceeds the limit of "
            "1,440. You may reduce the datapoints requested by increasing Period, or "
            "decreasing the time range."
        )
    basic = [parse_stat(s) for s in stats or []]
    if any(s.kind == "percentile" for s in basic):
        raise InvalidParameterValue("Percentiles belong in ExtendedStatistics.")
    extended = [parse_stat(s) for s in extended_statistics or []]
    if any(s.kind != "percentile" for s in extended):
        raise InvalidParameterValue("ExtendedStatistics accepts percentiles only (p0.0 - p100).")
    key = series_key(namespace, metric_name, {d["Name"]: d["Value"] for d in dimensions or []})
    engine = Engine(self)
    agg = aggregate(
        engine.snapshot(key),
        rounded_start(start, period, time.time()),
        math.ceil(end),
        period,
        basic + extended,
        unit,
    )
    datapoints = []
    for i, ts in enumerate(agg.timestamps.tolist()):
        point: dict[str, Any] = {
            "Timestamp": _dt(ts),
            "Unit": unit_name(int(agg.units[i])) or "None",
        }
        for s in basic:
            value = float(agg.values[s.label][i])
            if not math.isnan(value):
                point[s.label] = value
        ext = {
            s.label: float(agg.values[s.label][i])
            for s in extended
            if not math.isnan(float(agg.values[s.label][i]))
        }
        if ext:
            point["ExtendedStatistics"] = ext
        if len(point) > 2:
            datapoints.append(point)
    return datapoints


def response_get_metric_statistics(self: CloudWatchResponse) -> ActionResult:
    statistics = self._get_param("Statistics", [])
    extended = self._get_param("ExtendedStatistics", [])
    if not statistics and not extended:
        raise InvalidParameterCombination("Must specify either Statistics or ExtendedStatistics")
    if statistics and extended:
        raise InvalidParameterCombination(
            "Must specify either Statistics or ExtendedStatistics, but not both"
        )
    metric_name = self._get_param("MetricName")
    datapoints = self.cloudwatch_backend.get_metric_statistics(
        self._get_param("Namespace"),
        metric_name,
        self._get_param("StartTime"),
        self._get_param("EndTime"),
        self._get_int_param("Period"),
        statistics,
        dimensions=self._get_param("Dimensions", []),
        unit=self._get_param("Unit"),
        extended_statistics=extended,
    )
    return ActionResult({"Label": metric_name, "Datapoints": datapoints})


# --- ListMetrics ---------------------------------------------------------------------------


def _sort_key(key: SeriesKey) -> list[Any]:
    # lists all the way down: the key round-trips through JSON in NextToken
    return [key[0], key[1], [list(pair) for pair in sorted(key[2])]]


def backend_list_metrics(
    self: CloudWatchBackend,
    next_token: str | None,
    namespace: str | None,
    metric_name: str | None,
    dimensions: list[dict[str, str]] | None,
    recently_active: str | None = None,
) -> tuple[str | None, list[dict[str, Any]]]:
    """(NextToken, Metrics) filtered like AWS: exact namespace/name, dimension filters."""
    store = store_of(self)
    providers = provider_store(self)
    keys = {k: store for k in store.series_keys()}
    for k in providers.series_keys():
        keys.setdefault(k, providers)
    cutoff = time.time() - 3 * 3600 if recently_active == "PT3H" else None
    selected = []
    for key, owner in keys.items():
        ns, name, dims = key
        if namespace and ns != namespace:
            continue
        if metric_name and name != metric_name:
            continue
        names = dict(dims)
        if any(
            f["Name"] not in names
            or ("Value" in f and f["Value"] is not None and names[f["Name"]] != f["Value"])
            for f in dimensions or []
        ):
            continue
        if cutoff is not None and (owner.last_timestamp(key) or 0) < cutoff:
            continue
        selected.append(_sort_key(key))
    selected.sort()
    if next_token:
        try:
            after = json.loads(base64.urlsafe_b64decode(next_token.encode()))
        except (binascii.Error, ValueError) as exc:
            raise InvalidParameterValue("Request parameter NextToken is invalid") from exc
        selected = [k for k in selected if k > after]
    page = selected[:LIST_METRICS_PAGE_SIZE]
    token = None
    if len(selected) > LIST_METRICS_PAGE_SIZE:
        token = base64.urlsafe_b64encode(json.dumps(page[-1]).encode()).decode()
    metrics = [
        {
            "Namespace": ns,
            "MetricName": name,
            "Dimensions": [{"Name": n, "Value": v} for n, v in dims],
        }
        for ns, name, dims in page
    ]
    return token, metrics


def response_list_metrics(self: CloudWatchResponse) -> ActionResult:
    token, metrics = self.cloudwatch_backend.list_metrics(
        self._get_param("NextToken"),
        self._get_param("Namespace"),
        self._get_param("MetricName"),
        self._get_params().get("Dimensions", []),
        recently_active=self._get_param("RecentlyActive"),
    )
    return ActionResult({"Metrics": metrics, "NextToken": token})
