"""CloudWatch's statistics over the store: Period buckets, basic stats and percentiles.

Why its own module: GetMetricData and GetMetricStatistics must agree on every
number (epoch-aligned buckets, StartTime rounding by age, which periods are
legal, nearest-rank percentiles from raw samples, no percentile for statistic
sets or negative values), so the maths lives once, vectorised over the store's
arrays, apart from how each API parses its request.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

import numpy as np
from moto.cloudwatch.exceptions import InvalidParameterValue, ValidationError

from .store import Chunk, unit_code

__all__ = [
    "Aggregate",
    "Stat",
    "aggregate",
    "epoch",
    "parse_stat",
    "rounded_start",
    "validate_period",
]

_BASIC_STATS = ("SampleCount", "Sum", "Average", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"^[pP](\d{1,3}(?:\.\d{1,10})?)$")
_HIGH_RES_PERIODS = (1, 5, 10, 20, 30)


@dataclass(frozen=True)
class Stat:
    label: str
    kind: str  # one of _BASIC_STATS or "percentile"
    percentile: Fraction | None = None


def parse_stat(stat: Any) -> Stat:
    if stat in _BASIC_STATS:
        return Stat(stat, stat)
    match = _PERCENTILE.match(str(stat))
    if match:
        p = Fraction(match.group(1))
        if 0 <= p <= 100:
            return Stat(str(stat), "percentile", p)
    raise InvalidParameterValue(
        f"The statistic {stat!r} is not supported by the sandbox: use SampleCount, Sum, "
        "Average, Minimum, Maximum or a percentile pNN / pNN.N"
    )


def _ceil_rank(p: Fraction, total: np.ndarray) -> np.ndarray:
    """Nearest rank ceil(p/100 * total), exact for integral totals, clipped to [1, total]."""
    if total.size == 0:
        return total.astype(np.int64)
    if bool((total == np.floor(total)).all()):
        t = total.astype(np.int64)
        den = 100 * p.denominator
        rank = (p.numerator * t + den - 1) // den
        return np.clip(rank, 1, np.maximum(t, 1))
    rank = np.ceil(float(p) * total / 100.0 - 1e-9)
    return np.clip(rank, 1, np.maximum(total, 1))


def _percentiles(c: Chunk, dp: np.ndarray, starts: np.ndarray, p: Fraction) -> np.ndarray:
    """pNN per bucket from raw samples; NaN where a bucket has a statistic-set datapoint
    or a negative value (CloudWatch offers no percentile there)."""
    n = dp.size
    buckets = starts.size
    lengths = c.soff[dp + 1] - c.soff[dp]
    # CloudWatch: no percentiles for statistic sets, nor when any value is negative.
    ok = np.logical_and.reduceat(lengths > 0, starts)
    ok &= np.minimum.reduceat(c.mins[dp], starts) >= 0
    out = np.full(buckets, np.nan)
    if not bool(ok.any()):
        return out
    local = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=local[1:])
    gather = np.repeat(c.soff[dp] - local[:-1], lengths) + np.arange(local[-1], dtype=np.int64)
    vals = c.svals[gather]
    wts = c.swts[gather] if c.swts is not None else None
    seg_start = local[starts]
    seg_end = local[np.append(starts[1:], n)]
    if n > buckets:  # some bucket merges several datapoints: sort within buckets
        seg = np.repeat(np.arange(buckets), seg_end - seg_start)
        order = np.lexsort((vals, seg))
        vals = vals[order]
        if wts is not None:
            wts = wts[order]
    if wts is None:
        total = (seg_end - seg_start).astype(np.float64)
        pos = seg_start + _ceil_rank(p, total).astype(np.int64) - 1
    else:
        cum = np.cumsum(wts)
        cum0 = np.concatenate(([0.0], cum))
        base = cum0[seg_start]
        total = cum0[seg_end] - base
        pos = np.searchsorted(cum, base + _ceil_rank(p, total), side="left")
    valid = ok & (total > 0)
    if vals.size:
        out[valid] = vals[np.clip(pos[valid], 0, vals.size - 1)]
    return out


@dataclass
class Aggregate:
    timestamps: np.ndarray  # bucket starts, epoch seconds, ascending
    values: dict[str, np.ndarray]
    units: np.ndarray  # unit code of each bucket's first datapoint


def aggregate(
    c: Chunk | None,
    start_s: int,
    end_s: int,
    period: int,
    stats: Sequence[Stat],
    unit: str | None,
) -> Aggregate:
    empty = Aggregate(
        np.empty(0, np.int64), {s.label: np.empty(0) for s in stats}, np.empty(0, np.int16)
    )
    if c is None or c.size == 0:
        return empty
    lo = int(np.searchsorted(c.ts, start_s, "left"))
    hi = int(np.searchsorted(c.ts, end_s, "left"))
    if hi <= lo:
        return empty
    dp = np.arange(lo, hi)
    if unit is not None:
        dp = dp[c.units[lo:hi] == unit_code(unit)]
        if dp.size == 0:
            return empty
    ts = c.ts[dp]
    bucket = ts // period
    starts = np.concatenate(([0], np.flatnonzero(bucket[1:] != bucket[:-1]) + 1))
    values: dict[str, np.ndarray] = {}
    sums = counts = None
    for stat in stats:
        kind = stat.kind
        if kind in ("Sum", "Average") and sums is None:
            sums = np.add.reduceat(c.sums[dp], starts)
        if kind in ("SampleCount", "Average") and counts is None:
            counts = np.add.reduceat(c.counts[dp], starts)
        if kind == "Sum":
            values[stat.label] = sums  # type: ignore[assignment]
        elif kind == "SampleCount":
            values[stat.label] = counts  # type: ignore[assignment]
        elif kind == "Average":
            with np.errstate(divide="ignore", invalid="ignore"):
                values[stat.label] = np.where(counts > 0, sums / counts, np.nan)  # type: ignore[operator]
        elif kind == "Minimum":
            values[stat.label] = np.minimum.reduceat(c.mins[dp], starts)
        elif kind == "Maximum":
            values[stat.label] = np.maximum.reduceat(c.maxs[dp], starts)
        else:
            values[stat.label] = _percentiles(c, dp, starts, stat.percentile)  # type: ignore[arg-type]
    return Aggregate(bucket[starts] * period, values, c.units[dp][starts])


# --- time windows ---------------------------------------------------------------------


def epoch(value: Any) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return calendar.timegm(value.timetuple()) + value.microsecond / 1e6
        return value.timestamp()
    return float(value)


def rounded_start(start: float, period: int, now: float) -> int:
    """CloudWatch rounds StartTime down (minute / 5 min / hour by age; period if < 60)."""
    age = now - start
    if period < 60:
        step = period
    elif age < 15 * 86400:
        step = 60
    elif age < 63 * 86400:
        step = 300
    else:
        step = 3600
    return int(math.floor(start / step) * step)


def validate_period(period: Any, where: str) -> int:
    try:
        value = int(period)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"The parameter {where}.Period is required and must be an integer."
        ) from exc
    if value < 1 or (value < 60 and value not in _HIGH_RES_PERIODS) or (value >= 60 and value % 60):
        raise ValidationError(
            f"The parameter {where}.Period must be 1, 5, 10, 20, 30 or a multiple of 60."
        )
    return value
