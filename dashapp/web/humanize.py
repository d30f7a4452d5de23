"""Times and durations as people read them on a status page.

Every page shows ages ("12 s ago") with the exact ISO time in a tooltip, so one
set of wording is used everywhere and tested once. All functions are pure: the
current time is an argument, never read from the system clock here.
"""

from __future__ import annotations

from datetime import datetime

from dashapp.clock import as_utc


def ago(seconds: float) -> str:
    """'12 s ago', '4 min ago', '5 h ago', '3 d ago'; under a second (or skew) is 'just now'."""
    if seconds < 1:
        return "just now"
    s = int(seconds)
    if s < 60:
        return f"{s} s ago"
    if s < 3600:
        return f"{s // 60} min ago"
    # Hours and days round to the nearest unit: a run 1 h 56 min ago reads "2 h ago".
    if s < 47 * 3600 + 1800:
        return f"{(s + 1800) // 3600} h ago"
    return f"{(s + 43200) // 86400} d ago"


def duration(seconds: float) -> str:
    """A run or cycle length: '850 ms', '12.3 s', '4 min 05 s', '1 h 02 min'."""
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    s = round(seconds)
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


def span(seconds: float) -> str:
    """An interval such as an SLA, in its largest whole unit: '26 h', '45 min', '3 d'."""
    s = int(seconds)
    if s % 86400 == 0 and s >= 86400 and s // 86400 >= 3:
        return f"{s // 86400} d"
    if s % 3600 == 0 and s >= 3600:
        return f"{s // 3600} h"
    if s % 60 == 0 and s >= 60:
        return f"{s // 60} min"
    return f"{s} s"


def clock_utc(value: datetime, now: datetime) -> str:
    """'18:32:05 UTC' for today (UTC); '2026-11-24 18:32 UTC' for any other day."""
    v, n = as_utc(value), as_utc(now)
    if v.date() == n.date():
        return v.strftime("%H:%M:%S UTC")
    return v.strftime("%Y-%m-%d %H:%M UTC")


def percent(rate: float | None) -> str:
    """'87%' of a 0–1 rate; '–' when there is none (no finished run)."""
    return "–" if rate is None else f"{rate * 100:.0f}%"


def money(amount: float | None, currency: str) -> str:
    """'0.42 USD'; small amounts keep enough places to be non-zero."""
    if amount is None:
        return "–"
    places = 2 if amount >= 1 or amount == 0 else 4
    return f"{amount:,.{places}f} {currency}"
