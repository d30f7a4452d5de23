"""Run figures and freshness SLAs: medians, success rates, cost, "late", as pure functions.

A job is late when it has not succeeded within its dataset's expected interval, or
1.25 periods of its Glue schedule (`dashapp.schedules` reads the schedule).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from dashapp.config import Dataset
from dashapp.schedules import schedule_interval_s


def median(values: Iterable[float]) -> float | None:
    """The median of the values (mean of the middle two when even); None when there are none."""
    ordered = sorted(v for v in values if v is not None and not math.isnan(v))
    if not ordered:
        return None
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def success_rate(succeeded: int, failed: int) -> float | None:
    """Succeeded over finished-with-an-outcome runs (stopped and running runs don't count)."""
    finished = succeeded + failed
    return succeeded / finished if finished else None


def cost(dpu_seconds: float | None, dpu_hour_price: float) -> float | None:
    """What DPU-seconds cost at the configured price of a DPU-hour."""
    return None if dpu_seconds is None else dpu_seconds / 3600.0 * dpu_hour_price


SCHEDULE_GRACE = 1.25  # a scheduled job is late after 1.25 of its period without success


@dataclass(frozen=True)
class Sla:
    """The freshness expectation of a job and whether it is met at `now`."""

    interval_s: int
    source: Literal["dataset", "schedule"]
    late: bool
    age_s: float | None  # since the last success; None when never succeeded


def expected_interval(
    job_name: str, schedule: str | None, datasets: Sequence[Dataset]
) -> tuple[int, Literal["dataset", "schedule"]] | None:
    """The job's SLA: its dataset's `expected_interval_s` (tightest), else its schedule's."""
    intervals = [
        d.expected_interval_s for d in datasets if d.glue_job == job_name and d.expected_interval_s
    ]
    if intervals:
        return min(intervals), "dataset"
    period = schedule_interval_s(schedule)
    if period is not None:
        return int(period * SCHEDULE_GRACE), "schedule"
    return None


def sla_status(
    job_name: str,
    schedule: str | None,
    last_success_at: datetime | None,
    datasets: Sequence[Dataset],
    now: datetime,
) -> Sla | None:
    """Late when the job has not succeeded within its expected interval; None: no SLA."""
    expected = expected_interval(job_name, schedule, datasets)
    if expected is None:
        return None
    interval, source = expected
    age = (now - last_success_at).total_seconds() if last_success_at is not None else None
    return Sla(interval, source, late=age is None or age > interval, age_s=age)
