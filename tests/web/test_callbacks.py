"""The functions behind the callbacks, called directly: wording, nav state, and data views."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from callbacks.shell import describe_freshness, freshness_outputs, nav_states
from dashapp.app import create_app
from dashapp.clock import FixedClock
from dashapp.config import Settings
from dashapp.models import AuditEntry
from dashapp.queries.system import Freshness, LaggingCollector
from dashapp.services import Services
from pages.pipelines.callbacks import pipeline_cards
from pages.system.callbacks import collectors_view, configuration_view, database_view
from tests.web.conftest import NOW
from tests.web.seed import collector, seed_demo
from tests.web.tree import of_type, text

# --- freshness wording (pure) ---------------------------------------------------------


def test_freshness_when_no_collector_reported() -> None:
    view = describe_freshness(Freshness("empty", None, None, 180, 0), NOW)
    assert view.text == "No collector has reported yet"
    assert view.tone == "empty"
    assert view.announcement == "No collector has reported yet."


def test_freshness_when_current() -> None:
    as_of = NOW - timedelta(seconds=12)
    view = describe_freshness(Freshness("fresh", as_of, 12.0, 180, 2), NOW)
    assert view.text == "Data as of 18:32:05 UTC · 12 s ago"
    assert view.title == "2026-11-25T18:32:05Z"
    assert (view.tone, view.icon) == ("fresh", "check-circle-fill")


def test_freshness_when_stale_warns_with_icon_and_words() -> None:
    as_of = NOW - timedelta(seconds=412)
    lagging = (LaggingCollector("glue_runs", as_of, 412.0),)
    view = describe_freshness(Freshness("stale", as_of, 412.0, 180, 1, lagging), NOW)
    assert view.text == "Stale: data as of 18:25:25 UTC · 6 min ago"
    assert view.icon == "exclamation-triangle-fill"
    assert view.tone == "stale"
    assert view.title == "2026-11-25T18:25:25Z. No success within 3 min: glue_runs"
    assert view.announcement == "Warning: the data is stale."


def test_freshness_of_another_day_shows_the_date() -> None:
    as_of = NOW - timedelta(days=2)
    view = describe_freshness(
        Freshness("stale", as_of, 172800.0, 180, 1, (LaggingCollector("m", as_of, 172800.0),)),
        NOW,
    )
    assert view.text == "Stale: data as of 2026-11-23 18:32 UTC · 2 d ago"


def test_freshness_when_nothing_ever_succeeded() -> None:
    lagging = (LaggingCollector("glue_runs", None, None),)
    view = describe_freshness(Freshness("stale", None, None, 180, 1, lagging), NOW)
    assert view.text == "Stale: no collector has succeeded yet"
    assert view.tone == "stale"
    assert "glue_runs" in view.title


# --- navigation state (pure) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("pathname", "expected"),
    [
        ("/", ["page", None]),
        ("/system", [None, "page"]),
        ("/system/", [None, "page"]),
        ("/system/detail", [None, "page"]),
        ("/systems", [None, None]),
        ("/nowhere", [None, None]),
        (None, ["page", None]),
    ],
)
def test_nav_states(pathname: str | None, expected: list[str | None]) -> None:
    current, classes = nav_states(pathname, ["/", "/system"])
    assert current == expected
    assert classes == ["nav-link active" if c else "nav-link" for c in expected]


# --- views reading the database (both backends) ----------------------------------------


def test_freshness_outputs_read_the_database(
    svc: Services, sessions: sessionmaker[Session], clock: FixedClock
) -> None:
    children, class_name, title, announcement = freshness_outputs(svc)
    assert text(children) == "No collector has reported yet"
    assert class_name == "smd-freshness smd-freshness--empty"

    with sessions.begin() as session:
        session.add(collector("glue_runs", NOW, ok_ago_s=12))
    children, class_name, title, announcement = freshness_outputs(svc)
    assert text(children) == "Data as of 18:32:05 UTC · 12 s ago"
    assert title == "2026-11-25T18:32:05Z"
    assert announcement == "The data is current."

    clock.advance(400)  # time comes from the services' clock
    children, class_name, _, announcement = freshness_outputs(svc)
    assert text(children) == "Stale: data as of 18:32:05 UTC · 6 min ago"
    assert class_name == "smd-freshness smd-freshness--stale"
    assert announcement == "Warning: the data is stale."


def test_pipeline_cards_combine_configuration_and_runs(
    svc: Services, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        seed_demo(session, NOW)
    content = pipeline_cards(svc)
    cards = of_type(content, "Article")
    assert len(cards) == len(svc.settings.datasets)
    by_title = {text(of_type(c, "H2")[0]): text(c) for c in cards}
    assert "Failed" in by_title["Customer master"]
    assert "Last error: AnalysisException" in by_title["Customer master"]
    assert "Running" in by_title["Web clickstream"]
    assert "No runs yet" in by_title["Warehouse inventory"]
    assert "Run states are not collected yet" not in text(content)


def test_pipeline_cards_on_an_empty_database(svc: Services) -> None:
    content = pipeline_cards(svc)
    assert "Run states are not collected yet" in text(content)


def test_collectors_view(svc: Services, sessions: sessionmaker[Session]) -> None:
    assert "No collector has reported yet" in text(collectors_view(svc))
    with sessions.begin() as session:
        seed_demo(session, NOW)
    table = collectors_view(svc)
    assert [text(th) for th in of_type(of_type(table, "Tbody")[0], "Th")] == [
        "glue_jobs",
        "glue_runs",
        "metrics",
    ]


def test_database_view(svc: Services, engine: Engine) -> None:
    words = text(database_view(svc))
    backend = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[engine.dialect.name]
    assert backend in words
    assert "Up to date" in words


@pytest.mark.parametrize("view", [database_view, collectors_view, pipeline_cards])
def test_panels_name_an_unreachable_database(
    view: Callable[[Services], Any], unreachable_svc: Services
) -> None:
    assert text(view(unreachable_svc)).startswith("Database unreachable: ")


def test_freshness_warns_when_the_database_is_unreachable(unreachable_svc: Services) -> None:
    children, class_name, title, announcement = freshness_outputs(unreachable_svc)
    assert text(children) == "Database unreachable"
    assert class_name == "smd-freshness smd-freshness--stale"
    assert title  # the driver's reason, for the operator hovering over it
    assert announcement == "Warning: the database is unreachable."


def test_configuration_view_for_the_local_admin(svc: Services, settings: Settings) -> None:
    app = create_app(settings, services=svc)
    with app.server.test_request_context("/system"):
        words = text(configuration_view(svc))
    assert "SMD_REFRESH_INTERVAL_S" in words
    assert "**********" in words


def test_configuration_view_denies_and_audits_a_viewer(
    db_url: str,
    make_services: Callable[[Settings], Services],
    sessions: sessionmaker[Session],
) -> None:
    settings = Settings(database_url=db_url, local_role="viewer", _env_file=None)
    svc = make_services(settings)
    app = create_app(settings, services=svc)
    with app.server.test_request_context("/system"):  # a read-only (viewer) local user
        view = configuration_view(svc)
    words = text(view)
    assert words.startswith("The configuration needs the admin role.")
    assert "viewer role" in words
    assert "SMD_" not in words
    with sessions() as session:
        entries = list(session.scalars(select(AuditEntry)))
    assert [(e.action, e.outcome, e.role, e.target) for e in entries] == [
        ("view_configuration", "denied", "viewer", "/system")
    ]
