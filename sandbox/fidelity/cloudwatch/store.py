"""The metric store: every datapoint of one account/region in numpy arrays, per series.

Why its own module: moto keeps each sample as a Python object and scans all of
them per query, which cannot serve the collector's 500-query calls; the store
is the one place that knows the columnar layout (a series key -> sorted
timestamps, statistic columns and raw samples in CSR form).  The query maths
(``aggregation``) reads it, the API handlers write it, and the seed bulk-loads
it without HTTP through ``metric_store(account, region).put_series(...)``.
"""

from __future__ import annotations

import calendar
import math
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np
from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends
from moto.core import DEFAULT_ACCOUNT_ID

__all__ = [
    "Chunk",
    "MetricStore",
    "SeriesKey",
    "metric_store",
    "provider_store",
    "series_key",
    "store_of",
    "unit_code",
    "unit_name",
]

SeriesKey = tuple[str, str, frozenset[tuple[str, str]]]

_STORE_ATTR = "_sandbox_metric_store"
_STORE_CREATE_LOCK = threading.Lock()


# --- units (one small int per datapoint) --------------------------------------------

_UNIT_LOCK = threading.Lock()
_UNIT_CODES: dict[str | None, int] = {None: 0}
_UNIT_NAMES: list[str | None] = [None]


def unit_code(unit: str | None) -> int:
    code = _UNIT_CODES.get(unit)
    if code is None:
        with _UNIT_LOCK:
            code = _UNIT_CODES.get(unit)
            if code is None:
                code = len(_UNIT_NAMES)
                _UNIT_NAMES.append(unit)
                _UNIT_CODES[unit] = code
    return code


def unit_name(code: int) -> str | None:
    """The unit a datapoint was published with (None when it had none)."""
    return _UNIT_NAMES[code]


# --- storage ------------------------------------------------------------------------


def series_key(namespace: str, name: str, dimensions: Mapping[str, str] | None) -> SeriesKey:
    """The identity of a metric in CloudWatch: namespace, name and dimension set."""
    return (namespace, name, frozenset((dimensions or {}).items()))


class Chunk:
    """Datapoints of one series in columnar form; samples in CSR layout.

    ``soff[i]:soff[i+1]`` indexes datapoint i's raw samples in ``svals``
    (sorted ascending within the datapoint), with weights ``swts`` (None means
    every weight is 1).  A datapoint without raw samples (a statistic set) has
    an empty range.
    """

    __slots__ = ("counts", "maxs", "mins", "soff", "sums", "svals", "swts", "ts", "units")

    def __init__(
        self,
        ts: np.ndarray,
        sums: np.ndarray,
        counts: np.ndarray,
        mins: np.ndarray,
        maxs: np.ndarray,
        units: np.ndarray,
        soff: np.ndarray,
        svals: np.ndarray,
        swts: np.ndarray | None,
    ) -> None:
        self.ts = ts
        self.sums = sums
        self.counts = counts
        self.mins = mins
        self.maxs = maxs
        self.units = units
        self.soff = soff
        self.svals = svals
        self.swts = swts

    @classmethod
    def empty(cls) -> Chunk:
        f = np.empty(0, np.float64)
        return cls(
            np.empty(0, np.int64), f, f, f, f, np.empty(0, np.int16), np.zeros(1, np.int64), f, None
        )

    @property
    def size(self) -> int:
        return int(self.ts.size)

    def nbytes(self) -> int:
        arrays = (
            self.ts,
            self.sums,
            self.counts,
            self.mins,
            self.maxs,
            self.units,
            self.soff,
            self.svals,
        )
        return sum(a.nbytes for a in arrays) + (self.swts.nbytes if self.swts is not None else 0)

    def reordered(self, perm: np.ndarray) -> Chunk:
        lengths = np.diff(self.soff)[perm]
        starts = self.soff[:-1][perm]
        soff = np.zeros(perm.size + 1, np.int64)
        np.cumsum(lengths, out=soff[1:])
        gather = np.repeat(starts - soff[:-1], lengths) + np.arange(soff[-1], dtype=np.int64)
        return Chunk(
            self.ts[perm],
            self.sums[perm],
            self.counts[perm],
            self.mins[perm],
            self.maxs[perm],
            self.units[perm],
            soff,
            self.svals[gather],
            self.swts[gather] if self.swts is not None else None,
        )


def _concat(chunks: list[Chunk]) -> Chunk:
    chunks = [c for c in chunks if c.size]
    if not chunks:
        return Chunk.empty()
    if len(chunks) == 1:
        merged = chunks[0]
    else:
        offsets = [chunks[0].soff]
        base = int(chunks[0].soff[-1])
        for c in chunks[1:]:
            offsets.append(c.soff[1:] + base)
            base += int(c.soff[-1])
        swts = None
        if any(c.swts is not None for c in chunks):
            swts = np.concatenate(
                [c.swts if c.swts is not None else np.ones(c.svals.size) for c in chunks]
            )
        merged = Chunk(
            np.concatenate([c.ts for c in chunks]),
            np.concatenate([c.sums for c in chunks]),
            np.concatenate([c.counts for c in chunks]),
            np.concatenate([c.mins for c in chunks]),
            np.concatenate([c.maxs for c in chunks]),
            np.concatenate([c.units for c in chunks]),
            np.concatenate(offsets),
            np.concatenate([c.svals for c in chunks]),
            swts,
        )
    if merged.size > 1 and bool((merged.ts[1:] < merged.ts[:-1]).any()):
        merged = merged.reordered(np.argsort(merged.ts, kind="stable"))
    return merged


