"""Which jobs a glue_runs cycle reads: a rotating share, active jobs, failed ones, new ones.

Reading every job in one cycle took longer than the interval at 5,000 jobs (24 s for 15 s).
"""

from __future__ import annotations

import itertools
import math
import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from collectors import glue_runs as glue_runs_module
from collectors.context import CollectorContext
from collectors.glue_runs import collect_glue_runs, jobs_to_read
from collectors.runs import store_runs
from dashapp.aws import glue
from dashapp.models import JobRun
from tests.collectors.conftest import (
    MakeCtx,
    add_run,
    client,
    create_job,
    fail_calls,
    finish,
    store_inventory,
    watch_calls,
)
from tests.collectors.test_glue_runs import _calls, _runs, _synced


def _moto_runs() -> dict[str, str]:
    """run id -> state of every run the account holds (the ground truth)."""
    glue_client = client("glue")
    out: dict[str, str] = {}
    for job in glue_client.get_jobs()["Jobs"]:
        for page in glue_client.get_paginator("get_job_runs").paginate(JobName=job["Name"]):
            out.update({r["Id"]: r["JobRunState"] for r in page["JobRuns"]})
    return out


def _active_jobs(ctx: CollectorContext) -> set[str]:
    with ctx.sessions() as s:
        return set(s.scalars(select(JobRun.job_name).where(JobRun.state.in_(glue.ACTIVE_STATES))))


