"""Reconcile Glue job runs with GetJobRuns: read only what is new, and only some jobs a cycle.

Runs come newest first, so reading a job stops at the first run already stored
in a terminal state — once every run we still hold as active has been seen
again (an older run can still be going). Events bring most changes within a
second; this reconciliation repairs what EventBridge dropped, so it need not
read every job every cycle. A cycle reads (`jobs_to_read`):

- every job with a run held as active (it is about to change);
- every job whose read failed last cycle (retried at once, not a rotation later);
- every job whose history was never read;
- and its share of the rest: the ceil(jobs / `glue_full_reconcile_every`) jobs read
  longest ago (a few more after jobs were deleted), so each job is read at least once
  every that many cycles however jobs come and go, and no cycle reads them all (at
  5,000 jobs that took longer than the interval). The order lives in the process: after
  a restart the rotation starts again from the first job.

Jobs are read in parallel, a page each per round; one SELECT per round (not per
job) finds which of the runs read are already stored as finished. One job failing
is reported and the others are stored.

The first read of a job takes its whole history (up to Glue's 90 days), whatever is
already stored: the event consumer may have stored its newest runs first, and stopping
at those would cut the history off. Jobs read whole are kept in a cursor, with the time
the first cycle ended after which every known job had been read whole: the scheduler
starts this collector alongside the inventory, so the first cycle may find no job at all.
Until that mark the pages cannot tell a job that never ran from one whose history is not
read yet. A job failing in that cycle does not hold the mark back (it is reported like any
other failure, and retried next cycle); every unread job failing does.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
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
# Run ids per SELECT: well under SQLite's and PostgreSQL's bound-parameter limits.
IDS_PER_QUERY = 2000


def jobs_to_read(
    jobs: Collection[str],
    *,
    must: Collection[str],
    last_read: Mapping[str, int],
    cycle: int,
    every: int,
) -> list[str]:
    """`must` (active, failed last time, never read) plus this cycle's rotation share.

    The share is the ceil(len(jobs) / every) other jobs read longest ago (not yet in this
    process, first; ties by name). Read that many a cycle, least recent first, every job
    comes round within `every` cycles: jobs read meanwhile for another reason only move it
    forward, and a job added later is read at once (never read whole) and then queues at the
    end. Deleted jobs shrink the share before the queue ahead of a job has gone, so a job
    last read `every` cycles ago is read whatever the share.
    """
    chosen = set(must) & set(jobs)
    rest = sorted((j for j in jobs if j not in chosen), key=lambda j: (last_read.get(j, -1), j))
    due = [j for j in rest if last_read.get(j, cycle) <= cycle - every]
    share = max(len(due), math.ceil(len(jobs) / max(1, every)))
    return sorted(chosen | set(rest[:share]))


def collect_glue_runs(ctx: CollectorContext) -> CycleResult:
    result = CycleResult()
    now = ctx.clock.now()
    cycle = ctx.memory.get("cycle", 0)
    ctx.memory["cycle"] = cycle + 1
    last_read: dict[str, int] = ctx.memory.setdefault("last_read", {})
    failed_before: set[str] = ctx.memory.get("failed", set())
    with ctx.sessions() as session:
        jobs = list(session.scalars(select(GlueJob.name).where(GlueJob.gone_at.is_(None))))
        cursor = session.get(CollectorCursor, HISTORY_CURSOR)
        history_read = set(cursor.value.get("jobs", [])) if cursor else set()
        active: dict[str, set[str]] = {}
        for job, run_id in session.execute(
            select(JobRun.job_name, JobRun.run_id).where(JobRun.state.in_(glue.ACTIVE_STATES))
        ):
            active.setdefault(job, set()).add(run_id)
    unread = {j for j in jobs if j not in history_read}
    if ctx.once:
        selected = sorted(jobs)
    else:
        must = set(active) | failed_before | unread
        every = ctx.settings.glue_full_reconcile_every
        selected = jobs_to_read(jobs, must=must, last_read=last_read, cycle=cycle, every=every)

    reads = read_new_runs(
        ctx,
        [JobRead(j, active.get(j, set()), whole=j not in history_read) for j in selected],
        now,
    )
    rows: list[dict[str, Any]] = []
    failed: set[str] = set()
    for r in reads:
        if r.error is not None:
            result.failed(f"job {r.job}", r.error)
            failed.add(r.job)
        else:
            rows.extend(r.rows)
            for run_id, problem in r.malformed:
                result.failed(f"run {run_id} of job {r.job}", problem)
    # A read counts once it is stored: if the write fails, every job of the cycle is retried.
    ctx.memory["failed"] = set(selected)
    read_whole = unread - failed
    # Every job is now read whole, or was tried this cycle and at least one unread one
    # could be read: a job that keeps failing must not keep the pages "syncing" for ever.
    synced_now = bool(jobs) and (not unread or bool(read_whole))
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
    ctx.memory["failed"] = failed
    for job in set(selected) - failed:
        last_read[job] = cycle
    for gone in set(last_read) - set(jobs):
        del last_read[gone]
    if selected and len(failed) == len(selected):
        raise RuntimeError(f"every job failed; first: {result.failures[0]}")
    return result


@dataclass
class JobRead:
    """One job's read in progress: a page a round until it reaches what is stored."""

    job: str
    active: set[str]  # runs of this job held as active: read until each is seen again
    whole: bool = False  # history never read: every page, still skipping stored finished runs
    token: str | None = None
    page: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    # Runs Glue described in a shape we cannot read: reported one by one, the others stored.
    malformed: list[tuple[str, MalformedResponse]] = field(default_factory=list)
    error: BaseException | None = None
    done: bool = False

    def fetch(self, client: Any) -> None:
        # A job whose history was never read is read whole (up to Glue's 90 days), 200 a page.
        size = 200 if self.whole else glue.RUNS_PAGE
        try:
            self.page, self.token = glue.job_runs_page(client, self.job, self.token, size)
        except Exception as e:  # noqa: BLE001 - reported per job by the caller
            self.error, self.done = e, True

    def absorb(self, stored_terminal: set[str], now: datetime) -> None:
        """Keep the page's runs not stored as finished; decide whether another page is due."""
        reached_known = False
        for raw in self.page:
            run_id = _run_id(raw)
            if run_id in stored_terminal:
                reached_known = True
                continue
            self.active.discard(run_id or "")
            try:
                self.rows.append(glue.parse_run(raw, now))
            except MalformedResponse as e:
                self.malformed.append((run_id or "(without an id)", e))
        self.page = []
        if not self.token or (not self.whole and reached_known and not self.active):
            self.done = True


