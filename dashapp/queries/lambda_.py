"""The Lambda monitor's reads: the functions table, one function's series, comparisons.

The table's summary columns are `/export/lambda-summary.csv` for the same window:
the same rows (`export_queries.lambda_function_names` / `lambda_point_rows`), the
same maths (`lambda_summary.lambda_summaries`) and the same rounding (`cells.number_cell`),
so a number on screen equals the number in the download. Concurrency (the peak of
`ConcurrentExecutions` Maximum) is the one column the CSV does not carry.

Charts read stored per-minute datapoints and, for long ranges, fold them into
buckets (`timerange.bucket_seconds`) so a month stays a few hundred points: counts
add up, averages average, percentiles and maxima keep the worst minute.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, func, or_, select, union
from sqlalchemy.orm import Session

from dashapp.models import LambdaFunction, MetricPoint
from dashapp.queries import lambda_summary
from dashapp.queries.filters import Window
from dashapp.queries.lambda_summary import LAMBDA_SERIES, LambdaSummary
from dashapp.queries.sql import stream
from dashapp.timerange import bucket_seconds

RESOURCE_TYPE = "lambda_function"
MIN_COMPARE = 2
MAX_COMPARE = 6


@dataclass(frozen=True)
class Series:
    """One line of a chart: its label, metric and stat, and (time, value) points."""

    label: str
    metric: str
    stat: str
    points: list[tuple[datetime, float]]


@dataclass(frozen=True)
class ChartSpec:
    """One per-function chart: which (metric, stat) pairs it draws, under which labels."""

    key: str
    title: str
    unit: str
    series: tuple[tuple[str, str, str], ...]  # (metric, stat, label)


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec(
        "invocations",
        "Invocations and errors",
        "count",
        (("Invocations", "Sum", "Invocations"), ("Errors", "Sum", "Errors")),
    ),
    ChartSpec(
        "duration",
        "Duration",
        "ms",
        (
            ("Duration", "Average", "Average"),
            ("Duration", "p95", "p95"),
            ("Duration", "p99", "p99"),
            ("Duration", "Maximum", "Maximum"),
        ),
    ),
    ChartSpec("throttles", "Throttles", "count", (("Throttles", "Sum", "Throttles"),)),
    ChartSpec(
        "concurrency",
        "Concurrent executions",
        "executions",
        (("ConcurrentExecutions", "Maximum", "Peak concurrency"),),
    ),
)

# What the comparison view can overlay: key → (metric, stat, label, unit).
COMPARE_METRICS: dict[str, tuple[str, str, str, str]] = {
    "invocations": ("Invocations", "Sum", "Invocations", "count"),
    "errors": ("Errors", "Sum", "Errors", "count"),
    "duration_p95": ("Duration", "p95", "Duration p95", "ms"),
    "duration_p99": ("Duration", "p99", "Duration p99", "ms"),
    "duration_avg": ("Duration", "Average", "Duration average", "ms"),
    "throttles": ("Throttles", "Sum", "Throttles", "count"),
    "concurrency": ("ConcurrentExecutions", "Maximum", "Peak concurrency", "executions"),
}


class CompareError(ValueError):
    """A comparison that cannot be drawn; `str()` tells the user what to change."""


def grid_row(summary: LambdaSummary, concurrency: float | None) -> dict[str, Any]:
    """One table row; every summary value rounded as the CSV rounds it."""
    return {
        **lambda_summary.rounded(summary),
        "function_name": summary.function_name,
        "concurrency_max": lambda_summary.round_figure(concurrency),
    }


def peak_concurrency(session: Session, window: Window) -> dict[str, float]:
    """Each function's highest `ConcurrentExecutions` Maximum in [since, until)."""
    rows = session.execute(
        select(MetricPoint.resource_name, func.max(MetricPoint.value))
        .where(
            MetricPoint.resource_type == RESOURCE_TYPE,
            MetricPoint.metric == "ConcurrentExecutions",
            MetricPoint.stat == "Maximum",
            MetricPoint.ts >= window.since,
            MetricPoint.ts < window.until,
        )
        .group_by(MetricPoint.resource_name)
    )
    return {name: float(value) for name, value in rows}


def lambda_table_rows(session: Session, window: Window) -> list[dict[str, Any]]:
    """The functions table: one row per function lambda-summary.csv lists, same order."""
    peaks = peak_concurrency(session, window)
    return [grid_row(s, peaks.get(s.function_name)) for s in summaries(session, window)]


def _points(
    session: Session, names: Sequence[str], pairs: Iterable[tuple[str, str]], window: Window
) -> dict[tuple[str, str, str], list[tuple[datetime, float]]]:
    wanted = set(pairs)
    metrics = sorted({m for m, _ in wanted})
    rows = session.execute(
        select(
            MetricPoint.resource_name,
            MetricPoint.metric,
            MetricPoint.stat,
            MetricPoint.ts,
            MetricPoint.value,
        )
        .where(
            MetricPoint.resource_type == RESOURCE_TYPE,
            MetricPoint.resource_name.in_(list(names)),
            MetricPoint.metric.in_(metrics),
            MetricPoint.ts >= window.since,
            MetricPoint.ts < window.until,
        )
        .order_by(MetricPoint.ts)
    )
    found: dict[tuple[str, str, str], list[tuple[datetime, float]]] = defaultdict(list)
    for name, metric, stat, ts, value in rows:
        if (metric, stat) in wanted:
            found[(name, metric, stat)].append((ts, float(value)))
    return found