class _Series:
    """One metric: consolidated arrays plus cheap append buffers."""

    __slots__ = ("_base", "_chunks", "_points", "last_ts")

    def __init__(self) -> None:
        self._base = Chunk.empty()
        self._chunks: list[Chunk] = []
        # single datapoints from PutMetricData: (ts, sum, count, min, max, unit, samples, weights)
        self._points: list[
            tuple[int, float, float, float, float, int, np.ndarray | None, np.ndarray | None]
        ] = []
        self.last_ts: int | None = None

    def _seen(self, ts_max: int) -> None:
        if self.last_ts is None or ts_max > self.last_ts:
            self.last_ts = ts_max

    def add_chunk(self, chunk: Chunk) -> None:
        if chunk.size:
            self._chunks.append(chunk)
            self._seen(int(chunk.ts.max()))

    def add_point(
        self,
        point: tuple[int, float, float, float, float, int, np.ndarray | None, np.ndarray | None],
    ) -> None:
        self._points.append(point)
        self._seen(point[0])

    def _points_chunk(self) -> Chunk:
        points = self._points
        self._points = []
        lengths = np.array([0 if p[6] is None else p[6].size for p in points], np.int64)
        soff = np.zeros(len(points) + 1, np.int64)
        np.cumsum(lengths, out=soff[1:])
        samples = [p[6] for p in points if p[6] is not None]
        svals = np.concatenate(samples) if samples else np.empty(0, np.float64)
        swts = None
        if any(p[7] is not None for p in points):
            swts = np.concatenate(
                [
                    p[7] if p[7] is not None else np.ones(p[6].size)
                    for p in points
                    if p[6] is not None
                ]
            )
        return Chunk(
            np.array([p[0] for p in points], np.int64),
            np.array([p[1] for p in points], np.float64),
            np.array([p[2] for p in points], np.float64),
            np.array([p[3] for p in points], np.float64),
            np.array([p[4] for p in points], np.float64),
            np.array([p[5] for p in points], np.int16),
            soff,
            svals,
            swts,
        )

    def consolidated(self) -> Chunk:
        """Merge pending appends (caller holds the store lock)."""
        if self._points:
            self._chunks.append(self._points_chunk())
        if self._chunks:
            self._base = _concat([self._base, *self._chunks])
            self._chunks = []
        return self._base

    def nbytes(self) -> int:
        return self.consolidated().nbytes()


def _to_epoch_seconds(value: datetime | float | int | None) -> int:
    if value is None:
        return int(time.time())
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return calendar.timegm(value.timetuple())
        return math.floor(value.timestamp())
    return math.floor(float(value))


