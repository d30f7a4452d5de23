"""Reconcile Glue job runs with GetJobRuns: read only what is new.

Runs come newest first, so reading a job stops at the first run already stored
in a terminal state — once every run we still hold as active has been seen
again (an older run can still be going). A cycle is one call per job read; jobs
with active runs are read every cycle, all jobs every `glue_full_reconcile_every`
cycles (events bring most changes within a second anyway). Jobs are read in
parallel; one job failing is reported and the others are stored.

The first read of a job takes its whole history (up to Glue's 90 days), whatever is
already stored: the event consumer may have stored its newest runs first, and stopping
at those would cut the history off. Jobs read whole are kept in a cursor, with the time
the first full cycle over a known job list ended: the scheduler starts this collector
alongside the inventory, so the first cycle may find no job at all, and the cycles up to
the next full one read only jobs with active runs. Until that mark the pages cannot tell
a job that never ran from one whose history is not read yet. A job failing in that cycle
does not hold the mark back (it is reported like any other failure); every job failing does.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from collectors.context import CollectorContext, CycleResult
from collectors.runs import store_runs
from dashapp.aws import glue
from dashapp.aws.shape import MalformedResponse
from dashapp.models import (
    FIRST_FULL_SYNC_KEY,
    GLUE_RUNS_HISTORY_CURSOR,
    CollectorCursor,
    GlueJob,
    JobRun,
)

WORKERS = 16
HISTORY_CURSOR = GLUE_RUNS_HISTORY_CURSOR


def collect_glue_runs(ctx: CollectorContext) -> CycleResult:
    result = CycleResult()
    now = ctx.clock.now()
    cycle = ctx.memory.get("cycle", 0)
    ctx.memory["cycle"] = cycle + 1
    full = ctx.once or cycle % ctx.settings.glue_full_reconcile_every == 0
    with ctx.sessions() as session:
        jobs = list(session.scalars(select(GlueJob.name).where(GlueJob.gone_at.is_(None))))
        cursor = session.get(CollectorCursor, HISTORY_CURSOR)
        history_read = set(cursor.value.get("jobs", [])) if cursor else set()
        active: dict[str, set[str]] = {}
        for job, run_id in session.execute(
            select(JobRun.job_name, JobRun.run_id).where(JobRun.state.in_(glue.ACTIVE_STATES))
        ):
            active.setdefault(job, set()).add(run_id)
    selected = jobs if full else [j for j in jobs if j in active]
    client = ctx.aws.client("glue")

    def read(job: str) -> tuple[str, RunsRead | BaseException]:
        try:
            whole = job not in history_read
            return job, read_new_runs(ctx, client, job, active.get(job, set()), now, whole=whole)
        except Exception as e:  # noqa: BLE001 - reported per job by the caller
            return job, e

    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="glue-runs") as pool:
        outcomes = list(pool.map(read, selected))
    rows: list[dict[str, Any]] = []
    read_whole: set[str] = set()
    failed_jobs = 0  # an odd run is a failure too, but its job was read
    for job, outcome in outcomes:
        if isinstance(outcome, BaseException):
            result.failed(f"job {job}", outcome)
            failed_jobs += 1
        else:
            rows.extend(outcome.rows)
            for run_id, problem in outcome.malformed:
                result.failed(f"run {run_id} of job {job}", problem)
            if job not in history_read:
                read_whole.add(job)
    synced_now = full and bool(selected) and failed_jobs < len(selected)
    with ctx.sessions.begin() as session:
        result.items += store_runs(session, rows)
        row = session.get(CollectorCursor, HISTORY_CURSOR)
        value = dict(row.value or {}) if row else {}
        mark = synced_now and FIRST_FULL_SYNC_KEY not in value
        if read_whole or mark:
            row = row or CollectorCursor(name=HISTORY_CURSOR)
            value["jobs"] = sorted(history_read | read_whole)
            if mark:
                value[FIRST_FULL_SYNC_KEY] = ctx.clock.now().isoformat()
            row.value = value
            row.updated_at = now
            session.add(row)
    if selected and failed_jobs == len(selected):
        raise RuntimeError(f"every job failed; first: {result.failures[0]}")
    return result


@dataclass
class RunsRead:
    """A job's new or changed runs, and those Glue described in a shape we cannot read
    (reported one by one; the job's other runs are stored)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    malformed: list[tuple[str, MalformedResponse]] = field(default_factory=list)


def read_new_runs(
    ctx: CollectorContext,
    client: Any,
    job: str,
    active: set[str],
    now: datetime,
    *,
    whole: bool = False,
) -> RunsRead:
    """Runs of `job` that are new or changed since we last stored them (`whole`: every page
    of its history, still skipping runs stored as finished)."""
    unseen_active = set(active)
    read = RunsRead()
    token: str | None = None
    # A job whose history was never read is read whole (up to Glue's 90 days), 200 a page.
    size = 200 if whole else glue.RUNS_PAGE
    while True:
        page, token = glue.job_runs_page(client, job, token, max_results=size)
        ids = [_run_id(raw) for raw in page]
        stored_terminal = _stored_terminal(ctx, [i for i in ids if i])
        reached_known = False
        for run_id, raw in zip(ids, page, strict=True):
            if run_id in stored_terminal:
                reached_known = True
                continue
            unseen_active.discard(run_id)
            try:
                read.rows.append(glue.parse_run(raw, now))
            except MalformedResponse as e:
                read.malformed.append((run_id or "(without an id)", e))
        if not token or (not whole and reached_known and not unseen_active):
            break
    return read


def _run_id(raw: Any) -> str | None:
    value = raw.get("Id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def _stored_terminal(ctx: CollectorContext, run_ids: list[str]) -> set[str]:
    if not run_ids:
        return set()
    with ctx.sessions() as session:
        return set(
            session.scalars(
                select(JobRun.run_id).where(
                    JobRun.run_id.in_(run_ids), JobRun.state.in_(glue.TERMINAL_STATES)
                )
            )
        )