def bucketed(
    points: Sequence[tuple[datetime, float]], stat: str, step_s: int
) -> list[tuple[datetime, float]]:
    """Fold per-minute points into `step_s` buckets: Sum adds, Average averages, others max."""
    if step_s <= 60:
        return list(points)
    groups: dict[datetime, list[float]] = defaultdict(list)
    for ts, value in points:
        start = int(ts.timestamp()) // step_s * step_s
        groups[datetime.fromtimestamp(start, UTC)].append(value)
    out = []
    for ts in sorted(groups):
        values = groups[ts]
        if stat == "Sum":
            out.append((ts, sum(values)))
        elif stat == "Average":
            out.append((ts, sum(values) / len(values)))
        else:
            out.append((ts, max(values)))
    return out


def chart_step(window: Window) -> int:
    """The bucket width charts of this window use (60 s: every stored minute)."""
    return bucket_seconds((window.until - window.since).total_seconds(), 240)


def function_charts(session: Session, name: str, window: Window) -> dict[str, list[Series]]:
    """Every chart of CHARTS for one function, keyed by chart key."""
    pairs = [(m, s) for chart in CHARTS for m, s, _ in chart.series]
    found = _points(session, [name], pairs, window)
    step = chart_step(window)
    return {
        chart.key: [
            Series(label, m, s, bucketed(found.get((name, m, s), []), s, step))
            for m, s, label in chart.series
        ]
        for chart in CHARTS
    }


def validate_compare(names: Sequence[str] | None, metric: str | None) -> tuple[list[str], str]:
    """The comparison's functions (2 to 6, duplicates dropped) and metric key, or CompareError."""
    chosen = list(dict.fromkeys(n for n in (names or []) if n))
    key = metric or "invocations"
    if key not in COMPARE_METRICS:
        raise CompareError(f"unknown metric {metric!r}; one of {', '.join(COMPARE_METRICS)}")
    if len(chosen) < MIN_COMPARE:
        raise CompareError(f"Pick at least {MIN_COMPARE} functions to compare.")
    if len(chosen) > MAX_COMPARE:
        raise CompareError(
            f"Compare at most {MAX_COMPARE} functions at once; {len(chosen)} are selected."
        )
    return chosen, key


def compare_series(
    session: Session, names: Sequence[str], metric_key: str, window: Window
) -> list[Series]:
    """One series per function for the chosen metric, in the order given."""
    metric, stat, _label, _unit = COMPARE_METRICS[metric_key]
    found = _points(session, names, [(metric, stat)], window)
    step = chart_step(window)
    return [
        Series(name, metric, stat, bucketed(found.get((name, metric, stat), []), stat, step))
        for name in names
    ]


def describe_series(series: Series, unit: str) -> str:
    """A text alternative of one line: total or peak, and when the peak was."""
    if not series.points:
        return f"{series.label}: no datapoints in the range."
    peak_ts, peak = max(series.points, key=lambda p: p[1])
    peak_text = f"peak {_fmt(peak)} {unit} at {peak_ts:%Y-%m-%d %H:%M} UTC"
    if series.stat == "Sum":
        total = sum(v for _, v in series.points)
        return f"{series.label}: {_fmt(total)} in total, {peak_text}."
    return f"{series.label}: {peak_text}."


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def summaries(session: Session, window: Window) -> Iterator[LambdaSummary]:
    """One summary per function in [since, until), by name: the page's table and the CSV."""
    names = lambda_function_names(session, window)
    return lambda_summary.lambda_summaries(names, lambda_point_rows(session, window))


def lambda_function_names(session: Session, window: Window) -> list[str]:
    """Every function the inventory knows (deleted too), plus any with datapoints in the window."""
    with_points = (
        select(MetricPoint.resource_name)
        .where(
            MetricPoint.resource_type == "lambda_function",
            MetricPoint.ts >= window.since,
            MetricPoint.ts < window.until,
        )
        .distinct()
    )
    names = union(select(LambdaFunction.name), with_points)
    return sorted(session.scalars(select(names.subquery().c[0])))


def lambda_point_rows(session: Session, window: Window) -> Iterator[Row[Any]]:
    """The Lambda datapoints a summary uses, in [since, until), ordered by function, minute."""
    series = [
        (MetricPoint.metric == metric) & (MetricPoint.stat == stat)
        for metric, stat in LAMBDA_SERIES
    ]
    stmt = (
        select(
            MetricPoint.resource_name,
            MetricPoint.ts,
            MetricPoint.metric,
            MetricPoint.stat,
            MetricPoint.value,
        )
        .where(
            MetricPoint.resource_type == "lambda_function",
            MetricPoint.ts >= window.since,
            MetricPoint.ts < window.until,
            or_(*series),
        )
        .order_by(MetricPoint.resource_name, MetricPoint.ts)
    )
    return stream(session, stmt)
