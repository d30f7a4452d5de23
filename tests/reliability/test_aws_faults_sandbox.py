"""AWS faults through the sandbox server: the real collectors against `python -m sandbox`.

Why: the per-collector fault tests script faults inside the client; this is the same over
the wire, as the issue asks: the sandbox runs as its own process, faults are planned per
operation over HTTP (`POST /_sandbox/faults`), slow answers and silent timeouts included,
and the collectors run as the runner runs them, with their production retry mode. Ground
truth is read through boto3 with the sandbox's own internal clients, which the fault plan
lets through.

- Every collector, one round with faults planned on the operations each uses, then clean
  rounds: each cycle ends, every planned fault is met, and the database ends equal to
  what the sandbox holds (runs, uploads, log lines, metric points, Athena queries).
- Sustained throttling of GetLogEvents: the live-log follower's requests per second stay
  under the account's GetLogEvents quota, as botocore's adaptive mode slows it down.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from collectors.registry import JOBS, CollectorJob, job
from collectors.runner import CollectorRunner
from dashapp.actions.athena import run_query
from dashapp.clock import Clock, FixedClock
from dashapp.config import Settings
from dashapp.models import AthenaQuery, JobRun, MetricPoint, Upload
from sandbox.account import SandboxAccount
from tests.athena.conftest import OPERATOR
from tests.reliability.aws_faults_support import CYCLE_BOUND_S
from tests.reliability.aws_faults_support import figures as figures
from tests.reliability.aws_faults_support import seeded_jitter as seeded_jitter
from tests.reliability.sandbox_rounds import (
    Pacer,
    Round,
    Stream,
    aws_log_lines,
    aws_runs,
    put_lines,
    run_round,
    start_runs,
    stored_log_lines,
)
from tests.sandbox_process import clear_faults, fault_state, inject_faults, sandbox_process

ATTEMPTS = 4  # SMD_AWS_MAX_ATTEMPTS here: the planned faults of a call are ridden out
READ_TIMEOUT_S = 1.0  # SMD_AWS_READ_TIMEOUT_S here, so a planned timeout costs a second
GET_LOG_EVENTS_QUOTA = 25.0  # requests/s per account and region (CloudWatch Logs quotas)
THROTTLED_WINDOW_S = 5.0

# Faults per operation, met by the first faulted round (first rule of an operation first).
PLAN: tuple[dict[str, Any], ...] = (
    {"service": "glue", "operation": "GetJobs", "kind": "server_error"},
    {"service": "lambda", "operation": "ListFunctions", "kind": "timeout"},
    {"service": "glue", "operation": "GetJobRuns", "kind": "throttle"},
    {"service": "glue", "operation": "GetJobRuns", "kind": "slow", "delay_s": 0.3},
    {"service": "sqs", "operation": "ReceiveMessage", "kind": "timeout"},
    {"service": "sqs", "operation": "ReceiveMessage", "kind": "throttle"},
    {"service": "glue", "operation": "GetJobRun", "kind": "unavailable"},
    {"service": "glue", "operation": "GetJobRun", "kind": "slow", "delay_s": 0.3},
    # Past the read timeout: SQS deletes, the answer is lost, the retry deletes again.
    {"service": "sqs", "operation": "DeleteMessageBatch", "kind": "slow", "delay_s": 1.5},
    {"service": "cloudwatch", "operation": "GetMetricData", "kind": "throttle"},
    {"service": "cloudwatch", "operation": "GetMetricData", "kind": "timeout"},
    {"service": "logs", "operation": "GetLogEvents", "kind": "throttle", "count": 2},
    {"service": "logs", "operation": "GetLogEvents", "kind": "timeout"},
    {"service": "logs", "operation": "GetLogEvents", "kind": "slow", "delay_s": 0.3, "count": 2},
    {"service": "logs", "operation": "GetLogEvents", "kind": "server_error"},
    {"service": "logs", "operation": "DescribeLogStreams", "kind": "unavailable"},
    {"service": "athena", "operation": "BatchGetQueryExecution", "kind": "timeout"},
    {"service": "athena", "operation": "BatchGetQueryExecution", "kind": "server_error"},
)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # No simulator: AWS holds still while the database is compared with it.
    with sandbox_process(tmp_path_factory.mktemp("sbx"), history_days=0, simulate=False) as url:
        yield url


@pytest.fixture
def make_runner(
    sandbox: str, db_url: str, sessions: sessionmaker[Session]
) -> Iterator[Callable[..., CollectorRunner]]:
    """Collectors on the test database and the sandbox, a planned timeout costing a second."""
    made: list[CollectorRunner] = []

    def make(
        *, jobs: Sequence[CollectorJob] = JOBS, clock: Clock | None = None, **overrides: Any
    ) -> CollectorRunner:
        settings = Settings(
            database_url=db_url,
            aws_endpoint_url=sandbox,
            aws_read_timeout_s=READ_TIMEOUT_S,
            aws_connect_timeout_s=READ_TIMEOUT_S,
            _env_file=None,
            **overrides,
        )
        made.append(CollectorRunner(settings, clock=clock, jobs=jobs, sessions=sessions))
        return made[-1]

    yield make
    for runner in made:
        runner.engine.dispose()


@pytest.fixture
def account(sandbox: str) -> Iterator[SandboxAccount]:
    """The test's own hands on the sandbox: internal clients, never faulted."""
    clear_faults(sandbox)
    yield SandboxAccount(sandbox)
    clear_faults(sandbox)


