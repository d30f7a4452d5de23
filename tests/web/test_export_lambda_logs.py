"""/export/lambda-summary.csv and /export/log-events.csv on both databases."""

from __future__ import annotations

from datetime import timedelta

import dash
from sqlalchemy.orm import Session, sessionmaker

from tests.web.conftest import NOW
from tests.web.export_helpers import (
    DEFAULT_NAME,
    GLUE_LOGS,
    LOGS_HEADER,
    SUMMARY_HEADER,
    T0,
    add,
    download,
    get,
    refused,
)
from tests.web.seed import lambda_function, lambda_minute, log_event, log_stream, metric_point

# --- Lambda summary ---------------------------------------------------------------------------


def test_lambda_summary_combines_known_minutes_per_function(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    m0, m1, m2 = T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)
    add(
        sessions,
        lambda_function("orders-api", NOW),
        lambda_function("idle-fn", NOW),
        lambda_function("gone-fn", NOW, gone_at=NOW - timedelta(hours=1)),
        *lambda_minute(
            "orders-api", m0, invocations=100, errors=2, throttles=1, avg=10, p95=20, p99=30
        ),
        *lambda_minute(
            "orders-api", m1, invocations=300, errors=1, throttles=0, avg=50, p95=80, p99=95
        ),
        *lambda_minute("orders-api", m2, invocations=0, avg=None),
        metric_point("lambda_function", "orders-api", "ConcurrentExecutions", "Maximum", m0, 9),
        *lambda_minute(  # outside the window: not counted
            "orders-api", T0 - timedelta(days=2), invocations=1000, errors=1000, avg=1, p95=1
        ),
        *lambda_minute("gone-fn", m0, invocations=3, errors=1, avg=100.0, p95=100.0, p99=100.0),
        *lambda_minute("gone-fn", m1, invocations=1, errors=0, avg=200.0 / 3, p95=150.0, p99=150.0),
    )
    response = get(app, "/export/lambda-summary.csv")
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=lambda-summary_{DEFAULT_NAME}"
    )
    assert (
        download(app, "/export/lambda-summary.csv")
        == (
            SUMMARY_HEADER
            # (3*100 + 1*66.667) / 4 = 91.667; p95 of 4 calls: 3.8 calls reached only at 150
            + b"gone-fn,4,1,0.25,0,91.667,150,150\r\n"
            b"idle-fn,0,0,,0,,,\r\n"
            # avg (100*10 + 300*50) / 400 = 40; p95 at 380 calls and p99 at 396 are in minute 1
            b"orders-api,400,3,0.0075,1,40,80,95\r\n"
        )
    )


def test_lambda_summary_takes_only_a_window(app: dash.Dash) -> None:
    assert refused(app, "/export/lambda-summary.csv?name=x", 400) == (
        "name: unknown parameter; this export takes since, until"
    )
    assert download(app, "/export/lambda-summary.csv") == SUMMARY_HEADER


# --- log events --------------------------------------------------------------------------------


