"""A server crash at a chosen write of a cycle: the next cycle still stores everything.

Why: a collector keeps cursors (how far it read) beside the data it stores. A cursor
committed before its data, and a crash between the two, loses that data for good: the
next cycle starts after it. The process-level restart test hits whatever write is in
flight; here the server is killed (`pg_ctl stop -m immediate`, then started) exactly
when a given kind of row is about to be written, from inside the collector's own
statement, and a second cycle must leave the database equal to what AWS holds.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, event

from collectors.runner import CollectorRunner
from dashapp.config import Settings
from tests.reliability import ground_truth as gt
from tests.reliability.figure_report import report
from tests.reliability.pg_cluster import PgCluster

# (what is being written, the statement's start, a parameter value that marks it). The
# Lambda lines came after a cursor committed apart from them (and were lost); job runs
# share their transaction with their cursor.
WRITES = {
    "lambda-log-lines": ("INSERT INTO log_events", "/aws/lambda/"),
    "job-runs": ("INSERT INTO job_runs", None),
}


def _crash_at(runner: CollectorRunner, cluster: PgCluster, write: str) -> list[str]:
    """Kill and restart the server the first time `write` is about to run; returns what hit."""
    start, marker = WRITES[write]
    hit: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if hit or not statement.startswith(start):
            return
        if marker is not None and marker not in repr(params):
            return
        hit.append(statement[:40])
        cluster.restart("immediate")  # the statement then runs on a dead connection

    event.listen(runner.engine, "before_cursor_execute", before)
    return hit


@pytest.mark.parametrize("write", list(WRITES))
def test_a_crash_at_a_write_loses_nothing_once_the_next_cycle_ran(
    pg_cluster: PgCluster,
    still_sandbox: str,
    cluster_db: Engine,
    write: str,
    request: pytest.FixtureRequest,
) -> None:
    truth = gt.in_aws(still_sandbox)
    url = cluster_db.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, aws_endpoint_url=still_sandbox, _env_file=None)
    runner = CollectorRunner(settings)
    try:
        hit = _crash_at(runner, pg_cluster, write)
        assert runner.run_once() == 1, "the crashed cycle reports its failure"
        assert hit, f"no {write} write happened"
        assert runner.run_once() == 0, "the next cycle (same process) succeeds"
    finally:
        runner.engine.dispose()
    diffs = gt.differences(truth, gt.in_database(cluster_db))
    assert not diffs, f"after a crash at {write}: " + "; ".join(diffs[:5])
    report(request, "db-faults", [f"crash at {write}: next cycle exact ({truth.sizes()})"])