def _sorted_samples(
    values: np.ndarray, weights: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    order = np.argsort(values, kind="stable")
    return values[order], (weights[order] if weights is not None else None)


class MetricStore:
    """All metric data of one account/region, numpy-backed per series.

    Thread-safe: the sandbox server is threaded and the simulator writes while
    the collector reads.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._series: dict[SeriesKey, _Series] = {}

    def __len__(self) -> int:
        return len(self._series)

    def _get_or_create(self, key: SeriesKey) -> _Series:
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series()
        return series

    def put(
        self,
        namespace: str,
        name: str,
        dimensions: Mapping[str, str] | None = None,
        timestamp: datetime | float | int | None = None,
        *,
        value: float | None = None,
        values: Sequence[float] | None = None,
        counts: Sequence[float] | None = None,
        statistic_values: Mapping[str, float] | None = None,
        unit: str | None = None,
    ) -> None:
        """One datapoint, in any of PutMetricData's three forms.

        ``value`` (one sample), ``values``/``counts`` (samples with repeat
        counts; percentiles work) or ``statistic_values`` (SampleCount/Sum/
        Minimum/Maximum; no percentiles, as in CloudWatch).
        """
        ts = _to_epoch_seconds(timestamp)
        code = unit_code(unit)
        if values is not None and len(values) > 0:
            v = np.asarray(values, np.float64)
            w = (
                np.ones(v.size)
                if counts is None or len(counts) == 0
                else np.asarray(counts, np.float64)
            )
            if w.size != v.size:
                raise ValueError("values and counts must have the same length")
            keep = w > 0
            v, w = v[keep], w[keep]
            if v.size == 0:
                return
            v, w = _sorted_samples(v, w)
            point = (
                ts,
                float(np.dot(v, w)),
                float(w.sum()),
                float(v[0]),
                float(v[-1]),
                code,
                v,
                None if bool((w == 1.0).all()) else w,
            )
        elif statistic_values is not None:
            point = (
                ts,
                float(statistic_values["Sum"]),
                float(statistic_values["SampleCount"]),
                float(statistic_values["Minimum"]),
                float(statistic_values["Maximum"]),
                code,
                None,
                None,
            )
        else:
            v0 = float(value if value is not None else 0.0)
            point = (ts, v0, 1.0, v0, v0, code, np.array([v0]), None)
        with self._lock:
            self._get_or_create(series_key(namespace, name, dimensions)).add_point(point)

    def put_series(
        self,
        namespace: str,
        name: str,
        dimensions: Mapping[str, str] | None,
        timestamps_s: np.ndarray | Sequence[float],
        *,
        sums: np.ndarray | Sequence[float],
        counts: np.ndarray | Sequence[float],
        mins: np.ndarray | Sequence[float],
        maxs: np.ndarray | Sequence[float],
        samples: Sequence[np.ndarray] | np.ndarray | None = None,
        unit: str | None = None,
    ) -> None:
        """Bulk-load one datapoint per timestamp (seconds since the epoch).

        ``samples[i]`` are the raw values of datapoint i, needed only when
        percentiles must work; a 2-D ``(n, k)`` array is the fast form for k
        samples per datapoint.  The statistics are stored as given (the caller
        keeps them consistent with the samples).
        """
        ts = np.floor(np.asarray(timestamps_s, np.float64)).astype(np.int64)
        n = ts.size
        cols = [np.asarray(a, np.float64).reshape(-1) for a in (sums, counts, mins, maxs)]
        if any(c.size != n for c in cols):
            raise ValueError("sums, counts, mins and maxs must have one value per timestamp")
        if samples is None:
            soff = np.zeros(n + 1, np.int64)
            svals = np.empty(0, np.float64)
        elif isinstance(samples, np.ndarray) and samples.ndim == 2:
            if samples.shape[0] != n:
                raise ValueError("samples must have one row per timestamp")
            k = samples.shape[1]
            svals = np.sort(np.asarray(samples, np.float64), axis=1).reshape(-1)
            soff = np.arange(0, n * k + 1, k, dtype=np.int64) if k else np.zeros(n + 1, np.int64)
        else:
            if len(samples) != n:
                raise ValueError("samples must have one entry per timestamp")
            arrays = [np.asarray(s, np.float64).reshape(-1) for s in samples]
            lengths = np.fromiter((a.size for a in arrays), np.int64, count=n)
            soff = np.zeros(n + 1, np.int64)
            np.cumsum(lengths, out=soff[1:])
            svals = np.concatenate(arrays) if arrays else np.empty(0, np.float64)
            seg = np.repeat(np.arange(n), lengths)
            svals = svals[np.lexsort((svals, seg))]
        if svals.size and bool(np.isnan(svals).any()):
            raise ValueError("samples must not contain NaN")
        chunk = Chunk(
            ts,
            cols[0],
            cols[1],
            cols[2],
            cols[3],
            np.full(n, unit_code(unit), np.int16),
            soff,
            svals,
            None,
        )
        with self._lock:
            self._get_or_create(series_key(namespace, name, dimensions)).add_chunk(chunk)

    def series_keys(self) -> list[SeriesKey]:
        with self._lock:
            return list(self._series)

    def last_timestamp(self, key: SeriesKey) -> int | None:
        series = self._series.get(key)
        return series.last_ts if series is not None else None

    def snapshot(self, key: SeriesKey) -> Chunk | None:
        """Consolidated arrays of one series (immutable; safe to read unlocked)."""
        series = self._series.get(key)
        if series is None:
            return None
        with self._lock:
            return series.consolidated()

    def memory_bytes(self) -> int:
        """Bytes held by the numpy arrays (after consolidating pending appends)."""
        with self._lock:
            return sum(s.nbytes() for s in self._series.values())

    def clear(self) -> None:
        with self._lock:
            self._series.clear()


def metric_store(account_id: str = DEFAULT_ACCOUNT_ID, region: str = "us-east-1") -> MetricStore:
    """The store behind the CloudWatch API of ``account_id``/``region``.

    It lives on moto's backend object, so moto's reset (``/moto-api/reset``,
    entering ``mock_aws``) empties it together with everything else.
    """
    return store_of(cloudwatch_backends[account_id][region])


def store_of(backend: CloudWatchBackend) -> MetricStore:
    store = backend.__dict__.get(_STORE_ATTR)
    if store is None:
        with _STORE_CREATE_LOCK:
            store = backend.__dict__.get(_STORE_ATTR)
            if store is None:
                store = MetricStore()
                setattr(backend, _STORE_ATTR, store)
    return store


def provider_store(backend: CloudWatchBackend) -> MetricStore:
    """moto's built-in AWS metrics (S3 bucket sizes), computed on demand as moto does."""
    store = MetricStore()
    for datum in backend.aws_metric_data:
        store.put(
            datum.namespace,
            datum.name,
            {d.name: d.value for d in datum.dimensions},
            datum.timestamp,
            value=getattr(datum, "value", 0.0),
            unit=datum.unit,
        )
    return store
