"""CloudWatch Logs: levels, event keys, reading forward, recent streams."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from dashapp.aws import logs
from tests.fixtures.aws import load

GROUP, STREAM = "/aws-glue/jobs/output", "jr_0a5e1c9f"


@pytest.mark.parametrize(
    ("line", "level"),
    [
        # log4j (Glue Spark driver and executors)
        ("26/11/25 18:30:04 INFO GlueContext: GlueMetrics configured and enabled", "INFO"),
        ("26/11/25 18:30:05 WARN HadoopDataSource: Skipping partition with no files", "WARN"),
        ("26/11/25 18:30:06 ERROR ProcessLauncher: Error from Python:Traceback", "ERROR"),
        ("26/11/25 18:30:06 FATAL SparkContext: cannot recover", "ERROR"),
        ("2026-11-25 18:30:06,123 ERROR [main] glue.ProcessLauncher (Logging.scala:77)", "ERROR"),
        # Python logging / tracebacks (pythonshell jobs, Lambda Python)
        ("ERROR:root:could not parse row 17", "ERROR"),
        ("CRITICAL:root:out of disk", "ERROR"),
        ("WARNING:botocore.credentials:Refreshing temporary credentials", "WARN"),
        ("INFO:__main__:read 1200 rows", "INFO"),
        ("Traceback (most recent call last):", "ERROR"),
        ("py4j.protocol.Py4JJavaError Exception: boom", "ERROR"),
        # Lambda runtime lines
        ("[ERROR]\t2026-11-25T18:30:06.123Z\t8f3c6b2e-0d9a\tValueError: bad input", "ERROR"),
        ("[WARNING]\t2026-11-25T18:30:06.123Z\t8f3c6b2e-0d9a\tslow upstream", "WARN"),
        ("[INFO]\t2026-11-25T18:30:06.123Z\t8f3c6b2e-0d9a\tvalidated 12 rows", "INFO"),
        ("START RequestId: 8f3c6b2e-0d9a Version: $LATEST", "INFO"),
        ("REPORT RequestId: 8f3c6b2e-0d9a\tDuration: 812.40 ms\tBilled Duration: 813 ms", "INFO"),
        ("2026-11-25T18:30:06.123Z 8f3c6b2e-0d9a Task timed out after 3.00 seconds", "ERROR"),
        ("2026-11-25T18:30:06.123Z\t8f3c6b2e-0d9a\tERROR\tInvoke Error\t{}", "ERROR"),
        ('{"timestamp":"2026-11-25T18:30:06Z","level":"ERROR","message":"boom"}', "ERROR"),
        ('{"timestamp":"2026-11-25T18:30:06Z","level":"WARN","message":"slow"}', "WARN"),
        ('{"timestamp":"2026-11-25T18:30:06Z","level":"INFO","message":"ok"}', "INFO"),
        # Go (provided.al2023 runtimes): panics, log/slog, logrus, zap
        ("panic: runtime error: invalid memory address or nil pointer dereference", "ERROR"),
        ('time=2026-11-25T18:30:06Z level=ERROR msg="write failed" err=EOF', "ERROR"),
        ('time=2026-11-25T18:30:06Z level=WARN msg="retrying"', "WARN"),
        ('time="2026-11-25T18:30:06Z" level=error msg="write failed"', "ERROR"),
        ('time="2026-11-25T18:30:06Z" level=warning msg="retrying"', "WARN"),
        ('{"level":"error","ts":1764095406.1,"msg":"write failed"}', "ERROR"),
        ('{"level":"warn","ts":1764095406.1,"msg":"slow"}', "WARN"),
        ('{"level":"info","ts":1764095406.1,"msg":"0 errors, 0 warnings"}', "INFO"),
        ("2026/11/25 18:30:06 processed 12 records", "INFO"),
        # Words inside other words are not levels
        ("read 0 errors from ERRORS_TABLE", "INFO"),
        ("", "INFO"),
    ],
)
def test_level_of(line: str, level: str) -> None:
    assert logs.level_of(line) == level


def test_parse_events_gives_aware_timestamps() -> None:
    lines = logs.parse_events(load("get_log_events")["events"])
    assert len(lines) == 5
    assert lines[0].ts == datetime(2026, 11, 25, 18, 30, 4, 512000, tzinfo=UTC)
    assert lines[0].ingested_at == datetime(2026, 11, 25, 18, 30, 5, 1000, tzinfo=UTC)
    assert lines[1].message.startswith("26/11/25 18:30:05 WARN")
    assert logs.parse_events([{"timestamp": 0, "message": "x"}])[0].ingested_at is None


def test_event_keys_are_stable_and_distinct_for_identical_lines() -> None:
    lines = logs.parse_events(load("get_log_events")["events"])
    assert lines[3] == lines[4]  # the same line twice, same millisecond
    keys = logs.event_keys(GROUP, STREAM, lines)
    assert len(set(keys)) == 5
    assert keys == logs.event_keys(GROUP, STREAM, lines)  # re-reading gives the same keys
    assert all(len(k) == 64 for k in keys)  # fits log_events.event_key
    # Another stream (or group) with the same lines is another set of events.
    assert not set(keys) & set(logs.event_keys(GROUP, "jr_other", lines))
    assert not set(keys) & set(logs.event_keys("/aws-glue/jobs/error", STREAM, lines))


def test_event_keys_of_a_reread_tail_match_the_first_read() -> None:
    lines = logs.parse_events(load("get_log_events")["events"])
    first = logs.event_keys(GROUP, STREAM, lines)
    # A re-read starting at line 2 names lines 2..4 exactly as the full read did.
    assert logs.event_keys(GROUP, STREAM, lines[2:]) == first[2:]


class _LogsStub:
    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages
        self.calls: list[dict[str, Any]] = []

    def get_log_events(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return self.pages[len(self.calls) - 1]

    def describe_log_streams(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return self.pages[len(self.calls) - 1]


def test_read_forward_one_call_when_the_page_is_not_full() -> None:
    stub = _LogsStub([load("get_log_events")])
    lines, token = logs.read_forward(stub, GROUP, STREAM, "f/000001")
    assert len(lines) == 5
    assert token == load("get_log_events")["nextForwardToken"]
    assert stub.calls == [
        {
            "logGroupName": GROUP,
            "logStreamName": STREAM,
            "startFromHead": True,
            "limit": logs.PAGE_LIMIT,
            "nextToken": "f/000001",
        }
    ]


def test_read_forward_follows_full_pages_and_keeps_the_token_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(logs, "PAGE_LIMIT", 2)
    ev = load("get_log_events")["events"]
    stub = _LogsStub(
        [
            {"events": ev[:2], "nextForwardToken": "f/1"},
            {"events": ev[2:4], "nextForwardToken": "f/3"},
            {"events": ev[4:], "nextForwardToken": "f/4"},
        ]
    )
    lines, token = logs.read_forward(stub, GROUP, STREAM, None)
    assert len(lines) == 5 and token == "f/4"
    assert "nextToken" not in stub.calls[0]
    assert [c.get("nextToken") for c in stub.calls[1:]] == ["f/1", "f/3"]
    # At the end of the stream AWS answers the token it was given (or none): keep ours.
    stub = _LogsStub([{"events": []}])
    assert logs.read_forward(stub, GROUP, STREAM, "f/4") == ([], "f/4")


def test_recent_streams_stop_at_the_first_older_stream() -> None:
    stub = _LogsStub([load("describe_log_streams")])
    since = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
    streams = logs.recent_streams(stub, "/aws/lambda/smd-upload-validator", since)
    assert [s.name for s in streams] == [
        "2026/11/25/[$LATEST]8d2f5a0c9b1e4d7a8f3c6b2e0d9a1f47",
        "2026/11/25/[$LATEST]1c4e7b0a3d6f9c2e5b8a1d4f7c0e3b69",
    ]
    assert streams[0].last_event_at == datetime(2026, 11, 25, 18, 29, 50, tzinfo=UTC)
    assert len(stub.calls) == 1  # the older third stream ended the listing
    assert stub.calls[0]["orderBy"] == "LastEventTime" and stub.calls[0]["descending"] is True


def test_recent_streams_pages_while_streams_are_new() -> None:
    page = load("describe_log_streams")
    stub = _LogsStub([page, {"logStreams": []}])
    since = datetime(2026, 11, 1, tzinfo=UTC)
    streams = logs.recent_streams(stub, "/aws/lambda/smd-upload-validator", since)
    assert len(streams) == 3
    assert stub.calls[1]["nextToken"] == page["nextToken"]
