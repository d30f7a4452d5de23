"""Overview and wall: component trees, the callback views on both databases, the
job-summary CSV route, and the staleness wording of the wall."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import dash
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from dashapp.models import CollectorStatus
from dashapp.queries import cards as job_cards
from dashapp.queries.system import Freshness, LaggingCollector
from dashapp.services import Services
from pages.overview import layout as overview
from pages.overview.callbacks import (
    card_filter,
    export_href,
    next_limit,
    overview_view,
    tile_toggle,
)
from pages.wall import layout as wall
from pages.wall.callbacks import stale_message, wall_view
from tests.web.conftest import NOW
from tests.web.seed import collector, glue_job, runs_synced, seed_demo
from tests.web.tree import attr, by_id, of_type, text

# --- layouts ------------------------------------------------------------------------------


def test_overview_skeleton_reads_its_state_from_the_url() -> None:
    layout = overview.layout(range="7d", status="failed", tag="team=ops", q="orders", x="y")
    assert by_id(layout, "overview-range-value").data == "7d"
    assert by_id(layout, overview.STATUS).value == "failed"
    assert by_id(layout, overview.TAG).value == "team=ops"
    assert by_id(layout, overview.SEARCH).value == "orders"
    assert by_id(layout, overview.DATASET).value == overview.ANY
    assert text(by_id(layout, overview.CARDS)) == "Loading jobs…"
    # Tiles exist from the start (a press is never lost to a re-render); four filter.
    for key in overview.FILTER_TILES:
        tile = by_id(layout, overview.tile_id(key))
        assert tile.type == "button" and attr(tile, "aria-pressed") == "false"
    assert by_id(layout, overview.URL_STATE.spec_id).data["defaults"]["range"] == "24h"


def test_a_bad_range_in_the_link_is_explained() -> None:
    layout = overview.layout(range="3 weeks")
    assert by_id(layout, "overview-range-value").data == "24h"
    assert "showing 24h instead" in text(by_id(layout, "overview-range-error"))


def test_tile_toggle_and_filters() -> None:
    assert tile_toggle("failed", overview.ANY) == "failed"
    assert tile_toggle("failed", "failed") == overview.ANY
    assert card_filter(overview.ANY, "", None, "  x ") == job_cards.CardFilter(
        None, None, None, "x"
    )
    assert overview.tile_pressed("late", "late") == (
        "true",
        "smd-tile smd-tile--late active",
        "Show all jobs",
    )


def test_export_href_pins_the_range() -> None:
    flt = job_cards.CardFilter("failed", "team=a b", None, None)
    href = export_href(NOW - timedelta(hours=1), NOW, flt)
    assert href == (
        "/export/job-summary.csv?since=2026-11-25T17:32:17Z&until=2026-11-25T18:32:17Z"
        "&status=failed&tag=team%3Da+b"
    )


# --- the callback's view, on both databases ---------------------------------------------


def _seed(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        seed_demo(s, NOW)


def test_overview_view_orders_cards_and_counts(
    svc: Services, sessions: sessionmaker[Session]
) -> None:
    _seed(sessions)
    view = overview_view(svc, "24h", job_cards.CardFilter())
    jobs = [attr(a, "data-job") for a in of_type(view.cards, "Article")]
    assert jobs == [
        "crm-customers-ingest",
        "ops-inventory-snapshot",
        "web-clickstream-ingest",
        "sales-orders-ingest",
    ]
    first = of_type(view.cards, "Article")[0]
    assert "Error: AnalysisException: cannot resolve 'customer_id'" in text(first)
    assert view.tiles["failed"] == ("1", "jobs failing · 1 failed runs")
    assert view.tiles["rate"] == ("67%", "of 3 finished runs")
    assert view.count == "4 of 4 jobs · Last 24 hours"
    assert view.export_href.startswith("/export/job-summary.csv?since=2026-11-24T18:32:17Z")
    assert [o["value"] for o in view.dataset_options] == [
        overview.ANY,
        "clickstream",
        "customers",
        "inventory",
        "orders",
    ]
    only_failed = overview_view(svc, "24h", job_cards.CardFilter(status="failed"))
    assert len(of_type(only_failed.cards, "Article")) == 1
    # The tiles still count every job, so another tile can be pressed.
    assert only_failed.tiles["succeeded"][0] == "1"


def test_overview_view_on_an_empty_database(svc: Services) -> None:
    view = overview_view(svc, None, job_cards.CardFilter())
    assert "No Glue jobs collected yet" in text(view.cards)


def test_overview_view_names_an_unreachable_database(unreachable_svc: Services) -> None:
    view = overview_view(unreachable_svc, "24h", job_cards.CardFilter())
    assert text(view.cards).startswith("Database unreachable")


# --- /export/job-summary.csv --------------------------------------------------------------


def test_job_summary_export_lists_the_cards(
    app: dash.Dash, sessions: sessionmaker[Session]
) -> None:
    _seed(sessions)
    client = app.server.test_client()
    response = client.get(
        "/export/job-summary.csv?since=2026-11-24T18:32:17Z&until=2026-11-25T18:32:17Z"
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["job_name"] for r in rows] == [
        "crm-customers-ingest",
        "ops-inventory-snapshot",
        "web-clickstream-ingest",
        "sales-orders-ingest",
    ]
    crm = rows[0]
    assert (crm["status"], crm["late"], crm["last_run_state"]) == ("failed", "true", "FAILED")
    assert crm["last_run_started_at"] == "2026-11-25T17:42:17Z"
    assert crm["success_rate"] == "0" and crm["currency"] == "USD"
    assert rows[1]["last_run_id"] == "" and rows[1]["sla_interval_s"] == "93600"
    failed = client.get("/export/job-summary.csv?status=FAILED&q=crm")
    assert [r["job_name"] for r in csv.DictReader(io.StringIO(failed.get_data(as_text=True)))] == [
        "crm-customers-ingest"
    ]


def test_job_summary_export_refuses_bad_parameters(app: dash.Dash) -> None:
    client = app.server.test_client()
    bad = client.get("/export/job-summary.csv?status=broken")
    assert bad.status_code == 400 and "unknown status 'broken'" in bad.get_data(as_text=True)
    unknown = client.get("/export/job-summary.csv?dataset=nope")
    assert unknown.status_code == 404 and "no dataset named 'nope'" in unknown.get_data(
        as_text=True
    )
    extra = client.get("/export/job-summary.csv?jobs=x")
    assert extra.status_code == 400


# --- wall -----------------------------------------------------------------------------------


def test_wall_layout_is_a_dark_kiosk_without_controls() -> None:
    layout = wall.layout(range="6h")
    root = by_id(layout, wall.ROOT)
    assert attr(root, "data-bs-theme") == "dark" and attr(root, "data-smd-kiosk") == "true"
    assert by_id(layout, wall.RANGE).data == "6h"
    assert of_type(layout, "Button") == [] and of_type(layout, "Input") == []


def test_stale_message_wording() -> None:
    assert stale_message(Freshness("fresh", NOW, 3.0, 180, 2), NOW) is None
    assert "No data yet" in (stale_message(Freshness("empty", None, None, 180, 0), NOW) or "")
    lagging = (LaggingCollector("glue_runs", NOW - timedelta(minutes=7), 420.0),)
    stale = Freshness("stale", NOW - timedelta(minutes=7), 420.0, 180, 2, lagging)
    assert stale_message(stale, NOW) == (
        "Data is stale: last update 7 min ago (18:25:17 UTC); glue_runs behind by more than 3 min."
    )


def test_wall_view_puts_problems_first_and_warns_when_stale(
    svc: Services, sessions: sessionmaker[Session]
) -> None:
    _seed(sessions)
    clock, banner, banner_class, counts, problems, healthy = wall_view(svc, "24h")
    assert clock == "18:32:17 UTC"
    assert banner == [] and "d-none" in banner_class
    assert [text(of_type(t, "H3")) for t in of_type(problems, "Article")] == [
        "crm-customers-ingest",
        "ops-inventory-snapshot",
    ]
    assert len(of_type(healthy, "Li")) == 2
    assert "1 Failed" in text(counts)
    with sessions.begin() as s:
        s.execute(update(CollectorStatus).values(last_success_at=NOW - timedelta(minutes=10)))
    _, banner, banner_class, *_ = wall_view(svc, "24h")
    assert "Data is stale: last update 10 min ago" in text(banner)
    assert "d-none" not in banner_class


def test_wall_view_names_an_unreachable_database(unreachable_svc: Services) -> None:
    _, banner, banner_class, *_ = wall_view(unreachable_svc, None)
    assert text(banner).startswith("Database unreachable")
    assert "d-none" not in banner_class


def test_count_line_says_when_the_page_shows_only_the_first_cards() -> None:
    from dashapp.timerange import parse_range

    window = parse_range("24h", NOW)
    assert overview.count_text(12, 12, 40, window) == "12 of 40 jobs · Last 24 hours"
    assert overview.count_text(24, 900, 1000, window) == (
        "900 of 1000 jobs · Last 24 hours · showing the first 24"
    )
    assert overview.count_text(overview.MAX_CARDS, 900, 1000, window) == (
        f"900 of 1000 jobs · Last 24 hours · showing the first {overview.MAX_CARDS}; "
        "narrow the filters or export the rest"
    )


def test_show_more_adds_a_page_until_the_jobs_or_the_cap_run_out() -> None:
    page, cap = overview.CARDS_PAGE, overview.MAX_CARDS
    assert overview.more_button(page, page + 30) == (False, f"Show {page} more jobs")
    assert overview.more_button(page, page + 1) == (False, "Show 1 more job")
    assert overview.more_button(page, page)[0] is True
    assert overview.more_button(cap, cap + 500)[0] is True
    assert next_limit(overview.MORE, page) == 2 * page
    assert next_limit(overview.MORE, cap) == cap
    assert next_limit("overview-status", 5 * page) == page  # a new filter starts over
    # Whatever the browser sends back, the limit stays whole pages within the cap.
    assert [overview.card_limit(v) for v in (None, "x", -3, 0, 25, 10**9)] == [
        page,
        page,
        page,
        page,
        page,
        cap,
    ]


def test_overview_view_draws_only_the_requested_cards(
    svc: Services, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as s:
        for i in range(overview.CARDS_PAGE + 5):
            s.add(glue_job(f"job-{i:03d}", NOW))
    first = overview_view(svc, "24h", job_cards.CardFilter())
    assert len(of_type(first.cards, "Article")) == overview.CARDS_PAGE
    assert (first.more_hidden, first.more_label) == (False, "Show 5 more jobs")
    assert first.count.endswith(f"showing the first {overview.CARDS_PAGE}")
    more = overview_view(svc, "24h", job_cards.CardFilter(), 2 * overview.CARDS_PAGE)
    assert len(of_type(more.cards, "Article")) == overview.CARDS_PAGE + 5
    assert more.more_hidden is True


# --- the first minute of a fresh install ---------------------------------------------------

FRESH_JOBS = ("sales-orders-ingest", "crm-customers-ingest", "ops-inventory-snapshot")


def _fresh_install(session: Session) -> None:
    """The inventory has listed the jobs; the runs collector has not read a run yet."""
    session.add_all(
        [
            collector("inventory", NOW, ok_ago_s=5),
            collector("glue_runs", NOW, ok_ago_s=3),
            *[glue_job(name, NOW, tags={"dataset": name}) for name in FRESH_JOBS],
        ]
    )


def test_overview_says_syncing_until_the_first_full_read_of_the_runs(
    svc: Services, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as s:
        _fresh_install(s)

    view = overview_view(svc, "24h", job_cards.CardFilter())
    cards = of_type(view.cards, "Article")
    assert [attr(a, "data-status") for a in cards] == ["syncing"] * 3
    shown = text(view.cards)
    assert "Syncing — first collection in progress" in shown
    for claim in ("Never succeeded", "No runs recorded", "Late", "Never run"):
        assert claim not in shown
    assert view.tiles["failed"][0] == "0" and view.tiles["late"][0] == "0"

    with sessions.begin() as s:
        runs_synced(s, NOW)
    after = overview_view(svc, "24h", job_cards.CardFilter())
    assert [attr(a, "data-status") for a in of_type(after.cards, "Article")] == ["late"] * 3
    assert "Never succeeded; expected every 26 h" in text(after.cards)
    assert "Syncing" not in text(after.cards)
    assert after.tiles["late"][0] == "3"


def test_wall_is_calm_while_the_first_full_read_of_the_runs_is_in_progress(
    svc: Services, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as s:
        _fresh_install(s)

    _, banner, _, counts, problems, healthy = wall_view(svc, "24h")
    assert of_type(problems, "Article") == []
    assert text(problems) == "Syncing — first collection in progress"
    assert "No failed or late jobs" not in text(problems)
    assert "0 Failed" in text(counts) and "0 Late" in text(counts)
    chips = of_type(healthy, "Li")
    assert [text(c) for c in chips] == [f"Syncing{n}not collected yet" for n in sorted(FRESH_JOBS)]
    assert banner == []

    with sessions.begin() as s:
        runs_synced(s, NOW)
    _, _, _, counts, problems, _ = wall_view(svc, "24h")
    assert len(of_type(problems, "Article")) == 3
    assert "Never succeeded" in text(problems) and "3 Late" in text(counts)


def test_a_job_card_shows_each_tag_once(svc: Services, sessions: sessionmaker[Session]) -> None:
    """The sandbox tags each ingest job with its dataset, which the card also names."""
    with sessions.begin() as s:
        runs_synced(s, NOW)
        s.add(
            glue_job(
                "crm-customers-ingest",
                NOW,
                tags={"dataset": "customers", "team": "crm", "app": "serverless-pipeline"},
            )
        )
    view = overview_view(svc, "24h", job_cards.CardFilter())
    (card,) = of_type(view.cards, "Article")
    (tags,) = [u for u in of_type(card, "Ul") if "smd-tags" in (u.className or "")]
    assert [text(li) for li in of_type(tags, "Li")] == [
        "dataset=customers",
        "app=serverless-pipeline",
        "team=crm",
    ]