def test_each_cycle_reads_a_share_of_the_jobs_and_every_job_comes_round_within_n_cycles(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    """Reading every job in one cycle took longer than the interval at 5,000 jobs. A cycle
    reads the jobs with active runs, the ones whose read failed last cycle, jobs never read,
    and ceil(jobs / N) others, longest unread first: each job still comes round within N
    cycles while jobs come and go, and nothing is lost."""
    every = 4
    for i in range(10):
        create_job(f"job-{i:02d}", ExecutionProperty={"MaxConcurrentRuns": 100})
        add_run(f"job-{i:02d}", t0 - timedelta(hours=2), "SUCCEEDED")
    busy = add_run("job-03", t0 - timedelta(minutes=5), "RUNNING")
    store_inventory(make_ctx)
    ctx = make_ctx(glue_full_reconcile_every=every)
    glue_client = ctx.aws.client("glue")
    reads = watch_calls(glue_client, "GetJobRuns")
    armed = [False]  # job-05's read fails once, in a rotation turn (not its first read)
    flaky = fail_calls(
        glue_client, "GetJobRuns", when=lambda p: armed[0] and p["JobName"] == "job-05"
    )
    collect_glue_runs(ctx)  # the first cycle reads every job's history
    present = {f"job-{i:02d}" for i in range(10)}
    read_at: dict[str, list[int]] = {job: [-1] for job in present}
    failed_last: set[str] = set()
    for c in range(14):
        reads.clear()
        now = ctx.clock.advance(15)
        armed[0] = c >= 2 and not flaky
        new: set[str] = set()
        if c == 6:  # a job appears, another is deleted
            create_job("job-10")
            add_run("job-10", now - timedelta(hours=1), "SUCCEEDED")
            client("glue").delete_job(JobName="job-01")
            store_inventory(make_ctx)
            present = present - {"job-01"} | {"job-10"}
            new, read_at["job-10"] = {"job-10"}, []
        if c == 9:
            finish(busy, "SUCCEEDED", now - timedelta(seconds=1))
        # Something new every cycle, in a job that may not be due yet.
        add_run(sorted(present)[c % len(present)], now - timedelta(seconds=10), "SUCCEEDED")
        must = _active_jobs(ctx) | failed_last | new

        result = collect_glue_runs(ctx)

        read = {r["JobName"] for r in reads}
        assert must <= read, f"cycle {c}"
        assert len(read - must) <= math.ceil(len(present) / every), f"cycle {c}: {sorted(read)}"
        assert "job-01" not in read or c < 6
        for job in read:
            read_at[job].append(c)
        failed_last = {f.split(":")[0].removeprefix("job ") for f in result.failures}
        if failed_last:
            assert failed_last == {"job-05"} and len(flaky) == 1
    assert len(flaky) == 1, "job-05 came round (and failed once) after the fault was armed"
    for job in present:
        turns = [*read_at[job], 14]
        gaps = [b - a for a, b in itertools.pairwise(turns)]
        assert max(gaps) <= every, f"{job} read at cycles {read_at[job]}"

    for _ in range(every):  # a quiet round: every job is read once more
        ctx.clock.advance(15)
        collect_glue_runs(ctx)
    with ctx.sessions() as s:
        stored = {r.run_id: (r.job_name, r.state) for r in s.scalars(select(JobRun))}
    truth = _moto_runs()
    assert {k: v[1] for k, v in stored.items() if v[0] in present} == truth
    # Seeded, job-03's, job-10's, one a cycle: the deleted job's runs stay in the history.
    assert len(stored) == 10 + 1 + 1 + 14
    assert _runs(ctx)[busy.job_run_id].state == "SUCCEEDED"


def test_a_failed_read_is_retried_next_cycle_and_a_first_read_still_reads_the_whole_history(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    create_job("alpha")
    create_job("beta")
    history = [add_run("alpha", t0 - timedelta(hours=300 - i), "SUCCEEDED") for i in range(260)]
    add_run("beta", t0 - timedelta(hours=1), "SUCCEEDED")
    store_inventory(make_ctx)
    ctx = make_ctx(glue_full_reconcile_every=10)
    glue_client = ctx.aws.client("glue")
    fault = fail_calls(glue_client, "GetJobRuns", when=lambda p: p["JobName"] == "alpha")

    result = collect_glue_runs(ctx)

    assert [f.split(":")[0] for f in result.failures] == ["job alpha"]
    assert _synced(ctx), "one job failing does not keep every page syncing"
    fault.remove()
    reads = watch_calls(glue_client, "GetJobRuns")
    ctx.clock.advance(15)
    result = collect_glue_runs(ctx)  # read again at once, not N cycles later

    assert result.failures == []
    alpha_reads = [r["MaxResults"] for r in reads if r["JobName"] == "alpha"]
    assert alpha_reads == [200, 200], "still its first read: the whole history, 200 a page"
    assert {r.run_id for r in _runs(ctx).values() if r.job_name == "alpha"} == {
        r.job_run_id for r in history
    }


def test_an_active_job_whose_read_failed_is_read_next_cycle_even_once_its_run_has_ended(
    make_ctx: MakeCtx, t0: datetime
) -> None:
    """The event consumer may settle the run meanwhile, so the job is no longer "active";
    what else changed in it must still be read next cycle, not when its turn comes."""
    for i in range(8):
        create_job(f"job-{i}", ExecutionProperty={"MaxConcurrentRuns": 10})
        add_run(f"job-{i}", t0 - timedelta(hours=1), "SUCCEEDED")
    running = add_run("job-7", t0 - timedelta(minutes=5), "RUNNING")
    store_inventory(make_ctx)
    ctx = make_ctx(glue_full_reconcile_every=4)
    collect_glue_runs(ctx)
    glue_client = ctx.aws.client("glue")
    fault = fail_calls(glue_client, "GetJobRuns", when=lambda p: p["JobName"] == "job-7")
    ctx.clock.advance(15)
    assert [f.split(":")[0] for f in collect_glue_runs(ctx).failures] == ["job job-7"]
    fault.remove()
    now = ctx.clock.advance(15)
    other = add_run("job-7", now - timedelta(minutes=2), "FAILED", finished=now)
    finish(running, "SUCCEEDED", now - timedelta(seconds=2))
    settled = glue_client.get_job_run(JobName="job-7", RunId=running.job_run_id)["JobRun"]
    with ctx.sessions.begin() as s:  # the event consumer stores the state change
        store_runs(s, [glue.parse_run(settled, now)])
    reads = watch_calls(glue_client, "GetJobRuns")

    assert collect_glue_runs(ctx).failures == []

    assert "job-7" in {r["JobName"] for r in reads}
    assert _runs(ctx)[other.job_run_id].state == "FAILED"


def test_a_cycle_checks_what_is_stored_with_one_query_per_round_not_one_per_job(
    make_ctx: MakeCtx, t0: datetime, engine: Engine
) -> None:
    for i in range(12):
        create_job(f"job-{i:02d}")
        add_run(f"job-{i:02d}", t0 - timedelta(hours=1), "SUCCEEDED")
    store_inventory(make_ctx)
    ctx = make_ctx(glue_full_reconcile_every=1)
    collect_glue_runs(ctx)
    checks: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "job_runs.run_id IN" in statement:
            checks.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    ctx.clock.advance(15)
    collect_glue_runs(ctx)
    event.remove(engine, "before_cursor_execute", count)

    assert _calls(ctx)["glue:GetJobRuns"] == 12 + 12
    assert len(checks) == 1


@pytest.mark.parametrize("deletions", [False, True], ids=["jobs-added", "jobs-added-and-deleted"])
def test_the_rotation_reads_every_job_within_n_cycles_while_jobs_come_and_go(
    deletions: bool,
) -> None:
    """`jobs_to_read` over 150 random accounts of 0-40 jobs, 120 cycles each, with jobs
    added (and deleted) and random active jobs: no job waits N cycles; with only additions a
    cycle never reads more than its share besides the jobs it must read."""
    for seed in range(150):
        rng = random.Random(seed)
        every = rng.randint(1, 6)
        jobs = {f"job-{i}" for i in range(rng.randint(0, 40))}
        unread, last_read, added = set(jobs), dict[str, int](), len(jobs)
        for cycle in range(120):
            if rng.random() < 0.3:
                new = {f"job-{added + i}" for i in range(rng.randint(1, 5))}
                added += len(new)
                jobs |= new
                unread |= new
            if deletions and jobs and rng.random() < 0.3:
                gone = set(rng.sample(sorted(jobs), min(len(jobs), rng.randint(1, 5))))
                jobs -= gone
                unread -= gone
                for job in gone:
                    last_read.pop(job, None)
            active = set(rng.sample(sorted(jobs), min(len(jobs), rng.randint(0, 3))))
            must = active | unread

            read = jobs_to_read(jobs, must=must, last_read=last_read, cycle=cycle, every=every)

            assert must <= set(read) <= jobs
            if not deletions:
                assert len(set(read) - must) <= math.ceil(len(jobs) / every)
            for job in read:
                last_read[job] = cycle
            unread -= set(read)
            overdue = [j for j in jobs if cycle - last_read[j] >= every]
            assert overdue == [], f"seed {seed}, N={every}, cycle {cycle}: {overdue}"


def test_runs_a_cycle_could_not_store_are_read_again_next_cycle(
    make_ctx: MakeCtx, t0: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(8):
        create_job(f"job-{i}")
        add_run(f"job-{i}", t0 - timedelta(hours=1), "SUCCEEDED")
    store_inventory(make_ctx)
    ctx = make_ctx(glue_full_reconcile_every=4)
    collect_glue_runs(ctx)
    now = ctx.clock.advance(15)
    new = add_run("job-0", now - timedelta(minutes=2), "FAILED", finished=now)  # its turn now
    real_store = glue_runs_module.store_runs

    def database_gone(*_: Any, **__: Any) -> int:
        raise RuntimeError("connection to the database lost")

    monkeypatch.setattr(glue_runs_module, "store_runs", database_gone)
    with pytest.raises(RuntimeError, match="database lost"):
        collect_glue_runs(ctx)
    monkeypatch.setattr(glue_runs_module, "store_runs", real_store)
    reads = watch_calls(ctx.aws.client("glue"), "GetJobRuns")
    ctx.clock.advance(15)

    collect_glue_runs(ctx)

    assert "job-0" in {r["JobName"] for r in reads}, "not N cycles later"
    assert _runs(ctx)[new.job_run_id].state == "FAILED"
