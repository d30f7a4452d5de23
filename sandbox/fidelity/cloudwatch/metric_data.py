"""GetMetricData: queries in, one page of results out, with AWS's paging rules.

Why its own module: this is the call the collector makes 500 queries at a time,
and its rules are the intricate ones -- query ids and validation, exact series
match, ``MaxDatapoints`` cutting a page inside a query (``PartialData``), a
``NextToken`` tied to its request, expressions answered whole on the first page
through moto's ``parse_expression``.  :func:`get_metric_data_page` works on
parsed parameters and returns arrays; the handlers turn the page into a response.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from moto.cloudwatch.exceptions import CloudWatchException, ValidationError
from moto.cloudwatch.metric_data_expression_parser import parse_expression
from moto.cloudwatch.models import CloudWatchBackend

from .aggregation import (
    SeriesRead,
    Stat,
    aggregate_reads,
    epoch,
    parse_stat,
    rounded_start,
    validate_period,
)
from .store import Chunk, MetricStore, SeriesKey, provider_store, series_key, store_of

__all__ = [
    "DEFAULT_MAX_DATAPOINTS",
    "MAX_QUERIES",
    "Engine",
    "InvalidNextToken",
    "MetricDataPage",
    "get_metric_data_page",
]

DEFAULT_MAX_DATAPOINTS = 100_800
MAX_QUERIES = 500
_QUERY_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")


class InvalidNextToken(CloudWatchException):
    code = "InvalidNextToken"


@dataclass
class _Query:
    index: int
    id: str
    label: str
    return_data: bool
    expression: str | None = None
    key: SeriesKey | None = None
    period: int = 60
    stat: Stat | None = None
    unit: str | None = None


def _parse_queries(raw: Sequence[Mapping[str, Any]]) -> list[_Query]:
    if len(raw) > MAX_QUERIES:
        raise ValidationError(
            f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}."
        )
    queries: list[_Query] = []
    seen: set[str] = set()
    for i, q in enumerate(raw):
        where = f"MetricDataQueries.member.{i + 1}"
        qid = q.get("Id")
        if not qid or not _QUERY_ID.match(str(qid)):
            raise ValidationError(
                f"The parameter {where}.Id must start with a lowercase letter and contain "
                "only letters, numbers and underscores."
            )
        if qid in seen:
            raise ValidationError(
                "The values for parameter id in MetricDataQueries are not unique."
            )
        seen.add(qid)
        return_data = q.get("ReturnData", True)
        if isinstance(return_data, str):
            return_data = return_data.lower() != "false"
        if "MetricStat" in q and "Expression" in q:
            raise ValidationError(
                f"The parameter {where} must contain either MetricStat or Expression, not both."
            )
        if "Expression" in q:
            queries.append(
                _Query(i, qid, q.get("Label") or qid, bool(return_data), expression=q["Expression"])
            )
            continue
        if "MetricStat" not in q:
            # AWS also returns the empty line
            raise ValidationError(f"The parameter {where}.MetricStat is required.\n")
        ms = q["MetricStat"]
        metric = ms.get("Metric") or {}
        name = metric.get("MetricName")
        namespace = metric.get("Namespace")
        if not name or not namespace:
            raise ValidationError(
                f"The parameter {where}.MetricStat.Metric must have a Namespace and a MetricName."
            )
        dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions") or []}
        queries.append(
            _Query(
                i,
                qid,
                q.get("Label") or name,
                bool(return_data),
                key=series_key(namespace, name, dims),
                period=validate_period(ms.get("Period"), f"{where}.MetricStat"),
                stat=parse_stat(ms.get("Stat")),
                unit=ms.get("Unit"),
            )
        )
    return queries


@dataclass
class MetricDataPage:
    """One GetMetricData page; timestamps are epoch seconds."""

    results: list[dict[str, Any]]
    next_token: str | None
    messages: list[dict[str, str]]


class Engine:
    def __init__(self, backend: CloudWatchBackend) -> None:
        self.backend = backend
        self.store = store_of(backend)
        self._providers: MetricStore | None = None

    def snapshot(self, key: SeriesKey) -> Chunk | None:
        chunk = self.store.snapshot(key)
        if chunk is None and key[0] == "AWS/S3":
            if self._providers is None:
                self._providers = provider_store(self.backend)
            chunk = self._providers.snapshot(key)
        return chunk

    def series_of(
        self, queries: Sequence[_Query], start: float, end_s: int, now: float, descending: bool
    ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """(timestamps, values) of each MetricStat query by its index, buckets without a
        value left out, all computed in one pass (see :func:`aggregate_reads`)."""
        reads = [
            SeriesRead(
                self.snapshot(q.key),  # type: ignore[arg-type]
                rounded_start(start, q.period, now),
                end_s,
                q.period,
                q.stat,  # type: ignore[arg-type]
                q.unit,
            )
            for q in queries
        ]
        got = aggregate_reads(reads).without_gaps()
        out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for i, q in enumerate(queries):
            ts, vals, _ = got.of(i)
            out[q.index] = (ts[::-1], vals[::-1]) if descending else (ts, vals)
        return out


def _fingerprint(params: Mapping[str, Any]) -> str:
    """Ties a NextToken to its request (queries, window, order; the page size may change)."""
    stable = {k: v for k, v in params.items() if k not in ("NextToken", "MaxDatapoints")}
    blob = json.dumps(stable, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _encode_token(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _decode_token(token: str, fingerprint: str, n_queries: int) -> tuple[int, int | None]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        index, last = int(payload["q"]), payload.get("t")
        valid = payload.get("fp") == fingerprint and 0 <= index < n_queries
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise InvalidNextToken(
            "The service couldn't process your request because the NextToken is invalid."
        ) from exc
    if not valid:
        raise InvalidNextToken("The NextToken does not belong to this request.")
    return index, (int(last) if last is not None else None)


def get_metric_data_page(
    backend: CloudWatchBackend, params: Mapping[str, Any], *, now: float | None = None
) -> MetricDataPage:
    """Serve one GetMetricData call (``params`` as parsed from the request)."""
    queries = _parse_queries(params.get("MetricDataQueries") or [])
    for key in ("StartTime", "EndTime"):
        if params.get(key) is None:
            raise ValidationError(f"The parameter {key} is required and must be a timestamp.")
    start = epoch(params["StartTime"])
    end = epoch(params["EndTime"])
    if start > end:
        raise ValidationError("The parameter EndTime must be greater than StartTime.")
    if start == end:
        raise ValidationError("The parameter StartTime must not equal parameter EndTime.")
    scan_by = params.get("ScanBy") or "TimestampDescending"
    if scan_by not in ("TimestampDescending", "TimestampAscending"):
        raise ValidationError(
            "The parameter ScanBy must be TimestampDescending or TimestampAscending."
        )
    descending = scan_by == "TimestampDescending"
    max_dp = params.get("MaxDatapoints")
    max_dp = DEFAULT_MAX_DATAPOINTS if max_dp is None else int(max_dp)
    if max_dp < 1:
        raise ValidationError("The parameter MaxDatapoints must be greater than 0.")
    now = time.time() if now is None else now
    end_s = math.ceil(end)
    first, resume_ts = 0, None
    if params.get("NextToken"):
        first, resume_ts = _decode_token(params["NextToken"], _fingerprint(params), len(queries))
    engine = Engine(backend)
    results: list[dict[str, Any]] = []
    messages: list[dict[str, str]] = []
    first_page = params.get("NextToken") is None
    expressions = [q for q in queries if q.expression is not None and q.return_data]
    stat_queries = [
        q
        for q in queries
        if q.expression is None
        and ((q.index >= first and q.return_data) or (first_page and expressions))
    ]
    computed = engine.series_of(stat_queries, start, end_s, now, descending)

    if first_page and expressions:
        # Expressions are answered whole on the first page (AWS does not page them).
        stat_results = []
        for q in queries:
            if q.expression is None:
                ts, vals = computed[q.index]
                stat_results.append(
                    {"id": q.id, "values": vals.tolist(), "timestamps": ts.tolist()}
                )
        for q in expressions:
            if q.expression.lstrip().upper().startswith("SELECT"):  # type: ignore[union-attr]
                messages.append(
                    {
                        "Code": "Unsupported",
                        "Value": f"{q.id}: Metrics Insights queries are not supported "
                        "by the sandbox",
                    }
                )
                vals_l, ts_l = [], []
            else:
                vals_l, ts_l = parse_expression(q.expression, stat_results)  # type: ignore[arg-type]
            results.append(
                {
                    "Id": q.id,
                    "Label": q.label,
                    "Timestamps": np.asarray(ts_l, np.int64),
                    "Values": np.asarray(vals_l, np.float64),
                    "StatusCode": "Complete",
                }
            )

    budget = max_dp
    next_token = None
    for q in queries[first:]:
        if q.expression is not None or not q.return_data:
            continue
        if budget == 0:
            next_token = _encode_token({"fp": _fingerprint(params), "q": q.index, "t": None})
            break
        ts, vals = computed[q.index]
        if resume_ts is not None and q.index == first:
            cut = ts < resume_ts if descending else ts > resume_ts
            ts, vals = ts[cut], vals[cut]
        if ts.size <= budget:
            results.append(
                {
                    "Id": q.id,
                    "Label": q.label,
                    "Timestamps": ts,
                    "Values": vals,
                    "StatusCode": "Complete",
                }
            )
            budget -= int(ts.size)
            continue
        results.append(
            {
                "Id": q.id,
                "Label": q.label,
                "Timestamps": ts[:budget],
                "Values": vals[:budget],
                "StatusCode": "PartialData",
            }
        )
        next_token = _encode_token(
            {"fp": _fingerprint(params), "q": q.index, "t": int(ts[budget - 1])}
        )
        break
    return MetricDataPage(results, next_token, messages)
