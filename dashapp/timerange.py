"""The `range=` grammar every page's URL uses, and the query strings that carry page state.

A time range is written one of two ways, so a copied link reopens the same view:

- relative, ending at "now": `<n><unit>` with unit `m`, `h` or `d`, e.g. `1h`, `24h`, `7d`
  (the picker offers `PRESETS`; any 1 minute to 400 days parses);
- absolute: `<since>~<until>`, each ISO 8601 (naive means UTC), e.g.
  `2026-11-01T00:00Z~2026-11-02T00:00Z`.

Everything here is pure: `now` is an argument, errors are `TimeRangeError` with a
sentence a user can act on. A page that wants a time range:

1. `layout(**query)`: `resolved = resolve_range(query.get("range"), now)` and render
   `layouts.timerange.time_range_picker(PAGE, resolved.value)`;
2. `register(app)`: `callbacks.timerange.register_time_range(app, PAGE)` (preset /
   custom from-to → the picker's value store, with an error line for bad input);
3. read `Input(range_ids(PAGE).value, "data")` in its data callbacks, call
   `parse_range(value, now)` (or `resolve_range`) and read `TimeRange.bounds` (the one
   rule for a range's end), and name the store in the page's `layouts.url_state.UrlState`
   so the URL keeps it.

Export links (pages/links.py) pin the window to absolute `since`/`until` (ISO 8601 Z)
from the same bounds, so the download holds exactly the rows on screen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

from dashapp.clock import as_utc

DEFAULT_RANGE = "24h"
PRESETS: tuple[str, ...] = ("1h", "6h", "24h", "7d", "30d")
SEPARATOR = "~"
MAX_SPAN = timedelta(days=400)

_UNITS = {"m": 60, "h": 3600, "d": 86400}
_UNIT_WORDS = {"m": "minute", "h": "hour", "d": "day"}
_RELATIVE_RE = re.compile(r"^(\d{1,6})([mhd])$")


class TimeRangeError(ValueError):
    """A `range=` value that cannot be read, phrased for the person who typed it."""


@dataclass(frozen=True)
class TimeRange:
    """A resolved range: its canonical text, the half-open window [since, until), a label."""

    value: str
    since: datetime
    until: datetime
    relative: bool

    @property
    def query_until(self) -> datetime:
        """The end every page reads to (the one rule for a range's end): an absolute range's
        `until`; a relative range's `query_end(now)`."""
        return query_end(self.until) if self.relative else self.until

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """The half-open window [since, query_until) a page reads and its export pins."""
        return self.since, self.query_until

    @property
    def seconds(self) -> float:
        return (self.until - self.since).total_seconds()

    @property
    def label(self) -> str:
        """'Last 24 hours' or '2026-11-01 00:00 – 2026-11-02 00:00 UTC'."""
        if self.relative:
            n, unit = _RELATIVE_RE.match(self.value).groups()  # type: ignore[union-attr]
            word = _UNIT_WORDS[unit] + ("" if n == "1" else "s")
            return f"Last {n} {word}" if n != "1" else f"Last {word}"
        return f"{_short(self.since)} – {_short(self.until)} UTC"


def query_end(now: datetime) -> datetime:
    """Where a range ending "now" stops reading: the next whole second after `now`.

    Windows are half-open, so what happened in the current second must be inside; a
    whole second keeps an export link pinned to it exact (`iso_z` shows no fraction).
    """
    return as_utc(now).replace(microsecond=0) + timedelta(seconds=1)


def _short(value: datetime) -> str:
    return as_utc(value).strftime("%Y-%m-%d %H:%M")


def _text(raw: object, what: str) -> str:
    """A value from a URL or a callback as text; None is empty, anything else is refused."""
    if raw is None or isinstance(raw, str):
        return raw or ""
    raise TimeRangeError(f"{what} {raw!r} is not text")


def parse_instant(text: str, what: str) -> datetime:
    """One end of an absolute range: ISO 8601 with `Z`, an offset, or naive (UTC)."""
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise TimeRangeError(
            f"{what} {raw!r} is not a date-time; write e.g. 2026-11-01T00:00Z"
        ) from None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise TimeRangeError(f"{what} {raw!r} is outside the years 1 to 9999 in UTC") from None


def format_instant(value: datetime) -> str:
    """ISO 8601 UTC, as short as it can be exactly: minutes unless seconds are set."""
    # isoformat, not strftime: glibc's %Y writes year 999 as '999', which no parser reads back.
    v = as_utc(value).replace(tzinfo=None)
    if v.second == 0 and v.microsecond == 0:
        return v.isoformat(timespec="minutes") + "Z"
    if v.microsecond == 0:
        return v.isoformat(timespec="seconds") + "Z"
    return v.isoformat(timespec="microseconds") + "Z"


def format_absolute(since: datetime, until: datetime) -> str:
    """The `range=` text of an absolute window."""
    return f"{format_instant(since)}{SEPARATOR}{format_instant(until)}"


def parse_range(raw: object, now: datetime, default: str = DEFAULT_RANGE) -> TimeRange:
    """Read a `range=` value (empty or None means `default`) into a window ending by `now`.

    Raises `TimeRangeError` naming what is wrong: unknown unit, zero or too long a
    span, unreadable date, or `since` not before `until` (or, from a crafted request,
    not text at all).
    """
    text = _text(raw, "range").strip() or default
    if SEPARATOR in text:
        return _parse_absolute(text)
    match = _RELATIVE_RE.match(text.lower())
    if match is None:
        raise TimeRangeError(
            f"range {text!r} is neither a span like 24h, 7d or 30m nor "
            f"from{SEPARATOR}to date-times like 2026-11-01T00:00Z{SEPARATOR}2026-11-02T00:00Z"
        )
    n, unit = int(match.group(1)), match.group(2)
    span = timedelta(seconds=n * _UNITS[unit])
    if n == 0:
        raise TimeRangeError(f"range {text!r} is empty; give a span of at least 1{unit}")
    if span > MAX_SPAN:
        raise TimeRangeError(f"range {text!r} is longer than the {MAX_SPAN.days} days kept")
    until = as_utc(now)
    return TimeRange(value=f"{n}{unit}", since=until - span, until=until, relative=True)


def _parse_absolute(text: str) -> TimeRange:
    parts = text.split(SEPARATOR)
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise TimeRangeError(
            f"range {text!r} needs exactly one {SEPARATOR} between two date-times "
            f"(from{SEPARATOR}to)"
        )
    since = parse_instant(parts[0], "from")
    until = parse_instant(parts[1], "to")
    return absolute_range(since, until)


def absolute_range(since: datetime, until: datetime) -> TimeRange:
    """An absolute range from two instants, checked the same way a typed one is."""
    since, until = as_utc(since), as_utc(until)
    if since >= until:
        raise TimeRangeError(
            f"from ({format_instant(since)}) must be before to ({format_instant(until)})"
        )
    if until - since > MAX_SPAN:
        raise TimeRangeError(f"the range is longer than the {MAX_SPAN.days} days kept")
    return TimeRange(format_absolute(since, until), since, until, relative=False)


def resolve_range(
    raw: object, now: datetime, default: str = DEFAULT_RANGE
) -> tuple[TimeRange, str | None]:
    """Like `parse_range`, but a bad value falls back to `default` and returns why.

    Pages use this for the URL they were opened with: a mangled link still shows
    something, and the message says what was ignored.
    """
    try:
        return parse_range(raw, now, default), None
    except TimeRangeError as e:
        return parse_range(default, now, default), f"{e}; showing {default} instead"


def normalise_range(raw: object, default: str = DEFAULT_RANGE) -> tuple[str, str | None]:
    """The canonical `range=` text of a URL value (no clock needed), and why it was replaced.

    Layouts use it to set the picker from the link they were opened with.
    """
    found, error = resolve_range(raw, _ANY_NOW, default)
    return found.value, error


_ANY_NOW = datetime(2000, 1, 1, tzinfo=UTC)  # relative ranges' text does not depend on now


def local_input_value(value: datetime) -> str:
    """A UTC instant as an `<input type=datetime-local>` value ('2026-11-01T00:00')."""
    return as_utc(value).replace(tzinfo=None).isoformat(timespec="minutes")


def custom_range(since_text: object, until_text: object) -> str:
    """The `range=` text of the picker's from/to inputs (UTC), or `TimeRangeError`."""
    since_text, until_text = _text(since_text, "from"), _text(until_text, "to")
    if not since_text.strip():
        raise TimeRangeError("give a 'from' date-time for a custom range")
    if not until_text.strip():
        raise TimeRangeError("give a 'to' date-time for a custom range")
    since = parse_instant(since_text, "from")
    until = parse_instant(until_text, "to")
    return absolute_range(since, until).value


def bucket_seconds(window_s: float, target_points: int = 120) -> int:
    """A chart bucket width (a 'nice' number of seconds) giving about `target_points` points."""
    for step in (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400):
        if window_s / step <= target_points:
            return step
    return 86400 * max(1, int(window_s // (86400 * target_points)) + 1)


# --- page state in the query string -------------------------------------------------------


def parse_search(search: object) -> dict[str, str]:
    """`?a=1&b=2` → {'a': '1', 'b': '2'}; a repeated key keeps its last value, blanks dropped."""
    text = search.lstrip("?") if isinstance(search, str) else ""
    return {k: v for k, v in parse_qsl(text, keep_blank_values=False)}


def permalink_search(
    state: Mapping[str, str | None] | Iterable[tuple[str, str | None]],
    defaults: Mapping[str, str] | None = None,
) -> str:
    """The `search` of a page's URL for its state: `?range=24h&state=FAILED`, or ''.

    Keys keep the given order (stable links); empty values, and values equal to
    their default, are left out so a default view has a short URL.
    """
    items = state.items() if isinstance(state, Mapping) else state
    defaults = defaults or {}
    kept = [(k, v) for k, v in items if v not in (None, "") and defaults.get(k) != v]
    return "?" + urlencode(kept, safe=":~") if kept else ""
