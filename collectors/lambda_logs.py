"""Which Lambda log streams a logs cycle reads, and how far each function's mark moves.

A function's streams are found by listing those with events after its mark
(DescribeLogStreams by last event time). A cycle reads at most a budget of streams (the
GetLogEvents quota), so:
- a function's pending streams are read oldest first, and its mark moves only past the
  streams actually read: the rest are listed again next cycle, never skipped;
- functions share the budget: each one reached takes at most an equal share of what is
  left (the remainder goes to those that want more), and the functions the budget did
  not reach go first next cycle. With F functions wanting streams and a budget of B a
  cycle, each is read within ceil(F/B) cycles however chatty the others are.
Reading a stream twice is harmless (each stream has its own read cursor in log_streams);
never reading one loses its lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import takewhile
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collectors.context import CollectorContext, CycleResult
from dashapp.aws import logs as awslogs
from dashapp.models import CollectorCursor, LambdaFunction, MetricPoint

LAMBDA_CURSOR = "logs:lambda"
TURNS = "lambda_log_turns"  # ctx.memory
ONE_MS = timedelta(milliseconds=1)  # CloudWatch's resolution


def lambda_group(function: str) -> str:
    return f"/aws/lambda/{function}"


@dataclass(frozen=True)
class Mark:
    """How far a function's streams were read: every stream whose last event is before
    `at`, and those whose last event is at `at` and whose name is at most `after` (all of
    them when `after` is None). Streams of one instant can outnumber the budget; the name
    tells them apart. A stream that gets new events moves past the mark again."""

    at: datetime
    after: str | None = None

    def covers(self, stream: awslogs.StreamInfo) -> bool:
        last = stream.last_event_at
        if last is None or last < self.at:
            return True
        return last == self.at and (self.after is None or stream.name <= self.after)

    @property
    def list_since(self) -> datetime:
        """What to list from: streams with a last event after this time."""
        return self.at - ONE_MS if self.after is not None else self.at

    def to_json(self) -> str | dict[str, str]:
        if self.after is None:
            return self.at.isoformat()
        return {"at": self.at.isoformat(), "after": self.after}

    @classmethod
    def from_json(cls, value: Any) -> Mark:
        """A stored mark: an ISO time (the form before marks named streams) or {at, after}."""
        if isinstance(value, dict):
            return cls(datetime.fromisoformat(value["at"]), value["after"])
        return cls(datetime.fromisoformat(value))


def _age(stream: awslogs.StreamInfo) -> tuple[datetime, str]:
    assert stream.last_event_at is not None  # listed streams have events
    return stream.last_event_at, stream.name


def pending_streams(listed: Iterable[awslogs.StreamInfo], mark: Mark) -> list[awslogs.StreamInfo]:
    """The listed streams past `mark`, oldest first: the order a budget takes them in."""
    return sorted((s for s in listed if not mark.covers(s)), key=_age)


def share_budget(
    order: list[str], pending_of: Callable[[str], int], budget: int
) -> tuple[dict[str, int], list[str]]:
    """How many streams each function reads this cycle, and which functions were reached.

    Functions are visited in `order` (asking `pending_of` how many streams each has to
    read) until the budget is spent; each takes at most an equal share of what is left,
    then what remains goes to those that wanted more, in order. Every function reached
    with something to read gets a stream, so at least min(functions, budget) are reached
    each cycle; the others go first next cycle (`LambdaTurns`).
    """
    wanted: dict[str, int] = {}
    taken: dict[str, int] = {}
    reached: list[str] = []
    left = budget
    for i, name in enumerate(order):
        if left <= 0:
            break
        reached.append(name)
        wanted[name] = pending_of(name)
        taken[name] = min(wanted[name], -(-left // (len(order) - i)))
        left -= taken[name]
    for name in taken:
        more = min(left, wanted[name] - taken[name])
        taken[name] += more
        left -= more
    return {name: n for name, n in taken.items() if n > 0}, reached


def mark_after(
    mark: Mark, picked: list[awslogs.StreamInfo], complete: bool, failed: set[str]
) -> Mark:
    """Where the mark moves once `picked` (the oldest pending streams) were read but
    the streams named in `failed`: past every stream read before the first failure — so a
    failed stream and everything newer is listed again — and when all pending streams were
    read, past every stream of that instant (then a later stream of the same millisecond
    is not waited for: the form the mark had before it named streams)."""
    done = list(takewhile(lambda s: s.name not in failed, picked))
    if complete and len(done) == len(picked):
        return Mark(_age(done[-1])[0] if done else mark.at)
    return Mark(*_age(done[-1])) if done else mark


@dataclass
class LambdaTurns:
    """The cycle in which each function last had its streams looked at, in this process.

    Cycles, not times, so turns never tie when the clock stands still. A new process
    starts afresh (the most recently invoked first); nothing is lost by that, the order
    only decides who waits a cycle.
    """

    cycle: int = 0
    last: dict[str, int] = field(default_factory=dict)

    def order(self, candidates: Mapping[str, datetime | None]) -> list[str]:
        """Functions that waited longest first; then the most recently invoked."""

        def key(name: str) -> tuple[int, float, str]:
            invoked = candidates[name]
            return (self.last.get(name, 0), -invoked.timestamp() if invoked else 0.0, name)

        return sorted(candidates, key=key)

    def took(self, served: Iterable[str], *, keep: Iterable[str]) -> None:
        self.cycle += 1
        for name in served:
            self.last[name] = self.cycle
        current = set(keep)
        for name in [n for n in self.last if n not in current]:
            del self.last[name]


@dataclass
class LambdaPlan:
    """The streams a cycle reads (function, stream, oldest first per function) and how to
    move the marks once they were read."""

    marks: dict[str, Mark] = field(default_factory=dict)
    picks: dict[str, tuple[list[awslogs.StreamInfo], bool]] = field(default_factory=dict)

    @property
    def streams(self) -> list[tuple[str, awslogs.StreamInfo]]:
        return [(name, s) for name, (picked, _) in self.picks.items() for s in picked]

    def write_marks(
        self, session: Session, failed: Iterable[tuple[str, str]], now: datetime
    ) -> None:
        """Move the marks in the transaction that stores the lines (`failed`: the (group,
        stream) pairs that could not be read): a mark ahead of stored lines loses them."""
        failed_streams = set(failed)
        row = session.get(CollectorCursor, LAMBDA_CURSOR) or CollectorCursor(name=LAMBDA_CURSOR)
        value = dict(row.value or {})
        for name, (picked, complete) in self.picks.items():
            group = lambda_group(name)
            names = {s.name for s in picked if (group, s.name) in failed_streams}
            mark = mark_after(self.marks[name], picked, complete, names)
            if mark != self.marks[name]:
                value[name] = mark.to_json()
        row.value = value
        row.updated_at = now
        session.add(row)


def plan_lambda_reads(
    ctx: CollectorContext, now: datetime, budget: int, result: CycleResult
) -> LambdaPlan:
    """Streams with new events of functions invoked since their mark (or with a backlog
    left from an earlier cycle), within `budget`, functions taking turns."""
    default = Mark(now - timedelta(seconds=ctx.settings.logs_backfill_s))
    with ctx.sessions() as session:
        row = session.get(CollectorCursor, LAMBDA_CURSOR)
        marks = {name: Mark.from_json(v) for name, v in (row.value if row else {}).items()}
        invoked: dict[str, datetime | None] = dict(
            session.execute(
                select(MetricPoint.resource_name, func.max(MetricPoint.ts))
                .where(
                    MetricPoint.resource_type == "lambda_function",
                    MetricPoint.metric == "Invocations",
                    MetricPoint.stat == "Sum",
                    MetricPoint.value > 0,
                    MetricPoint.ts >= default.at,
                )
                .group_by(MetricPoint.resource_name)
            ).all()
        )
        live = set(
            session.scalars(select(LambdaFunction.name).where(LambdaFunction.gone_at.is_(None)))
        )
    backlog = {name for name, mark in marks.items() if mark.after is not None}
    candidates = {n: invoked.get(n) for n in (set(invoked) | backlog) & live}
    client = ctx.aws.client("logs")
    pending: dict[str, list[awslogs.StreamInfo]] = {}

    def pending_of(name: str) -> int:
        mark, last_invoked = marks.get(name, default), candidates[name]
        if name not in backlog and last_invoked and last_invoked + timedelta(minutes=1) < mark.at:
            return 0  # nothing ran since our last look
        group = lambda_group(name)
        try:
            listed = awslogs.recent_streams(client, group, mark.list_since)
        except client.exceptions.ResourceNotFoundException:
            return 0
        except Exception as e:  # noqa: BLE001 - one function's group, the others go on
            result.failed(f"log group {group}", e)
            return 0
        pending[name] = pending_streams(listed, mark)
        return len(pending[name])

    turns: LambdaTurns = ctx.memory.setdefault(TURNS, LambdaTurns())
    taken, reached = share_budget(turns.order(candidates), pending_of, budget)
    turns.took(reached, keep=candidates)
    plan = LambdaPlan()
    for name, streams in pending.items():
        mark, n = marks.get(name, default), taken.get(name, 0)
        if n or mark.after is not None:  # (a finished backlog: its mark loses the name)
            plan.marks[name], plan.picks[name] = mark, (streams[:n], n == len(streams))
    return plan
