"""Load, bounded (issue 12 item 1): 25 viewers for 30 s against gunicorn on PostgreSQL.

Why: `bench/load.py` prints the 200-viewer figures; this runs the same code
(bench/loadrun.py: gunicorn by the production command, the traffic Chromium really
sends, the same virtual viewers) at a size two shared cores carry with room to spare,
so a regression that makes pages fail under concurrency (a pool too small for the
threads, a callback erroring when two run at once, a worker dying) fails `make test`.
It asserts no errors and that the viewers got their refreshes (a cadence check with a
wide margin), never a latency: the p50/p95/p99 are printed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.browser_capture import CHROMIUM
from bench.loadrun import LoadPlan, report, run_load
from bench.ui_seed import Sizes, job_names, seed
from sandbox.datasets import DATASETS
from tests.conftest import missing
from tests.reliability.figure_report import report as figure_report

# 1,000 runs a job over 400 days: two or three in the last 24 h, so the job's grid has rows.
SIZES = Sizes(jobs=20, runs=20_000, functions=5, metric_points=400, logged_runs=20)
VIEWERS = 25
DURATION_S = 30.0
RAMP_S = 5.0
#: Share of the refreshes due in the window that must be answered: wide, for loaded cores.
MIN_CADENCE = 0.9
JOBS = tuple(d.glue_job for d in DATASETS)


@pytest.fixture
def load_db(_postgres_url: str | None) -> str:
    if _postgres_url is None:
        missing("PostgreSQL not available: set TEST_DATABASE_URL")
    if not CHROMIUM.exists():
        missing("Chromium not installed: apt-get install chromium")
    assert _postgres_url is not None
    seed(_postgres_url, SIZES, datetime.now(UTC), JOBS)
    return _postgres_url


def test_viewers_get_every_refresh_without_errors(
    load_db: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    job = job_names(SIZES.jobs, JOBS)[-1]
    plan = LoadPlan(
        database_url=load_db,
        job=job,
        viewers=VIEWERS,
        duration_s=DURATION_S,
        ramp_s=RAMP_S,
        workers=2,
        threads=4,
        samples=3,
    )
    result = run_load(plan, tmp_path)
    figure_report(request, "load", report(result))
    book = result.book
    errors, samples = book.errors, book.error_samples
    assert errors == 0, samples
    assert not result.notes, result.notes
    for page in result.pages:
        assert page.tick, f"{page.path}: no callback on the refresh timer was recorded"
        assert book.ticks_answered[page.path] > 0, f"{page.path} was never refreshed"
    assert result.cadence() >= MIN_CADENCE, (
        f"{result.answered_ticks()} of {result.offered_ticks()} refreshes answered"
    )
    assert result.respawned_workers == 0
