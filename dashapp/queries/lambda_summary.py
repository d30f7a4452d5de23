"""Lambda summary maths: per-minute CloudWatch datapoints → one row per function.

Error rate, invocation-weighted duration percentiles and totals are computed here,
once, for the Lambda page and for lambda-summary.csv alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Protocol

# (metric, stat) → LambdaMinute field, exactly as the collector stores Lambda datapoints.
LAMBDA_SERIES: Mapping[tuple[str, str], str] = {
    ("Invocations", "Sum"): "invocations",
    ("Errors", "Sum"): "errors",
    ("Throttles", "Sum"): "throttles",
    ("Duration", "Average"): "duration_avg",
    ("Duration", "p95"): "duration_p95",
    ("Duration", "p99"): "duration_p99",
}


class LambdaPointRecord(Protocol):
    resource_name: str
    ts: datetime
    metric: str
    stat: str
    value: float


@dataclass
class LambdaMinute:
    """The datapoints one function has for one minute (None where CloudWatch had none)."""

    ts: datetime
    invocations: float | None = None
    errors: float | None = None
    throttles: float | None = None
    duration_avg: float | None = None
    duration_p95: float | None = None
    duration_p99: float | None = None


@dataclass(frozen=True)
class LambdaSummary:
    """One row of lambda-summary.csv."""

    function_name: str
    invocations: float = 0.0
    errors: float = 0.0
    throttles: float = 0.0
    error_rate: float | None = None
    duration_avg_ms: float | None = None
    duration_p95_ms: float | None = None
    duration_p99_ms: float | None = None


def weighted_percentile(values: Iterable[tuple[float, float]], q: float) -> float | None:
    """The smallest value whose cumulative weight reaches `q` of the total (no interpolation).

    `values` are (value, weight) pairs; pairs with no weight count for nothing.
    None when the total weight is zero.
    """
    pairs = sorted((v, w) for v, w in values if w > 0)
    total = sum(w for _, w in pairs)
    if total <= 0:
        return None
    threshold = q * total
    cumulative = 0.0
    for value, weight in pairs:
        cumulative += weight
        if cumulative >= threshold * (1 - 1e-12):
            return value
    return pairs[-1][0]


def summarise_lambda(function_name: str, minutes: Iterable[LambdaMinute]) -> LambdaSummary:
    """Combine one function's per-minute datapoints into the window's summary.

    Counts are sums. The average duration is the invocation-weighted mean of the
    per-minute averages, which is exact. Percentiles of different minutes cannot be
    combined exactly without the raw durations, which CloudWatch does not give: p95
    (p99) is the invocation-weighted 95th (99th) percentile of the per-minute p95
    (p99) values. It is exact when every minute has the same distribution, always lies
    between the best and the worst minute, and leans towards the slow minutes when
    they carry much of the traffic, which is the conservative side for an alert.
    Minutes without invocations carry no weight; a function with no invocations
    gets zeros and empty rates and durations.
    """
    invocations = errors = throttles = 0.0
    weighted_sum = weight = 0.0
    p95: list[tuple[float, float]] = []
    p99: list[tuple[float, float]] = []
    for m in minutes:
        calls = m.invocations or 0.0
        invocations += calls
        errors += m.errors or 0.0
        throttles += m.throttles or 0.0
        if calls > 0 and m.duration_avg is not None:
            weighted_sum += m.duration_avg * calls
            weight += calls
        if calls > 0 and m.duration_p95 is not None:
            p95.append((m.duration_p95, calls))
        if calls > 0 and m.duration_p99 is not None:
            p99.append((m.duration_p99, calls))
    return LambdaSummary(
        function_name=function_name,
        invocations=invocations,
        errors=errors,
        throttles=throttles,
        error_rate=errors / invocations if invocations > 0 else None,
        duration_avg_ms=weighted_sum / weight if weight > 0 else None,
        duration_p95_ms=weighted_percentile(p95, 0.95),
        duration_p99_ms=weighted_percentile(p99, 0.99),
    )


def lambda_minutes(points: Iterable[LambdaPointRecord]) -> Iterator[tuple[str, LambdaMinute]]:
    """Pivot datapoints ordered by (function, minute) into one LambdaMinute per minute."""
    for (name, ts), group in groupby(points, key=lambda p: (p.resource_name, p.ts)):
        minute = LambdaMinute(ts=ts)
        for p in group:
            field = LAMBDA_SERIES.get((p.metric, p.stat))
            if field is not None:
                setattr(minute, field, p.value)
        yield name, minute


def lambda_summaries(
    function_names: Iterable[str], points: Iterable[LambdaPointRecord]
) -> list[LambdaSummary]:
    """One summary per function, sorted by name: every name given, and any the points add.

    `points` must be ordered by (function, minute), as the database returns them; only
    one function's minutes are held at a time, plus one small summary per function. The
    output is sorted here, by code point, so it never depends on the database collation.
    """
    found: dict[str, LambdaSummary] = {}
    for name, group in groupby(lambda_minutes(points), key=lambda item: item[0]):
        found[name] = summarise_lambda(name, (minute for _, minute in group))
    names = sorted(set(function_names) | found.keys())
    return [found[n] if n in found else summarise_lambda(n, ()) for n in names]


# Decimal places a summary keeps, on the page and in lambda-summary.csv alike, so float
# noise such as 0.30000000000000004 never reaches a user. Counts keep what they have.
PLACES: Mapping[str, int | None] = {
    "invocations": None,
    "errors": None,
    "error_rate": 6,
    "throttles": None,
    "duration_avg_ms": 3,
    "duration_p95_ms": 3,
    "duration_p99_ms": 3,
}


def round_figure(value: float | None, places: int | None = None) -> float | None:
    """`value` rounded to `places`; None for a missing or non-finite value."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), places) if places is not None else float(value)


def rounded(summary: LambdaSummary) -> dict[str, float | None]:
    """The summary's figures (not its name), each rounded as PLACES says."""
    return {field: round_figure(getattr(summary, field), p) for field, p in PLACES.items()}
