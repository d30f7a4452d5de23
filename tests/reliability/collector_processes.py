"""`python -m collectors` processes on a database of the private cluster, and what they did.

Shared by the database-fault tests: start a collector as production runs it, read
its status rows, count what its log says, and record (with a trigger the test puts
in the database, never the product) every write together with whether the writer
held the leader lock at that instant.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from tests.sandbox_process import ROOT, terminate

# Short intervals, so recovery shows within seconds; the rest keep their defaults.
INTERVALS = {
    "SMD_COLLECT_GLUE_RUNS_INTERVAL_S": "2",
    "SMD_COLLECT_EVENTS_WAIT_S": "1",
    "SMD_COLLECT_LOGS_INTERVAL_S": "2",
    "SMD_COLLECT_METRICS_INTERVAL_S": "5",
    "SMD_COLLECT_INVENTORY_INTERVAL_S": "5",
}
WRITTEN_TABLES = ("collector_status", "collector_cursors", "glue_jobs", "job_runs",
                  "lambda_functions", "metric_points", "log_streams", "log_events")  # fmt: skip


def start_collector(db_url: str, sandbox: str, log: Path, **env: str) -> subprocess.Popen[bytes]:
    environ = {
        **os.environ,
        **INTERVALS,
        "DATABASE_URL": db_url,
        "AWS_ENDPOINT_URL": sandbox,
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "collectors"],
            cwd=ROOT,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_collector(proc: subprocess.Popen[bytes]) -> int:
    """SIGTERM and the exit code (SIGKILL after 30 s: the test then fails on the code)."""
    terminate(proc)
    return proc.returncode


def wait_for(predicate: Callable[[], Any], timeout_s: float, what: str, every_s: float = 0.1):
    """Poll until `predicate()` is truthy; its value. Fails the test after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} within {timeout_s} s"
        time.sleep(every_s)


def successes_since(engine: Engine, since: datetime) -> dict[str, datetime]:
    """Collectors whose last successful cycle ended after `since`, with that time."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT name, last_success_at FROM collector_status WHERE last_success_at > :t"),
            {"t": since},
        ).all()
    return {name: at for name, at in rows}


def blocked_writers(engine: Engine, tables: tuple[str, ...]) -> list[str]:
    """Collector statements waiting for a lock to write into `tables`: cycles mid-write."""
    with engine.connect() as conn:
        queries = conn.execute(
            text(
                "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND application_name LIKE 'smd-collectors%'"
            )
        ).scalars()
        return [q for q in queries if any(f"INTO {t} " in q for t in tables)]


def log_lines(log: Path) -> list[str]:
    return log.read_text(errors="replace").splitlines()


def live_child_restarts(log: Path) -> int:
    """How often the live pollers' child process exited and was started again."""
    return sum("live collectors (pid" in ln and " exited " in ln for ln in log_lines(log))


AUDIT_SQL = """
CREATE TABLE test_write_audit (
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    writer text NOT NULL, tbl text NOT NULL, writer_leads boolean NOT NULL);
CREATE FUNCTION test_audit_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_stat_clear_snapshot();
    INSERT INTO test_write_audit (writer, tbl, writer_leads) VALUES (
        current_setting('application_name'), TG_TABLE_NAME,
        EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND a.application_name = current_setting('application_name')));
    RETURN NULL;
END $$;
"""


def audit_writes(engine: Engine) -> None:
    """Record every write statement into the collected tables with whether its process then
    held the leader lock (sessions are told apart by the application_name each process sets)."""
    with engine.begin() as conn:
        conn.execute(text(AUDIT_SQL))
        for table in WRITTEN_TABLES:
            conn.execute(
                text(
                    f"CREATE TRIGGER test_audit_{table} AFTER INSERT OR UPDATE OR DELETE "
                    f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION test_audit_write()"
                )
            )


def writes_without_the_lock(engine: Engine, since: datetime) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT at, writer, tbl FROM test_write_audit "
                    "WHERE at > :t AND NOT writer_leads ORDER BY at"
                ),
                {"t": since},
            )
        )


def leaders(engine: Engine) -> list[str]:
    """application_name of every session holding an advisory lock in this database."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT a.application_name FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted "
                    "AND l.database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())"
                )
            ).scalars()
        )