def read_new_runs(ctx: CollectorContext, reads: list[JobRead], now: datetime) -> list[JobRead]:
    """Runs of each job that are new or changed since we last stored them, in rounds: every
    unfinished read fetches one page in parallel, then one query checks them all."""
    client = ctx.aws.client("glue")
    pending = [r for r in reads if not r.done]
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="glue-runs") as pool:
        while pending:
            list(pool.map(lambda r: r.fetch(client), pending))
            pending = [r for r in pending if r.error is None]
            ids = [run_id for r in pending for raw in r.page if (run_id := _run_id(raw))]
            stored = _stored_terminal(ctx, ids)
            for r in pending:
                r.absorb(stored, now)
            pending = [r for r in pending if not r.done]
    return reads


def _run_id(raw: Any) -> str | None:
    value = raw.get("Id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def _stored_terminal(ctx: CollectorContext, run_ids: list[str]) -> set[str]:
    found: set[str] = set()
    if not run_ids:
        return found
    with ctx.sessions() as session:
        for start in range(0, len(run_ids), IDS_PER_QUERY):
            found.update(
                session.scalars(
                    select(JobRun.run_id).where(
                        JobRun.run_id.in_(run_ids[start : start + IDS_PER_QUERY]),
                        JobRun.state.in_(glue.TERMINAL_STATES),
                    )
                )
            )
    return found
