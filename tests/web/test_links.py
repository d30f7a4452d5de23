"""Cross-page links: each page reads back exactly what another page's link wrote."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from dashapp.export import params
from dashapp.export.job_summary import JOB_SUMMARY_PARAMS
from dashapp.export.uploads import UPLOADS_PARAMS
from pages import links
from pages.registry import PAGES

SINCE = datetime(2026, 11, 25, 17, 32, 17, tzinfo=UTC)
UNTIL = datetime(2026, 11, 25, 18, 32, 18, tzinfo=UTC)


def query(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


def test_every_page_is_served_at_the_path_its_links_use() -> None:
    served = {p.path for p in PAGES}
    named = {
        getattr(links, n)
        for n in dir(links)
        if n.isupper()
        and n not in {"EXPORT", "RUN_LOGS_RANGE"}
        and isinstance(getattr(links, n), str)
    }
    assert named <= served | {links.NOT_FOUND}


def test_a_job_link_quotes_the_name_and_keeps_the_range_readable() -> None:
    assert links.job_href("a job/x", range="6h") == "/jobs/a%20job%2Fx?range=6h"
    window = "2026-11-01T00:00Z~2026-11-02T00:00Z"
    assert links.job_href("j", range=window, run=None) == f"/jobs/j?range={window}"
    assert links.overview_href("7d") == "/?range=7d" and links.overview_href() == "/"


def test_a_failed_runs_log_link_opens_at_its_first_error() -> None:
    assert links.run_logs_href("jr_1/x", first_error=True) == (
        "/logs?run=jr_1%2Fx&range=30d&jump=first-error"
    )
    assert links.run_logs_href("jr_1") == "/logs?run=jr_1&range=30d"
    assert links.upload_href("u 1") == "/uploads?upload=u+1"


def test_export_links_pin_the_window_and_carry_only_the_filters_set() -> None:
    href = links.job_summary_export(SINCE, UNTIL, status="failed", q="a&b")
    assert urlsplit(href).path == "/export/job-summary.csv"
    assert query(href) == {
        "since": ["2026-11-25T17:32:17Z"],
        "until": ["2026-11-25T18:32:18Z"],
        "status": ["failed"],
        "q": ["a&b"],
    }
    runs = links.job_runs_export("nightly etl", SINCE, UNTIL, "FAILED")
    assert query(runs)["job"] == ["nightly etl"] and query(runs)["state"] == ["FAILED"]
    metrics = links.metrics_export("lambda", "fn", "Errors", SINCE, UNTIL)
    assert query(metrics)["resource_type"] == ["lambda"]


def test_export_links_name_only_parameters_the_export_accepts() -> None:
    """A link with a parameter the export does not know would be refused with a 400."""
    accepted = {
        "job-summary": JOB_SUMMARY_PARAMS,
        "job-runs": params.JOB_RUNS_PARAMS,
        "uploads": UPLOADS_PARAMS,
        "lambda-summary": params.LAMBDA_SUMMARY_PARAMS,
        "metrics": params.METRICS_PARAMS,
        "log-events": params.LOG_EVENTS_PARAMS,
    }
    hrefs = [
        links.job_summary_export(SINCE, UNTIL, status="s", tag="t", dataset="d", q="q"),
        links.job_runs_export("j", SINCE, UNTIL, "FAILED"),
        links.uploads_export(dataset="d", status="s", user="u", since="a", until="b", upload="x"),
        links.lambda_summary_export(SINCE, UNTIL),
        links.metrics_export("lambda", "fn", "Errors", SINCE, UNTIL),
        links.log_events_export(group="g", q="q", level="ERROR", since=SINCE, until=UNTIL),
        links.log_events_export(stream="s", since=SINCE, until=UNTIL),
    ]
    for href in hrefs:
        name = urlsplit(href).path.removeprefix("/export/").removesuffix(".csv")
        assert set(query(href)) <= set(accepted[name]), href
