"""Glue schedules: AWS `cron(...)` and `rate(...)` expressions, read in this one place.

The sandbox fires scheduled runs from them (APScheduler's cron engine), and the UI
derives a job's expected interval (freshness SLA) from the same engine, so both read
a schedule the same way.
"""

from __future__ import annotations

import functools
import itertools
import re
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

_AWS_CRON = re.compile(r"^cron\((.+)\)$", re.I)
_AWS_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$", re.I)
_UNIT_S = {"minute": 60, "hour": 3600, "day": 86400}
# Any fixed Monday will do: a regular schedule's period does not depend on the date.
_REFERENCE_WEEK = datetime(2001, 1, 1, tzinfo=UTC)
_TICK = timedelta(seconds=1)
_MAX_FIRES = 2000
_AWS_DOW = {"1": "sun", "2": "mon", "3": "tue", "4": "wed", "5": "thu", "6": "fri", "7": "sat"}


def _dow(field: str) -> str:
    """AWS numbers days 1=SUN..7=SAT; APScheduler numbers 0=MON. Translate numbers to names."""
    if field in ("?", "*"):
        return "*"
    return re.sub(r"\b[1-7]\b", lambda m: _AWS_DOW[m.group(0)], field.lower())


def cron_trigger(expression: str) -> CronTrigger:
    """A CronTrigger for an AWS schedule like `cron(15 */2 * * ? *)` (UTC, as Glue runs them)."""
    m = _AWS_CRON.match(expression.strip())
    if not m:
        raise ValueError(f"not an AWS cron expression: {expression!r}")
    fields = m.group(1).split()
    if len(fields) != 6:
        raise ValueError(
            f"AWS cron needs 6 fields (min hour day month weekday year): {expression!r}"
        )
    minute, hour, dom, month, dow, year = fields
    if "L" in dom or "W" in dom or "#" in dow:
        raise ValueError(f"unsupported AWS cron feature (L, W, #) in {expression!r}")
    return CronTrigger(
        minute=minute,
        hour=hour,
        day="*" if dom == "?" else dom,
        month=month,
        day_of_week=_dow(dow),
        year="*" if year in ("*", "?") else year,
        timezone=UTC,
    )


def fire_times(expression: str, start: datetime, end: datetime) -> list[datetime]:
    """Every time the schedule fires in [start, end)."""
    trigger = cron_trigger(expression)
    out: list[datetime] = []
    prev: datetime | None = None
    nxt = trigger.get_next_fire_time(None, start)
    while nxt is not None and nxt < end:
        if nxt != prev:
            out.append(nxt)
        prev = nxt
        nxt = trigger.get_next_fire_time(nxt, nxt + timedelta(seconds=1))
    return out


def next_fire_time(expression: str, after: datetime) -> datetime | None:
    """The first fire time strictly after `after`."""
    return cron_trigger(expression).get_next_fire_time(None, after + timedelta(microseconds=1))


def typical_interval(expression: str, around: datetime) -> timedelta:
    """The longest gap between fires over the week after `around` (weekends included)."""
    times = fire_times(expression, around, around + timedelta(days=8))
    if len(times) < 2:
        return timedelta(days=8)
    return max(b - a for a, b in itertools.pairwise(times))


@functools.lru_cache(maxsize=4096)
def schedule_interval_s(schedule: str | None) -> int | None:
    """How often a schedule fires, when it fires at a regular period; None otherwise.

    `rate(N unit)` is N units; a cron fires regularly when every gap between its fires
    over two weeks is the same (every 5 minutes, hourly, every 2 hours, daily, weekly).
    Weekdays only, monthly or unreadable schedules have no one period (no SLA badge).
    """
    if not schedule:
        return None
    text = schedule.strip()
    rate = _AWS_RATE.match(text)
    if rate:
        n, unit = int(rate.group(1)), rate.group(2).lower().rstrip("s")
        return n * _UNIT_S[unit] if n > 0 else None
    try:
        trigger = cron_trigger(text)
    except ValueError:
        return None
    end = _REFERENCE_WEEK + timedelta(days=15)
    gap: timedelta | None = None
    prev = trigger.get_next_fire_time(None, _REFERENCE_WEEK)
    # 2,000 equal gaps span more than a day and a night, enough to call a fast one regular.
    for _ in range(_MAX_FIRES):
        nxt = None if prev is None else trigger.get_next_fire_time(prev, prev + _TICK)
        if prev is None or nxt is None or nxt >= end:
            break
        if gap is not None and nxt - prev != gap:
            return None
        gap, prev = nxt - prev, nxt
    return None if gap is None else int(gap.total_seconds())
