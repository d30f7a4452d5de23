"""`/metrics`: the collectors' health in Prometheus text format, read from the database.

The collector process writes one `collector_status` row per collector job; any web
worker can serve this page because it reads those rows on every scrape through a
custom prometheus_client collector. Each app gets its own `CollectorRegistry`
(never prometheus_client's global one, which would leak series between apps in one
process and expose the worker's own process metrics under a shared name).

Series, each labelled `collector`:
- `smd_collector_last_success_timestamp_seconds`, `smd_collector_last_duration_seconds`,
  `smd_collector_lag_seconds` (gauges; absent until the collector reports a value);
- `smd_collector_api_calls_total{operation}`, `smd_collector_errors_total`,
  `smd_collector_cycles_total` (counters, cumulative as the collector stores them);
- `smd_collector_up`: 1 when the collector is fresh (`queries.is_collector_stale`), else 0.

API calls are broken down by `operation` from `api_calls_by_operation`; calls the
collector did not attribute to an operation are reported as `operation="other"`, so
`sum by (collector)` always equals the collector's `api_calls_total`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from flask import Blueprint, Flask, Response, current_app
from flask.blueprints import BlueprintSetupState
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from sqlalchemy.exc import SQLAlchemyError

from dashapp.actions.auth import role_required
from dashapp.db import db_error_line
from dashapp.identity import Role
from dashapp.models import CollectorStatus
from dashapp.queries import system as queries
from dashapp.services import services

REGISTRY_KEY = "smd_prometheus"
UNATTRIBUTED = "other"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def operation_counts(status: CollectorStatus) -> dict[str, float]:
    """API calls per operation, plus the unattributed remainder under `other`.

    Non-numeric entries in the JSON are ignored rather than failing the whole scrape.
    """
    counts: dict[str, float] = {}
    for operation, value in sorted((status.api_calls_by_operation or {}).items()):
        number = _number(value)
        if number is not None:
            counts[str(operation)] = number
    remainder = float(status.api_calls_total or 0) - sum(counts.values())
    if remainder > 0 or not counts:
        counts[UNATTRIBUTED] = counts.get(UNATTRIBUTED, 0.0) + max(remainder, 0.0)
    return counts


def status_families(
    statuses: Sequence[CollectorStatus], now: datetime, stale_after_s: int
) -> list[Metric]:
    """The metric families for these statuses at `now` (pure: no database, no Flask)."""
    label = ["collector"]
    last_success = GaugeMetricFamily(
        "smd_collector_last_success_timestamp_seconds",
        "Unix time of the collector's last successful cycle.",
        labels=label,
    )
    last_duration = GaugeMetricFamily(
        "smd_collector_last_duration_seconds",
        "Duration of the collector's last cycle.",
        labels=label,
    )
    api_calls = CounterMetricFamily(
        "smd_collector_api_calls",
        "AWS API calls made by the collector, by operation ('other': not attributed).",
        labels=["collector", "operation"],
    )
    errors = CounterMetricFamily(
        "smd_collector_errors", "Collector cycles that failed.", labels=label
    )
    cycles = CounterMetricFamily("smd_collector_cycles", "Collector cycles run.", labels=label)
    lag = GaugeMetricFamily(
        "smd_collector_lag_seconds",
        "How far behind AWS the collector's data was at its last cycle.",
        labels=label,
    )
    up = GaugeMetricFamily(
        "smd_collector_up",
        "1 when the collector succeeded within its staleness limit, else 0.",
        labels=label,
    )
    for s in statuses:
        name = [s.name]
        if s.last_success_at is not None:
            last_success.add_metric(name, s.last_success_at.astimezone(UTC).timestamp())
        if s.last_duration_s is not None:
            last_duration.add_metric(name, s.last_duration_s)
        for operation, count in operation_counts(s).items():
            api_calls.add_metric([s.name, operation], count)
        errors.add_metric(name, float(s.errors_total or 0))
        cycles.add_metric(name, float(s.cycles_total or 0))
        if s.lag_s is not None:
            lag.add_metric(name, s.lag_s)
        up.add_metric(name, 0.0 if queries.is_collector_stale(s, now, stale_after_s) else 1.0)
    return [last_success, last_duration, api_calls, errors, cycles, lag, up]


class CollectorStatusCollector:
    """A prometheus_client collector that reads `collector_status` on every scrape."""

    def __init__(self, app: Flask) -> None:
        self._app = app

    def describe(self) -> list[Metric]:
        """The families without samples, so registration needs no database."""
        return status_families([], datetime.fromtimestamp(0, UTC), 0)

    def collect(self) -> list[Metric]:
        svc = services(self._app)
        with svc.sessions() as session:
            statuses = queries.collector_statuses(session)
        return status_families(statuses, svc.clock.now(), svc.settings.stale_after_s)


def build_registry(app: Flask) -> CollectorRegistry:
    """A registry of this app's own, holding only the collector-status collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CollectorStatusCollector(app))
    return registry


def metrics_blueprint() -> Blueprint:
    """A fresh blueprint per app; registering it gives the app its own registry."""
    bp = Blueprint("metrics", __name__)

    @bp.record_once
    def _attach_registry(state: BlueprintSetupState) -> None:
        state.app.extensions[REGISTRY_KEY] = build_registry(state.app)

    @bp.get("/metrics")
    @role_required(Role.viewer, "read_metrics")
    def metrics() -> Response:
        try:
            body = generate_latest(current_app.extensions[REGISTRY_KEY])
        except SQLAlchemyError as e:
            # A failed scrape (Prometheus marks the target down) rather than made-up values.
            return Response(
                f"database unreachable: {db_error_line(e)}\n",
                status=503,
                mimetype="text/plain",
                headers={"Cache-Control": "no-store"},
            )
        return Response(
            body, content_type=CONTENT_TYPE_PLAIN_0_0_4, headers={"Cache-Control": "no-store"}
        )

    return bp
