"""One load run: gunicorn on a database, Chromium's recorded traffic, N virtual viewers.

Shared by `bench/load.py` (200 viewers at production size) and its bounded test
(tests/reliability/test_load.py), so the test checks the very code the figures come from.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench.apart import in_own_thread
from bench.browser_capture import PageTraffic, capture
from bench.callback_sql import baselines
from bench.procstat import CpuMeter
from bench.sqltiming import Timing, percentile
from bench.ui_seed import pg_conninfo
from bench.viewers import Book, quantiles, run_viewers
from bench.webserver import web_server
from dashapp.config import Settings

#: Nothing listens here: pages never call AWS to render, and this proves it.
CLOSED_ENDPOINT = "http://127.0.0.1:9"


@dataclass
class LoadPlan:
    database_url: str
    job: str
    viewers: int
    duration_s: float
    ramp_s: float
    interval_s: int = 5
    workers: int = 2
    threads: int = 8
    samples: int = 20
    #: SMD_SHARED_ANSWER_S of the server (0: every viewer's refresh computed on its own).
    shared_answer_s: float = 1.0

    def paths(self) -> list[str]:
        return ["/", f"/jobs/{self.job}", "/wall"]


@dataclass
class LoadResult:
    plan: LoadPlan
    pages: list[PageTraffic]
    book: Book
    sql: dict[str, Timing]
    server_cpu_s: float
    postgres_cpu_s: float
    client_cpu_s: float
    respawned_workers: int
    notes: list[str] = field(default_factory=list)

    def offered_ticks(self) -> int:
        return sum(self.book.ticks_due.values())

    def answered_ticks(self) -> int:
        return sum(self.book.ticks_answered.values())

    def cadence(self) -> float:
        """Share of the refreshes the viewers owed in the window that were answered."""
        return self.answered_ticks() / self.offered_ticks() if self.offered_ticks() else 0.0


def web_env(plan: LoadPlan) -> dict[str, str]:
    return {
        "DATABASE_URL": plan.database_url,
        "AWS_ENDPOINT_URL": CLOSED_ENDPOINT,
        "SMD_REFRESH_INTERVAL_S": str(plan.interval_s),
        "SMD_SHARED_ANSWER_S": str(plan.shared_answer_s),
    }


def _backend_pids(database_url: str) -> list[int]:
    """PostgreSQL backends serving the benchmark database (the server's pools)."""
    name = make_url(database_url).database
    with psycopg.connect(pg_conninfo(database_url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return [int(r[0]) for r in rows]


def run_load(plan: LoadPlan, log_dir: Path) -> LoadResult:
    """Serve, record the pages with Chromium, measure the baseline, then the viewers."""
    env = web_env(plan)
    settings = Settings(
        database_url=plan.database_url,
        aws_endpoint_url=CLOSED_ENDPOINT,
        refresh_interval_s=plan.interval_s,
    )
    with web_server(env, log_dir / "web.log", workers=plan.workers, threads=plan.threads) as web:
        pages = capture(web.url, plan.paths())
        sql = baselines(settings, pages, plan.samples)
        booted = set(web.worker_pids())
        server = CpuMeter(web.pids())
        postgres = CpuMeter([])
        client = time.process_time()

        async def measured() -> Book:
            # Meters start when the window opens (after the ramp and one interval).
            task = asyncio.create_task(
                run_viewers(
                    web.url,
                    pages,
                    plan.viewers,
                    interval_s=plan.interval_s,
                    ramp_s=plan.ramp_s,
                    duration_s=plan.duration_s,
                )
            )
            await asyncio.sleep(plan.ramp_s + plan.interval_s)
            nonlocal client
            server.start(web.pids())
            postgres.start(_backend_pids(plan.database_url))
            client = time.process_time()
            await asyncio.sleep(plan.duration_s)
            server.stop(web.pids())
            postgres.stop(_backend_pids(plan.database_url))
            client = time.process_time() - client
            return await task

        book = in_own_thread(asyncio.run, measured())
        respawned = len(set(web.worker_pids()) - booted)
        notes = [] if web.proc.poll() is None else [f"web exited: {web.log_tail()}"]
    return LoadResult(
        plan, pages, book, sql, server.used_s, postgres.used_s, client, respawned, notes
    )


def _q(values: list[float]) -> str:
    p50, p95, p99 = quantiles(values)
    return f"{p50:8.1f} {p95:8.1f} {p99:8.1f}"


def capacity_line(result: LoadResult) -> str:
    """Server CPU per answered refresh, and the viewers this machine's cores could carry at
    that cost: a figure that stays meaningful when the offered load is more than served."""
    answered = result.answered_ticks()
    if not answered:
        return "no refresh answered: no cost per refresh"
    per_refresh = (result.server_cpu_s + result.postgres_cpu_s) / answered
    cores = os.cpu_count() or 1
    viewers = cores * result.plan.interval_s / (per_refresh * len(result.pages))
    return (
        f"gunicorn + PostgreSQL CPU per answered refresh: {per_refresh * 1000:.0f} ms; at that"
        f" cost {cores} cores carry about {viewers:.0f} viewers (all cores, no client)"
    )


def report(result: LoadResult) -> list[str]:
    """The figures, as lines."""
    plan, book = result.plan, result.book
    minutes = plan.duration_s / 60
    lines = [
        f"server: python -m dashapp web, {plan.workers} workers x {plan.threads} gthread threads;"
        f" {os.cpu_count()} cores; viewers share answers within {plan.shared_answer_s:g} s"
        " (SMD_SHARED_ANSWER_S)",
        f"viewers: {plan.viewers}, each with {', '.join(plan.paths())} open; refresh every"
        f" {plan.interval_s} s; ramp {plan.ramp_s:.0f} s; measured {plan.duration_s:.0f} s",
        "recorded with Chromium:",
        *[f"  {p.describe()}" for p in result.pages],
        f"{'tick callback (page, first output)':<62} {'n':>6} {'p50 ms':>8} {'p95 ms':>8}"
        f" {'p99 ms':>8} | {'alone':>7} | {'SQL p50':>7} {'SQL p95':>7} | {'p50/SQL':>7}",
    ]
    for label, timing in result.sql.items():
        values = book.latencies.get(label, [])
        sql50 = percentile(timing.sql_ms, 50)
        ratio = quantiles(values)[0] / sql50 if values and sql50 else float("nan")
        lines.append(
            f"{label.removeprefix('tick '):<62} {len(values):6d} {_q(values)} |"
            f" {percentile(timing.code_ms, 50):7.1f} | {sql50:7.1f}"
            f" {percentile(timing.sql_ms, 95):7.1f} | {ratio:6.1f}x"
        )
    ticks = book.all_ms("tick ")
    lines.append(f"{'all tick callbacks':<62} {len(ticks):6d} {_q(ticks)}")
    for path, values in book.refresh_ms.items():
        lines.append(f"{'whole refresh ' + path:<62} {len(values):6d} {_q(values)}")
    loads = book.all_ms("load ")
    lines.append(f"{'page open (GETs + mount callbacks, each)':<62} {len(loads):6d} {_q(loads)}")
    offered = (
        sum(book.ticks_due[p.path] * p.tick_requests() for p in result.pages) / plan.duration_s
    )
    achieved = len(ticks) / plan.duration_s
    lines += [
        f"requests: {book.requests} in all, errors: {book.errors}; retried once on a fresh"
        f" connection (the server had closed theirs, as a browser does): {book.retried}"
        + (f" (first: {book.error_samples[:3]})" if book.error_samples else ""),
        f"cadence: {result.answered_ticks()} of {result.offered_ticks()} refreshes due in the"
        f" window answered ({result.cadence():.1%}), {sum(book.ticks_late.values())} sent >1 s"
        f" late; callback requests offered {offered:.1f}/s, achieved {achieved:.1f}/s",
        f"server CPU (gunicorn arbiter + workers): {result.server_cpu_s:.1f} s in"
        f" {plan.duration_s:.0f} s = {result.server_cpu_s / plan.duration_s:.2f} cores;"
        f" {result.server_cpu_s / plan.viewers / minutes * 1000:.0f} ms per viewer per minute",
        capacity_line(result),
        f"PostgreSQL backends of this database: {result.postgres_cpu_s:.1f} s"
        f" = {result.postgres_cpu_s / plan.duration_s:.2f} cores;"
        f" {result.postgres_cpu_s / plan.viewers / minutes * 1000:.0f} ms per viewer per minute",
        f"client (this process, {plan.viewers} viewers): {result.client_cpu_s:.1f} s"
        f" = {result.client_cpu_s / plan.duration_s:.2f} cores",
        f"workers respawned during the run: {result.respawned_workers}",
        f"uptime: {Path('/proc/loadavg').read_text().strip()}",
        *result.notes,
    ]
    return lines
