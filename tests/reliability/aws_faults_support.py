"""What every AWS-fault test of the collectors shares: retrying contexts, cycle figures, checks.

Why one place: each collector's fault test states the same properties (a faulted cycle
ends, names only the broken resource, keeps its requests within calls × attempts) and
prints the same figures (calls, retries, cycle time), so they read alike and the figures
compare across collectors. Faults are scripted per request with the sandbox's in-process
injector (`sandbox.fidelity.client_faults.ClientFaults`): the error kinds the sandbox
server answers, plus `timeout` (botocore's ReadTimeoutError) and `slow` (SLOW_S late).

Real botocore retries run (adaptive mode, ATTEMPTS requests a call). Its back-off jitter
is seeded, so calls and retries are the same on every run; cycle times still move by a
second or so with the adaptive rate limiter's clock, hence the wide bound.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from collectors.context import CollectorContext, CycleResult
from sandbox.fidelity.client_faults import ClientFaults
from tests.collectors.conftest import MakeCtx
from tests.reliability.figure_report import report

__all__ = [
    "ATTEMPTS",
    "CYCLE_BOUND_S",
    "SLOW_S",
    "ClientFaults",
    "CycleFigures",
    "check_faulted",
    "count_distinct",
    "describe",
    "figures",
    "retrying_ctx",
    "run_cycle",
    "seeded_jitter",
]

ATTEMPTS = 3  # requests per call (SMD_AWS_MAX_ATTEMPTS): the first and two retries
SLOW_S = 0.3  # how long a "slow" answer keeps the caller waiting (ClientFaults' default)
CYCLE_BOUND_S = 20.0  # a faulted cycle must still end well inside a collector interval


@dataclass
class CycleFigures:
    calls: int
    requests: int
    seconds: float
    result: CycleResult

    @property
    def retries(self) -> int:
        return self.requests - self.calls


def run_cycle(
    collect: Callable[[CollectorContext], CycleResult],
    ctx: CollectorContext,
    scripts: Sequence[ClientFaults] = (),
) -> CycleFigures:
    """One cycle with its logical calls, HTTP requests (retries included) and wall time;
    every fault in ``scripts`` must have been met."""
    ctx.aws.counter.reset()
    before = ctx.aws.counter.requests
    start = time.monotonic()
    result = collect(ctx)
    seconds = time.monotonic() - start
    after = ctx.aws.counter.requests
    for script in scripts:  # a planned fault the cycle never met would test nothing
        assert not script.pending, f"{script.info.operation} faults never met: {script.pending}"
    return CycleFigures(
        calls=ctx.aws.counter.total(),
        requests=after - before,
        seconds=seconds,
        result=result,
    )


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Lines written to the terminal whatever the capture mode (and kept as properties)."""
    lines: list[str] = []
    yield lines
    report(request, "aws-faults", lines)


@pytest.fixture
def retrying_ctx(make_ctx: MakeCtx) -> MakeCtx:
    """As tests/collectors' make_ctx, but with botocore's retries on (ATTEMPTS requests)."""

    def make(name: str, **kwargs: Any) -> CollectorContext:
        return make_ctx(name, aws_max_attempts=ATTEMPTS, **kwargs)

    return make


@pytest.fixture(autouse=True)
def seeded_jitter() -> None:
    random.seed(12)  # botocore's back-off jitter draws from the module-level generator


def check_faulted(
    fig: CycleFigures, *, broken: Sequence[str], budget_calls: int | None = None
) -> None:
    """The faulted cycle ended in time, named exactly the broken resources, stayed in budget."""
    assert fig.seconds < CYCLE_BOUND_S, f"faulted cycle took {fig.seconds:.1f} s"
    for resource in broken:
        assert any(resource in f for f in fig.result.failures), (resource, fig.result.failures)
    assert len(fig.result.failures) == len(broken), fig.result.failures
    if budget_calls is not None:
        assert fig.calls <= budget_calls, f"{fig.calls} calls > budget {budget_calls}"
    assert fig.requests <= fig.calls * ATTEMPTS, "a call retried past its attempts"


def describe(label: str, fig: CycleFigures) -> str:
    return (
        f"{label}: calls={fig.calls} retries={fig.retries} "
        f"cycle={fig.seconds:.2f}s failures={len(fig.result.failures)}"
    )


def count_distinct(ctx: CollectorContext, model: Any, *cols: Any) -> tuple[int, int]:
    """(rows, distinct values of ``cols``): equal when nothing was stored twice."""
    with ctx.sessions() as s:
        rows = s.scalar(select(func.count()).select_from(model))
        distinct = len(set(s.execute(select(*cols)).all()))
    return int(rows or 0), distinct
