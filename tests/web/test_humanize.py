"""How ages, durations and times read on screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashapp.web.humanize import ago, clock_utc, duration, span


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-3, "just now"),
        (0.4, "just now"),
        (1, "1 s ago"),
        (12.9, "12 s ago"),
        (59, "59 s ago"),
        (60, "1 min ago"),
        (412, "6 min ago"),
        (3599, "59 min ago"),
        (3600, "1 h ago"),
        (6960, "2 h ago"),  # 1 h 56 min rounds to the nearest hour
        (5399, "1 h ago"),
        (5400, "2 h ago"),
        (47 * 3600, "47 h ago"),
        (48 * 3600, "2 d ago"),
        (10 * 86400 + 3600, "10 d ago"),
    ],
)
def test_ago(seconds: float, expected: str) -> None:
    assert ago(seconds) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0.85, "850 ms"),
        (1.84, "1.8 s"),
        (59.94, "59.9 s"),
        (61, "1 min 01 s"),
        (245, "4 min 05 s"),
        (3725, "1 h 02 min"),
    ],
)
def test_duration(seconds: float, expected: str) -> None:
    assert duration(seconds) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(45, "45 s"), (180, "3 min"), (7200, "2 h"), (26 * 3600, "26 h"), (3 * 86400, "3 d")],
)
def test_span(seconds: int, expected: str) -> None:
    assert span(seconds) == expected


def test_clock_utc_shows_the_date_only_for_other_days() -> None:
    now = datetime(2026, 11, 25, 18, 32, 17, tzinfo=UTC)
    assert clock_utc(now - timedelta(seconds=12), now) == "18:32:05 UTC"
    assert clock_utc(now - timedelta(days=1), now) == "2026-11-24 18:32 UTC"
    # Converted to UTC whatever zone it arrives in.
    from zoneinfo import ZoneInfo

    berlin = (now - timedelta(seconds=12)).astimezone(ZoneInfo("Europe/Berlin"))
    assert clock_utc(berlin, now) == "18:32:05 UTC"
