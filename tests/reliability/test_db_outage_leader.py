"""The leader lock across a database outage, in process: wait for the database, lead again.

Why: the advisory lock lives in a database session, so a server restart takes it away.
The collector that held it must notice, stop writing, wait (not die) while the server is
down, and take the lock again when it is back. `python -m collectors` runs exactly this
loop (`CollectorRunner.run_forever`); here it runs in a thread, so what it raises fails
the test with its traceback. tests/reliability/test_db_restart_collectors.py does the
same to two collector processes mid-cycle.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from collectors.context import CollectorContext, CycleResult
from collectors.leader import lock_for
from collectors.registry import CollectorJob
from collectors.runner import LOCK_CHECK_S, CollectorRunner
from dashapp.config import Settings
from tests.reliability.collector_processes import leaders, successes_since, wait_for
from tests.reliability.figure_report import report
from tests.reliability.pg_cluster import PgCluster

OUTAGE_S = LOCK_CHECK_S + 1.5  # the leader's lock check surely runs while the server is down


def _probe(ctx: CollectorContext) -> CycleResult:
    return CycleResult()


PROBE = CollectorJob("probe", _probe, lambda s: 1.0, "does nothing, every second")


def test_the_leader_waits_out_an_outage_and_leads_again(
    pg_cluster: PgCluster, cluster_db: Engine, request: pytest.FixtureRequest
) -> None:
    engine = cluster_db
    url = engine.url.render_as_string(hide_password=False)
    runner = CollectorRunner(Settings(database_url=url, _env_file=None), jobs=[PROBE])
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["code"] = runner.run_forever()
        except BaseException as e:  # noqa: BLE001 - reported by the test below
            outcome["error"] = e

    thread = threading.Thread(target=run, name="collectors", daemon=True)
    thread.start()
    me = f"smd-collectors {runner.identity}"
    try:
        wait_for(lambda: leaders(engine) == [me], 30, "the runner leads")
        pg_cluster.stop("fast")
        time.sleep(OUTAGE_S)
        alive_during = thread.is_alive()
        pg_cluster.start()
        back_at, back = datetime.now(UTC), time.monotonic()
        if alive_during:
            wait_for(lambda: leaders(engine) == [me], 30, "the runner leads again")
            wait_for(lambda: successes_since(engine, back_at), 30, "a cycle succeeds")
        recovered_s = time.monotonic() - back
    finally:
        runner.request_stop()
        thread.join(timeout=30)
        runner.engine.dispose()
    error = outcome.get("error")
    assert error is None, f"run_forever raised during the outage: {error!r}"
    assert alive_during
    assert outcome.get("code") == 0 and not thread.is_alive()
    report(
        request,
        "db-faults",
        [f"server down {OUTAGE_S:.1f} s: leading again, a cycle done {recovered_s:.1f} s after"],
    )


def test_after_a_restart_the_old_holder_is_told_it_no_longer_holds_the_lock(
    pg_cluster: PgCluster, cluster_db: Engine
) -> None:
    """What fences the old leader's writers between a restart and its next lock check: the
    server's answer, not the leader's belief (`still_held` would only say so later)."""
    engine = cluster_db
    old, new = lock_for(engine), lock_for(engine)
    assert old.try_acquire()
    with engine.connect() as conn:
        assert old.held_as_seen_by(conn)
    pg_cluster.restart("fast")
    assert new.try_acquire()  # a standby took it at once
    try:
        with engine.connect() as conn:  # a writer of the old leader, reconnected
            assert not old.held_as_seen_by(conn)
            assert new.held_as_seen_by(conn)
    finally:
        new.release()
        old.release()