def _feed(account: SandboxAccount, settings: Settings, runs: list[tuple[str, str]]) -> list[str]:
    """What happens in the account between two looks: a state-change event and log lines
    for each run, and two uploads (whose keys it returns)."""
    events = account.client("events")
    for job_name, run_id in runs:
        detail = {"jobName": job_name, "jobRunId": run_id, "state": "RUNNING", "message": ""}
        events.put_events(
            Entries=[
                {
                    "Source": "aws.glue",
                    "DetailType": "Glue Job State Change",
                    "Detail": json.dumps(detail),
                }
            ]
        )
        for group in ("/aws-glue/jobs/output", "/aws-glue/jobs/error"):
            put_lines(account, (group, run_id), _lines(f"{run_id} {group}", 4))
    dataset = settings.datasets[0]
    keys = [f"{dataset.prefix}2026/12/05/{uuid.uuid4()}-faults-{i}.csv" for i in range(2)]
    for key in keys:
        account.client("s3").put_object(
            Bucket=settings.dataset_bucket(dataset), Key=key, Body=b"id,amount\n1,2.5\n"
        )
    return keys


def _lines(text: str, n: int) -> list[tuple[datetime, str]]:
    now = datetime.now(UTC) - timedelta(seconds=30)
    return [(now + timedelta(milliseconds=i), f"{text} line {i}") for i in range(n)]


def _invoke(account: SandboxAccount, function: str, minute: datetime) -> Stream:
    """Invocations in one minute and their log stream: what Lambda writes."""
    account.client("cloudwatch").put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "FunctionName", "Value": function}],
                "Timestamp": minute,
                "Value": 7.0,
                "Unit": "Count",
            }
        ],
    )
    stream = (f"/aws/lambda/{function}", f"2026/12/05/[$LATEST]{uuid.uuid4().hex}")
    put_lines(account, stream, _lines(stream[1], 3))
    return stream


@dataclass(frozen=True)
class Invoked:
    function: str
    minute: datetime
    stream: Stream


def test_every_collector_rides_out_faults_and_ends_equal_to_the_sandbox(
    sandbox: str,
    account: SandboxAccount,
    sessions: sessionmaker[Session],
    make_runner: Callable[..., CollectorRunner],
    figures: list[str],
) -> None:
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    runner = make_runner(clock=clock, aws_max_attempts=ATTEMPTS)
    settings = runner.settings
    function = account.client("lambda").list_functions()["Functions"][0]["FunctionName"]
    minute = clock.now().replace(second=0) - timedelta(minutes=3)
    invoked = Invoked(function, minute, _invoke(account, function, minute))
    # Two runs of one job (the event consumer reads them with GetJobRuns), one of another
    # (GetJobRun): the faults planned on both are met.
    runs = start_runs(account, 2) + start_runs(account, 1)
    keys = _feed(account, settings, runs)
    athena = account.client("athena")
    queries = [
        run_query(
            sessions,
            athena,
            OPERATOR,
            sql=sql,
            database="processed",
            workgroup="primary",
            output_location=f"s3://{settings.athena_results_bucket}/queries/",
            now=clock.now(),
            request_token=uuid.uuid4().hex,
        ).execution_id
        for sql in ("SELECT count(*) FROM orders", "SELECT no_such_column FROM orders")
    ]
    for rule in PLAN:
        inject_faults(sandbox, **{"count": 1, **rule})

    faulted = run_round(runner)
    plan = fault_state(sandbox)
    clean: list[Round] = []
    for _ in range(3):  # one round may not suffice: a stream failed twice is read next round
        clock.advance(30)
        clean.append(run_round(runner))
        if _database_equals_the_sandbox(account, sessions, runs, keys, queries, invoked):
            break

    assert plan["active"] == 0, [r for r in plan["rules"] if r["remaining"]]
    # At most ATTEMPTS - 1 faults meet one call: each is ridden out, no cycle even partial.
    assert set(faulted.outcomes().values()) == {"ok"}, faulted.outcomes()
    for name, cycle in faulted.cycles.items():
        assert cycle.seconds < CYCLE_BOUND_S, f"{name} took {cycle.seconds:.1f} s"
        assert cycle.requests <= cycle.calls * ATTEMPTS, f"{name} retried past its attempts"
    assert all(c.outcome == "ok" for c in clean[-1].cycles.values()), clean[-1].outcomes()
    assert _database_equals_the_sandbox(account, sessions, runs, keys, queries, invoked)
    figures.extend(faulted.lines("faulted") + clean[-1].lines(f"clean (round {len(clean)})"))


