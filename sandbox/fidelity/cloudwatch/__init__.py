"""CloudWatch metrics fidelity: a compact, fast metric store with AWS semantics.

Why: the collector batches GetMetricData at 500 queries a call and asks for
``p95``/``p99`` of Lambda durations, and moto cannot serve that:

* every datum (every ``Values`` x ``Counts`` sample!) becomes a Python object
  and each query scans all of them (30k points x 500 queries ~ 68 s);
* a ``MetricStat`` with dimensions ignores its namespace;
* any percentile stat turns the call into HTTP 500, ``GetMetricStatistics``
  ignores ``ExtendedStatistics``;
* ``GetMetricData`` never paginates (no ``MaxDatapoints``/``NextToken``).

Restored here, backed by a per account/region :class:`MetricStore` (numpy
arrays per series, key = namespace + metric name + dimension set):

* ``PutMetricData`` (``Value``, ``Values``/``Counts``, ``StatisticValues``);
* ``GetMetricData``: exact series match (namespace, name, *exactly* that
  dimension set), ``Unit`` filter, buckets of ``Period`` aligned to multiples
  of the period since the epoch, only buckets with data, ``ScanBy`` (default
  ``TimestampDescending``), ``Label`` defaulting to the metric name,
  ``ReturnData=false`` omitted, ``MaxDatapoints`` (default 100,800) with
  ``NextToken`` paging across queries (``PartialData`` for a query cut by the
  page), <= 500 queries, StartTime < EndTime, ``SampleCount``/``Sum``/
  ``Average``/``Minimum``/``Maximum`` and ``pNN``/``pNN.N`` percentiles from the
  raw samples (nearest-rank: the smallest sample with at least NN% of the
  samples <= it).  Data published only as statistic sets has no percentiles:
  such datapoints are omitted, as CloudWatch does.  Metric-math expressions are
  delegated to moto's ``parse_expression`` over these results;
* ``GetMetricStatistics`` incl. ``ExtendedStatistics`` and the 1,440
  datapoint limit; ``ListMetrics`` filtered like AWS, 500 a page.

Speed: lookups are a dict plus ``numpy.searchsorted``; aggregation is
vectorised over all of a call's queries at once (``aggregate_reads``); the JSON
request body is read as botocore sends it, not through moto's shape walker;
the JSON response (CloudWatch speaks awsJson1.0 with this botocore: its model
lists ``smithy-rpc-v2-cbor``, ``json`` and ``query`` and botocore prefers
``json``) is written with ``json.dumps`` straight from the arrays:
measured on a 100,800-point page, moto's shape-walking serializer took 1.3 s,
``json.dumps`` 0.1 s, computing the page ~0.03 s.

Bulk seeding without HTTP: ``store.metric_store(account, region).put_series(...)``.

Modules: ``store`` (the arrays), ``aggregation`` (buckets, statistics,
percentiles), ``metric_data`` (GetMetricData paging), ``handlers`` (the moto
methods); :func:`apply` below installs the handlers.
"""

from __future__ import annotations

from moto.cloudwatch.models import CloudWatchBackend
from moto.cloudwatch.responses import CloudWatchResponse

from .handlers import (
    backend_get_metric_data,
    backend_get_metric_statistics,
    backend_list_metrics,
    backend_put_metric_data,
    response_get_metric_data,
    response_get_metric_statistics,
    response_list_metrics,
    response_parse_parameters,
)

__all__ = ["apply"]


def apply() -> None:
    """Install the CloudWatch patches (idempotent)."""
    if getattr(CloudWatchBackend, "_sandbox_patched", False):
        return
    CloudWatchBackend.put_metric_data = backend_put_metric_data  # type: ignore[method-assign]
    CloudWatchBackend.get_metric_data = backend_get_metric_data  # type: ignore[method-assign]
    CloudWatchBackend.get_metric_statistics = backend_get_metric_statistics  # type: ignore[method-assign, assignment]
    CloudWatchBackend.list_metrics = backend_list_metrics  # type: ignore[method-assign, assignment]
    CloudWatchResponse.get_metric_data = response_get_metric_data  # type: ignore[method-assign]
    CloudWatchResponse.get_metric_statistics = response_get_metric_statistics  # type: ignore[method-assign]
    CloudWatchResponse.list_metrics = response_list_metrics  # type: ignore[method-assign]
    CloudWatchResponse.parse_parameters = response_parse_parameters  # type: ignore[method-assign]
    CloudWatchBackend._sandbox_patched = True  # type: ignore[attr-defined]
