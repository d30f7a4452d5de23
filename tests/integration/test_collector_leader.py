"""Two collector processes on one database: exactly one collects; kill it, the other takes over.

Each `python -m collectors` is two processes, the bulk collectors and its child with the
live pollers (`collectors.live_process`); each group has its own leader lock and standby.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bench.procstat import children
from collectors.registry import JOBS, LIVE, in_group
from dashapp.models import CollectorStatus
from tests.reliability.figure_report import report
from tests.sandbox_process import ROOT, sandbox_process


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with sandbox_process(tmp_path_factory.mktemp("sbx"), history_days=0.05) as url:
        yield url


GLUE_RUNS_INTERVAL_S = 2
#: Issue 12: the standby takes over within two intervals of the active collector's death.
TAKEOVER_WITHIN_S = 2 * GLUE_RUNS_INTERVAL_S


def _start(db_url: str, sandbox: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "AWS_ENDPOINT_URL": sandbox,
        "SMD_COLLECT_GLUE_RUNS_INTERVAL_S": str(GLUE_RUNS_INTERVAL_S),
        "SMD_COLLECT_EVENTS_WAIT_S": "2",
        "PYTHONUNBUFFERED": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "collectors"],
        cwd=ROOT,
        env=env,
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
    )


LIVE_JOBS = {j.name for j in in_group(JOBS, LIVE)}


def _leaders(sessions: sessionmaker[Session], live: bool = False) -> set[str]:
    """Who wrote the status of the bulk collectors (or, `live`, of the live pollers)."""
    with sessions() as s:
        rows = s.scalars(select(CollectorStatus))
        return {r.leader for r in rows if r.leader and (r.name in LIVE_JOBS) == live}


def _me(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}"


def _live_child(parent: subprocess.Popen[bytes]) -> int:
    kids = children(parent.pid)
    assert len(kids) == 1, f"one live collectors' process under {parent.pid}: {kids}"
    return kids[0]


def _wait(predicate, timeout_s: float, what: str) -> float:
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout_s, f"{what} within {timeout_s} s"
        time.sleep(0.2)
    return time.monotonic() - start


def test_exactly_one_collects_and_the_standby_takes_over(
    sandbox: str,
    db_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    request: pytest.FixtureRequest,
):
    a = _start(db_url, sandbox, tmp_path / "a.log")
    try:
        _wait(lambda: _leaders(sessions) == {_me(a.pid)}, 60, "the first collector leads")
        a_live = _live_child(a)
        _wait(lambda: _leaders(sessions, live=True) == {_me(a_live)}, 30, "its live child leads")
        b = _start(db_url, sandbox, tmp_path / "b.log")
        try:
            _wait(
                lambda: b"hot standby" in (tmp_path / "b.log").read_bytes(),
                30,
                "the second collector waits as standby",
            )
            b_live = _live_child(b)
            # Several glue_runs cycles (2 s apart) later, only A has ever written a status.
            time.sleep(6)
            assert _leaders(sessions) == {_me(a.pid)}, _leaders(sessions)
            assert _leaders(sessions, live=True) == {_me(a_live)}
            glue_before = _cycles(sessions, "glue_runs")
            live_before = _cycles(sessions, "log_follow")
            a.send_signal(signal.SIGKILL)  # dies without a goodbye: the lock goes with it
            a.wait(timeout=10)
            took = _wait(
                lambda: _took_over(sessions, "glue_runs", b.pid, glue_before),
                20,
                "the standby takes over and completes a cycle",
            )
            # A's live child sees its lifeline end, stops and frees its lock for B's.
            live_took = took + _wait(
                lambda: _took_over(sessions, "log_follow", b_live, live_before),
                20,
                "the standby's live child takes over",
            )
            report(
                request,
                "process-faults",
                [
                    f"standby took over and finished a cycle {took:.1f} s after the kill "
                    f"(live pollers: {live_took:.1f} s)"
                ],
            )
            assert took <= TAKEOVER_WITHIN_S, f"took {took:.1f} s, over two intervals"
            assert live_took <= TAKEOVER_WITHIN_S, f"live pollers took {live_took:.1f} s"
            assert b.poll() is None
            _wait(lambda: not Path(f"/proc/{a_live}").exists(), 10, "A's live child ends")
        finally:
            b.send_signal(signal.SIGTERM)
            assert b.wait(timeout=30) == 0, (tmp_path / "b.log").read_text()[-2000:]
    finally:
        if a.poll() is None:
            a.kill()
            a.wait()


def _cycles(sessions: sessionmaker[Session], name: str) -> int:
    with sessions() as s:
        row = s.get(CollectorStatus, name)
        return row.cycles_total if row is not None else 0


def _took_over(sessions: sessionmaker[Session], name: str, pid: int, cycles_before: int) -> bool:
    """`name`'s status was last written by `pid`, after one more cycle than before."""
    with sessions() as s:
        row = s.get(CollectorStatus, name)
        return row is not None and row.leader == _me(pid) and row.cycles_total > cycles_before


def test_a_live_child_that_dies_is_started_again_and_stops_with_its_parent(
    sandbox: str, db_url: str, sessions: sessionmaker[Session], tmp_path: Path
):
    log = tmp_path / "collectors.log"
    a = _start(db_url, sandbox, log)
    try:
        _wait(lambda: _leaders(sessions) == {_me(a.pid)}, 60, "the collector leads")
        first = _live_child(a)
        _wait(lambda: _leaders(sessions, live=True) == {_me(first)}, 30, "its live child leads")
        before = _cycles(sessions, "log_follow")
        os.kill(first, signal.SIGKILL)
        _wait(lambda: children(a.pid) not in ([], [first]), 10, "a new live child starts")
        second = _live_child(a)
        took = _wait(
            lambda: _took_over(sessions, "log_follow", second, before),
            20,
            "the new live child leads",
        )
        assert took < 10
        assert "live collectors (pid" in log.read_text() and "-9" in log.read_text()
        assert a.poll() is None, "the bulk collectors live on"
    finally:
        a.send_signal(signal.SIGTERM)
        assert a.wait(timeout=30) == 0, log.read_text()[-2000:]
    _wait(lambda: not Path(f"/proc/{second}").exists(), 10, "the live child stops with it")