def test_log_events_csv_quotes_multiline_messages_oldest_first(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    add(
        sessions,
        log_stream(GLUE_LOGS, "jr_2"),
        log_event(GLUE_LOGS, "jr_2", T0 + timedelta(seconds=2), "-- retrying, attempt 2"),
        log_event(
            GLUE_LOGS,
            "jr_2",
            T0,
            'Traceback (most recent call last):\n  File "job.py", line 3',
        ),
        log_event(
            GLUE_LOGS,
            "jr_2",
            T0 + timedelta(milliseconds=1500),
            '=HYPERLINK("http://evil.example","click")',
        ),
    )
    assert download(app, "/export/log-events.csv") == (
        LOGS_HEADER
        + b'/aws-glue/jobs/error,jr_2,2026-11-25T12:00:00Z,"Traceback (most recent call last):'
        b'\n  File ""job.py"", line 3"\r\n'
        b'/aws-glue/jobs/error,jr_2,2026-11-25T12:00:01.500Z,"\'=HYPERLINK(""http://evil.example"",'
        b'""click"")"\r\n'
        b'/aws-glue/jobs/error,jr_2,2026-11-25T12:00:02Z,"\'-- retrying, attempt 2"\r\n'
    )


def test_log_search_is_a_case_insensitive_literal_substring(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    messages = [
        "ERROR über limit",
        "Über ALLES",
        "100% done",
        "1000 rows",
        "a_b matched",
        "axb matched",
        "nothing here",
    ]
    add(
        sessions,
        *[
            log_event("/aws/lambda/fn", "s", T0 + timedelta(seconds=i), message)
            for i, message in enumerate(messages)
        ],
    )

    def found(q: str) -> list[str]:
        lines = download(app, f"/export/log-events.csv?q={q}").decode().split("\r\n")[1:-1]
        return [line.split(",", 3)[3] for line in lines]

    assert found("error") == ["ERROR über limit"]
    assert found("ÜBER") == ["ERROR über limit", "Über ALLES"]
    assert found("100%25") == ["100% done"]  # % is not a wildcard
    assert found("a_b") == ["a_b matched"]  # nor is _
    assert found("MATCHED") == ["a_b matched", "axb matched"]


def test_log_events_level_keeps_that_level_and_the_more_severe_ones(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    add(
        sessions,
        *[
            log_event(
                "/aws/lambda/fn", "s", T0 + timedelta(seconds=i), f"{level} line", level=level
            )
            for i, level in enumerate(("DEBUG", "INFO", "WARN", "ERROR"))
        ],
    )

    def messages(query: str) -> list[str]:
        lines = download(app, "/export/log-events.csv?" + query).decode().split("\r\n")[1:-1]
        return [line.rsplit(",", 1)[1] for line in lines]

    assert messages("") == ["DEBUG line", "INFO line", "WARN line", "ERROR line"]
    assert messages("level=warn") == ["WARN line", "ERROR line"]
    assert messages("level=ERROR") == ["ERROR line"]
    assert messages("level=DEBUG") == ["DEBUG line", "INFO line", "WARN line", "ERROR line"]
    assert refused(app, "/export/log-events.csv?level=LOUD", 400) == (
        "level: must be one of ERROR, WARN, INFO, DEBUG, not 'LOUD'"
    )


def test_log_events_filter_by_group_and_stream_and_refuse_unknown_ones(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    add(
        sessions,
        log_stream(GLUE_LOGS, "jr_1"),
        log_stream(GLUE_LOGS, "jr_quiet"),
        log_event(GLUE_LOGS, "jr_1", T0, "one"),
        log_event("/aws/lambda/fn", "2026/11/25/[$LATEST]ab", T0, "two"),
    )

    def messages(query: str) -> list[str]:
        lines = download(app, "/export/log-events.csv?" + query).decode().split("\r\n")[1:-1]
        return [line.rsplit(",", 1)[1] for line in lines]

    assert messages("") == ["one", "two"]
    assert messages("group=/aws/lambda/fn") == ["two"]
    assert messages(f"group={GLUE_LOGS}&stream=jr_1") == ["one"]
    assert messages(f"group={GLUE_LOGS}&stream=jr_quiet") == []  # known stream, no events
    assert (
        refused(app, "/export/log-events.csv?group=/aws-glue/jobs/output", 404)
        == "group: no log group named '/aws-glue/jobs/output'"
    )
    assert (
        refused(app, "/export/log-events.csv?group=/aws/lambda/fn&stream=jr_1", 404)
        == "stream: no log stream named 'jr_1' in '/aws/lambda/fn'"
    )
    assert (
        refused(app, "/export/log-events.csv?stream=nope", 404)
        == "stream: no log stream named 'nope'"
    )
    response = get(app, f"/export/log-events.csv?group={GLUE_LOGS}&stream=jr_1")
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=log-events_aws-glue-jobs-error_jr_1_{DEFAULT_NAME}"
    )
