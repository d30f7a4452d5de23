"""GetMetricData batching, id → query mapping, windows: pure functions on captured pages."""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dashapp.aws import cloudwatch as cw
from tests.fixtures.aws import load

NOW = datetime(2026, 11, 25, 18, 32, 17, tzinfo=UTC)
T = datetime(2026, 11, 25, 18, 27, tzinfo=UTC)


def _two_queries() -> list[cw.MetricQuery]:
    return [
        cw.MetricQuery(
            "AWS/Lambda", "Invocations", (("FunctionName", "f"),), "Sum", 60, "lambda_function", "f"
        ),
        cw.MetricQuery(
            "AWS/Lambda", "Duration", (("FunctionName", "f"),), "p99", 60, "lambda_function", "f"
        ),
    ]


def test_request_ids_are_indexes_and_carry_the_metric_stat() -> None:
    queries = _two_queries()
    request = cw.request_queries(queries)
    assert [q["Id"] for q in request] == ["q0", "q1"]
    assert request[1] == {
        "Id": "q1",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Lambda",
                "MetricName": "Duration",
                "Dimensions": [{"Name": "FunctionName", "Value": "f"}],
            },
            "Period": 60,
            "Stat": "p99",
        },
        "ReturnData": True,
    }


def test_results_map_back_to_queries_by_index_across_pages() -> None:
    queries = _two_queries()
    points = cw.parse_results(queries, load("get_metric_data_page1")["MetricDataResults"])
    points += cw.parse_results(queries, load("get_metric_data_page2")["MetricDataResults"])
    got = {(p.query.metric, p.query.stat, p.ts): p.value for p in points}
    assert got == {
        ("Invocations", "Sum", T): 12.0,
        ("Invocations", "Sum", T + timedelta(minutes=1)): 7.0,
        ("Invocations", "Sum", T + timedelta(minutes=2)): 0.0,
        ("Duration", "p99", T): 812.4,
        ("Duration", "p99", T + timedelta(minutes=1)): 640.0,
        ("Duration", "p99", T + timedelta(minutes=2)): 1503.25,
    }
    assert all(p.ts.tzinfo is not None for p in points)


def test_results_in_any_order_map_by_id_not_position() -> None:
    queries = _two_queries()
    results = list(reversed(load("get_metric_data_page1")["MetricDataResults"]))
    points = cw.parse_results(queries, results)
    assert {p.query.metric for p in points if p.value == 812.4} == {"Duration"}


@pytest.mark.parametrize("bad_id", ["q2", "q-1", "x0", "q", "Invocations"])
def test_an_id_we_did_not_send_raises(bad_id: str) -> None:
    with pytest.raises(ValueError, match="did not send"):
        cw.parse_results(_two_queries(), [{"Id": bad_id, "Timestamps": [], "Values": []}])


def test_mismatched_timestamps_and_values_raise() -> None:
    with pytest.raises(ValueError):
        cw.parse_results(_two_queries(), [{"Id": "q0", "Timestamps": [T], "Values": [1.0, 2.0]}])


def test_batched_splits_at_500() -> None:
    sizes = [len(b) for b in cw.batched(list(range(1040)))]
    assert sizes == [500, 500, 40]
    assert list(cw.batched([])) == []


