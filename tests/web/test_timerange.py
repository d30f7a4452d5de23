"""The `range=` grammar, the picker's decisions and the permalink query strings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callbacks.timerange import picker_change
from dashapp.timerange import (
    PRESETS,
    TimeRangeError,
    bucket_seconds,
    custom_range,
    format_absolute,
    parse_range,
    parse_search,
    permalink_search,
    query_end,
    resolve_range,
)
from layouts.timerange import CUSTOM, range_ids, time_range_picker
from tests.web.tree import by_id, ids

NOW = datetime(2026, 11, 25, 18, 32, 17, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "seconds", "label"),
    [
        ("1h", 3600, "Last hour"),
        ("6h", 6 * 3600, "Last 6 hours"),
        ("24h", 86400, "Last 24 hours"),
        ("7d", 7 * 86400, "Last 7 days"),
        ("30d", 30 * 86400, "Last 30 days"),
        ("15m", 900, "Last 15 minutes"),
        (" 2H ", 7200, "Last 2 hours"),
    ],
)
def test_relative_ranges_end_now(raw: str, seconds: int, label: str) -> None:
    found = parse_range(raw, NOW)
    assert found.relative
    assert found.until == NOW
    assert found.since == NOW - timedelta(seconds=seconds)
    assert found.label == label


def test_empty_range_is_the_default_24h() -> None:
    assert parse_range(None, NOW).value == "24h"
    assert parse_range("", NOW).since == NOW - timedelta(hours=24)
    assert parse_range(None, NOW, default="1h").value == "1h"


def test_a_relative_range_queries_through_the_current_second_an_absolute_one_does_not() -> None:
    assert parse_range("1h", NOW).query_until == NOW + timedelta(seconds=1)
    absolute = parse_range("2026-11-01T00:00Z~2026-11-02T00:00Z", NOW)
    assert absolute.query_until == datetime(2026, 11, 2, tzinfo=UTC)


def test_a_relative_range_ends_at_the_next_whole_second_so_a_pinned_export_matches() -> None:
    now = NOW + timedelta(microseconds=250_000)
    found = parse_range("1h", now)
    assert found.bounds == (now - timedelta(hours=1), NOW + timedelta(seconds=1))
    assert query_end(now) == NOW + timedelta(seconds=1)


def test_absolute_range_round_trips() -> None:
    found = parse_range("2026-11-01T00:00Z~2026-11-02T00:00Z", NOW)
    assert not found.relative
    assert found.since == datetime(2026, 11, 1, tzinfo=UTC)
    assert found.until == datetime(2026, 11, 2, tzinfo=UTC)
    assert found.value == "2026-11-01T00:00Z~2026-11-02T00:00Z"
    assert found.label == "2026-11-01 00:00 – 2026-11-02 00:00 UTC"
    # Offsets and naive (UTC) ends are normalised to the canonical Z form.
    again = parse_range("2026-11-01T01:00+01:00~2026-11-02T00:00:30", NOW)
    assert again.value == "2026-11-01T00:00Z~2026-11-02T00:00:30Z"
    assert format_absolute(found.since, found.until) == found.value


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("yesterday", "neither a span"),
        ("24x", "neither a span"),
        ("0h", "is empty"),
        ("500d", "longer than the 400 days"),
        ("2026-11-02T00:00Z~2026-11-01T00:00Z", "must be before"),
        ("2026-11-01T00:00Z~", "exactly one ~"),
        ("a~b~c", "exactly one ~"),
        ("2026-13-01T00:00Z~2026-11-02T00:00Z", "from '2026-13-01T00:00Z' is not a date-time"),
        ("2026-11-01T00:00Z~soon", "to 'soon' is not a date-time"),
    ],
)
def test_bad_ranges_say_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(TimeRangeError, match=message):
        parse_range(raw, NOW)


def test_resolve_range_falls_back_with_a_reason() -> None:
    found, error = resolve_range("nonsense", NOW)
    assert found.value == "24h"
    assert error is not None and "showing 24h instead" in error
    assert resolve_range("7d", NOW) == (parse_range("7d", NOW), None)


def test_custom_range_reads_datetime_local_inputs_as_utc() -> None:
    assert custom_range("2026-11-01T00:00", "2026-11-01T06:30") == (
        "2026-11-01T00:00Z~2026-11-01T06:30Z"
    )
    with pytest.raises(TimeRangeError, match="give a 'from'"):
        custom_range("", "2026-11-01T06:30")
    with pytest.raises(TimeRangeError, match="give a 'to'"):
        custom_range("2026-11-01T00:00", None)


def test_picker_presets_apply_and_errors() -> None:
    assert picker_change("preset", "7d", None, None).value == "7d"
    # Choosing "Custom" changes nothing until Apply.
    assert picker_change("preset", CUSTOM, None, None).value is None
    applied = picker_change("apply", CUSTOM, "2026-11-01T00:00", "2026-11-02T00:00")
    assert applied.value == "2026-11-01T00:00Z~2026-11-02T00:00Z"
    assert applied.preset == CUSTOM
    refused = picker_change("apply", "24h", "2026-11-02T00:00", "2026-11-01T00:00")
    assert refused.value is None
    assert refused.error.startswith("Range not changed: from (2026-11-02T00:00Z) must be before")


def test_bucket_seconds_keeps_charts_near_120_points() -> None:
    assert bucket_seconds(3600) == 60
    assert bucket_seconds(86400) == 900
    assert bucket_seconds(30 * 86400) == 6 * 3600
    assert 400 * 86400 / bucket_seconds(400 * 86400) <= 120


def test_permalink_search_is_short_ordered_and_round_trips() -> None:
    state = {"range": "2026-11-01T00:00Z~2026-11-02T00:00Z", "state": "FAILED", "q": None}
    search = permalink_search(state)
    assert search == "?range=2026-11-01T00:00Z~2026-11-02T00:00Z&state=FAILED"
    assert parse_search(search) == {k: v for k, v in state.items() if v}
    assert permalink_search({"range": "24h", "tag": ""}, defaults={"range": "24h"}) == ""
    assert parse_search("?q=a+b&job=x%2Fy") == {"q": "a b", "job": "x/y"}


def test_picker_ids_derive_from_the_page_and_show_the_value() -> None:
    picker = time_range_picker("lambda", "7d")
    rid = range_ids("lambda")
    assert {rid.preset, rid.since, rid.until, rid.apply, rid.error, rid.value} <= set(ids(picker))
    assert by_id(picker, rid.value).data == "7d"
    assert by_id(picker, rid.preset).value == "7d"
    assert [o["value"] for o in by_id(picker, rid.preset).options] == [*PRESETS, CUSTOM]
    custom = time_range_picker("lambda", "2026-11-01T00:00Z~2026-11-02T00:00Z")
    assert by_id(custom, rid.preset).value == CUSTOM
    assert by_id(custom, rid.since).value == "2026-11-01T00:00"
    assert by_id(custom, rid.until).value == "2026-11-02T00:00"
