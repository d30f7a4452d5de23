"""CloudWatch metrics: GetMetricData in batches of 500 queries, results mapped back by index.

A query carries the key it is stored under (resource type, name, dimension,
metric, stat), so results never depend on labels or on the order AWS returns
them in: ids are `q<index>` and map back to the query list of that call.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dashapp.aws import shape

MAX_QUERIES = 500  # per GetMetricData call (AWS limit)


@dataclass(frozen=True)
class MetricQuery:
    """One series to read, and where its datapoints are stored."""

    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    period_s: int
    resource_type: str
    resource_name: str
    dimension: str = ""  # e.g. the Glue run id; "" when the resource alone names the series

    def to_request(self, query_id: str) -> dict[str, Any]:
        return {
            "Id": query_id,
            "MetricStat": {
                "Metric": {
                    "Namespace": self.namespace,
                    "MetricName": self.metric,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions],
                },
                "Period": self.period_s,
                "Stat": self.stat,
            },
            "ReturnData": True,
        }


@dataclass(frozen=True)
class Datapoint:
    query: MetricQuery
    ts: datetime
    value: float


@dataclass(frozen=True, slots=True)
class Series:
    """What one query returned on one page, as columns: a cycle reads hundreds of thousands
    of datapoints, and one object per point costs more than the call that brought them."""

    query: MetricQuery
    timestamps: list[datetime]
    values: list[float]


@dataclass
class BatchRead:
    """One batch of queries read in full (every page), or the error that stopped it."""

    queries: Sequence[MetricQuery]
    series: list[Series]
    error: BaseException | None = None


def batched(items: Sequence[Any], size: int = MAX_QUERIES) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def align_down(when: datetime, period_s: int) -> datetime:
    """The start of the period `when` falls in (CloudWatch aligns buckets to the epoch)."""
    epoch = int(when.timestamp())
    return datetime.fromtimestamp(epoch - epoch % period_s, UTC)


def request_queries(queries: Sequence[MetricQuery]) -> list[dict[str, Any]]:
    return [q.to_request(f"q{i}") for i, q in enumerate(queries)]


def _time(ts: Any) -> datetime:
    # The common case (botocore's UTC datetime) skips the general check.
    if type(ts) is datetime and ts.tzinfo is UTC:
        return ts
    when = shape.as_time(ts, "Timestamps")
    if when is None:
        raise shape.MalformedResponse("a datapoint lacks its timestamp")
    return when


def _number(value: Any) -> float:
    if type(value) is float and value == value and abs(value) != float("inf"):
        return value
    number = shape.as_number(value, "Values")
    if number is None:
        raise shape.MalformedResponse("a datapoint lacks its value")
    return float(number)


@shape.parser("GetMetricData answer")
def parse_series(queries: Sequence[MetricQuery], results: Iterable[dict[str, Any]]) -> list[Series]:
    """One call's MetricDataResults, each mapped to its query by the id's index."""
    out: list[Series] = []
    for result in results:
        qid = shape.text(result, "Id")
        if not qid.startswith("q") or not qid[1:].isdigit() or int(qid[1:]) >= len(queries):
            raise shape.MalformedResponse(f"GetMetricData returned an id we did not send: {qid!r}")
        timestamps, values = shape.items(result, "Timestamps"), shape.items(result, "Values")
        if len(timestamps) != len(values):
            raise shape.MalformedResponse(
                f"result {qid}: {len(timestamps)} timestamps, {len(values)} values"
            )
        if timestamps:
            query = queries[int(qid[1:])]
            out.append(Series(query, [_time(t) for t in timestamps], [_number(v) for v in values]))
    return out


def parse_results(
    queries: Sequence[MetricQuery], results: Iterable[dict[str, Any]]
) -> list[Datapoint]:
    """Datapoints of one call's MetricDataResults, mapped to their query by the id's index."""
    return [
        Datapoint(s.query, ts, value)
        for s in parse_series(queries, results)
        for ts, value in zip(s.timestamps, s.values, strict=True)
    ]


def _read_batch(
    client: Any, queries: Sequence[MetricQuery], start: datetime, end: datetime
) -> BatchRead:
    request = request_queries(queries)
    series: list[Series] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "MetricDataQueries": request,
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        if token:
            kwargs["NextToken"] = token
        resp = client.get_metric_data(**kwargs)
        series.extend(parse_series(queries, resp.get("MetricDataResults", [])))
        token = resp.get("NextToken")
        if not token:
            return BatchRead(queries, series)


def read_batches(
    client: Any,
    queries: Sequence[MetricQuery],
    start: datetime,
    end: datetime,
    *,
    workers: int = 1,
) -> Iterator[BatchRead]:
    """Every batch of 500 queries in [start, end), as each completes: ⌈N/500⌉ calls, plus
    pages past 100,800 points.

    Up to `workers` calls are in flight at once (GetMetricData allows 50 a second), so a
    cycle waits for about ⌈N/500⌉/workers round trips instead of ⌈N/500⌉, and the caller
    stores one batch while the next ones are read. At most `workers` read batches wait in
    memory. A batch that fails is yielded with its error; the others are still read.
    """
    batches = iter(list(batched(list(queries))))

    def read(chunk: Sequence[MetricQuery]) -> BatchRead:
        try:
            return _read_batch(client, chunk, start, end)
        except Exception as e:  # noqa: BLE001 - handed to the caller with its batch
            return BatchRead(chunk, [], e)

    if workers <= 1:
        for chunk in batches:
            yield read(chunk)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cloudwatch") as pool:
        pending: set[Future[BatchRead]] = set()
        for chunk in itertools.islice(batches, workers):
            pending.add(pool.submit(read, chunk))
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    chunk = next(batches, None)
                    if chunk is not None:
                        pending.add(pool.submit(read, chunk))
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()


def get_metric_data(
    client: Any, queries: Sequence[MetricQuery], start: datetime, end: datetime
) -> list[Datapoint]:
    """Datapoints of `queries` in [start, end), one call at a time; raises the first error."""
    points: list[Datapoint] = []
    for batch in read_batches(client, queries, start, end):
        if batch.error is not None:
            raise batch.error
        for s in batch.series:
            points.extend(
                Datapoint(s.query, ts, value)
                for ts, value in zip(s.timestamps, s.values, strict=True)
            )
    return points


# (metric, statistic) of every series the Lambda monitor shows for a function.
LAMBDA_SERIES: tuple[tuple[str, str], ...] = (
    ("Invocations", "Sum"),
    ("Errors", "Sum"),
    ("Throttles", "Sum"),
    ("Duration", "Average"),
    ("Duration", "p95"),
    ("Duration", "p99"),
    ("Duration", "Maximum"),
    ("ConcurrentExecutions", "Maximum"),
)


def lambda_queries(function: str, period_s: int = 60) -> list[MetricQuery]:
    """What the Lambda monitor shows for one function (8 queries)."""
    dims = (("FunctionName", function),)
    return [
        MetricQuery("AWS/Lambda", m, dims, s, period_s, "lambda_function", function)
        for m, s in LAMBDA_SERIES
    ]


GLUE_RUN_METRICS = (
    ("glue.driver.aggregate.recordsRead", "count", "Sum"),
    ("glue.driver.aggregate.bytesRead", "count", "Sum"),
    ("glue.driver.aggregate.elapsedTime", "gauge", "Maximum"),
    ("glue.driver.aggregate.numFailedTasks", "count", "Sum"),
)
ROWS_WRITTEN = "RowsWritten"


def glue_run_queries(
    job: str, run_id: str, ingestion_namespace: str, period_s: int = 60
) -> list[MetricQuery]:
    """Glue's per-run driver metrics plus our ingestion job's rows written (5 queries)."""
    queries = [
        MetricQuery(
            "Glue",
            metric,
            (("JobName", job), ("JobRunId", run_id), ("Type", kind)),
            stat,
            period_s,
            "glue_job",
            job,
            run_id,
        )
        for metric, kind, stat in GLUE_RUN_METRICS
    ]
    queries.append(
        MetricQuery(
            ingestion_namespace,
            ROWS_WRITTEN,
            (("JobName", job), ("JobRunId", run_id)),
            "Sum",
            period_s,
            "glue_job",
            job,
            run_id,
        )
    )
    return queries


def window(
    now: datetime, period_s: int, *, since: datetime | None, reread: timedelta, backfill: timedelta
) -> tuple[datetime, datetime]:
    """[start, end) to read: from the last read end (minus a re-read for late data) to now.

    Both ends are aligned to the period so a bucket is never read half-filled as
    if it were complete without being read again.
    """
    period = timedelta(seconds=period_s)
    end = align_down(now, period_s) + period
    # The last read ended after a bucket still filling: always read at least that one again.
    start = (since - max(reread, period)) if since is not None else (end - backfill)
    start = min(max(start, end - backfill), end - period)  # never empty (StartTime < EndTime)
    return align_down(start, period_s), end
