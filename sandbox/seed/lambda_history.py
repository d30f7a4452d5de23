"""Lambda history: per-minute AWS/Lambda metrics and sample invocation logs.

Why its own module: 14 days x every function x every minute is too much to
publish through PutMetricData, so the history is bulk-loaded into the metric
store (with raw Duration samples, so percentiles work) and only a few
invocations an hour are logged, as the sandbox's functions would have.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from sandbox import behaviour
from sandbox.account import ACCOUNT_ID, SandboxAccount
from sandbox.catalog import FunctionSpec
from sandbox.fidelity.cloudwatch.store import metric_store

from .report import SeedReport

__all__ = ["LAMBDA_NAMESPACE", "put_lambda_minutes", "seed_lambda_history"]

LAMBDA_NAMESPACE = "AWS/Lambda"


def seed_lambda_history(
    account: SandboxAccount,
    functions: list[FunctionSpec],
    start: datetime,
    now: datetime,
    seed: int,
    report: SeedReport,
) -> None:
    """Per-minute AWS/Lambda metrics (with raw duration samples for percentiles) and sample logs."""
    store = metric_store(ACCOUNT_ID, account.region)
    first = int(start.timestamp()) // 60 * 60
    last = int(now.timestamp()) // 60 * 60  # the current minute is not complete yet
    minutes = np.arange(first, last, 60, dtype=np.int64)
    rng_log = random.Random(seed)
    for i, spec in enumerate(functions):
        rng = np.random.default_rng(seed + i)
        load = behaviour.lambda_minutes(spec, minutes, rng)
        dims = {"FunctionName": spec.name}
        put_lambda_minutes(store, dims, load)
        report.metric_datapoints += int((load.invocations > 0).sum()) * 7
        _lambda_sample_logs(account, spec, load, rng_log, report)


def put_lambda_minutes(store: Any, dims: dict[str, str], load: behaviour.LambdaMinutes) -> None:
    """Write one function's minutes into the metric store as Lambda would have emitted them."""
    active = load.invocations > 0
    ts = load.minutes[active]
    if ts.size == 0:
        return
    inv = load.invocations[active]
    ones = np.ones(ts.size)

    def counter(name: str, values: np.ndarray, unit: str = "Count") -> None:
        store.put_series(
            LAMBDA_NAMESPACE,
            name,
            dims,
            ts,
            sums=values,
            counts=ones,
            mins=values,
            maxs=values,
            unit=unit,
        )

    counter("Invocations", inv)
    counter("Errors", load.errors[active])
    counter("Throttles", load.throttles[active])
    store.put_series(
        LAMBDA_NAMESPACE,
        "ConcurrentExecutions",
        dims,
        ts,
        sums=load.concurrency[active],
        counts=ones,
        mins=load.concurrency[active],
        maxs=load.concurrency[active],
        unit="Count",
    )
    samples = load.duration_samples[active]
    store.put_series(
        LAMBDA_NAMESPACE,
        "Duration",
        dims,
        ts,
        sums=load.duration_sum[active],
        counts=inv,
        mins=load.duration_min[active],
        maxs=load.duration_max[active],
        samples=samples,
        unit="Milliseconds",
    )


def _lambda_sample_logs(
    account: SandboxAccount,
    spec: FunctionSpec,
    load: behaviour.LambdaMinutes,
    rng: random.Random,
    report: SeedReport,
) -> None:
    """A few logged invocations an hour (and most errors) per execution environment stream."""
    group = f"/aws/lambda/{spec.name}"
    streams: dict[str, list[tuple[datetime, str]]] = {}
    hour_stream: dict[int, str] = {}
    for idx in range(len(load.minutes)):
        n = int(load.invocations[idx])
        if n == 0:
            continue
        errors = int(load.errors[idx])
        take_ok = 1 if rng.random() < 0.05 else 0  # about three logged invocations an hour
        take_err = 1 if errors and rng.random() < 0.15 else 0
        if not (take_ok or take_err):
            continue
        minute = datetime.fromtimestamp(int(load.minutes[idx]), UTC)
        hour = int(load.minutes[idx]) // 3600
        if hour not in hour_stream:
            hour_stream[hour] = f"{minute:%Y/%m/%d}/[$LATEST]{rng.getrandbits(128):032x}"
        stream = hour_stream[hour]
        samples = load.duration_samples[idx]
        for k in range(take_ok + take_err):
            at = minute + timedelta(seconds=rng.uniform(0, 59))
            dur = float(samples[k % len(samples)]) if len(samples) else spec.duration_ms
            streams.setdefault(stream, []).extend(
                behaviour.lambda_invocation_log(spec, at, rng, failed=k >= take_ok, duration_ms=dur)
            )
    for stream, lines in streams.items():
        report.log_events += account.put_logs(group, stream, lines)
