"""CloudWatch Logs into log_events, incrementally, one poller per stream.

- `follow_logs` (every second): the driver output and error streams of every
  running Glue job, read forward from their stored tokens — one GetLogEvents per
  stream per second however many people watch.
- `collect_logs` (every half minute): the last lines of runs that just finished,
  a bounded backlog of older runs (first start), and Lambda log groups — only of
  functions that were invoked since the last look (metrics tell), only streams
  with new events (DescribeLogStreams by last event time); which of them fit the
  cycle's budget, and how far each function's mark moves: `collectors/lambda_logs.py`.

FilterLogEvents (5 calls/s per account) is never used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collectors.context import CollectorContext, CycleResult
from collectors.lambda_logs import lambda_group, plan_lambda_reads
from dashapp.aws import glue
from dashapp.aws import logs as awslogs
from dashapp.db import upsert
from dashapp.models import (
    JobRun,
    LogEvent,
    LogStream,
    LogWatch,
)

WORKERS = 8
MAX_FOLLOW_WORKERS = 25  # GetLogEvents' default quota is 25 calls a second


@dataclass(frozen=True)
class StreamTarget:
    group: str
    stream: str
    resource_type: str
    resource_name: str
    run_id: str | None = None
    following: bool = False


def glue_groups(ctx: CollectorContext) -> tuple[str, str]:
    prefix = ctx.settings.glue_log_group_prefix.rstrip("/")
    return f"{prefix}/output", f"{prefix}/error"


def _run_targets(
    ctx: CollectorContext, runs: Iterable[tuple[str, str]], *, following: bool
) -> list[StreamTarget]:
    out = []
    for job, run_id in runs:
        for group in glue_groups(ctx):
            out.append(StreamTarget(group, run_id, "glue_job", job, run_id, following))
    return out


def follow_logs(ctx: CollectorContext) -> CycleResult:
    """Poll the streams of running jobs, and streams someone is watching, every second.

    GetLogEvents has an account quota (25 calls/s by default), so a cycle reads at most
    `log_follow_max_calls_per_s` streams' worth, in the order of `follow_order`: streams
    open in someone's live view first, then the others taking turns, busy ones a turn
    early. With a few running jobs every stream is read every cycle; with N streams past
    a budget of B, a watched stream is read every cycle and every other within
    ⌈N/B⌉ + 1 cycles, however many of them are busy.
    """
    now = ctx.clock.now()
    with ctx.sessions() as session:
        runs = list(
            session.execute(
                select(JobRun.job_name, JobRun.run_id).where(JobRun.state.in_(glue.ACTIVE_STATES))
            )
        )
        targets = _run_targets(ctx, runs, following=True)
        watched = {
            (w.log_group, w.log_stream)
            for w in session.scalars(select(LogWatch).where(LogWatch.watched_until >= now))
        }
        streams = list(
            session.scalars(
                select(LogStream).where(
                    LogStream.run_id.in_([run_id for _, run_id in runs])
                    | LogStream.log_stream.in_(sorted({s for _, s in watched}))
                )
            )
        )
    known = {(s.log_group, s.log_stream): s for s in streams}
    have = {(t.group, t.stream) for t in targets}
    for group, stream in sorted(watched - have):
        # A watched stream of a finished run or a Lambda function: read it live too.
        row = known.get((group, stream))
        targets.append(
            StreamTarget(
                group,
                stream,
                row.resource_type if row else _resource_type(group),
                row.resource_name if row else _resource_name(group, stream),
                row.run_id if row else None,
                following=row.following if row else False,
            )
        )
    budget = max(
        1,
        int(ctx.settings.log_follow_max_calls_per_s * ctx.settings.collect_log_follow_interval_s),
    )
    turns: FollowTurns = ctx.memory.setdefault("log_follow_turns", FollowTurns())
    chosen = follow_order(targets, turns.last, known, watched, now)[:budget]
    turns.took(chosen, keep=targets)
    # One wave: a cycle waits for its slowest read, not for two reads one after the other.
    return read_streams(ctx, chosen, workers=min(budget, MAX_FOLLOW_WORKERS))


BUSY_WITHIN = timedelta(minutes=1)  # a stream with a line this recent is likely to have more


@dataclass
class FollowTurns:
    """The follower's rotation: the cycle each stream was last read in, by this process.

    Cycles, not the `last_read_at` timestamps, order the turns: they never tie when the
    clock stands still and never reorder when it steps back. A new process starts from
    the stored `last_read_at` (streams it has not read yet go first, stalest first).
    """

    cycle: int = 0
    last: dict[tuple[str, str], int] = field(default_factory=dict)

    def took(self, read: Iterable[StreamTarget], *, keep: Iterable[StreamTarget]) -> None:
        self.cycle += 1
        for t in read:
            self.last[(t.group, t.stream)] = self.cycle
        current = {(t.group, t.stream) for t in keep}
        for key in [k for k in self.last if k not in current]:
            del self.last[key]  # the run finished: its stream is no longer followed


def follow_order(
    targets: Sequence[StreamTarget],
    last_cycle: Mapping[tuple[str, str], int],
    streams: Mapping[tuple[str, str], LogStream],
    watched: set[tuple[str, str]],
    now: datetime,
) -> list[StreamTarget]:
    """Streams in the order the follower reads them while its call budget lasts.

    Watched streams first (someone is looking), then every other stream by how many
    cycles ago it was last read, least recently first; a busy stream (a line in the last
    minute) counts as read one cycle earlier than it was, so it goes ahead of quiet
    streams read one cycle before it, and no further: busy streams get more turns, never
    all of them, and a quiet stream waits at most one cycle longer than a strict rotation.
    """

    def key(t: StreamTarget) -> tuple[int, int, int, float, str, str]:
        name = (t.group, t.stream)
        row = streams.get(name)
        busy = _busy(row, now)
        last_read = row.last_read_at.timestamp() if row and row.last_read_at else 0.0
        turn = last_cycle.get(name, 0) - (1 if busy else 0)
        return (0 if name in watched else 1, turn, 0 if busy else 1, last_read, t.group, t.stream)

    return sorted(targets, key=key)


def _busy(stream: LogStream | None, now: datetime) -> bool:
    last = stream.last_event_at if stream is not None else None
    return last is not None and now - last < BUSY_WITHIN


def _resource_type(group: str) -> str:
    return "lambda_function" if group.startswith("/aws/lambda/") else "glue_job"


def _resource_name(group: str, stream: str) -> str:
    return group.removeprefix("/aws/lambda/") if group.startswith("/aws/lambda/") else stream


def collect_logs(ctx: CollectorContext) -> CycleResult:
    now = ctx.clock.now()
    # `--once` reads everything there is (a complete snapshot); a running collector spreads a
    # backlog over cycles to stay within the GetLogEvents quota.
    budget = 1_000_000 if ctx.once else ctx.settings.logs_streams_per_cycle
    targets: list[StreamTarget] = []
    with ctx.sessions() as session:
        # Runs that finished while we followed them: read their last lines, then stop following.
        finishing = list(
            session.execute(
                select(JobRun.job_name, JobRun.run_id)
                .join(LogStream, LogStream.run_id == JobRun.run_id)
                .where(LogStream.following.is_(True), JobRun.state.in_(glue.TERMINAL_STATES))
                .distinct()
            )
        )
        targets += _run_targets(ctx, finishing, following=False)
        # Runs whose logs we never read (first start, or finished between two follows).
        since = now - timedelta(seconds=ctx.settings.logs_backfill_s)
        # A run leaves the backlog once each of its streams was looked at: one stream failing
        # must not drop the other's lines for good.
        known = (
            select(LogStream.run_id)
            .where(LogStream.run_id.is_not(None))
            .group_by(LogStream.run_id)
            .having(func.count(func.distinct(LogStream.log_group)) >= len(glue_groups(ctx)))
        )
        backlog = list(
            session.execute(
                select(JobRun.job_name, JobRun.run_id)
                .where(JobRun.state.in_(glue.TERMINAL_STATES), JobRun.run_id.not_in(known))
                .where((JobRun.started_at >= since) | (JobRun.state != "SUCCEEDED"))
                .order_by(JobRun.started_at.desc())
                # Two streams a run: half the budget, the other half is Lambda's.
                .limit(max(0, budget // 4))
            )
        )
        targets += _run_targets(ctx, backlog, following=False)
    result = read_streams(ctx, targets)
    try:
        plan = plan_lambda_reads(ctx, now, budget - len(targets), result)
        lambda_targets = [
            StreamTarget(lambda_group(name), s.name, "lambda_function", name)
            for name, s in plan.streams
        ]
        lambda_result = read_streams(
            ctx,
            lambda_targets,
            cursor=lambda session, failed: plan.write_marks(
                session, {(t.group, t.stream) for t in failed}, now
            ),
        )
        result.items += lambda_result.items
        result.failures += lambda_result.failures
        if lambda_result.lag_s is not None:
            result.observe_lag(lambda_result.lag_s)
    except Exception as e:  # noqa: BLE001 - Glue logs were stored; Lambda retries next cycle
        result.failed("Lambda log streams", e)
    return result


def read_streams(
    ctx: CollectorContext,
    targets: list[StreamTarget],
    *,
    cursor: Callable[[Session, set[StreamTarget]], None] | None = None,
    workers: int = WORKERS,
) -> CycleResult:
    """Read each stream forward from its cursor (in parallel) and store new lines once;
    `cursor(session, failed targets)` runs in the transaction that stores them."""
    result = CycleResult()
    if not targets:
        if cursor is not None:
            with ctx.sessions.begin() as session:
                cursor(session, set())
        return result
    with ctx.sessions() as session:
        cursors = {
            (s.log_group, s.log_stream): s.next_token
            for s in session.scalars(
                select(LogStream).where(
                    LogStream.log_stream.in_(sorted({t.stream for t in targets}))
                )
            )
        }
    client = ctx.aws.client("logs")

    def read(t: StreamTarget) -> tuple[StreamTarget, Any]:
        try:
            lines, token = awslogs.read_forward(
                client, t.group, t.stream, cursors.get((t.group, t.stream))
            )
            return t, (lines, token)
        except client.exceptions.ResourceNotFoundException:
            return t, None  # the stream does not exist (yet): nothing to read
        except Exception as e:  # noqa: BLE001 - reported per stream
            return t, e

    outcomes = list(_readers(ctx, workers).map(read, targets))
    now = ctx.clock.now()
    failed: set[StreamTarget] = set()
    with ctx.sessions.begin() as session:
        for target, outcome in outcomes:
            if isinstance(outcome, BaseException):
                result.failed(f"log stream {target.group}/{target.stream}", outcome)
                failed.add(target)
                continue
            if outcome is None:
                # No such stream (yet): remember we looked, so it waits its turn in the
                # follower and is not probed again and again as a never-read backlog run.
                outcome = ([], cursors.get((target.group, target.stream)))
            lines, token = outcome
            result.items += _store(session, target, lines, token, now)
            for line in lines:
                if line.ingested_at is not None:
                    result.observe_lag((now - line.ingested_at).total_seconds())
        if cursor is not None:
            cursor(session, failed)
    return result


def _readers(ctx: CollectorContext, workers: int) -> ThreadPoolExecutor:
    """The context's stream readers, kept across cycles: the follower runs every second,
    and starting 8 threads a cycle cost it about 10 ms of CPU, a sixth of its cycle."""
    pool, size = ctx.memory.get("stream_readers", (None, 0))
    if pool is None or size != workers:
        if pool is not None:
            pool.shutdown(wait=False)
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{ctx.name}-streams")
        ctx.memory["stream_readers"] = (pool, workers)
    return pool


def _store(
    session: Any,
    target: StreamTarget,
    lines: list[awslogs.LogLine],
    token: str | None,
    now: datetime,
) -> int:
    keys = awslogs.event_keys(target.group, target.stream, lines)
    rows = [
        {
            "event_key": key,
            "log_group": target.group,
            "log_stream": target.stream,
            "ts": line.ts,
            "ingested_at": line.ingested_at,
            "level": awslogs.level_of(line.message),
            "message": line.message,
        }
        for key, line in zip(keys, lines, strict=True)
    ]
    upsert(session, LogEvent, rows, conflict=["event_key"], update=[])
    stream = session.scalar(
        select(LogStream).where(
            LogStream.log_group == target.group, LogStream.log_stream == target.stream
        )
    )
    if stream is None:
        stream = LogStream(
            log_group=target.group,
            log_stream=target.stream,
            resource_type=target.resource_type,
            resource_name=target.resource_name,
            run_id=target.run_id,
            events_stored=0,
        )
        session.add(stream)
    stream.next_token = token
    stream.last_read_at = now
    stream.following = target.following
    stream.events_stored = (stream.events_stored or 0) + len(rows)
    if lines:
        first, last = min(ln.ts for ln in lines), max(ln.ts for ln in lines)
        stream.first_event_at = min(stream.first_event_at or first, first)
        stream.last_event_at = max(stream.last_event_at or last, last)
    return len(rows)
