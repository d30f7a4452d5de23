"""Glue run reconciliation (GetJobRuns, newest first) against moto + fidelity."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from collectors.context import CollectorContext
from collectors.glue_runs import collect_glue_runs
from collectors.runs import store_runs
from dashapp.aws import glue
from dashapp.models import JobRun
from dashapp.queries import overview as overview_reads
from tests.collectors.conftest import (
    MakeCtx,
    add_run,
    create_job,
    fail_calls,
    finish,
    store_inventory,
    watch_calls,
)


def _runs(ctx: CollectorContext) -> dict[str, JobRun]:
    with ctx.sessions() as s:
        return {r.run_id: r for r in s.scalars(select(JobRun))}


def _calls(ctx: CollectorContext) -> dict[str, int]:
    return ctx.aws.counter.reset()


def test_first_cycle_stores_every_run_with_exact_fields(make_ctx: MakeCtx, t0: datetime) -> None:
    create_job("alpha")  # G.1X x 2 = 2 DPU
    create_job("beta", WorkerType="G.2X", NumberOfWorkers=5)  # 10 DPU
    create_job("gamma")  # no runs at all
    ok = add_run(
        "alpha",
        t0 - timedelta(hours=3),
        "SUCCEEDED",
        finished=t0 - timedelta(hours=3) + timedelta(seconds=187),
        dpu_seconds=1212.5,  # Glue's own figure (auto scaling) wins over time x capacity
        trigger_name="alpha-nightly",
        arguments={"--input_path": "s3://smd-raw/sales/orders/a.csv"},
    )
    failed = add_run(
        "alpha",
        t0 - timedelta(hours=2),
        "FAILED",
        finished=t0 - timedelta(hours=2) + timedelta(seconds=71),
        error="AnalysisException: cannot resolve `amount`",
        attempt=1,
        previous_run_id=ok.job_run_id,
    )
    timeout = add_run(
        "beta",
        t0 - timedelta(hours=1),
        "TIMEOUT",
        finished=t0,
        error="Job run timed out",
    )
    running = add_run("beta", t0 - timedelta(minutes=10), "RUNNING")
    store_inventory(make_ctx)
    ctx = make_ctx()

    result = collect_glue_runs(ctx)

    assert result.failures == []
    assert result.items == 4
    runs = _runs(ctx)
    assert set(runs) == {ok.job_run_id, failed.job_run_id, timeout.job_run_id, running.job_run_id}
    r = runs[ok.job_run_id]
    assert (r.job_name, r.state, r.attempt) == ("alpha", "SUCCEEDED", 0)
    assert r.started_at == t0 - timedelta(hours=3)
    assert r.completed_at == t0 - timedelta(hours=3) + timedelta(seconds=187)
    assert r.duration_s == 187.0
    assert r.dpu_seconds == 1212.5
    assert r.trigger_name == "alpha-nightly"
    assert r.arguments == {"--input_path": "s3://smd-raw/sales/orders/a.csv"}
    assert r.error_message is None
    assert (r.worker_type, r.number_of_workers, r.max_capacity) == ("G.1X", 2, 2.0)
    assert r.observed_at == ctx.clock.now()
    f = runs[failed.job_run_id]
    assert (f.state, f.attempt, f.previous_run_id) == ("FAILED", 1, ok.job_run_id)
    assert f.error_message == "AnalysisException: cannot resolve `amount`"
    assert f.dpu_seconds == 71 * 2.0
    t = runs[timeout.job_run_id]
    assert (t.state, t.error_message, t.duration_s) == ("TIMEOUT", "Job run timed out", 3600.0)
    assert t.dpu_seconds == 3600 * 10.0
    assert t.completed_at == t0
    g = runs[running.job_run_id]
    assert g.state == "RUNNING"
    assert g.completed_at is None and g.duration_s is None and g.dpu_seconds is None
    assert g.trigger_name is None and g.arguments == {}


def test_a_cycle_with_nothing_new_costs_one_call_per_job_and_writes_nothing(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    for job in ("alpha", "beta", "gamma"):
        create_job(job)
    for i in range(5):
        add_run("alpha", t0 - timedelta(hours=10 - i), "SUCCEEDED")
        add_run("beta", t0 - timedelta(hours=10 - i), "FAILED")
    store_inventory(make_ctx)
    ctx = make_ctx(glue_full_reconcile_every=1)  # every cycle reads every job
    collect_glue_runs(ctx)
    first = ctx.clock.now()
    assert _calls(ctx) == {"glue:GetJobRuns": 3}
    reads = watch_calls(ctx.aws.client("glue"), "GetJobRuns")

    ctx.clock.advance(60)
    result = collect_glue_runs(ctx)

    assert result.failures == [] and result.items == 0
    assert _calls(ctx) == {"glue:GetJobRuns": 3}
    assert sorted(r["JobName"] for r in reads) == ["alpha", "beta", "gamma"]
    assert all("NextToken" not in r for r in reads)
    runs = _runs(ctx)
    assert len(runs) == 10
    assert {r.observed_at for r in runs.values()} == {first}  # nothing rewritten


def test_new_runs_appear_and_running_runs_move_on(make_ctx: MakeCtx, t0: datetime) -> None:
    create_job("alpha")
    done = add_run("alpha", t0 - timedelta(hours=2), "SUCCEEDED")
    running = add_run("alpha", t0 - timedelta(minutes=30), "RUNNING")
    store_inventory(make_ctx)
    ctx = make_ctx(glue_full_reconcile_every=1)
    collect_glue_runs(ctx)
    _calls(ctx)

    now = ctx.clock.advance(60)
    finish(running, "FAILED", now - timedelta(seconds=10), error="OOM")
    new = add_run("alpha", now - timedelta(seconds=30), "RUNNING")
    result = collect_glue_runs(ctx)

    assert result.items == 2
    assert _calls(ctx) == {"glue:GetJobRuns": 1}
    runs = _runs(ctx)
    assert runs[new.job_run_id].state == "RUNNING"
    assert runs[running.job_run_id].state == "FAILED"
    assert runs[running.job_run_id].error_message == "OOM"
    assert runs[done.job_run_id].observed_at == t0  # finished and stored: not rewritten


def test_an_older_run_finishing_after_newer_ones_is_still_picked_up(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    create_job("alpha", ExecutionProperty={"MaxConcurrentRuns": 100})
    old = add_run("alpha", t0 - timedelta(hours=2), "RUNNING")
    store_inventory(make_ctx)
    ctx = make_ctx(glue_full_reconcile_every=1)
    collect_glue_runs(ctx)
    assert _runs(ctx)[old.job_run_id].state == "RUNNING"

    # Meanwhile more newer runs than a page holds start and finish, and are stored...
    newer = [
        add_run("alpha", t0 - timedelta(minutes=100 - i), "SUCCEEDED")
        for i in range(glue.RUNS_PAGE + 10)
    ]
    ctx.clock.advance(60)
    collect_glue_runs(ctx)
    runs = _runs(ctx)
    assert all(runs[r.job_run_id].state == "SUCCEEDED" for r in newer)
    assert runs[old.job_run_id].state == "RUNNING"
    _calls(ctx)

    # ...and only then does the old run finish: it sits on the second page, behind runs
    # already stored as finished, and must still be read.
    now = ctx.clock.advance(60)
    finish(old, "SUCCEEDED", now - timedelta(seconds=5))
    result = collect_glue_runs(ctx)

    assert result.failures == []
    runs = _runs(ctx)
    assert runs[old.job_run_id].state == "SUCCEEDED"
    assert runs[old.job_run_id].completed_at == now - timedelta(seconds=5)
    assert _calls(ctx) == {"glue:GetJobRuns": 2}

    # Nothing held as active any more: back to one call.
    ctx.clock.advance(60)
    collect_glue_runs(ctx)
    assert _calls(ctx) == {"glue:GetJobRuns": 1}


def test_more_than_a_page_of_history_is_all_stored(make_ctx: MakeCtx, t0: datetime) -> None:
    create_job("alpha")
    history = [add_run("alpha", t0 - timedelta(hours=300 - i), "SUCCEEDED") for i in range(260)]
    store_inventory(make_ctx)
    ctx = make_ctx()
    reads = watch_calls(ctx.aws.client("glue"), "GetJobRuns")

    result = collect_glue_runs(ctx)

    assert result.items == 260
    assert set(_runs(ctx)) == {r.job_run_id for r in history}
    assert [r["MaxResults"] for r in reads] == [200, 200]
    assert "NextToken" in reads[1]


def test_history_is_read_whole_even_when_an_event_stored_the_newest_run_first(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    """The event consumer runs from the first second; a state change of a busy job can be
    stored before the reconciliation first reads that job. Its history must still be read,
    not cut at the run the event stored."""
    create_job("alpha")
    history = [add_run("alpha", t0 - timedelta(hours=90 - i), "SUCCEEDED") for i in range(80)]
    store_inventory(make_ctx)
    ctx = make_ctx(glue_full_reconcile_every=1)
    newest = ctx.aws.client("glue").get_job_run(JobName="alpha", RunId=history[-1].job_run_id)
    with ctx.sessions.begin() as s:  # what the event consumer does for a state change
        store_runs(s, [glue.parse_run(newest["JobRun"], ctx.clock.now())])

    collect_glue_runs(ctx)

    assert set(_runs(ctx)) == {r.job_run_id for r in history}
    # Once read whole, the job is read incrementally again.
    _calls(ctx)
    ctx.clock.advance(60)
    assert collect_glue_runs(ctx).items == 0
    assert _calls(ctx) == {"glue:GetJobRuns": 1}


def test_one_failing_job_is_reported_and_the_others_are_stored(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    for job in ("alpha", "beta", "gamma"):
        create_job(job)
        add_run(job, t0 - timedelta(hours=1), "SUCCEEDED")
    store_inventory(make_ctx)
    ctx = make_ctx(glue_full_reconcile_every=1)
    failed = fail_calls(ctx.aws.client("glue"), "GetJobRuns", when=lambda p: p["JobName"] == "beta")

    result = collect_glue_runs(ctx)

    assert failed and all(p["JobName"] == "beta" for p in failed)
    assert len(result.failures) == 1
    assert result.failures[0].startswith("job beta: AccessDeniedException")
    assert sorted(r.job_name for r in _runs(ctx).values()) == ["alpha", "gamma"]

    # Still failing next cycle: still reported, the others still read.
    ctx.clock.advance(60)
    result = collect_glue_runs(ctx)
    assert [f.split(":")[0] for f in result.failures] == ["job beta"]


def test_every_job_failing_fails_the_cycle(make_ctx: MakeCtx, t0: datetime) -> None:
    for job in ("alpha", "beta"):
        create_job(job)
    store_inventory(make_ctx)
    ctx = make_ctx()
    fail_calls(ctx.aws.client("glue"), "GetJobRuns", code="ThrottlingException")
    with pytest.raises(RuntimeError, match="every job failed"):
        collect_glue_runs(ctx)


def test_once_always_reads_every_job(make_ctx: MakeCtx, t0: datetime) -> None:
    for job in ("alpha", "beta"):
        create_job(job)
    store_inventory(make_ctx)
    ctx = make_ctx(once=True, glue_full_reconcile_every=10)
    for _ in range(3):
        collect_glue_runs(ctx)
        assert _calls(ctx) == {"glue:GetJobRuns": 2}


def _synced(ctx: CollectorContext) -> bool:
    with ctx.sessions() as s:
        return overview_reads.runs_synced(s)


def test_the_pages_learn_when_every_known_job_has_been_read(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    """`python -m collectors` starts every collector at once: the first runs cycle can come
    before the inventory. The next one reads every job never read, whatever the rotation."""
    for job in ("alpha", "beta"):
        create_job(job)
        add_run(job, t0 - timedelta(hours=5), "SUCCEEDED")
    running = add_run("alpha", t0 - timedelta(minutes=3), "RUNNING")
    ctx = make_ctx(glue_full_reconcile_every=3)

    collect_glue_runs(ctx)  # no job known yet
    assert not _synced(ctx) and _runs(ctx) == {}
    store_inventory(make_ctx)
    # The event consumer stores alpha's running run as it happens.
    newest = ctx.aws.client("glue").get_job_run(JobName="alpha", RunId=running.job_run_id)["JobRun"]
    with ctx.sessions.begin() as s:
        store_runs(s, [glue.parse_run(newest, ctx.clock.now())])
    assert not _synced(ctx)

    ctx.clock.advance(15)
    collect_glue_runs(ctx)  # both jobs never read: both read whole
    assert _synced(ctx)
    assert sorted(r.job_name for r in _runs(ctx).values()) == ["alpha", "alpha", "beta"]

    # A job appearing later does not send the pages back to "syncing".
    create_job("gamma")
    store_inventory(make_ctx)
    ctx.clock.advance(15)
    collect_glue_runs(ctx)
    assert _synced(ctx)


def test_a_first_full_cycle_where_every_job_failed_is_not_a_sync(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    for job in ("alpha", "beta"):
        create_job(job)
    store_inventory(make_ctx)
    ctx = make_ctx(glue_full_reconcile_every=1)
    fault = fail_calls(ctx.aws.client("glue"), "GetJobRuns", code="ThrottlingException")
    with pytest.raises(RuntimeError, match="every job failed"):
        collect_glue_runs(ctx)
    assert not _synced(ctx)
    fault.remove()
    ctx.clock.advance(15)
    collect_glue_runs(ctx)
    assert _synced(ctx)
