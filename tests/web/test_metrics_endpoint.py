"""/metrics on both databases: what Prometheus scrapes, parsed back the way Prometheus reads it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import dash
import pytest
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from dashapp.actions import auth
from dashapp.app import create_app
from dashapp.clock import FixedClock
from dashapp.config import Settings
from dashapp.db import upgrade
from dashapp.services import Services
from tests.web.conftest import NOW
from tests.web.seed import collector

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _add(sessions: sessionmaker[Session], *rows: object) -> None:
    with sessions.begin() as session:
        session.add_all(rows)


def _scrape(app: dash.Dash) -> tuple[dict[str, str], Samples]:
    """Family name → type, and (sample name, labels) → value, as Prometheus would parse them."""
    response = app.server.test_client().get("/metrics")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    types: dict[str, str] = {}
    samples: Samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        types[family.name] = family.type
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return types, samples


def _of(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_every_collector_is_reported_with_its_numbers(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    _add(
        sessions,
        collector(
            "glue_runs",
            NOW,
            ok_ago_s=12,
            last_duration_s=0.75,
            lag_s=1.5,
            api_calls_total=1200,
            errors_total=3,
            cycles_total=400,
            api_calls_by_operation={"glue:GetJobRuns": 900, "glue:BatchGetJobs": 200},
        ),
        collector(
            "metrics",
            NOW,
            ok_ago_s=30,
            api_calls_total=50,
            api_calls_by_operation={"cloudwatch:GetMetricData": 50},
        ),
    )
    types, samples = _scrape(app)
    assert types == {
        "smd_collector_last_success_timestamp_seconds": "gauge",
        "smd_collector_last_duration_seconds": "gauge",
        "smd_collector_api_calls": "counter",
        "smd_collector_errors": "counter",
        "smd_collector_cycles": "counter",
        "smd_collector_lag_seconds": "gauge",
        "smd_collector_up": "gauge",
    }
    assert _of(samples, "smd_collector_last_success_timestamp_seconds", collector="glue_runs") == (
        (NOW - timedelta(seconds=12)).timestamp()
    )
    assert _of(samples, "smd_collector_last_duration_seconds", collector="glue_runs") == 0.75
    assert _of(samples, "smd_collector_lag_seconds", collector="glue_runs") == 1.5
    assert _of(samples, "smd_collector_errors_total", collector="glue_runs") == 3
    assert _of(samples, "smd_collector_cycles_total", collector="glue_runs") == 400
    assert _of(samples, "smd_collector_up", collector="glue_runs") == 1
    api = {
        (dict(labels)["collector"], dict(labels)["operation"]): value
        for (name, labels), value in samples.items()
        if name == "smd_collector_api_calls_total"
    }
    # By operation; what the collector did not attribute is "other", so the sum is the total.
    assert api == {
        ("glue_runs", "glue:BatchGetJobs"): 200,
        ("glue_runs", "glue:GetJobRuns"): 900,
        ("glue_runs", "other"): 100,
        ("metrics", "cloudwatch:GetMetricData"): 50,
    }


def test_a_stale_or_never_successful_collector_is_down(
    app: dash.Dash, sessions: sessionmaker[Session], settings: Settings
) -> None:
    _add(
        sessions,
        collector("logs", NOW, ok_ago_s=settings.stale_after_s + 1),
        collector("events", NOW, ok_ago_s=None, last_duration_s=None, lag_s=None),
        collector("retention", NOW, ok_ago_s=3000, interval_s=3600.0),  # hourly: not late
    )
    _, samples = _scrape(app)
    assert _of(samples, "smd_collector_up", collector="logs") == 0
    assert _of(samples, "smd_collector_up", collector="events") == 0
    assert _of(samples, "smd_collector_up", collector="retention") == 1
    # Values a collector never reported are absent, not zero or 1970.
    assert _of(samples, "smd_collector_last_success_timestamp_seconds", collector="events") is None
    assert _of(samples, "smd_collector_last_duration_seconds", collector="events") is None
    assert _of(samples, "smd_collector_lag_seconds", collector="events") is None
    assert _of(samples, "smd_collector_api_calls_total", collector="events", operation="other") == (
        1200
    )


def test_each_scrape_reads_the_database_and_the_clock_anew(
    app: dash.Dash, sessions: sessionmaker[Session], clock: FixedClock
) -> None:
    _, samples = _scrape(app)
    assert samples == {}  # no collector has reported: families without samples
    _add(sessions, collector("glue_runs", NOW, ok_ago_s=5))
    _, samples = _scrape(app)
    assert _of(samples, "smd_collector_up", collector="glue_runs") == 1
    clock.advance(timedelta(minutes=10))
    _, samples = _scrape(app)
    assert _of(samples, "smd_collector_up", collector="glue_runs") == 0


def test_each_app_has_its_own_registry_and_the_global_one_stays_clean(
    app: dash.Dash,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    make_services: Callable[[Settings], Services],
) -> None:
    other_url = f"sqlite:///{tmp_path}/other.sqlite3"
    upgrade(other_url)
    other_settings = Settings(database_url=other_url, _env_file=None)
    other = create_app(other_settings, services=make_services(other_settings))
    _add(sessions, collector("glue_runs", NOW, ok_ago_s=5))
    assert _of(_scrape(app)[1], "smd_collector_up", collector="glue_runs") == 1
    assert _scrape(other)[1] == {}
    assert b"smd_collector" not in generate_latest(REGISTRY)


def test_an_unreachable_database_fails_the_scrape(
    settings: Settings, unreachable_svc: Services
) -> None:
    client = create_app(settings, services=unreachable_svc).server.test_client()
    response = client.get("/metrics")
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert text.startswith("database unreachable: ") and text.count("\n") == 1


def test_metrics_need_the_viewer_role(app: dash.Dash, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth.Identity, "can", lambda self, needed: False)
    response = app.server.test_client().get("/metrics")
    assert response.status_code == 403
    assert "read metrics needs viewer" in response.get_data(as_text=True)
