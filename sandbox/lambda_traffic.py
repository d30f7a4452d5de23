"""Live Lambda load: each finished minute of the sandbox functions' metrics and a few logs.

Why its own module: Lambda's side of the simulation shares nothing with the
Glue run lifecycle but the clock and the random stream.  Each minute, a few
seconds after it ends (as CloudWatch shows it), every function publishes its
AWS/Lambda metrics -- Duration as values with counts, so percentiles work --
with an occasional incident, and logs a few invocations to an hourly stream.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np

from sandbox import behaviour
from sandbox.account import SandboxAccount
from sandbox.catalog import FunctionSpec
from sandbox.seed.lambda_history import LAMBDA_NAMESPACE

__all__ = ["LAMBDA_LAG_S", "LambdaTraffic"]

LAMBDA_LAG_S = 5  # CloudWatch shows a Lambda minute a few seconds after it ends


class LambdaTraffic:
    """Publishes the functions' minutes from `now` on, as the simulator's clock passes them."""

    def __init__(
        self,
        account: SandboxAccount,
        functions: list[FunctionSpec],
        rng: random.Random,
        np_rng: np.random.Generator,
        now: datetime,
    ) -> None:
        self.account = account
        self.functions = functions
        self.rng = rng
        self.np_rng = np_rng
        self.lambda_minute = int(now.timestamp()) // 60 * 60
        self.lambda_streams: dict[str, tuple[int, str]] = {}
        self.lambda_incident: dict[str, int] = {}  # function → minutes of incident left

    def publish(self, now: datetime) -> None:
        """Publish every minute that has ended (and CloudWatch would show) by `now`."""
        due = int(now.timestamp()) - LAMBDA_LAG_S
        while self.lambda_minute + 60 <= due:
            minute = self.lambda_minute
            self.lambda_minute += 60
            self._publish_lambda_minute(minute)

    def _publish_lambda_minute(self, minute: int) -> None:
        stamp = datetime.fromtimestamp(minute, UTC)
        minutes = np.array([minute], dtype=np.int64)
        for spec in self.functions:
            left = self.lambda_incident.get(spec.name, 0)
            if left == 0 and self.rng.random() < 1 / 4000:
                left = self.rng.randint(10, 40)
            self.lambda_incident[spec.name] = max(0, left - 1)
            load = behaviour.lambda_minutes(
                spec, minutes, self.np_rng, incident=np.array([left > 0])
            )
            inv = float(load.invocations[0])
            if inv == 0:
                continue
            dims = [{"Name": "FunctionName", "Value": spec.name}]
            samples = load.duration_samples[0]
            values, counts = np.unique(samples, return_counts=True)
            # Scale the sample's counts to the minute's invocations (CloudWatch sees them all).
            scale = inv / max(1, len(samples))
            data = [
                {"MetricName": "Invocations", "Value": inv, "Unit": "Count"},
                {"MetricName": "Errors", "Value": float(load.errors[0]), "Unit": "Count"},
                {"MetricName": "Throttles", "Value": float(load.throttles[0]), "Unit": "Count"},
                {
                    "MetricName": "ConcurrentExecutions",
                    "Value": float(load.concurrency[0]),
                    "Unit": "Count",
                },
                {
                    "MetricName": "Duration",
                    "Unit": "Milliseconds",
                    "Values": [float(v) for v in values],
                    "Counts": [float(round(c * scale, 3)) for c in counts],
                },
            ]
            for d in data:
                d["Dimensions"] = dims
                d["Timestamp"] = stamp
            self.account.put_metrics(LAMBDA_NAMESPACE, data)
            self._lambda_logs(spec, stamp, load)

    def _lambda_logs(
        self, spec: FunctionSpec, minute: datetime, load: behaviour.LambdaMinutes
    ) -> None:
        n = int(load.invocations[0])
        errors = int(load.errors[0])
        take_ok = min(n - errors, 1 + int(self.rng.random() < 0.3))
        take_err = min(errors, 2)
        if take_ok + take_err == 0:
            return
        hour = int(minute.timestamp()) // 3600
        current = self.lambda_streams.get(spec.name)
        if current is None or current[0] != hour:
            current = (hour, f"{minute:%Y/%m/%d}/[$LATEST]{self.rng.getrandbits(128):032x}")
            self.lambda_streams[spec.name] = current
        samples = load.duration_samples[0]
        lines: list[tuple[datetime, str]] = []
        for k in range(take_ok + take_err):
            at = minute + timedelta(seconds=self.rng.uniform(0, 59))
            dur = float(samples[k % len(samples)]) if len(samples) else spec.duration_ms
            lines.extend(
                behaviour.lambda_invocation_log(
                    spec, at, self.rng, failed=k >= take_ok, duration_ms=dur
                )
            )
        self.account.put_logs(f"/aws/lambda/{spec.name}", current[1], lines)
