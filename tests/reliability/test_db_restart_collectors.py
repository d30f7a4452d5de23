"""PostgreSQL restarted while the collectors write: they recover by themselves, lose nothing.

Why: a database restarts (a minor-version upgrade, a failover, the OOM killer) while the
collector is half-way through a cycle. Its transaction then dies with the server; what it
had committed stays. The collector must come back without anyone restarting it, finish
the next cycles, and the database must then hold exactly what AWS holds: a cursor moved
past data that was never stored would lose it for good, a re-read without upserts would
store it twice.

The restart lands mid-write for sure: before the collectors start, the test takes a lock
that lets them read but holds every INSERT into metric_points and log_events, and
restarts the server once a metrics and a logs cycle each wait inside such an INSERT
(their rows already sent). `fast` ends every session with an error and is back within a
second; `immediate` kills the server, which replays its WAL on the next start, as after a
crash, and here stays down a few seconds as a failover would.

Two collectors run, as in production: after the restart the session-level advisory lock
is gone, and exactly one of them must lead again. A trigger (the test's, in this private
database) records every write with whether its process held the lock at that instant:
the collector that led before the restart must not write on without it.
"""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from collectors.registry import JOBS
from collectors.runner import LOCK_CHECK_S
from tests.reliability import ground_truth as gt
from tests.reliability.collector_processes import (
    audit_writes,
    blocked_writers,
    leaders,
    live_child_restarts,
    log_lines,
    start_collector,
    stop_collector,
    successes_since,
    wait_for,
    writes_without_the_lock,
)
from tests.reliability.figure_report import report
from tests.reliability.pg_cluster import PgCluster

HELD_TABLES = ("metric_points", "log_events")
# Longer than the leader's lock check: the leader notices while the server is still down.
DOWN_S = LOCK_CHECK_S + 1.0
RECOVERY_BOUND_S = 60.0  # generous: two shared cores; recovery takes seconds


@pytest.fixture
def database(cluster_db: Engine) -> Engine:
    audit_writes(cluster_db)
    return cluster_db


def _name(pid: int) -> str:
    return f"smd-collectors {socket.gethostname()}:{pid}"


@pytest.mark.parametrize(
    ("mode", "down_s"),
    [
        # `pg_ctl restart`: back before the leader's next lock check, its writers reconnect.
        pytest.param("fast", 0.0, id="fast"),
        # A crash, down past the leader's lock check: it notices while the server is away.
        pytest.param("immediate", DOWN_S, id="immediate-down"),
    ],
)
def test_a_restart_mid_cycle_loses_nothing_and_one_collector_leads_again(
    pg_cluster: PgCluster,
    still_sandbox: str,
    database: Engine,
    mode: str,
    down_s: float,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    truth = gt.in_aws(still_sandbox)
    url = database.url.render_as_string(hide_password=False)
    holder = database.connect()
    holder.execute(text(f"LOCK TABLE {', '.join(HELD_TABLES)} IN SHARE ROW EXCLUSIVE MODE"))
    logs = {"a": tmp_path / "a.log", "b": tmp_path / "b.log"}
    a = start_collector(url, still_sandbox, logs["a"])
    b = None
    try:
        wait_for(lambda: _name(a.pid) in leaders(database), 60, "the first collector leads")
        b = start_collector(url, still_sandbox, logs["b"])
        wait_for(lambda: "hot standby" in logs["b"].read_text(), 60, "the second one waits")
        held = wait_for(
            lambda: (
                (w := blocked_writers(database, HELD_TABLES))
                and all(any(f"INTO {t} " in q for q in w) for t in HELD_TABLES)
                and w
            ),
            60,
            "a metrics and a logs cycle wait inside their INSERTs",
        )
        restart_began = datetime.now(UTC)
        outage_s = pg_cluster.restart(mode, down_s=down_s)
        back_at, back = datetime.now(UTC), time.monotonic()
        holder.invalidate()
        holder.close()

        names = {j.name for j in JOBS}
        first = wait_for(
            lambda: successes_since(database, back_at), RECOVERY_BOUND_S, "a cycle succeeds"
        )
        first_s = time.monotonic() - back
        wait_for(
            lambda: names <= successes_since(database, back_at).keys(),
            RECOVERY_BOUND_S,
            "every collector completes a cycle after the restart",
        )
        all_s = time.monotonic() - back
        gt.wait_until_held(truth, database, RECOVERY_BOUND_S)
        exact_s = time.monotonic() - back

        everyone = leaders(database)
        # One leader per group: the bulk collectors (A or B) and the live pollers (a child).
        lead = [n for n in everyone if n.startswith("smd-collectors ")]
        live = [n for n in everyone if n.startswith("smd-collectors-live ")]
        assert len(lead) == 1 and lead[0] in (_name(a.pid), _name(b.pid)), everyone
        assert len(live) == 1 and len(everyone) == 2, everyone
        assert a.poll() is None and b.poll() is None, "both collectors live on, unrestarted"
        stray = writes_without_the_lock(database, restart_began)
        assert not stray, f"writes by a collector not holding the lock: {stray[:5]}"
    finally:
        codes = [stop_collector(p) for p in (a, b) if p is not None]
    assert codes == [0, 0], {k: log_lines(v)[-20:] for k, v in logs.items()}
    tracebacks = {k: sum("Traceback" in ln for ln in log_lines(v)) for k, v in logs.items()}
    assert tracebacks == {"a": 0, "b": 0}, "a database outage is one line a cycle, not a traceback"
    assert [live_child_restarts(v) for v in logs.values()] == [0, 0]

    who = "the other" if lead[0] == _name(b.pid) else "the same"
    report(
        request,
        "db-faults",
        [
            f"restart -m {mode} with {len(held)} INSERTs in flight ({', '.join(HELD_TABLES)}): "
            f"server down {outage_s:.1f} s",
            f"first successful cycle {first_s:.1f} s after the server was back ({sorted(first)}), "
            f"all {len(names)} collectors {all_s:.1f} s, database = AWS {exact_s:.1f} s",
            f"rows compared with AWS: {truth.sizes()}; 0 lost, 0 twice",
            f"{who} collector leads again; no write without the lock; 0 process restarts",
        ],
    )
