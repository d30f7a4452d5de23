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
    "ReadBuckets",
    "SeriesRead",
    "Stat",
    "aggregate",
    "aggregate_reads",
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


def _ceil_rank(num: np.ndarray, den: np.ndarray, p: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Nearest rank ceil(p/100 * total) per bucket, clipped to [1, total]; exact (p = num/den)
    where the total is integral, as it is unless weights are fractional."""
    rank = np.ones(total.size, np.float64)
    integral = total == np.floor(total)
    if bool(integral.any()):
        t = total[integral].astype(np.int64)
        d = 100 * den[integral]
        rank[integral] = np.clip((num[integral] * t + d - 1) // d, 1, np.maximum(t, 1))
    fractional = ~integral
    if bool(fractional.any()):
        f = total[fractional]
        rank[fractional] = np.clip(np.ceil(p[fractional] * f / 100.0 - 1e-9), 1, np.maximum(f, 1))
    return rank


@dataclass(frozen=True)
class SeriesRead:
    """One statistic of one series over [start_s, end_s), in buckets of ``period``."""

    chunk: Chunk | None
    start_s: int
    end_s: int
    period: int
    stat: Stat
    unit: str | None = None


@dataclass
class ReadBuckets:
    """Every read's buckets, read after read: read i owns ``bounds[i]:bounds[i + 1]``.

    ``values`` is NaN where the statistic has no value (a percentile of a statistic set);
    ``units`` is the unit code of each bucket's first datapoint.
    """

    bounds: np.ndarray
    timestamps: np.ndarray
    values: np.ndarray
    units: np.ndarray

    def of(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lo, hi = int(self.bounds[i]), int(self.bounds[i + 1])
        return self.timestamps[lo:hi], self.values[lo:hi], self.units[lo:hi]

    def without_gaps(self) -> ReadBuckets:
        """The buckets that have a value (GetMetricData leaves the others out)."""
        keep = ~np.isnan(self.values)
        if bool(keep.all()):
            return self
        kept_before = np.concatenate(([0], np.cumsum(keep)))
        return ReadBuckets(
            kept_before[self.bounds],
            self.timestamps[keep],
            self.values[keep],
            self.units[keep],
        )


@dataclass
class _Slices:
    """The datapoints the reads select: part (read index, chunk, lo, hi) is ``chunk[lo:hi]``."""

    parts: list[tuple[int, Chunk, int, int]]

    def column(self, name: str) -> np.ndarray:
        return np.concatenate([getattr(c, name)[lo:hi] for _, c, lo, hi in self.parts])

    def owner_of_each(self) -> np.ndarray:
        owners = np.array([i for i, _, _, _ in self.parts], np.int64)
        return np.repeat(owners, [hi - lo for _, _, lo, hi in self.parts])


def _select(reads: Sequence[SeriesRead]) -> _Slices:
    parts: list[tuple[int, Chunk, int, int]] = []
    for i, read in enumerate(reads):
        c = read.chunk
        if c is None or not c.size:
            continue
        lo, hi = c.ts.searchsorted((read.start_s, read.end_s)).tolist()
        if hi <= lo:
            continue
        if read.unit is not None:
            keep = np.flatnonzero(c.units[lo:hi] == unit_code(read.unit))
            if not keep.size:
                continue
            c, lo, hi = c.reordered(keep + lo), 0, int(keep.size)
        parts.append((i, c, lo, hi))
    return _Slices(parts)


def _bucket_starts(owner: np.ndarray, bucket: np.ndarray) -> np.ndarray:
    new = np.ones(owner.size, bool)
    new[1:] = (owner[1:] != owner[:-1]) | (bucket[1:] != bucket[:-1])
    return np.flatnonzero(new)


def _percentiles(reads: Sequence[SeriesRead], sel: _Slices, periods: np.ndarray) -> np.ndarray:
    """pNN per bucket of the percentile reads (``sel`` holds only those), from raw samples;
    NaN where a bucket has a statistic-set datapoint or a negative value: CloudWatch offers
    no percentile there."""
    owner = sel.owner_of_each()
    starts = _bucket_starts(owner, sel.column("ts") // periods[owner])
    buckets, n = starts.size, owner.size
    lengths = np.concatenate([np.diff(c.soff[lo : hi + 1]) for _, c, lo, hi in sel.parts])
    ok = np.logical_and.reduceat(lengths > 0, starts)
    ok &= np.minimum.reduceat(sel.column("mins"), starts) >= 0
    out = np.full(buckets, np.nan)
    if not bool(ok.any()):
        return out
    vals = np.concatenate([c.svals[c.soff[lo] : c.soff[hi]] for _, c, lo, hi in sel.parts])
    wts = None
    if any(c.swts is not None for _, c, _, _ in sel.parts):
        wts = np.concatenate(
            [
                c.swts[c.soff[lo] : c.soff[hi]]
                if c.swts is not None
                else np.ones(int(c.soff[hi] - c.soff[lo]))
                for _, c, lo, hi in sel.parts
            ]
        )
    local = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=local[1:])
    seg_start = local[starts]
    seg_end = local[np.append(starts[1:], n)]
    if n > buckets:  # some bucket merges several datapoints: sort within buckets
        seg = np.repeat(np.arange(buckets), seg_end - seg_start)
        order = np.lexsort((vals, seg))
        vals = vals[order]
        if wts is not None:
            wts = wts[order]
    fractions = [r.stat.percentile or Fraction(0) for r in reads]
    b_owner = owner[starts]
    num = np.array([f.numerator for f in fractions], np.int64)[b_owner]
    den = np.array([f.denominator for f in fractions], np.int64)[b_owner]
    p = np.array([float(f) for f in fractions])[b_owner]
    if wts is None:
        total = (seg_end - seg_start).astype(np.float64)
        pos = seg_start + _ceil_rank(num, den, p, total).astype(np.int64) - 1
    else:
        cum = np.cumsum(wts)
        cum0 = np.concatenate(([0.0], cum))
        base = cum0[seg_start]
        total = cum0[seg_end] - base
        pos = np.searchsorted(cum, base + _ceil_rank(num, den, p, total), side="left")
        # A rank past the bucket's weight (total < 1, float rounding) means its last sample.
        pos = np.minimum(pos, seg_end - 1)
    valid = ok & (total > 0)
    if vals.size:
        out[valid] = vals[np.clip(pos[valid], 0, vals.size - 1)]
    return out


def aggregate_reads(reads: Sequence[SeriesRead]) -> ReadBuckets:
    """The buckets of every read, computed together.

    Why together: a GetMetricData call carries up to 500 queries of a few buckets each,
    and per query numpy's call overhead (~20 calls) outweighed the arithmetic; over the
    reads' datapoints concatenated, a call costs a few numpy calls per statistic.
    """
    sel = _select(reads)
    if not sel.parts:
        return ReadBuckets(
            np.zeros(len(reads) + 1, np.int64),
            np.empty(0, np.int64),
            np.empty(0),
            np.empty(0, np.int16),
        )
    periods = np.array([r.period for r in reads], np.int64)
    owner = sel.owner_of_each()
    bucket = sel.column("ts") // periods[owner]
    starts = _bucket_starts(owner, bucket)
    b_owner = owner[starts]
    kinds = np.array([r.stat.kind for r in reads])[b_owner]
    values = np.full(starts.size, np.nan)
    wanted = {r.stat.kind for r in reads}
    sums = counts = None
    if wanted & {"Sum", "Average"}:
        sums = np.add.reduceat(sel.column("sums"), starts)
    if wanted & {"SampleCount", "Average"}:
        counts = np.add.reduceat(sel.column("counts"), starts)
    for kind in wanted:
        mask = kinds == kind
        if kind == "Sum":
            values[mask] = sums[mask]  # type: ignore[index]
        elif kind == "SampleCount":
            values[mask] = counts[mask]  # type: ignore[index]
        elif kind == "Average":
            with np.errstate(divide="ignore", invalid="ignore"):
                s, k = sums[mask], counts[mask]  # type: ignore[index]
                values[mask] = np.where(k > 0, s / k, np.nan)
        elif kind == "Minimum":
            values[mask] = np.minimum.reduceat(sel.column("mins"), starts)[mask]
        elif kind == "Maximum":
            values[mask] = np.maximum.reduceat(sel.column("maxs"), starts)[mask]
    if "percentile" in wanted:
        only = _Slices([part for part in sel.parts if reads[part[0]].stat.kind == "percentile"])
        if only.parts:
            values[kinds == "percentile"] = _percentiles(reads, only, periods)
    return ReadBuckets(
        np.searchsorted(b_owner, np.arange(len(reads) + 1)),
        bucket[starts] * periods[b_owner],
        values,
        sel.column("units")[starts],
    )


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
    """Several statistics of one series (GetMetricStatistics): one read per statistic."""
    if not stats:
        return Aggregate(np.empty(0, np.int64), {}, np.empty(0, np.int16))
    got = aggregate_reads([SeriesRead(c, start_s, end_s, period, s, unit) for s in stats])
    timestamps, _, units = got.of(0)
    return Aggregate(timestamps, {s.label: got.of(i)[1] for i, s in enumerate(stats)}, units)


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