class _CloudWatchStub:
    """Answers each call with one page; the first call of the first batch has two pages."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        n = len(kwargs["MetricDataQueries"])
        if len(self.calls) == 1:
            return load("get_metric_data_page1")
        if len(self.calls) == 2:
            return load("get_metric_data_page2")
        return {
            "MetricDataResults": [
                {"Id": f"q{i}", "Timestamps": [T], "Values": [float(i)], "StatusCode": "Complete"}
                for i in range(n)
            ]
        }


def test_n_queries_cost_ceil_n_over_500_calls_plus_pages() -> None:
    queries = [q for i in range(130) for q in cw.lambda_queries(f"fn-{i:03d}")]
    assert len(queries) == 1040
    stub = _CloudWatchStub()
    start, end = T, T + timedelta(minutes=5)
    points = cw.get_metric_data(stub, queries, start, end)
    # Batch 1 took two pages (NextToken), batches 2 and 3 one each.
    assert len(stub.calls) == math.ceil(1040 / 500) + 1
    assert [len(c["MetricDataQueries"]) for c in stub.calls] == [500, 500, 500, 40]
    assert "NextToken" not in stub.calls[0]
    assert stub.calls[1]["NextToken"] == load("get_metric_data_page1")["NextToken"]
    assert stub.calls[1]["MetricDataQueries"] == stub.calls[0]["MetricDataQueries"]
    assert all(c["StartTime"] == start and c["EndTime"] == end for c in stub.calls)
    # Ids restart at q0 in every batch and map into that batch only.
    last = [p for p in points if p.query.resource_name == "fn-129"]
    assert {(p.query.metric, p.query.stat, p.value) for p in last} == {
        (q.metric, q.stat, float(i + 32)) for i, q in enumerate(cw.lambda_queries("fn-129"))
    }
    first_fn = [p for p in points if p.query.resource_name == "fn-000"]
    assert len(first_fn) == 6  # q0 and q1 of the captured pages


def test_lambda_and_glue_run_queries() -> None:
    lq = cw.lambda_queries("smd-upload-validator")
    assert [(q.metric, q.stat) for q in lq] == [
        ("Invocations", "Sum"),
        ("Errors", "Sum"),
        ("Throttles", "Sum"),
        ("Duration", "Average"),
        ("Duration", "p95"),
        ("Duration", "p99"),
        ("Duration", "Maximum"),
        ("ConcurrentExecutions", "Maximum"),
    ]
    assert {(q.resource_type, q.resource_name, q.dimension) for q in lq} == {
        ("lambda_function", "smd-upload-validator", "")
    }
    gq = cw.glue_run_queries("ingest", "jr_1", "SMD/Ingestion")
    assert len(gq) == 5
    assert {(q.resource_type, q.resource_name, q.dimension) for q in gq} == {
        ("glue_job", "ingest", "jr_1")
    }
    assert gq[0].namespace == "Glue"
    assert gq[0].dimensions == (("JobName", "ingest"), ("JobRunId", "jr_1"), ("Type", "count"))
    assert (gq[-1].namespace, gq[-1].metric, gq[-1].dimensions) == (
        "SMD/Ingestion",
        "RowsWritten",
        (("JobName", "ingest"), ("JobRunId", "jr_1")),
    )


def test_align_down() -> None:
    assert cw.align_down(NOW, 60) == datetime(2026, 11, 25, 18, 32, tzinfo=UTC)
    assert cw.align_down(NOW, 300) == datetime(2026, 11, 25, 18, 30, tzinfo=UTC)
    assert cw.align_down(NOW, 3600) == datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
    aligned = datetime(2026, 11, 25, 18, 32, tzinfo=UTC)
    assert cw.align_down(aligned, 60) == aligned


def _window(since: datetime | None, reread_s: int = 600, backfill_s: int = 3 * 3600) -> Any:
    return cw.window(
        NOW,
        60,
        since=since,
        reread=timedelta(seconds=reread_s),
        backfill=timedelta(seconds=backfill_s),
    )


def test_first_window_backfills_and_ends_after_the_current_bucket() -> None:
    start, end = _window(None)
    assert end == datetime(2026, 11, 25, 18, 33, tzinfo=UTC)
    assert start == datetime(2026, 11, 25, 15, 33, tzinfo=UTC)


def test_next_window_rereads_from_the_last_end() -> None:
    start, end = _window(datetime(2026, 11, 25, 18, 31, tzinfo=UTC))
    assert (start, end) == (
        datetime(2026, 11, 25, 18, 21, tzinfo=UTC),
        datetime(2026, 11, 25, 18, 33, tzinfo=UTC),
    )


def test_unaligned_since_is_aligned_down() -> None:
    start, _ = _window(datetime(2026, 11, 25, 18, 31, 42, tzinfo=UTC))
    assert start == datetime(2026, 11, 25, 18, 21, tzinfo=UTC)


def test_after_a_long_gap_only_the_backfill_is_read() -> None:
    start, end = _window(NOW - timedelta(days=2))
    assert end - start == timedelta(hours=3)


def test_without_reread_the_last_partial_bucket_is_still_read_again() -> None:
    # The previous cycle (18:32:05) ended its window at 18:33, so the 18:32 bucket was
    # read half-filled; this cycle must read it again even with no re-read margin.
    start, end = _window(datetime(2026, 11, 25, 18, 33, tzinfo=UTC), reread_s=0)
    assert start == datetime(2026, 11, 25, 18, 32, tzinfo=UTC)
    assert end == datetime(2026, 11, 25, 18, 33, tzinfo=UTC)
    assert start < end  # GetMetricData rejects StartTime == EndTime


def test_window_never_inverts_when_the_clock_steps_back() -> None:
    start, end = _window(datetime(2026, 11, 25, 18, 40, tzinfo=UTC), reread_s=0)
    assert start < end


class _ConcurrentStub:
    """Answers each query with one point whose value is its function's number; fails the
    batch holding `fail_for`. With `meet`, the first two calls wait for each other (a
    barrier): they pass only if both are in flight at once."""

    def __init__(self, fail_for: str | None = None, *, meet: bool = True) -> None:
        self.fail_for = fail_for
        self.meet = meet
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.calls = 0
        self.barrier = threading.Barrier(2, timeout=10)

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        with self.lock:
            self.calls += 1
            first_two = self.meet and self.calls <= 2
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if first_two:
                self.barrier.wait()
            names = [
                q["MetricStat"]["Metric"]["Dimensions"][0]["Value"]
                for q in kwargs["MetricDataQueries"]
            ]
            if self.fail_for in names:
                raise RuntimeError(f"injected failure of the batch holding {self.fail_for}")
            return {
                "MetricDataResults": [
                    {"Id": q["Id"], "Timestamps": [T], "Values": [float(name.split("-")[1])]}
                    for q, name in zip(kwargs["MetricDataQueries"], names, strict=True)
                ]
            }
        finally:
            with self.lock:
                self.in_flight -= 1


def test_batches_are_read_concurrently_within_the_bound_and_map_back_exactly() -> None:
    queries = [q for i in range(700) for q in cw.lambda_queries(f"fn-{i}")]  # 12 batches
    stub = _ConcurrentStub()
    batches = list(cw.read_batches(stub, queries, T, T + timedelta(minutes=5), workers=3))
    assert stub.calls == 12 and 2 <= stub.most_in_flight <= 3
    assert [b.error for b in batches] == [None] * 12
    got = {(s.query, s.values[0]) for b in batches for s in b.series}
    assert got == {(q, float(q.resource_name.split("-")[1])) for q in queries}


def test_a_failed_batch_is_handed_back_and_the_others_are_still_read() -> None:
    queries = [q for i in range(200) for q in cw.lambda_queries(f"fn-{i}")]  # 4 batches
    stub = _ConcurrentStub(fail_for="fn-70")  # queries 560-567: the second batch
    batches = list(cw.read_batches(stub, queries, T, T + timedelta(minutes=5), workers=2))
    failed = [b for b in batches if b.error is not None]
    assert len(batches) == 4 and len(failed) == 1
    assert "fn-70" in str(failed[0].error)
    assert list(failed[0].queries) == queries[500:1000]
    read = {s.query for b in batches for s in b.series}
    assert read == set(queries) - set(queries[500:1000])
    sequential = _ConcurrentStub(fail_for="fn-70", meet=False)
    with pytest.raises(RuntimeError, match="fn-70"):
        cw.get_metric_data(sequential, queries, T, T + timedelta(minutes=5))
