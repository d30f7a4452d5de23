"""Component trees of the shell and pages: ids, landmarks, labels, wording, and no data up front."""

from __future__ import annotations

from datetime import timedelta

import dash
import plotly.io
import pytest
from sqlalchemy.orm import Session, sessionmaker

from dashapp.config import Dataset, Settings
from dashapp.queries.job_summaries import JobSummary, RunSummary
from dashapp.queries.system import DatabaseInfo
from layouts import shell
from layouts.components import state_badge
from pages.pipelines import layout as pipelines
from pages.registry import NOT_FOUND, PAGES
from pages.system import layout as system
from tests.web.conftest import NOW
from tests.web.seed import collector, seed_demo
from tests.web.tree import attr, by_id, ids, of_type, text, walk

# --- the static shell -------------------------------------------------------------


def test_shell_has_landmarks_skip_link_and_every_id_callbacks_need() -> None:
    layout = shell.shell_layout(PAGES, refresh_interval_s=5)
    present = ids(layout)
    for wanted in (
        shell.SKIP_LINK,
        shell.HEADER,
        shell.NAV,
        shell.MAIN,
        shell.FRESHNESS,
        shell.FRESHNESS_ANNOUNCE,
        shell.IDENTITY,
        shell.THEME_TOGGLE,
        shell.THEME_STORE,
        shell.REFRESH,
        shell.URL,
        "_pages_content",  # dash.page_container, inside <main>
    ):
        assert wanted in present, wanted
    assert type(by_id(layout, shell.HEADER)).__name__ == "Header"
    assert type(by_id(layout, shell.MAIN)).__name__ == "Main"
    assert "_pages_content" in ids(by_id(layout, shell.MAIN))
    nav = by_id(layout, shell.NAV)
    assert type(nav).__name__ == "Nav"
    assert attr(nav, "aria-label") == "Main"
    skip = by_id(layout, shell.SKIP_LINK)
    assert skip.href == f"#{shell.MAIN}"
    assert text(skip) == "Skip to main content"
    assert layout.children[0] is skip  # the first thing Tab reaches


def test_shell_links_every_navigable_page() -> None:
    layout = shell.shell_layout(PAGES, refresh_interval_s=5)
    links = [c for c in walk(layout) if isinstance(getattr(c, "id", None), dict)]
    expected = [(p.path, p.name) for p in PAGES if p.in_nav]
    assert [(link.href, text(link)) for link in links] == expected
    assert all(attr(link, "data-smd-link") == "true" for link in links)
    assert NOT_FOUND.path not in [link.href for link in links]


def test_shell_timer_store_and_toggle() -> None:
    layout = shell.shell_layout(PAGES, refresh_interval_s=7)
    assert by_id(layout, shell.REFRESH).interval == 7000
    assert by_id(layout, shell.THEME_STORE).storage_type == "local"
    toggle = by_id(layout, shell.THEME_TOGGLE)
    assert toggle.type == "button"
    assert attr(toggle, "aria-pressed") == "false"
    assert text(toggle) == "Dark mode"


def test_shell_holds_no_data_until_callbacks_fill_it() -> None:
    layout = shell.shell_layout(PAGES, refresh_interval_s=5)
    assert text(by_id(layout, shell.FRESHNESS)) == "Checking data freshness…"
    assert by_id(layout, shell.IDENTITY).children is None
    assert by_id(layout, "_pages_content").children is None


