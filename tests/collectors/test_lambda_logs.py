"""Lambda logs past the per-cycle stream budget: every line arrives, once, and no function
waits for ever behind a chatty one.

Why: a logs cycle reads at most `SMD_LOGS_STREAMS_PER_CYCLE` streams (the GetLogEvents
quota). A function with more streams than that is read over several cycles; its mark
("read up to here") must then stay before the streams it has not read, or they are never
listed again and their lines are lost.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from collectors.context import CollectorContext
from collectors.lambda_logs import LambdaTurns, share_budget
from collectors.logs import collect_logs
from tests.collectors.conftest import MakeCtx, fail_calls, watch_calls
from tests.collectors.log_support import lambda_function, lambda_lines, put_lines
from tests.reliability.figure_report import report

BUDGET = 5


def _stream_name(function: str, i: int) -> str:
    """A Lambda-like stream name whose order says nothing about when it was written."""
    return "2026/11/25/[$LATEST]" + hashlib.md5(f"{function} {i}".encode()).hexdigest()


def _invocation_streams(function: str, times: list[datetime]) -> list[str]:
    """One stream per invocation, holding one line at its time; the lines, in order."""
    group, lines = f"/aws/lambda/{function}", []
    for i, at in enumerate(times):
        line = f"{function} invocation {i}"
        put_lines(group, _stream_name(function, i), [(at, line)])
        lines.append(line)
    return lines


def _cycles_until_stored(
    ctx: CollectorContext, expected: list[str], *, limit: int
) -> tuple[dict[str, int], Counter[str], list[int]]:
    """Run logs cycles 30 s apart until every expected line is stored (at most `limit`):
    the cycle each line first appeared in, how often each is stored, GetLogEvents calls
    per cycle."""
    reads = watch_calls(ctx.aws.client("logs"), "GetLogEvents")
    arrived: dict[str, int] = {}
    calls: list[int] = []
    stored: Counter[str] = Counter()
    for cycle in range(1, limit + 1):
        before = len(reads)
        collect_logs(ctx)
        calls.append(len(reads) - before)
        stored = Counter(message for *_, message in lambda_lines(ctx))
        for line in stored:
            arrived.setdefault(line, cycle)
        if set(expected) <= set(arrived):
            break
        ctx.clock.advance(30)
    return arrived, stored, calls


def test_a_function_with_more_streams_than_the_budget_is_read_over_cycles(
    make_ctx: MakeCtx, t0: datetime, request: pytest.FixtureRequest
) -> None:
    """12 invocations, one stream each, a budget of 5 streams a cycle: every line is stored
    within ceil(12/5) cycles and none twice. Seven streams end in the same millisecond (more
    than one budget's worth), so the mark must tell streams of one instant apart."""
    ctx = make_ctx("logs", logs_streams_per_cycle=BUDGET)
    lambda_function(ctx, "orders", invocations=12)
    burst = t0 - timedelta(minutes=3)
    times = [burst] * 7 + [burst + timedelta(seconds=1)] * 3 + [burst + timedelta(seconds=2)] * 2
    lines = _invocation_streams("orders", times)
    bound = math.ceil(len(lines) / BUDGET)

    arrived, stored, calls = _cycles_until_stored(ctx, lines, limit=4 * bound)

    report(
        request,
        "lambda_logs",
        [
            f"{len(lines)} streams, budget {BUDGET}: {len(arrived)} of {len(lines)} lines "
            f"stored after {len(calls)} cycles (bound {bound}); GetLogEvents per cycle {calls}"
        ],
    )
    assert sorted(set(lines) - set(arrived)) == [], "lines never stored"
    assert max(arrived.values()) <= bound
    assert [line for line, n in stored.items() if n > 1] == [], "lines stored twice"
    assert max(calls) <= BUDGET
    # Caught up: the next cycle has nothing to read.
    ctx.clock.advance(30)
    reads = watch_calls(ctx.aws.client("logs"), "GetLogEvents")
    assert collect_logs(ctx).failures == []
    assert reads == []


def test_a_chatty_function_does_not_starve_a_quiet_one(
    make_ctx: MakeCtx, t0: datetime, request: pytest.FixtureRequest
) -> None:
    """One function with 50 streams to read and one with 2, a budget of 5: the quiet one's
    lines arrive within 2 cycles although the chatty one was invoked last (and so is looked
    at first), and every chatty line arrives within ceil(52/5) cycles."""
    ctx = make_ctx("logs", logs_streams_per_cycle=BUDGET)
    lambda_function(ctx, "clickstream", invocations=50, invoked_at=t0 - timedelta(minutes=1))
    lambda_function(ctx, "nightly-report", invocations=2, invoked_at=t0 - timedelta(minutes=3))
    start = t0 - timedelta(minutes=4)
    chatty = _invocation_streams(
        "clickstream", [start + timedelta(seconds=2 * i) for i in range(50)]
    )
    quiet = _invocation_streams("nightly-report", [start, start + timedelta(seconds=30)])
    bound = math.ceil((len(chatty) + len(quiet)) / BUDGET)

    arrived, stored, calls = _cycles_until_stored(ctx, chatty + quiet, limit=3 * bound)

    quiet_at = max((arrived.get(line, 0) for line in quiet), default=0)
    report(
        request,
        "lambda_logs",
        [
            f"50 + 2 streams, budget {BUDGET}: the 2-stream function's lines stored in cycle "
            f"{quiet_at or 'never'}, all {len(arrived)} of 52 after {len(calls)} cycles "
            f"(bound {bound})"
        ],
    )
    assert sorted(set(quiet) - set(arrived)) == [] and quiet_at <= 2
    assert sorted(set(chatty) - set(arrived)) == [], "lines never stored"
    assert max(arrived.values()) <= bound
    assert [line for line, n in stored.items() if n > 1] == [], "lines stored twice"
    assert max(calls) <= BUDGET


def test_a_backlog_survives_a_failed_stream_and_streams_that_keep_writing(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    """Mid-backlog, one stream is throttled and streams (read and unread) get new lines: the
    mark stays before the throttled stream, and every line is stored once."""
    ctx = make_ctx("logs", logs_streams_per_cycle=BUDGET)
    lambda_function(ctx, "orders", invocations=12)
    group, start = "/aws/lambda/orders", t0 - timedelta(minutes=4)
    lines = _invocation_streams("orders", [start + timedelta(seconds=i) for i in range(12)])
    throttled = _stream_name("orders", 2)  # the third oldest: inside the first cycle's budget
    fault = fail_calls(
        ctx.aws.client("logs"),
        "GetLogEvents",
        code="ThrottlingException",
        when=lambda call: call.get("logStreamName") == throttled,
    )
    failures = collect_logs(ctx).failures
    assert len(failures) == 1, "the oldest streams go first: the throttled one is among them"
    fault.remove()
    ctx.clock.advance(30)
    later = ["orders invocation 0, a late line", "orders invocation 8, a late line"]
    put_lines(group, _stream_name("orders", 0), [(start + timedelta(seconds=40), later[0])])
    put_lines(group, _stream_name("orders", 8), [(start + timedelta(seconds=41), later[1])])

    arrived, stored, _ = _cycles_until_stored(ctx, lines + later, limit=10)

    assert sorted(set(lines + later) - set(arrived)) == [], "lines never stored"
    assert [line for line, n in stored.items() if n > 1] == [], "lines stored twice"


@pytest.mark.parametrize(
    ("functions", "budget"), [(2, 5), (13, 5), (40, 7), (7, 1), (200, 200), (201, 200)]
)
def test_every_function_wanting_streams_is_read_within_ceil_f_over_b_cycles(
    functions: int, budget: int
) -> None:
    """Functions with more streams than the whole budget, every cycle, and one quiet
    function (invoked longest ago, so last in the first cycle's order) that gets a stream
    every third cycle: over 60 cycles every one is read within ceil(F/B) cycles of the
    last time it was, and no cycle reads more than the budget."""
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    invoked = {f"fn-{i:03d}": now - timedelta(seconds=i) for i in range(functions)}
    quiet = f"fn-{functions - 1:03d}"
    pending = {name: 0 if name == quiet else 10 * budget for name in invoked}
    turns = LambdaTurns()
    waited = dict.fromkeys(invoked, 0)
    longest = 0
    for cycle in range(60):
        if cycle % 3 == 0:
            pending[quiet] += 1
        taken, reached = share_budget(turns.order(invoked), pending.__getitem__, budget)
        turns.took(reached, keep=invoked)
        assert sum(taken.values()) <= budget
        for name in invoked:
            if name in taken:
                pending[name] -= taken[name]
                waited[name] = 0
            elif pending[name]:
                waited[name] += 1
                longest = max(longest, waited[name])
            if name != quiet:
                pending[name] = 10 * budget
    assert longest < math.ceil(functions / budget)
