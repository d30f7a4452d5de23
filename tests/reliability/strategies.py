"""Hypothesis strategies for what users, browsers and crafted requests send.

Random text alone rarely hits the inputs that break parsers, so every strategy mixes
in the values that do: edges of the calendar, offsets that leave the years 1 to 9999,
numbers too big for a float or a 64-bit column, Unicode digits `int()` refuses,
control characters, lone surrogates, and text that means something to SQL or LIKE.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

EDGE_TEXT: tuple[str, ...] = (
    "",
    " ",
    "\t\n",
    "\x00",
    "\x7f",
    "²",  # str.isdigit() says yes, int() says no
    "١٢٣",  # Arabic-Indic digits: int() reads them
    "½",
    "-1",
    "+1",
    "0",
    "00",
    "1e400",
    "inf",
    "-inf",
    "nan",
    "9" * 25,
    "9" * 5000,  # past Python's 4,300-digit int conversion limit
    "%",
    "_",
    "\\",
    "%_\\",
    "'",
    "''; DROP TABLE job_runs; --",
    '"',
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "../../etc/passwd",
    "..",
    "日本語",
    "emoji 🚀",
    "\ud800",  # a lone surrogate: JSON can carry it, UTF-8 cannot encode it
    "a" * 5000,
    "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
    "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
    "9999-12-31T23:59:59",
    "0001-01-01",
    "2026-02-30",
    "2026-11-25T25:00",
    "2026-11-25T18:00:00+24:00",
    "2026-11-25T18:00:00 01:00",
    "2026-11-25T18:00Z~2026-11-25T19:00Z",
    "1h",
    "0m",
    "999999d",
    "~",
)
# The values that broke a parser or a callback here before: weighted up wherever text goes
# into a lookup, a key or a number, so a few examples per callback reach them.
HOSTILE_TEXT: tuple[str, ...] = (
    "\ud800",
    "a\x00b",
    "²",
    "١٢",
    "9" * 19,
    "9" * 25,
    "9" * 5000,
    "x" * 300,
    " ",
)
EDGE_INTS: tuple[int, ...] = (0, -1, 1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 10**30, 10**400)
EDGE_FLOATS: tuple[float, ...] = (0.5, -0.0, 1e308, -1e308, 5e-324)


def edge_text() -> st.SearchStrategy[str]:
    """Text as a person, a browser or an attacker might send it."""
    return st.one_of(st.sampled_from(EDGE_TEXT), st.text(max_size=40))


def hostile_text() -> st.SearchStrategy[str]:
    return st.sampled_from(HOSTILE_TEXT)


def edge_ints() -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from(EDGE_INTS), st.integers())


def fixed_offsets() -> st.SearchStrategy[timezone]:
    return st.builds(
        timezone,
        st.timedeltas(
            min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
        ),
    )


def instants() -> st.SearchStrategy[datetime]:
    """Any date-time from year 1 to 9999, naive or with any fixed offset."""
    return st.datetimes(
        min_value=datetime(1, 1, 1),
        max_value=datetime(9999, 12, 31, 23, 59, 59),
        timezones=st.one_of(st.none(), st.just(UTC), fixed_offsets()),
    )


def iso_text() -> st.SearchStrategy[str]:
    """ISO 8601 date-times (every edge of the calendar) and text that only looks like one."""
    return st.one_of(
        instants().map(lambda d: d.isoformat()),
        instants().map(lambda d: d.isoformat().replace("+00:00", "Z")),
        instants().map(lambda d: d.isoformat(timespec="minutes")),
        edge_text(),
    )


def json_scalars() -> st.SearchStrategy[Any]:
    """What JSON can carry (a browser's JSON.stringify never sends NaN or Infinity)."""
    return st.one_of(
        st.none(),
        st.booleans(),
        edge_ints(),
        st.sampled_from(EDGE_FLOATS),
        st.floats(allow_nan=False, allow_infinity=False),
        edge_text(),
    )


def json_values(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    """Any JSON document: scalars, lists and objects nested a few levels."""
    return st.recursive(
        json_scalars(),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(edge_text(), inner, max_size=4),
        ),
        max_leaves=max_leaves,
    )
