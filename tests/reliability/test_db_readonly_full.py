"""A read-only and a full database: a clear status, the collectors retry at their pace.

Why: an operator puts the database in read-only mode for maintenance (or a failover lands
the dashboard on a standby), or its disk fills up. Nothing can be stored then; the
collectors must keep running, retry each at its own interval (not in a tight loop, not
by dying and being restarted), say the cause in one line, and catch up once writes are
possible again with nothing lost. The web keeps serving reads and refuses actions with
a message naming the cause.

Read-only: `ALTER SYSTEM SET default_transaction_read_only = on` and a reload, as an
operator does. Full: the test's database lives in a tablespace on a small tmpfs the
test mounts, and fills to the last byte while a metrics and a logs cycle wait to write
(a lock of the test's holds them): their INSERTs then fail with the server's "could not
extend file …: No space left on device" (SQLSTATE 53100), a real ENOSPC; the WAL stays
on the roomy disk, as when a data volume fills. Mounting needs root: without it the
test is `missing` (fails in CI).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from callbacks import job_actions as ja_cb
from collectors.registry import JOBS
from dashapp.app import create_app
from dashapp.config import Settings
from dashapp.db import make_engine, upgrade
from dashapp.services import Services
from tests.conftest import missing
from tests.reliability import ground_truth as gt
from tests.reliability.callback_sweep import callbacks_that_fail, update_body
from tests.reliability.collector_processes import (
    blocked_writers,
    live_child_restarts,
    log_lines,
    start_collector,
    stop_collector,
    successes_since,
    wait_for,
)
from tests.reliability.conftest import CLOSED_ENDPOINT
from tests.reliability.figure_report import report
from tests.reliability.pg_cluster import PgCluster, can_mount, fill
from tests.web.tree import text as text_of

WINDOW_S = 4.0  # how long the database stays read-only / full: two glue_runs intervals
BOUND_S = 60.0
NAMES = {j.name for j in JOBS}
GLUE_RUNS_INTERVAL_S, METRICS_INTERVAL_S = 2.0, 5.0  # collector_processes.INTERVALS
EXAMPLES_PER_CALLBACK = 2
RECOVERED = re.compile(r" (\w+): succeeded again after (\d+) failed cycles")
FAILED = re.compile(r" WARNING (\w+): database: ")


def _web(engine: Engine) -> tuple[FlaskClient, Services, dict[str, Any]]:
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        aws_endpoint_url=CLOSED_ENDPOINT,
        aws_max_attempts=1,
        stale_after_s=5,
        local_role="operator",
        _env_file=None,
    )
    svc = Services.build(settings)
    app = create_app(settings, services=svc)
    return app.server.test_client(), svc, app.callback_map


def _collected(engine: Engine, truth: gt.Holdings, since: datetime | None, log: Path) -> None:
    """The collectors caught up: every one succeeded after `since` (a first start) or every
    one that failed succeeded again (`since` None), and the database holds what AWS holds."""
    if since is not None:
        wait_for(lambda: successes_since(engine, since).keys() >= NAMES, BOUND_S, "all ran")
    else:
        wait_for(lambda: _failing(log) <= _failed_cycles(log).keys(), BOUND_S, "all recover")
    gt.wait_until_held(truth, engine, BOUND_S)


def _failing(log: Path) -> set[str]:
    return {m[1] for line in log_lines(log) if (m := FAILED.search(line))}


def _failed_cycles(log: Path) -> dict[str, int]:
    """Per collector, the failed cycles its "succeeded again" line counted."""
    return {m[1]: int(m[2]) for line in log_lines(log) if (m := RECOVERED.search(line))}


def _calm(log: Path, pid: int, proc: Any) -> tuple[int, int]:
    """(log lines, tracebacks) so far; the process is the same one, still running."""
    lines = log_lines(log)
    assert proc.poll() is None and proc.pid == pid, "the collector lives on, unrestarted"
    return len(lines), sum("Traceback" in line for line in lines)


@contextmanager
def _running(engine: Engine, sandbox: str, log: Path) -> Iterator[tuple[Any, ...]]:
    """A collector process and the web app on `engine`: (process, client, services, callback
    map). The collector must then stop cleanly on SIGTERM."""
    proc = start_collector(engine.url.render_as_string(hide_password=False), sandbox, log)
    client, svc, callback_map = _web(engine)
    try:
        yield proc, client, svc, callback_map
    finally:
        code = stop_collector(proc)
        svc.engine.dispose()
    assert code == 0, log_lines(log)[-20:]


def _catch_up(engine: Engine, truth: gt.Holdings, log: Path, proc: Any) -> tuple[float, int, int]:
    """Once writes are possible again: (seconds to catch up, log lines, tracebacks)."""
    back = time.monotonic()
    _collected(engine, truth, None, log)
    return time.monotonic() - back, *_calm(log, proc.pid, proc)


def test_a_read_only_database_is_named_and_the_collectors_wait_it_out(
    pg_cluster: PgCluster,
    still_sandbox: str,
    cluster_db: Engine,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    truth = gt.in_aws(still_sandbox)
    log = tmp_path / "collector.log"
    began = datetime.now(UTC)
    with _running(cluster_db, still_sandbox, log) as (proc, client, svc, callback_map):
        _collected(cluster_db, truth, began, log)
        lines_before, _ = _calm(log, proc.pid, proc)
        pg_cluster.read_only(True)
        try:
            began_ro = time.monotonic()
            refused = callbacks_that_fail(client, callback_map, EXAMPLES_PER_CALLBACK)
            time.sleep(max(0.0, WINDOW_S - (time.monotonic() - began_ro)))
            ready = client.get("/readyz").get_json()
            overview = client.post(
                "/_dash-update-component",
                json=update_body(callback_map, "overview-cards", {"n_intervals": 1}),
            ).get_data(as_text=True)
            with client.application.test_request_context("/"):
                said, _, _ = ja_cb.start_action(svc, "sales-orders-ingest", "", "ro-1")
            metrics = client.get("/metrics")
            lines_during, _ = _calm(log, proc.pid, proc)
        finally:
            pg_cluster.read_only(False)
            read_only_s = time.monotonic() - began_ro
        recovered_s, lines_after, tracebacks = _catch_up(cluster_db, truth, log, proc)
    assert not refused, f"callbacks failing on a read-only database: {refused}"
    assert ready["reasons"][0].startswith("database is read-only"), ready
    assert "sales-orders-ingest" in overview, "reads are served as before"
    said_text = text_of(said)
    assert "read-only transaction" in said_text and "nothing was started" in said_text, said_text
    assert metrics.status_code == 200
    failed = _failed_cycles(log)
    assert tracebacks == 0
    assert live_child_restarts(log) == 0
    # Each collector retried at its interval: a few cycles each, no tight loop.
    assert 1 <= failed.get("glue_runs", 0) <= read_only_s / GLUE_RUNS_INTERVAL_S + 2, failed
    assert lines_during - lines_before <= len(NAMES), "one line per failing collector"
    report(
        request,
        "db-faults",
        [
            f"read-only {read_only_s:.1f} s: /readyz {ready['reasons'][0][:60]}…; Overview served; "
            f"every callback x {EXAMPLES_PER_CALLBACK} answered; start refused: {said_text[:90]}",
            f"collector: 0 restarts, {sum(failed.values())} failed cycles "
            f"({', '.join(f'{k} {v}' for k, v in sorted(failed.items()))}), "
            f"{lines_during - lines_before} log lines while read-only, "
            f"{lines_after - lines_during} at recovery, 0 tracebacks",
            f"writable again: every collector ok and database = AWS in {recovered_s:.1f} s "
            f"({truth.sizes()})",
        ],
    )


@pytest.fixture
def full_db(pg_cluster: PgCluster) -> Iterator[tuple[Engine, Path]]:
    """A migrated database in a tablespace on a 16 MiB tmpfs: (engine, mount point)."""
    reason = can_mount()
    if reason:
        missing(reason)
    with pg_cluster.small_volume("small_disk", 16) as volume:
        url = pg_cluster.create_database("t_full", tablespace="small_disk")
        upgrade(url)
        engine = make_engine(url)
        try:
            yield engine, volume
        finally:
            engine.dispose()
            pg_cluster.drop_database("t_full")


def test_a_full_disk_is_named_in_the_status_and_the_collectors_catch_up(
    still_sandbox: str,
    full_db: tuple[Engine, Path],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    engine, volume = full_db
    truth = gt.in_aws(still_sandbox)
    log = tmp_path / "collector.log"
    holder = engine.connect()
    holder.execute(text("LOCK TABLE metric_points, log_events IN SHARE ROW EXCLUSIVE MODE"))
    with _running(engine, still_sandbox, log) as (proc, client, _svc, _map):
        wait_for(
            lambda: len(blocked_writers(engine, ("metric_points", "log_events"))) >= 2,
            BOUND_S,
            "a metrics and a logs cycle wait to write",
        )
        client.get("/readyz")  # a running web tier holds connections already
        filler, full_at = fill(volume), time.monotonic()
        holder.rollback()
        holder.close()
        try:
            wait_for(lambda: _error(engine, "metrics"), BOUND_S, "metrics records its error")
            time.sleep(WINDOW_S)
            statuses = {n: _error(engine, n) for n in ("metrics", "logs")}
            ready = client.get("/readyz").get_json()
            metrics = client.get("/metrics").get_data(as_text=True)
            lines_during, _ = _calm(log, proc.pid, proc)
        finally:
            filler.unlink()
            full_s = time.monotonic() - full_at
        recovered_s, _, tracebacks = _catch_up(engine, truth, log, proc)
    enospc = "No space left on device"
    assert all(e and enospc in e and "\n" not in e for e in statuses.values()), statuses
    assert any(enospc in r for r in ready["reasons"]), ready
    errors = re.search(r'smd_collector_errors_total\{collector="metrics"\} (\S+)', metrics)
    assert errors and float(errors[1]) >= 1, metrics
    failed = _failed_cycles(log)
    assert tracebacks == 0
    assert live_child_restarts(log) == 0
    assert 1 <= failed.get("metrics", 0) <= full_s / METRICS_INTERVAL_S + 2, failed
    report(
        request,
        "db-faults",
        [
            f"disk full ({os.statvfs(volume).f_blocks * os.statvfs(volume).f_frsize >> 20} MiB "
            f"tmpfs tablespace) {full_s:.1f} s: metrics last_error {statuses['metrics']!r}",
            f"/readyz: {next(r for r in ready['reasons'] if enospc in r)[:110]}…; "
            f"/metrics errors_total(metrics) {errors[1]}",
            f"collector: 0 restarts, {sum(failed.values())} failed cycles "
            f"({', '.join(f'{k} {v}' for k, v in sorted(failed.items()))}), "
            f"{lines_during} log lines, 0 tracebacks",
            f"space freed: every collector ok and database = AWS in {recovered_s:.1f} s "
            f"({truth.sizes()})",
        ],
    )


def _error(engine: Engine, name: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT last_error FROM collector_status WHERE name = :n"), {"n": name}
        ).scalar()
