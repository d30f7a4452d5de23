"""`python -m collectors`: which collectors run in which process."""

from __future__ import annotations

import subprocess
import sys

from collectors.leader import lock_for
from collectors.registry import BULK, JOBS, LIVE, in_group
from dashapp.db import make_engine
from tests.sandbox_process import ROOT


def test_the_one_second_pollers_are_the_live_group_and_the_rest_bulk() -> None:
    assert [j.name for j in in_group(JOBS, LIVE)] == ["log_follow", "athena"]
    assert len(in_group(JOBS, BULK)) == len(JOBS) - 2


def test_each_group_has_its_own_leader_lock(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'smd.sqlite3'}")
    bulk, live, bulk_again = lock_for(engine), lock_for(engine, LIVE), lock_for(engine)
    try:
        assert bulk.try_acquire() and live.try_acquire()
        assert not bulk_again.try_acquire(), "one leader per group"
    finally:
        for lock in (bulk, live, bulk_again):
            lock.release()


def test_a_group_without_the_collectors_asked_for_is_refused_with_a_sentence() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "collectors", "--group", BULK, "--only", "log_follow"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "none of log_follow is in the bulk group" in result.stderr
