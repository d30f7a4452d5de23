"""The monitoring query layer: pure rules (median, SLA, ordering, filters), SQL on both DBs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dashapp import schedules
from dashapp.config import Dataset
from dashapp.models import GLUE_RUNS_HISTORY_CURSOR, CollectorCursor
from dashapp.queries import cards as job_cards
from dashapp.queries import job_detail as job_detail_reads
from dashapp.queries import overview as overview_reads
from dashapp.queries import run_grid, sla
from tests.web.conftest import NOW
from tests.web.seed import glue_job, job_run, runs_synced

DATASETS = (
    Dataset(name="orders", prefix="o/", glue_job="orders-job", expected_interval_s=3600),
    Dataset(name="orders-eu", prefix="oe/", glue_job="orders-job", expected_interval_s=7200),
    Dataset(name="crm", prefix="c/", glue_job="crm-job"),
)

# --- pure rules -------------------------------------------------------------------------


def test_median_odd_even_and_empty() -> None:
    assert sla.median([3, 1, 2]) == 2
    assert sla.median([4, 1, 3, 2]) == 2.5
    assert sla.median([]) is None
    assert sla.median([float("nan"), 5.0]) == 5.0


def test_success_rate_counts_only_succeeded_and_failed() -> None:
    assert sla.success_rate(3, 1) == 0.75
    assert sla.success_rate(0, 0) is None
    assert job_cards.RangeStats(runs=10, succeeded=4, failed=0).success_rate == 1.0


def test_cost_is_dpu_hours_times_price() -> None:
    assert sla.cost(7200, 0.44) == pytest.approx(0.88)
    assert sla.cost(None, 0.44) is None


@pytest.mark.parametrize(
    ("schedule", "seconds"),
    [
        ("cron(15 2 * * ? *)", 86400),
        ("cron(0 * * * ? *)", 3600),
        ("cron(0 6 ? * MON *)", 7 * 86400),
        ("rate(30 minutes)", 1800),
        ("rate(1 day)", 86400),
        # One cron reader (dashapp.schedules) for the SLA and the sandbox: any regular
        # period counts, where the old regex knew only hourly, daily and weekly.
        ("cron(0/5 * * * ? *)", 300),
        ("cron(15 */2 * * ? *)", 7200),
        ("cron(0 8 ? * MON-FRI *)", None),
        ("cron(0 8 1 * ? *)", None),
        ("nonsense", None),
        (None, None),
    ],
)
def test_schedule_interval(schedule: str | None, seconds: int | None) -> None:
    assert schedules.schedule_interval_s(schedule) == seconds


def test_sla_from_the_tightest_dataset_then_the_schedule() -> None:
    on_time = sla.sla_status("orders-job", None, NOW - timedelta(minutes=59), DATASETS, NOW)
    assert on_time is not None and not on_time.late and on_time.interval_s == 3600
    late = sla.sla_status("orders-job", None, NOW - timedelta(minutes=61), DATASETS, NOW)
    assert late is not None and late.late and late.source == "dataset"
    never = sla.sla_status("orders-job", None, None, DATASETS, NOW)
    assert never is not None and never.late and never.age_s is None
    # crm-job's dataset has no SLA; a daily schedule gives 1.25 days.
    scheduled = sla.sla_status(
        "crm-job", "cron(0 2 * * ? *)", NOW - timedelta(hours=25), DATASETS, NOW
    )
    assert scheduled is not None and not scheduled.late and scheduled.source == "schedule"
    assert scheduled.interval_s == int(86400 * 1.25)
    assert sla.sla_status("crm-job", None, None, DATASETS, NOW) is None


def _overview(
    name: str, state: str | None, minutes_ago: float = 10, **kw: object
) -> job_cards.JobOverview:
    run = None
    if state is not None:
        run = job_cards.LastRun(
            run_id=f"jr_{name}",
            state=state,
            started_at=NOW - timedelta(minutes=minutes_ago),
            completed_at=None,
            duration_s=100.0,
            dpu_seconds=3600.0,
            rows_read=10,
            rows_written=9,
            error_message="boom" if state == "FAILED" else None,
        )
    values: dict[str, object] = {
        "name": name,
        "description": "",
        "tags": {},
        "schedule": None,
        "gone_at": None,
        "last_run": run,
        "last_success_at": NOW - timedelta(minutes=5),
        "stats": job_cards.RangeStats(),
        "median_duration_s": None,
    }
    values.update(kw)
    return job_cards.JobOverview(**values)  # type: ignore[arg-type]


def test_card_status_and_ordering_put_failed_then_late_first() -> None:
    jobs = [
        _overview("a-ok", "SUCCEEDED", 1),
        _overview("b-running", "RUNNING", 2),
        _overview("orders-job", "SUCCEEDED", 3, last_success_at=NOW - timedelta(hours=3)),
        _overview("c-failed-old", "FAILED", 50),
        _overview("d-failed-new", "TIMEOUT", 5),
        _overview("e-never", None),
        _overview("f-stopped", "STOPPED", 1),
    ]
    cards = job_cards.build_cards(jobs, DATASETS, NOW, 0.44, synced=True)
    assert {c.name: c.status for c in cards} == {
        "a-ok": "succeeded",
        "b-running": "running",
        "orders-job": "late",
        "c-failed-old": "failed",
        "d-failed-new": "failed",
        "e-never": "never",
        "f-stopped": "stopped",
    }
    assert [c.name for c in job_cards.order_cards(cards)] == [
        "d-failed-new",
        "c-failed-old",
        "orders-job",
        "b-running",
        "f-stopped",
        "a-ok",
        "e-never",
    ]
    orders = next(c for c in cards if c.name == "orders-job")
    assert orders.datasets == ("orders", "orders-eu")
    assert orders.last_cost == pytest.approx(0.44)


def test_filters_and_totals() -> None:
    jobs = [
        _overview("sales-ingest", "FAILED", tags={"team": "sales"}, description="Nightly orders"),
        _overview(
            "orders-job",
            "SUCCEEDED",
            tags={"team": "ops"},
            stats=job_cards.RangeStats(runs=4, succeeded=3, failed=1, dpu_seconds=7200),
        ),
        _overview("crm-job", "RUNNING", stats=job_cards.RangeStats(runs=2, succeeded=2)),
    ]
    cards = job_cards.build_cards(jobs, DATASETS, NOW, 0.5, synced=True)
    names = lambda flt: [c.name for c in job_cards.filter_cards(cards, flt)]  # noqa: E731
    assert names(job_cards.CardFilter(status="failed")) == ["sales-ingest"]
    assert names(job_cards.CardFilter(tag="team=ops")) == ["orders-job"]
    assert names(job_cards.CardFilter(dataset="orders-eu")) == ["orders-job"]
    assert names(job_cards.CardFilter(q="NIGHTLY")) == ["sales-ingest"]
    assert names(job_cards.CardFilter(q="crm")) == ["crm-job"]  # dataset name matches too
    assert names(job_cards.CardFilter(status="running", q="sales")) == []
    total = job_cards.totals(cards)
    assert (total.failed, total.running, total.succeeded) == (1, 1, 1)
    assert total.runs == 6 and total.success_rate == pytest.approx(5 / 6)
    assert total.dpu_hours == 2.0 and total.cost == pytest.approx(1.0)


# --- SQL on both databases ----------------------------------------------------------------


def _seed(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        s.add_all(
            [
                glue_job("orders-job", NOW, tags={"team": "sales"}),
                glue_job("crm-job", NOW, schedule="cron(0 2 * * ? *)"),
                glue_job("idle-job", NOW),
                glue_job("gone-job", NOW, gone_at=NOW - timedelta(days=2)),
            ]
        )
        for i in range(6):  # one success every 2 hours, durations 100..600
            s.add(
                job_run(
                    f"jr_o{i}",
                    "orders-job",
                    "SUCCEEDED",
                    NOW - timedelta(hours=11 - 2 * i),
                    duration_s=100.0 * (i + 1),
                    dpu_seconds=60.0,
                    rows_read=1000,
                    rows_written=990,
                )
            )
        s.add(
            job_run(
                "jr_o_fail",
                "orders-job",
                "FAILED",
                NOW - timedelta(minutes=30),
                duration_s=20.0,
                dpu_seconds=10.0,
                error_message="AnalysisException: cannot resolve 'amount'",
            )
        )
        s.add(job_run("jr_c_old", "crm-job", "SUCCEEDED", NOW - timedelta(days=3)))
        s.add(
            job_run("jr_c_run", "crm-job", "RUNNING", NOW - timedelta(minutes=2), duration_s=None)
        )


def test_job_overviews(sessions: sessionmaker[Session]) -> None:
    _seed(sessions)
    with sessions() as s:
        found = {j.name: j for j in overview_reads.job_overviews(s, NOW - timedelta(hours=24), NOW)}
    assert sorted(found) == ["crm-job", "idle-job", "orders-job"]  # gone and idle: hidden
    orders = found["orders-job"]
    assert orders.last_run is not None and orders.last_run.run_id == "jr_o_fail"
    assert orders.last_run.error_message == "AnalysisException: cannot resolve 'amount'"
    assert orders.last_success_at == NOW - timedelta(hours=1) + timedelta(seconds=600)
    assert orders.stats == job_cards.RangeStats(7, 6, 1, 370.0, 6000, 5940)
    assert orders.median_duration_s == 350.0
    assert orders.tags == {"team": "sales"}
    assert len(orders.spark) == overview_reads.SPARK_BUCKETS
    assert sum(b.succeeded for b in orders.spark) == 6
    assert orders.spark[-1].failed == 1  # the failure 30 min ago is in the last 2 h slice
    assert orders.spark[0].rate is None  # 24 h to 22 h ago: no runs
    assert orders.last_failure is not None and orders.last_failure.run_id == "jr_o_fail"
    crm = found["crm-job"]
    assert crm.last_run is not None and crm.last_run.state == "RUNNING"
    assert crm.stats.runs == 1 and crm.stats.success_rate is None
    assert crm.median_duration_s == 245.0  # 3 days ago is within the 7-day median lookback
    assert found["idle-job"].last_run is None and found["idle-job"].stats.runs == 0
    assert crm.last_failure is None
    cards = job_cards.order_cards(
        job_cards.build_cards(list(found.values()), DATASETS, NOW, 0.44, synced=True)
    )
    assert [c.status for c in cards] == ["failed", "late", "never"]  # crm: daily, last ok 3 d


def _cards(sessions: sessionmaker[Session]) -> dict[str, job_cards.JobCard]:
    with sessions() as s:
        jobs = overview_reads.job_overviews(s, NOW - timedelta(hours=24), NOW)
        synced = overview_reads.runs_synced(s)
    return {c.name: c for c in job_cards.build_cards(jobs, DATASETS, NOW, 0.44, synced=synced)}


def test_until_the_first_full_sync_no_job_is_called_never_run_or_late(
    sessions: sessionmaker[Session],
) -> None:
    """A fresh install: the inventory has the jobs, the runs collector has not read their
    histories yet, the event consumer has brought one failure and one success."""
    with sessions.begin() as s:
        s.add_all(
            [
                glue_job("orders-job", NOW),  # dataset SLA: 1 h
                glue_job("crm-job", NOW, schedule="cron(0 2 * * ? *)"),
                glue_job("nightly-job", NOW, schedule="cron(0 3 * * ? *)"),
                glue_job("hourly-job", NOW, schedule="rate(1 hour)"),
                job_run("jr_n", "nightly-job", "FAILED", NOW - timedelta(minutes=2)),
                job_run("jr_h", "hourly-job", "SUCCEEDED", NOW - timedelta(minutes=9)),
            ]
        )
        # Cycles before the full one record the jobs they read whole, not the sync.
        s.add(
            CollectorCursor(
                name=GLUE_RUNS_HISTORY_CURSOR, value={"jobs": ["hourly-job"]}, updated_at=NOW
            )
        )

    with sessions() as s:
        assert overview_reads.runs_synced(s) is False
    syncing = _cards(sessions)
    assert {n: c.status for n, c in syncing.items()} == {
        "orders-job": "syncing",
        "crm-job": "syncing",
        "nightly-job": "failed",  # its newest run is stored: that failure is real
        "hourly-job": "succeeded",
    }
    # No verdict without a known last success (it may be in the unread history).
    assert [syncing[n].sla for n in ("orders-job", "crm-job", "nightly-job")] == [None] * 3
    hourly = syncing["hourly-job"].sla
    assert hourly is not None and not hourly.late
    total = job_cards.totals(list(syncing.values()))
    assert (total.failed, total.late, total.by_status["syncing"]) == (1, 0, 2)
    assert [c.name for c in job_cards.order_cards(syncing.values())][-2:] == [
        "crm-job",
        "orders-job",
    ]

    with sessions.begin() as s:
        runs_synced(s, NOW)
    with sessions() as s:
        assert overview_reads.runs_synced(s) is True
    synced = _cards(sessions)
    assert {n: c.status for n, c in synced.items()} == {
        "orders-job": "late",
        "crm-job": "late",
        "nightly-job": "failed",
        "hourly-job": "succeeded",
    }
    assert synced["nightly-job"].sla is not None and synced["nightly-job"].sla.late


def test_gone_job_shows_while_it_ran_in_range(sessions: sessionmaker[Session]) -> None:
    _seed(sessions)
    with sessions.begin() as s:
        s.add(job_run("jr_g", "gone-job", "SUCCEEDED", NOW - timedelta(hours=3)))
    with sessions() as s:
        names = [j.name for j in overview_reads.job_overviews(s, NOW - timedelta(hours=24), NOW)]
    assert "gone-job" in names


def test_run_series_and_detail(sessions: sessionmaker[Session]) -> None:
    _seed(sessions)
    with sessions() as s:
        points, cut = job_detail_reads.run_series(s, "orders-job", NOW - timedelta(hours=24), NOW)
        assert not cut
        assert [p.run_id for p in points][-2:] == ["jr_o5", "jr_o_fail"]  # oldest first
        points, cut = job_detail_reads.run_series(
            s, "orders-job", NOW - timedelta(hours=24), NOW, limit=3
        )
        assert cut and [p.run_id for p in points] == ["jr_o4", "jr_o5", "jr_o_fail"]
        detail = job_detail_reads.run_detail(s, "orders-job", "jr_o_fail")
        assert detail is not None and detail.run["state"] == "FAILED"
        assert job_detail_reads.run_detail(s, "crm-job", "jr_o_fail") is None
        assert job_detail_reads.job_info(s, "orders-job") is not None
        assert job_detail_reads.job_info(s, "nope") is None and not job_detail_reads.job_has_runs(
            s, "nope"
        )


# --- the grid's request → SQL --------------------------------------------------------------


def _page(s: Session, raw: dict[str, object]) -> run_grid.GridPage:
    return run_grid.run_page(
        s, "orders-job", NOW - timedelta(hours=24), NOW, run_grid.parse_grid_request(raw)
    )


def test_grid_pages_sorts_and_filters(sessions: sessionmaker[Session]) -> None:
    _seed(sessions)
    with sessions() as s:
        first = _page(s, {"startRow": 0, "endRow": 3})
        assert [r["run_id"] for r in first.rows] == ["jr_o_fail", "jr_o5", "jr_o4"]
        assert first.last_row is None  # more rows exist
        assert first.rows[0]["started_at"] == "2026-11-25T18:02:17Z"
        rest = _page(s, {"startRow": 3, "endRow": 6})
        assert [r["run_id"] for r in rest.rows] == ["jr_o3", "jr_o2", "jr_o1"]
        end = _page(s, {"startRow": 6, "endRow": 9})
        assert [r["run_id"] for r in end.rows] == ["jr_o0"] and end.last_row == 7
        by_duration = _page(s, {"sortModel": [{"colId": "duration_s", "sort": "asc"}]})
        assert [r["duration_s"] for r in by_duration.rows][:3] == [20.0, 100.0, 200.0]
        failed = _page(
            s,
            {
                "filterModel": {
                    "state": {"filterType": "text", "type": "equals", "filter": "failed"}
                }
            },
        )
        assert [r["run_id"] for r in failed.rows] == ["jr_o_fail"] and failed.last_row == 1
        error = _page(
            s,
            {
                "filterModel": {
                    "error_message": {
                        "filterType": "text",
                        "type": "contains",
                        "filter": "'AMOUNT'",
                    }
                }
            },
        )
        assert [r["run_id"] for r in error.rows] == ["jr_o_fail"]
        # LIKE wildcards in the user's text are literal.
        none = _page(
            s,
            {"filterModel": {"run_id": {"filterType": "text", "type": "contains", "filter": "%"}}},
        )
        assert none.rows == [] and none.last_row == 0
        slow = _page(
            s,
            {
                "filterModel": {
                    "duration_s": {
                        "filterType": "number",
                        "operator": "OR",
                        "conditions": [
                            {"filterType": "number", "type": "greaterThan", "filter": 500},
                            {"filterType": "number", "type": "lessThan", "filter": 50},
                        ],
                    }
                }
            },
        )
        assert sorted(r["run_id"] for r in slow.rows) == ["jr_o5", "jr_o_fail"]
        dated = _page(
            s,
            {
                "filterModel": {
                    "started_at": {
                        "filterType": "date",
                        "type": "inRange",
                        "dateFrom": "2026-11-25 09:00:00",
                        "dateTo": "2026-11-25 12:00:00",
                    }
                }
            },
        )
        assert [r["run_id"] for r in dated.rows] == ["jr_o2", "jr_o1"]  # 11:32 and 09:32


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"sortModel": [{"colId": "arguments", "sort": "asc"}]}, "cannot sort on 'arguments'"),
        ({"sortModel": [{"colId": "state", "sort": "sideways"}]}, "asc or desc"),
        ({"filterModel": {"upload_id": {"type": "equals", "filter": "x"}}}, "cannot filter"),
        (
            {
                "filterModel": {
                    "duration_s": {"filterType": "number", "type": "equals", "filter": "x"}
                }
            },
            "not a number",
        ),
        (
            {"filterModel": {"state": {"filterType": "text", "type": "regex", "filter": "x"}}},
            "no operator 'regex'",
        ),
        ({"startRow": "a"}, "integers"),
    ],
)
def test_grid_refuses_what_it_does_not_serve(raw: dict[str, object], message: str) -> None:
    with pytest.raises(run_grid.GridRequestError, match=message):
        run_grid.parse_grid_request(raw)


def test_grid_blocks_are_capped() -> None:
    req = run_grid.parse_grid_request({"startRow": 100, "endRow": 1_000_000})
    assert (req.start, req.end) == (100, 100 + run_grid.MAX_PAGE)
    only_state = run_grid.parse_grid_request(
        {"filterModel": {"state": {"filterType": "text", "type": "equals", "filter": "failed"}}}
    )
    assert only_state.state_equals == "FAILED"
