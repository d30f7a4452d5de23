"""ApiCallCounter (collector cost figures) and the fast timestamp parser."""

from __future__ import annotations

from datetime import UTC, datetime

from dashapp.aws.clients import ApiCallCounter, fast_timestamp


def test_counter_counts_per_service_operation_and_resets() -> None:
    c = ApiCallCounter()
    for _ in range(3):
        c("before-call.cloudwatch.GetMetricData", model=None)
    c("before-call.glue.GetJobRuns")
    c.on_send()
    assert c.snapshot() == {"cloudwatch:GetMetricData": 3, "glue:GetJobRuns": 1}
    assert c.total() == 4
    assert c.requests == 1
    assert c.reset() == {"cloudwatch:GetMetricData": 3, "glue:GetJobRuns": 1}
    assert c.snapshot() == {} and c.total() == 0


def test_fast_timestamp_matches_what_aws_sends() -> None:
    expected = datetime(2026, 11, 25, 18, 27, tzinfo=UTC)
    assert fast_timestamp(1795631220) == expected
    assert fast_timestamp(1795631220.0) == expected
    assert fast_timestamp("2026-11-25T18:27:00Z") == expected
    assert fast_timestamp("2026-11-25T18:27:00.000+00:00") == expected
    assert fast_timestamp("2026-11-25T18:27:00") == expected  # naive means UTC
    assert fast_timestamp("Wed, 25 Nov 2026 18:27:00 GMT") == expected  # RFC 822 falls back
