"""Retention: rows older than each setting are deleted, newer ones kept."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from collectors import retention
from collectors.retention import collect_retention
from dashapp.models import JobRun, LogEvent, LogStream, MetricPoint
from tests.collectors.conftest import MakeCtx

DAY = timedelta(days=1)


def test_rows_older_than_their_retention_are_deleted(
    make_ctx: MakeCtx, t0: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "CHUNK", 2)  # several chunks per table
    ctx = make_ctx(
        "retention", retention_metrics_days=7, retention_logs_days=3, retention_runs_days=30
    )
    with ctx.sessions.begin() as s:
        for i, age in enumerate([8, 7.5, 9, 10, 6.9, 1]):
            s.add(
                MetricPoint(
                    resource_type="lambda_function",
                    resource_name="f",
                    dimension="",
                    metric="Invocations",
                    stat="Sum",
                    ts=t0 - age * DAY + timedelta(seconds=i),
                    period_s=60,
                    value=float(i),
                )
            )
        for i, age in enumerate([4, 3.1, 2.9, 0.5]):
            s.add(
                LogEvent(
                    event_key=f"{i:064d}",
                    log_group="/aws-glue/jobs/output",
                    log_stream="jr_1",
                    ts=t0 - age * DAY,
                    message=f"line {age}",
                )
            )
        for name, age in (("old", 4.0), ("recent", 1.0)):
            s.add(
                LogStream(
                    log_group="/aws-glue/jobs/output",
                    log_stream=name,
                    resource_type="glue_job",
                    resource_name="ingest",
                    last_event_at=t0 - age * DAY,
                )
            )
        for run_id, age in (("jr_old", 31), ("jr_edge", 30.01), ("jr_new", 29)):
            s.add(
                JobRun(
                    run_id=run_id,
                    job_name="ingest",
                    state="SUCCEEDED",
                    started_at=t0 - age * DAY,
                    observed_at=t0,
                )
            )

    result = collect_retention(ctx)

    with ctx.sessions() as s:
        ages = sorted(round((t0 - p.ts) / DAY, 1) for p in s.scalars(select(MetricPoint)))
        assert ages == [1.0, 6.9]
        assert sorted(e.message for e in s.scalars(select(LogEvent))) == [
            "line 0.5",
            "line 2.9",
        ]
        assert [st.log_stream for st in s.scalars(select(LogStream))] == ["recent"]
        assert sorted(r.run_id for r in s.scalars(select(JobRun))) == ["jr_new"]
    assert result.items == 4 + 2 + 1 + 2


def test_nothing_to_prune_is_cheap_and_harmless(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("retention")
    assert collect_retention(ctx).items == 0
    assert ctx.aws.counter.snapshot() == {}
