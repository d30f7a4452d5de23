"""GetMetricData's queries computed together give each query CloudWatch's own answer.

`aggregate_reads` works on every query's datapoints at once (one GetMetricData call
carries up to 500 queries), so a slip in its bookkeeping would hand one query another's
buckets, merge buckets across series or take a percentile rank from the wrong segment.
Each property compares it with a plain per-query model of CloudWatch's statistics
(epoch-aligned buckets, nearest-rank percentiles over weighted raw samples, none for
statistic sets or negative values), written here without numpy.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from sandbox.fidelity.cloudwatch.aggregation import SeriesRead, aggregate_reads, parse_stat
from sandbox.fidelity.cloudwatch.store import MetricStore, series_key

T0 = 1_790_000_000 // 3600 * 3600
UNITS = (None, "Milliseconds", "Count")
STATS = ("Sum", "SampleCount", "Average", "Minimum", "Maximum", "p0", "p50", "p95", "p99.9", "p100")
PERIODS = (1, 10, 60, 120, 300)

_sample = st.tuples(
    st.integers(-5, 40).map(float),
    st.sampled_from((1.0, 1.0, 2.0, 3.0, 0.5)),
)
_datapoint = st.fixed_dictionaries(
    {
        "offset": st.integers(0, 900),
        "unit": st.sampled_from(UNITS),
        "samples": st.one_of(st.none(), st.lists(_sample, min_size=1, max_size=5)),
        "stat_set": st.tuples(st.integers(1, 9).map(float), st.integers(0, 30).map(float)),
    }
)
_read = st.fixed_dictionaries(
    {
        "series": st.integers(-1, 3),  # -1: a metric nobody published
        "start": st.integers(-60, 900),
        "length": st.integers(1, 900),
        "period": st.sampled_from(PERIODS),
        "stat": st.sampled_from(STATS),
        "unit": st.sampled_from(UNITS),
    }
)


def _store(series: list[list[dict[str, Any]]]) -> MetricStore:
    store = MetricStore()
    for s, points in enumerate(series):
        for p in points:
            common = {"unit": p["unit"]}
            if p["samples"] is None:
                count, low = p["stat_set"]
                stats = {"SampleCount": count, "Sum": low * count, "Minimum": low, "Maximum": low}
                store.put("App", f"m{s}", None, T0 + p["offset"], statistic_values=stats, **common)
            else:
                values = [v for v, _ in p["samples"]]
                counts = [w for _, w in p["samples"]]
                store.put(
                    "App", f"m{s}", None, T0 + p["offset"], values=values, counts=counts, **common
                )
    return store


def _as_read(store: MetricStore, r: dict[str, Any]) -> SeriesRead:
    return SeriesRead(
        store.snapshot(series_key("App", f"m{r['series']}", None)),
        T0 + r["start"],
        T0 + r["start"] + r["length"],
        r["period"],
        parse_stat(r["stat"]),
        r["unit"],
    )


def _expected(points: list[dict[str, Any]], read: dict[str, Any]) -> list[tuple[int, float]]:
    """(bucket start, value) of one read, ascending, NaN where CloudWatch has no value."""
    start, end, period = T0 + read["start"], T0 + read["start"] + read["length"], read["period"]
    buckets: dict[int, list[dict[str, Any]]] = {}
    for p in sorted(points, key=lambda p: p["offset"]):
        ts = T0 + p["offset"]
        if start <= ts < end and (read["unit"] is None or p["unit"] == read["unit"]):
            buckets.setdefault(ts // period * period, []).append(p)
    return [(b, _statistic(read["stat"], dps)) for b, dps in sorted(buckets.items())]


def _stat_set(p: dict[str, Any]) -> tuple[float, float, float, float]:
    """(sum, count, min, max) of one datapoint."""
    if p["samples"] is None:
        count, low = p["stat_set"]
        return low * count, count, low, low
    return (
        sum(v * w for v, w in p["samples"]),
        sum(w for _, w in p["samples"]),
        min(v for v, _ in p["samples"]),
        max(v for v, _ in p["samples"]),
    )


def _statistic(stat: str, dps: list[dict[str, Any]]) -> float:
    sets = [_stat_set(p) for p in dps]
    total, count = sum(s[0] for s in sets), sum(s[1] for s in sets)
    if stat == "Sum":
        return total
    if stat == "SampleCount":
        return count
    if stat == "Average":
        return total / count if count else math.nan
    if stat == "Minimum":
        return min(s[2] for s in sets)
    if stat == "Maximum":
        return max(s[3] for s in sets)
    if any(p["samples"] is None for p in dps) or min(s[2] for s in sets) < 0:
        return math.nan
    samples = sorted(x for p in dps for x in p["samples"])
    weight = sum(w for _, w in samples)
    rank = Fraction(stat[1:]) / 100 * Fraction(weight)
    rank = min(max(math.ceil(rank), 1), max(weight, 1))
    seen = 0.0
    for value, w in samples:
        seen += w
        if seen >= rank:
            return value
    return samples[-1][0]


def _same(got: float, want: float) -> bool:
    return (math.isnan(got) and math.isnan(want)) or math.isclose(got, want, rel_tol=1e-9)


def _point(value: float, weight: float) -> dict[str, Any]:
    return {"offset": 0, "unit": None, "samples": [(value, weight)], "stat_set": (1.0, 0.0)}


def _p50_read(series: int) -> dict[str, Any]:
    return {"series": series, "start": 0, "length": 60, "period": 60, "stat": "p50", "unit": None}


@settings(max_examples=300, deadline=None)
# Half a sample's weight in a bucket: its rank (1) lies past the bucket, in the next query's.
@example(
    series=[[_point(40.0, 0.5)], [_point(39.0, 1.0)], [], []],
    reads=[_p50_read(0), _p50_read(1)],
)
@given(
    series=st.lists(st.lists(_datapoint, max_size=12), min_size=4, max_size=4),
    reads=st.lists(_read, min_size=1, max_size=12),
)
def test_every_query_of_a_batch_gets_its_own_buckets_and_statistic(
    series: list[list[dict[str, Any]]], reads: list[dict[str, Any]]
) -> None:
    store = _store(series)
    batch = [_as_read(store, r) for r in reads]
    got = aggregate_reads(batch)
    for i, r in enumerate(reads):
        ts, values, _ = got.of(i)
        want = _expected(series[r["series"]] if r["series"] >= 0 else [], r)
        assert ts.tolist() == [b for b, _ in want], (i, r)
        assert all(_same(g, w) for g, (_, w) in zip(values.tolist(), want, strict=True)), (
            i,
            r,
            values.tolist(),
            want,
        )


@settings(max_examples=100, deadline=None)
@given(series=st.lists(st.lists(_datapoint, max_size=12), min_size=4, max_size=4), data=st.data())
def test_a_query_answers_the_same_alone_and_in_a_batch(
    series: list[list[dict[str, Any]]], data: st.DataObject
) -> None:
    """What GetMetricData returns for a query must not depend on the queries beside it."""
    store = _store(series)
    reads = [_as_read(store, r) for r in data.draw(st.lists(_read, min_size=2, max_size=10))]
    together = aggregate_reads(reads).without_gaps()
    for i, read in enumerate(reads):
        alone = aggregate_reads([read]).without_gaps()
        assert together.of(i)[0].tolist() == alone.of(0)[0].tolist()
        assert together.of(i)[1].tolist() == alone.of(0)[1].tolist()