def _database_equals_the_sandbox(
    account: SandboxAccount,
    sessions: sessionmaker[Session],
    runs: list[tuple[str, str]],
    keys: list[str],
    queries: list[str],
    invoked: Invoked,
) -> bool:
    """Runs, uploads, log lines, the function's invocations and the queries: each stored
    exactly as the sandbox holds it, and none twice."""
    truth_runs = aws_runs(account)
    streams = [(g, r) for _, r in runs for g in ("/aws-glue/jobs/output", "/aws-glue/jobs/error")]
    streams.append(invoked.stream)
    truth_lines = aws_log_lines(account, streams)
    athena = account.client("athena")
    truth_queries = {
        q: athena.get_query_execution(QueryExecutionId=q)["QueryExecution"]["Status"]["State"]
        for q in queries
    }
    with sessions() as s:
        stored_runs = {r.run_id: r.state for r in s.scalars(select(JobRun))}
        uploads = Counter(u.object_key for u in s.scalars(select(Upload)))
        points = Counter(
            (p.ts, p.value)
            for p in s.scalars(
                select(MetricPoint).where(
                    MetricPoint.resource_name == invoked.function,
                    MetricPoint.metric == "Invocations",
                    MetricPoint.stat == "Sum",
                )
            )
        )
        stored_queries = {q.execution_id: q.state for q in s.scalars(select(AthenaQuery))}
    return (
        stored_runs == truth_runs
        and all(uploads[k] == 1 for k in keys)
        and stored_log_lines(sessions, streams) == truth_lines
        and len(truth_lines) == 4 * len(streams) - 1  # 4 lines a run's stream, 3 Lambda's
        and points == _invocations(account, invoked)
        and stored_queries == truth_queries
        and set(truth_queries.values()) <= {"SUCCEEDED", "FAILED"}
    )


def _invocations(account: SandboxAccount, invoked: Invoked) -> Counter[tuple[datetime, float]]:
    """The function's Invocations per minute as CloudWatch sums them (this test's minute
    among them; an earlier test's invocations of the same function count too)."""
    answer = account.client("cloudwatch").get_metric_data(
        MetricDataQueries=[
            {
                "Id": "invocations",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": "Invocations",
                        "Dimensions": [{"Name": "FunctionName", "Value": invoked.function}],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=invoked.minute - timedelta(hours=3),
        EndTime=invoked.minute + timedelta(minutes=10),
    )["MetricDataResults"][0]
    assert invoked.minute in answer["Timestamps"]
    return Counter(zip(answer["Timestamps"], answer["Values"], strict=True))


def test_sustained_throttling_keeps_the_log_follower_under_the_get_log_events_quota(
    sandbox: str,
    account: SandboxAccount,
    sessions: sessionmaker[Session],
    make_runner: Callable[..., CollectorRunner],
    figures: list[str],
) -> None:
    """GetLogEvents throttled for THROTTLED_WINDOW_S on end, with the production retry
    settings: the follower, started every second as the scheduler does, backs off instead
    of hammering the account."""
    # The production SMD_AWS_MAX_ATTEMPTS and retry mode.
    runner = make_runner(jobs=[job("inventory"), job("glue_runs"), job("log_follow")])
    settings = runner.settings
    runs = start_runs(account, 8)  # 16 streams, more than one cycle's budget of 15 calls
    for _, run_id in runs:
        put_lines(account, ("/aws-glue/jobs/output", run_id), _lines(run_id, 2))
    run_round(runner)
    follow = job("log_follow")
    ctx = runner.contexts["log_follow"]

    with Pacer(runner, follow, settings.collect_log_follow_interval_s) as pacer:
        clean = pacer.requests_per_s(3 * pacer.interval_s, from_a_cycle_start=True)
        inject_faults(
            sandbox, service="logs", operation="GetLogEvents", kind="throttle", count=10**6
        )
        sent = pacer.requests_per_s(THROTTLED_WINDOW_S)
        hits = fault_state(sandbox)["total_hits"]  # the requests the sandbox received
        clear_faults(sandbox)
        start = time.monotonic()  # the cycle in flight ends with the pacer
    runner.run_job(follow)  # and the next one catches up
    recovered_s = time.monotonic() - start
    streams = [("/aws-glue/jobs/output", r) for _, r in runs]
    truth = aws_log_lines(account, streams)

    received = hits / THROTTLED_WINDOW_S
    assert 0 < received < GET_LOG_EVENTS_QUOTA, f"{received:.1f} requests/s while throttled"
    assert stored_log_lines(sessions, streams) == truth
    assert "logs:FilterLogEvents" not in ctx.aws.counter.snapshot()
    figures.extend(
        [
            f"GetLogEvents quota {GET_LOG_EVENTS_QUOTA:g}/s; follower clean {clean:.1f} req/s; "
            f"throttled for {THROTTLED_WINDOW_S:g}s: {received:.1f} req/s received "
            f"({hits} throttled answers; {sent:.1f}/s passed to the client's rate limiter); "
            f"caught up {recovered_s:.1f}s after",
        ]
    )
