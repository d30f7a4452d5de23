"""The runner: `--once` exit status and what collector_status records per cycle."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from collectors.context import CollectorContext, CycleResult
from collectors.registry import JOBS, CollectorJob
from collectors.runner import CollectorRunner, PhasedInterval
from dashapp.clock import FixedClock
from dashapp.config import Settings
from dashapp.models import CollectorStatus
from tests.collectors.conftest import client, create_job, fail_calls


def _status(sessions: sessionmaker[Session]) -> dict[str, CollectorStatus]:
    with sessions() as s:
        return {row.name: row for row in s.scalars(select(CollectorStatus))}


def _queue() -> None:
    client("sqs").create_queue(QueueName="smd-collector-events")


def test_once_returns_0_when_every_collector_succeeds(
    make_runner: Callable[..., CollectorRunner], sessions: sessionmaker[Session], t0: datetime
) -> None:
    _queue()
    create_job("alpha")
    runner = make_runner()
    assert runner.run_once() == 0
    status = _status(sessions)
    assert set(status) == {j.name for j in JOBS}
    assert {s.last_outcome for s in status.values()} == {"ok"}
    assert all(s.last_success_at == t0 and s.last_error is None for s in status.values())
    inventory = status["inventory"].api_calls_by_operation
    assert inventory["glue:GetJobs"] == 1 and inventory["lambda:ListFunctions"] == 1
    assert inventory["resource-groups-tagging-api:GetResources"] == 1
    # Inventory ran first, so the runs collector already knew the job.
    assert status["glue_runs"].api_calls_by_operation == {"glue:GetJobRuns": 1}
    assert status["events"].api_calls_by_operation["sqs:ReceiveMessage"] == 1


def test_once_returns_1_when_a_collector_fails(
    make_runner: Callable[..., CollectorRunner], sessions: sessionmaker[Session], t0: datetime
) -> None:
    runner = make_runner()  # no queue: the event consumer cannot start
    assert runner.run_once() == 1
    status = _status(sessions)
    events = status["events"]
    assert events.last_outcome == "failed"
    assert events.last_success_at is None
    assert events.last_error_at == t0
    assert "NonExistentQueue" in (events.last_error or "")
    assert events.errors_total == 1
    assert status["inventory"].last_outcome == "ok"  # the others still ran


def test_once_returns_1_when_a_collector_is_partial(
    make_runner: Callable[..., CollectorRunner], sessions: sessionmaker[Session]
) -> None:
    _queue()
    runner = make_runner()
    fail_calls(runner.contexts["inventory"].aws.client("resourcegroupstaggingapi"), "GetResources")
    assert runner.run_once() == 1
    inventory = _status(sessions)["inventory"]
    assert inventory.last_outcome == "partial"
    assert inventory.last_success_at is not None  # the rest was stored
    assert (inventory.last_error or "").startswith("1 failed: tags (GetResources)")


def test_status_records_outcome_calls_duration_and_last_success(
    make_runner: Callable[..., CollectorRunner],
    sessions: sessionmaker[Session],
    clock: FixedClock,
    t0: datetime,
) -> None:
    mode = {"next": "ok"}

    def probe(ctx: CollectorContext) -> CycleResult:
        glue = ctx.aws.client("glue")
        glue.get_jobs()
        glue.get_jobs()
        ctx.aws.client("sqs").list_queues()
        ctx.clock.advance(2.5)  # type: ignore[attr-defined]
        if mode["next"] == "failed":
            raise RuntimeError("database is locked\nsecond line")
        result = CycleResult(items=7, lag_s=3.0)
        if mode["next"] == "partial":
            result.failures.append("job beta: AccessDeniedException: no")
        return result

    job = CollectorJob("probe", probe, lambda s: 60, "test probe")
    runner = make_runner([job])

    assert runner.run_job(job) == "ok"
    row = _status(sessions)["probe"]
    assert (row.last_outcome, row.last_error, row.errors_total) == ("ok", None, 0)
    assert row.last_started_at == t0
    assert row.last_success_at == t0 + timedelta(seconds=2.5)
    assert row.last_duration_s == 2.5
    assert row.api_calls_by_operation == {"glue:GetJobs": 2, "sqs:ListQueues": 1}
    assert (row.last_api_calls, row.api_calls_total, row.cycles_total) == (3, 3, 1)
    assert (row.last_items, row.lag_s, row.interval_s) == (7, 3.0, 60)

    mode["next"] = "partial"
    assert runner.run_job(job) == "partial"
    row = _status(sessions)["probe"]
    assert row.last_outcome == "partial"
    assert row.last_success_at == t0 + timedelta(seconds=5)  # partial still counts
    assert row.last_error == "1 failed: job beta: AccessDeniedException: no"
    assert row.last_error_at == t0 + timedelta(seconds=5)
    assert row.api_calls_by_operation == {"glue:GetJobs": 4, "sqs:ListQueues": 2}

    mode["next"] = "failed"
    assert runner.run_job(job) == "failed"
    row = _status(sessions)["probe"]
    assert row.last_outcome == "failed"
    assert row.last_success_at == t0 + timedelta(seconds=5)  # unchanged by a failure
    assert row.last_error == "RuntimeError: database is locked"
    assert row.last_error_at == t0 + timedelta(seconds=7.5)
    assert (row.errors_total, row.cycles_total) == (2, 3)
    # Calls made before the failure are counted too (they cost the same).
    assert row.api_calls_by_operation == {"glue:GetJobs": 6, "sqs:ListQueues": 3}
    assert row.api_calls_total == 9
    assert clock.now() == t0 + timedelta(seconds=7.5)


def test_bulk_collectors_keep_apart_after_their_first_cycle() -> None:
    """The bulk collectors all run at start; after that each keeps to its phase of
    its interval, so at the default intervals they no longer start together every minute
    (where the 1-second pollers beside them overran), even after a late cycle."""
    t0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    defaults = SimpleNamespace(**{n: f.default for n, f in Settings.model_fields.items()})
    starts: dict[str, list[float]] = {}
    for job in JOBS:
        if job.name not in ("glue_runs", "metrics", "logs", "inventory"):
            continue
        interval = job.interval(defaults)  # type: ignore[arg-type]
        trigger = PhasedInterval(
            seconds=interval, start_date=t0 + timedelta(seconds=interval * job.phase), timezone=UTC
        )
        fired, when = [0.0], t0
        while (when := trigger.get_next_fire_time(when, when)) < t0 + timedelta(minutes=11):
            fired.append((when - t0).total_seconds())
        starts[job.name] = fired
    assert starts["glue_runs"][:5] == [0, 15, 30, 45, 60]
    assert starts["metrics"][:3] == [0, 64, 124]
    assert starts["logs"][:4] == [0, 50, 80, 110]
    assert starts["inventory"] == [0, 316, 616]
    later = [set(times[1:]) for times in starts.values()]
    assert all(not (a & b) for i, a in enumerate(later) for b in later[i + 1 :])
    # A cycle that started late (a busy minute) leaves the next one on the grid.
    late = PhasedInterval(seconds=60, start_date=t0 + timedelta(seconds=4), timezone=UTC)
    assert late.get_next_fire_time(t0 + timedelta(seconds=64), t0 + timedelta(seconds=100)) == (
        t0 + timedelta(seconds=124)
    )
