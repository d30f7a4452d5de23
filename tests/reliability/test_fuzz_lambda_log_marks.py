"""The Lambda logs mark under random bursts, ties, failures and late lines: no line is left
behind it unread.

Why: a function's streams are listed only past its mark, so a mark that passes a stream
with unread lines loses them for good. The mark logic (`pending_streams`, `mark_after`) is
driven here as the collector drives it, against a model of a log group: streams with many
last-event ties (more of one instant than a budget takes), streams that fail to read, and
streams that get new lines between cycles, read and unread alike.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.lambda_logs import Mark, mark_after, pending_streams
from dashapp.aws.logs import StreamInfo

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class Group:
    """A log group as DescribeLogStreams and GetLogEvents show it, and what was read."""

    def __init__(self, first_events: dict[str, datetime]) -> None:
        self.last = dict(first_events)
        self.events = dict.fromkeys(first_events, 1)
        self.read = dict.fromkeys(first_events, 0)

    def listed(self, since: datetime) -> list[StreamInfo]:
        """`recent_streams`: streams whose last event is after `since`."""
        return [StreamInfo(name, at) for name, at in self.last.items() if at > since]

    def append(self, name: str, at: datetime) -> None:
        self.events[name] += 1
        self.last[name] = max(self.last[name], at)

    def unread_behind(self, mark: Mark) -> list[str]:
        return [
            name
            for name, at in self.last.items()
            if self.read[name] < self.events[name] and mark.covers(StreamInfo(name, at))
        ]


def cycle(group: Group, mark: Mark, budget: int, failing: set[str]) -> Mark:
    pending = pending_streams(group.listed(mark.list_since), mark)
    picked = pending[:budget]
    for stream in picked:
        if stream.name not in failing:
            group.read[stream.name] = group.events[stream.name]
    failed = {s.name for s in picked if s.name in failing}
    return mark_after(mark, picked, len(picked) == len(pending), failed)


names = st.text(alphabet="0123456789abcdef[]$/", min_size=1, max_size=6)
picks = st.integers(0, 24)  # a stream, by its place among the group's names


@settings(max_examples=300)
@given(
    first=st.dictionaries(names, st.integers(0, 3), min_size=1, max_size=25),
    budget=st.integers(1, 8),
    steps=st.lists(
        st.tuples(st.sets(picks, max_size=4), st.sets(picks, max_size=4), st.integers(1, 1500)),
        max_size=8,
    ),
)
def test_no_stream_with_unread_lines_falls_behind_the_mark(
    first: dict[str, int], budget: int, steps: list[tuple[set[int], set[int], int]]
) -> None:
    """After any cycles with failures and late lines, the mark never covers a stream with
    unread lines, and ceil(streams / budget) clean cycles read every line."""
    group = Group({name: START + timedelta(seconds=s) for name, s in first.items()})
    mark = Mark(START - timedelta(hours=1))
    now, streams = max(group.last.values()), sorted(first)
    for failing, appending, gap_ms in steps:
        mark = cycle(group, mark, budget, {streams[i % len(streams)] for i in failing})
        assert group.unread_behind(mark) == []
        now += timedelta(milliseconds=gap_ms)  # new lines are newer than any line listed
        for name in {streams[i % len(streams)] for i in appending}:
            group.append(name, now)
        assert group.unread_behind(mark) == []
    for _ in range(math.ceil(len(first) / budget)):
        mark = cycle(group, mark, budget, set())
    assert group.read == group.events
    assert pending_streams(group.listed(mark.list_since), mark) == []  # caught up