def test_served_layout_leaks_nothing_before_sign_in(
    app: dash.Dash, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """`/_dash-layout` is public under OIDC: no dataset, bucket, job, collector or user in it."""
    with sessions.begin() as session:
        seed_demo(session, NOW)
    response = app.server.test_client().get("/_dash-layout")
    assert response.status_code == 200
    served = response.get_data(as_text=True)
    secrets = [settings.raw_bucket, "glue_runs", "Local user", "admin", settings.database_url]
    for dataset in settings.datasets:
        secrets += [dataset.name, dataset.glue_job, dataset.prefix, dataset.label]
    leaked = [s for s in secrets if s in served]
    assert leaked == []


# --- page skeletons -------------------------------------------------------------------


# Pages whose h1 names their subject instead: a job's page its job, the wall its jobs.
SUBJECT_HEADINGS = {
    "pages.job_detail": "Glue job orders-ingest",
    "pages.wall": "Glue jobs",
}


@pytest.mark.parametrize("spec", [*PAGES, NOT_FOUND], ids=lambda p: p.module)
def test_every_page_has_one_h1_named_like_its_nav_entry(spec: object, app: dash.Dash) -> None:
    query = {"unexpected_query": "ignored"}
    if spec.path_template:  # type: ignore[attr-defined]
        query["job_name"] = "orders-ingest"
    with app.server.test_request_context("/"):  # job controls ask who is signed in
        layout = spec.layout(**query)  # type: ignore[attr-defined]
    headings = of_type(layout, "H1")
    expected = SUBJECT_HEADINGS.get(spec.module, spec.name)  # type: ignore[attr-defined]
    assert [text(h) for h in headings] == [expected]


def test_pipelines_skeleton_has_the_cards_container_and_no_data() -> None:
    layout = pipelines.layout()
    cards = by_id(layout, pipelines.CARDS)
    assert text(cards) == "Loading pipelines…"


def test_system_skeleton_has_labelled_sections() -> None:
    layout = system.layout()
    for content_id in (system.COLLECTORS, system.DATABASE, system.CONFIGURATION):
        assert text(by_id(layout, content_id)).startswith("Loading")
    sections = of_type(layout, "Section")
    assert [text(of_type(s, "H2")[0]) for s in sections] == [
        "Collectors",
        "Database",
        "Configuration",
    ]
    for section in sections:
        heading = of_type(section, "H2")[0]
        assert attr(section, "aria-labelledby") == heading.id


# --- pipeline cards -------------------------------------------------------------------

ORDERS = Dataset(
    name="orders",
    title="Sales orders",
    prefix="sales/orders/",
    glue_job="orders-ingest",
    expected_columns=("order_id", "amount"),
    expected_interval_s=26 * 3600,
)


def _summary(**kw: object) -> JobSummary:
    values: dict[str, object] = {
        "job_name": "orders-ingest",
        "known": True,
        "gone_at": None,
        "last_run": None,
        "last_success_at": None,
    }
    values.update(kw)
    return JobSummary(**values)  # type: ignore[arg-type]


def _run(state: str, ago_s: float, **kw: object) -> RunSummary:
    values: dict[str, object] = {
        "run_id": "jr_1",
        "state": state,
        "started_at": NOW - timedelta(seconds=ago_s),
        "completed_at": NOW - timedelta(seconds=ago_s - 245),
        "duration_s": 245.0,
        "error_message": None,
    }
    values.update(kw)
    return RunSummary(**values)  # type: ignore[arg-type]


def _card(summary: JobSummary | None, collected: bool = True) -> str:
    card = pipelines.dataset_card(ORDERS, "smd-raw", summary, collected, NOW)
    return text(card)


def test_card_reads_as_the_pipeline_sentence() -> None:
    card = pipelines.dataset_card(ORDERS, "smd-raw", None, False, NOW)
    words = text(card)
    assert "Sales orders" in words
    assert "Dataset orders" in words
    assert "Raw files land in s3://smd-raw/sales/orders/" in words
    assert "Ingested by Glue job orders-ingest" in words
    assert "Accepted formats CSV, JSON, NDJSON" in words
    assert "Expected columns order_id amount" in words
    assert "Freshness SLA A successful run at least every 26 h" in words
    article = of_type(card, "Article")[0]
    heading = of_type(card, "H2")[0]
    assert attr(article, "aria-labelledby") == heading.id == "dataset-orders-heading"
    flow = of_type(card, "Ol")[0]
    assert attr(flow, "aria-label") == "Data flow of Sales orders"


def test_card_without_collected_data_says_so() -> None:
    assert "Not collected yet" in _card(None, collected=False)
    assert "Last run Not collected yet" in _card(None, collected=False)


def test_card_for_a_job_missing_from_aws() -> None:
    words = _card(_summary(known=False), collected=True)
    assert "Job not found" in words
    assert "Not found in the AWS account when last collected" in words


def test_card_for_a_job_that_never_ran() -> None:
    words = _card(_summary())
    assert "No runs yet" in words
    assert "Last success None yet" in words


def test_card_for_a_deleted_job() -> None:
    words = _card(_summary(gone_at=NOW - timedelta(hours=3)))
    assert "Job deleted" in words
    assert "deleted from AWS; last seen 3 h ago" in words


def test_card_for_a_successful_run_within_sla() -> None:
    card = pipelines.dataset_card(
        ORDERS,
        "smd-raw",
        _summary(last_run=_run("SUCCEEDED", 7200), last_success_at=NOW - timedelta(seconds=6955)),
        True,
        NOW,
    )
    words = text(card)
    assert "Succeeded" in words
    assert "Last run Started 2 h ago, ran 4 min 05 s" in words
    assert "Last success On time: 2 h ago" in words
    times = of_type(card, "Time")
    assert times[0].dateTime == times[0].title == "2026-11-25T16:32:17Z"


def test_card_for_a_failed_run_shows_the_error_and_lateness() -> None:
    summary = _summary(
        last_run=_run("FAILED", 600, error_message="AnalysisException:\n  cannot resolve 'x'"),
        last_success_at=NOW - timedelta(hours=30),
    )
    words = _card(summary)
    assert "Failed" in words
    assert "Last error: AnalysisException: cannot resolve 'x'" in words
    assert "Late: last success 30 h ago, the SLA is 26 h" in words


def test_card_for_a_running_job() -> None:
    run = _run("RUNNING", 180, completed_at=None, duration_s=None)
    assert "Started 3 min ago, running for 3 min 00 s" in _card(_summary(last_run=run))


def test_cards_explain_no_datasets() -> None:
    words = text(pipelines.dataset_cards((), {}, {}, True, NOW))
    assert "No datasets are configured" in words
    assert "SMD_DATASETS" in words


def test_cards_say_once_when_nothing_is_collected() -> None:
    content = pipelines.dataset_cards((ORDERS,), {"orders": "smd-raw"}, {}, False, NOW)
    assert text(content).count("Run states are not collected yet") == 1
    assert len(of_type(content, "Article")) == 1


@pytest.mark.parametrize(
    ("state", "label", "icon"),
    [
        ("SUCCEEDED", "Succeeded", "bi-check-circle-fill"),
        ("FAILED", "Failed", "bi-x-octagon-fill"),
        ("TIMEOUT", "Timed out", "bi-hourglass-bottom"),
        ("RUNNING", "Running", "bi-arrow-repeat"),
        ("SOMETHING_NEW", "Something_New", "bi-question-circle"),
    ],
)
def test_state_badges_carry_an_icon_and_a_word(state: str, label: str, icon: str) -> None:
    badge = state_badge(state)
    assert text(badge) == label
    glyph = of_type(badge, "I")[0]
    assert icon in glyph.className
    assert attr(glyph, "aria-hidden") == "true"


# --- system page ----------------------------------------------------------------------


def test_collectors_table_empty_state() -> None:
    words = text(system.collectors_table([], NOW, 180))
    assert "No collector has reported yet" in words
    assert "python -m collectors" in words


def test_collectors_table_rows_and_health() -> None:
    statuses = [
        collector("glue_runs", NOW, ok_ago_s=12),
        collector("metrics", NOW, ok_ago_s=412),
        collector(
            "logs",
            NOW,
            ok_ago_s=600,
            last_error_at=NOW - timedelta(seconds=30),
            last_error="AccessDenied:   logs:GetLogEvents",
        ),
    ]
    table = system.collectors_table(statuses, NOW, 180)
    headers = [text(th) for th in of_type(of_type(table, "Thead")[0], "Th")]
    assert headers == [
        "Collector",
        "Health",
        "Last success",
        "Last error",
        "Cycle duration",
        "API calls",
        "Lag",
    ]
    rows = of_type(table, "Tr")[1:]
    assert text(rows[0]).startswith("glue_runs OK 12 s ago None 1.8 s 12 4.0 s")
    assert "Stale" in text(rows[1])
    assert "(limit 3 min)" in text(rows[1])
    assert "Failing" in text(rows[2])
    assert "AccessDenied: logs:GetLogEvents" in text(rows[2])
    partial = collector(
        "glue_runs",
        NOW,
        ok_ago_s=5,
        last_outcome="partial",
        last_error_at=NOW - timedelta(seconds=5),
        last_error="1 failed: job nightly-export: AccessDeniedException: not authorized",
    )
    row = of_type(system.collectors_table([partial], NOW, 180), "Tr")[1]
    assert "Partial" in text(row)
    assert "job nightly-export: AccessDeniedException" in text(row)
    first_time = of_type(rows[0], "Time")[0]
    assert first_time.title == "2026-11-25T18:32:05Z"
    assert all(th.scope == "row" for th in of_type(of_type(table, "Tbody")[0], "Th"))


def test_database_panel_states() -> None:
    current = system.database_panel(DatabaseInfo("SQLite", "3.40.1", "abc", "abc"))
    assert "SQLite 3.40.1" in text(current)
    assert "Up to date" in text(current)
    behind = text(system.database_panel(DatabaseInfo("PostgreSQL", "16.4", "old", "new")))
    assert "Behind" in behind
    assert "This code expects revision new. Run python -m dashapp db upgrade." in behind
    never = text(system.database_panel(DatabaseInfo("SQLite", "3.40.1", None, "new")))
    assert "Not migrated" in never
    assert "python -m dashapp db upgrade" in never


def test_configuration_table_hides_secrets_and_names_variables() -> None:
    settings = Settings(_env_file=None, secret_key="s3cr3t-value", auth_mode="none")
    table = system.configuration_table(settings.redacted())
    words = text(table)
    assert "s3cr3t-value" not in plotly.io.json.to_json_plotly(table)
    assert "secret_key SMD_SECRET_KEY **********" in words
    assert "refresh_interval_s SMD_REFRESH_INTERVAL_S 5" in words
    assert "database_url DATABASE_URL" in words
    details = of_type(table, "Details")
    assert len(details) == 1
    assert text(of_type(details[0], "Summary")[0]) == (
        "4 entries: orders, customers, clickstream, inventory"
    )


def test_configuration_denied_names_the_role() -> None:
    words = text(system.configuration_denied("Anonymous has the viewer role; ..."))
    assert words.startswith("The configuration needs the admin role.")
