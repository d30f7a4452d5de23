"""The log viewer's rules and reads: highlighting, levels, the incremental tail, the watch."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from dash import Patch
from sqlalchemy import select

from dashapp.models import LogEvent, LogWatch
from dashapp.queries import logs as lq
from dashapp.services import Services
from layouts.timerange import range_ids
from pages.logs import layout as logs
from pages.logs.callbacks import TailResult, export_href, lines_patch, load_view, tail_view
from tests.web.conftest import NOW
from tests.web.seed import job_run, lambda_function, log_event, log_stream
from tests.web.tree import by_id, text

OUT, ERR = "/aws-glue/jobs/output", "/aws-glue/jobs/error"
RUN = "jr_abc"
RUN_SOURCE = lq.LogSource("run", RUN)


# --- pure rules ------------------------------------------------------------------------------


def test_highlight_is_case_insensitive_and_keeps_the_text() -> None:
    parts = lq.highlight_parts("Error: disk ERROR again", "error")
    assert parts == [("Error", True), (": disk ", False), ("ERROR", True), (" again", False)]
    assert "".join(t for t, _ in parts) == "Error: disk ERROR again"


def test_highlight_treats_regex_and_html_literally() -> None:
    message = "matched a.*b and <b>bold</b> but not axxb"
    assert lq.highlight_parts(message, "a.*b") == [
        ("matched ", False),
        ("a.*b", True),
        (" and <b>bold</b> but not axxb", False),
    ]
    assert lq.highlight_parts(message, "<b>") == [
        ("matched a.*b and ", False),
        ("<b>", True),
        ("bold</b> but not axxb", False),
    ]


def test_highlight_without_query_or_match() -> None:
    assert lq.highlight_parts("plain", None) == [("plain", False)]
    assert lq.highlight_parts("plain", "zzz") == [("plain", False)]
    assert lq.highlight_parts("", "x") == []


def test_highlighted_line_renders_marks_as_text_never_markup() -> None:
    row = lq.LogRow(1, OUT, RUN, NOW, "ERROR", "boom <script>x</script> BOOM")
    drawn = logs.line(row, "boom")
    marks = [
        c for c in drawn.children[2].children if getattr(c, "__class__", None).__name__ == "Mark"
    ]
    assert [m.children for m in marks] == ["boom", "BOOM"]
    assert "<script>x</script>" in text(drawn)
    # Error lines say so in words next to the icon, not by colour only.
    assert "ERROR" in text(drawn.children[1])
    assert drawn.id == "log-line-1"


@pytest.mark.parametrize(
    ("raw", "level"),
    [
        (None, None),
        ("", None),
        ("all", None),
        ("error", "ERROR"),
        ("Warning", "WARN"),
        ("DEBUG", "DEBUG"),
    ],
)
def test_parse_level(raw: str | None, level: str | None) -> None:
    assert lq.parse_level(raw) == level


def test_parse_level_refuses_unknown_levels() -> None:
    with pytest.raises(
        lq.LogViewError, match="level 'loud' is not one of ERROR, WARN, INFO, DEBUG"
    ):
        lq.parse_level("loud")


def test_levels_at_least_means_that_level_and_more_severe() -> None:
    assert lq.levels_at_least("WARN") == ("ERROR", "WARN")
    assert lq.levels_at_least("ERROR") == ("ERROR",)
    assert lq.levels_at_least(None) is None


def test_parse_source() -> None:
    assert lq.parse_source("jr_1", None) == lq.LogSource("run", "jr_1")
    assert lq.parse_source(None, " fn ") == lq.LogSource("function", "fn")
    assert lq.parse_source(None, None) is None
    with pytest.raises(lq.LogViewError, match="not both"):
        lq.parse_source("jr_1", "fn")
    assert lq.source_from_value("function:a:b") == lq.LogSource("function", "a:b")
    assert lq.source_from_value("nonsense") is None


def test_export_href_names_the_stream_of_a_run_and_the_group_of_a_function() -> None:
    href = export_href(RUN_SOURCE, "/aws-glue/jobs", NOW - timedelta(hours=1), NOW, "a&b")
    query = parse_qs(urlsplit(href).query)
    assert urlsplit(href).path == "/export/log-events.csv"
    assert query == {
        "stream": [RUN],
        "q": ["a&b"],
        "since": ["2026-11-25T17:32:17Z"],
        "until": ["2026-11-25T18:32:17Z"],
    }
    href = export_href(lq.LogSource("function", "api"), "/x", NOW, NOW, None)
    assert parse_qs(urlsplit(href).query)["group"] == ["/aws/lambda/api"]


def test_trim_to_limit() -> None:
    assert lq.trim_to_limit(4990, 5, 5000) == 0
    assert lq.trim_to_limit(4990, 20, 5000) == 10


# --- reads on both databases -------------------------------------------------------------


def _view(**kw: object) -> lq.LogFilter:
    values: dict[object, object] = {"source": RUN_SOURCE, "since": NOW - timedelta(days=1)}
    values.update(kw)
    return lq.LogFilter(**values)  # type: ignore[arg-type]


def test_tail_reads_only_rows_after_the_cursor(sessions) -> None:
    with sessions.begin() as s:
        s.add_all(
            [
                log_event(OUT, RUN, NOW - timedelta(minutes=3), "starting", level="INFO"),
                log_event(ERR, RUN, NOW - timedelta(minutes=2), "ERROR boom", level="ERROR"),
                log_event(OUT, "jr_other", NOW - timedelta(minutes=2), "not mine"),
            ]
        )
    with sessions() as s:
        rows, cursor, more = lq.initial_lines(s, _view(), "/aws-glue/jobs")
        assert [r.message for r in rows] == ["starting", "ERROR boom"]
        assert not more
        assert cursor == lq.max_event_id(s)
        assert lq.tail_lines(s, _view(), "/aws-glue/jobs", cursor) == ([], cursor)
    with sessions.begin() as s:
        s.add_all(
            [
                log_event(OUT, "jr_other", NOW, "still not mine"),
                log_event(OUT, RUN, NOW, "WARN slow step", level="WARN"),
                log_event(OUT, RUN, NOW, "done", level="INFO"),
            ]
        )
    with sessions() as s:
        new, new_cursor = lq.tail_lines(s, _view(), "/aws-glue/jobs", cursor)
        assert [r.message for r in new] == ["WARN slow step", "done"]
        assert new_cursor == lq.max_event_id(s) > cursor
        warn_only, _ = lq.tail_lines(s, _view(level="WARN"), "/aws-glue/jobs", cursor)
        assert [r.message for r in warn_only] == ["WARN slow step"]
        searched, _ = lq.tail_lines(s, _view(q="DONE"), "/aws-glue/jobs", cursor)
        assert [r.message for r in searched] == ["done"]
        # A full page leaves the cursor on the last row read, so the rest comes next tick.
        first, partial = lq.tail_lines(s, _view(), "/aws-glue/jobs", cursor, limit=1)
        assert [r.message for r in first] == ["WARN slow step"]
        assert partial == first[0].id


def test_initial_lines_keep_the_newest_and_say_more_exist(sessions) -> None:
    with sessions.begin() as s:
        s.add_all(
            [log_event(OUT, RUN, NOW - timedelta(seconds=10 - i), f"line {i}") for i in range(5)]
        )
    with sessions() as s:
        rows, _, more = lq.initial_lines(s, _view(), "/aws-glue/jobs", limit=3)
    assert [r.message for r in rows] == ["line 2", "line 3", "line 4"]
    assert more


def test_search_is_literal_on_both_databases(sessions) -> None:
    with sessions.begin() as s:
        s.add_all(
            [
                log_event(OUT, RUN, NOW - timedelta(seconds=3), "100% done"),
                log_event(OUT, RUN, NOW - timedelta(seconds=2), "1000 done"),
                log_event(OUT, RUN, NOW - timedelta(seconds=1), "a_b and axb"),
            ]
        )
    with sessions() as s:
        assert [r.message for r in lq.initial_lines(s, _view(q="0%"), "/aws-glue/jobs")[0]] == [
            "100% done"
        ]
        assert [r.message for r in lq.initial_lines(s, _view(q="A_B"), "/aws-glue/jobs")[0]] == [
            "a_b and axb"
        ]


def test_first_error_is_the_earliest_error_line(sessions) -> None:
    with sessions.begin() as s:
        s.add_all(
            [
                log_event(OUT, RUN, NOW - timedelta(minutes=5), "ok"),
                log_event(ERR, RUN, NOW - timedelta(minutes=4), "ERROR first", level="ERROR"),
                log_event(ERR, RUN, NOW - timedelta(minutes=1), "ERROR second", level="ERROR"),
            ]
        )
    with sessions() as s:
        first = lq.first_error_id(s, _view(), "/aws-glue/jobs")
        assert s.get(LogEvent, first).message == "ERROR first"


def test_touch_watch_upserts_one_row_per_stream(sessions) -> None:
    streams = [(OUT, RUN), (ERR, RUN)]
    with sessions.begin() as s:
        lq.touch_watch(s, streams, NOW, 30)
    with sessions.begin() as s:
        until = lq.touch_watch(s, streams, NOW + timedelta(seconds=10), 30)
    with sessions() as s:
        watches = s.scalars(select(LogWatch).order_by(LogWatch.log_group)).all()
    assert [(w.log_group, w.log_stream, w.watched_until) for w in watches] == [
        (ERR, RUN, until),
        (OUT, RUN, until),
    ]
    assert until == NOW + timedelta(seconds=40)


def test_a_function_watches_its_most_recent_streams(sessions) -> None:
    group = "/aws/lambda/api"
    with sessions.begin() as s:
        for i in range(5):
            s.add(
                log_stream(
                    group,
                    f"2026/11/25/[$LATEST]{i}",
                    resource_type="lambda_function",
                    last_event_at=NOW - timedelta(minutes=10 - i),
                )
            )
    with sessions() as s:
        watched = lq.watched_streams(s, lq.LogSource("function", "api"), "/aws-glue/jobs")
    assert watched == [(group, f"2026/11/25/[$LATEST]{i}") for i in (4, 3, 2)]


# --- the callbacks' functions ------------------------------------------------------------------


def test_load_then_tail_appends_only_new_lines_and_renews_the_watch(svc: Services, clock) -> None:
    with svc.sessions.begin() as s:
        s.add(job_run(RUN, "orders", "RUNNING", NOW - timedelta(minutes=5), duration_s=None))
        s.add(log_event(OUT, RUN, NOW - timedelta(minutes=1), "hello", level="INFO"))
    loaded = load_view(svc, RUN_SOURCE.value, "", "ALL", "1h")
    assert loaded.view is not None
    with svc.sessions() as s:
        ids = s.scalars(select(LogEvent.id)).all()
    assert [c.id for c in loaded.children] == [logs.line_dom_id(r) for r in ids]
    assert not loaded.tail_disabled
    assert "1 line" in loaded.status and "live" in loaded.status
    with svc.sessions() as s:
        assert {w.log_group for w in s.scalars(select(LogWatch))} == {OUT, ERR}
    # Nothing new: nothing to send.
    idle = tail_view(svc, loaded.view)
    assert idle.rows == [] and idle.view["cursor"] == loaded.view["cursor"]
    with svc.sessions.begin() as s:
        s.add(log_event(ERR, RUN, NOW, "ERROR it broke", level="ERROR"))
    clock.set(NOW + timedelta(seconds=15))
    result = tail_view(svc, loaded.view)
    assert [r.message for r in result.rows] == ["ERROR it broke"]
    assert result.view["count"] == 2
    patch = lines_patch(result, None, replace=False)
    assert isinstance(patch, Patch)
    with svc.sessions() as s:
        watch = s.get(LogWatch, (OUT, RUN))
        assert watch.watched_until == NOW + timedelta(seconds=15 + lq.WATCH_S)


def test_load_without_source_asks_for_one(svc: Services) -> None:
    loaded = load_view(svc, None, "", "ALL", "24h")
    assert loaded.view is None and loaded.tail_disabled
    assert "Pick a Glue run or a Lambda function" in text(loaded.children[0])


def test_jump_to_first_error_targets_its_line(svc: Services) -> None:
    with svc.sessions.begin() as s:
        s.add(job_run(RUN, "orders", "FAILED", NOW - timedelta(minutes=5), duration_s=60))
        s.add(log_event(OUT, RUN, NOW - timedelta(minutes=4), "ok"))
        s.add(log_event(ERR, RUN, NOW - timedelta(minutes=3), "ERROR here", level="ERROR"))
    loaded = load_view(svc, RUN_SOURCE.value, None, None, "24h", "first-error")
    with svc.sessions() as s:
        first = s.scalar(select(LogEvent.id).where(LogEvent.message == "ERROR here"))
    assert loaded.jump_target == logs.line_dom_id(first)


def test_download_link_matches_the_view_level_filter_included(svc: Services) -> None:
    with svc.sessions.begin() as s:
        s.add(lambda_function("api", NOW))
        s.add(
            log_event("/aws/lambda/api", "s1", NOW - timedelta(minutes=1), "ERROR x", level="ERROR")
        )
    loaded = load_view(svc, "function:api", "x", "ERROR", "1h")
    query = parse_qs(urlsplit(loaded.download_href).query)
    # The download carries the level filter too: exactly the lines on screen.
    assert query == {
        "group": ["/aws/lambda/api"],
        "q": ["x"],
        "level": ["ERROR"],
        "since": ["2026-11-25T17:32:17Z"],
        "until": ["2026-11-25T18:32:18Z"],
    }


def test_a_tick_past_the_limit_drops_the_oldest_lines_in_the_patch() -> None:
    rows = [lq.LogRow(i, OUT, RUN, NOW, "INFO", f"m{i}") for i in range(3)]
    result = TailResult(rows=rows, view={}, drop=2)
    ops = lines_patch(result, None, replace=False).to_plotly_json()["operations"]
    assert [op["operation"] for op in ops] == ["Delete", "Delete", "Extend"]
    assert [c.id for c in ops[-1]["params"]["value"]] == [logs.line_dom_id(i) for i in range(3)]
    # The "no lines yet" note is replaced, not appended to.
    assert [c.id for c in lines_patch(result, None, replace=True)] == [
        logs.line_dom_id(i) for i in range(3)
    ]


def test_layout_reads_the_url_and_names_bad_parameters() -> None:
    page = logs.layout(run=RUN, q="boom", level="WARN", range="1h", jump="first-error")
    assert by_id(page, logs.SOURCE).value == RUN_SOURCE.value
    assert by_id(page, logs.SEARCH).value == "boom"
    assert by_id(page, logs.LEVEL).value == "WARN"
    assert by_id(page, logs.JUMP_REQUEST).data == "first-error"
    assert by_id(page, range_ids(logs.PAGE).value).data == "1h"
    assert text(by_id(page, logs.PARAM_NOTICE)) == ""
    bad = logs.layout(run="a", function="b", level="loud", range="soon")
    notes = text(by_id(bad, logs.PARAM_NOTICE))
    assert "give either run= or function=, not both" in notes
    assert "level 'loud' is not one of" in notes
    assert "showing 7d instead" in text(bad)
    region = by_id(page, logs.LINES)
    assert region.role == "log" and region.tabIndex == 0
