"""The live pollers' own process, started and watched by `python -m collectors`.

log_follow and athena poll every second for what a user is looking at now (a running
job's log lines, the query they just ran). In the bulk collectors' process they waited
for the GIL while glue_runs and metrics parsed thousands of answers, and overran their
second at 5,000 jobs; a process of their own has a GIL of its own.

The child is `python -m collectors --group live`, with its own leader lock and hot
standby, so either process can die without the other. It holds the read end of a
lifeline (`dashapp.lifeline`) whose write end only this process has: however this
process ends, even by SIGKILL, the child sees the end of the pipe and stops. A child
that exits while this process still runs is started again, after a pause that grows
while it keeps failing.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

from collectors.registry import LIVE
from dashapp.lifeline import Lifeline

log = logging.getLogger("collectors")
FIRST_RESTART_S = 1.0
MAX_RESTART_S = 30.0
#: A child that ran this long before it exited failed afresh: its pause starts over.
HEALTHY_RUN_S = 60.0
STOP_WAIT_S = 5.0


def child_command(names: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "collectors", "--group", LIVE, "--only", *names]


class LiveProcess:
    def __init__(self, names: Sequence[str]) -> None:
        self.command = child_command(names)
        self._lifeline = Lifeline()
        self._stopping = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._watcher = threading.Thread(target=self._watch, name="live-collectors", daemon=True)
        self.starts = 0

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return None if proc is None else proc.pid

    def start(self) -> None:
        self._spawn()
        self._watcher.start()

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            self._proc = subprocess.Popen(
                self.command,
                env=self._lifeline.child_env(os.environ),
                pass_fds=self._lifeline.pass_fds,
            )
            self.starts += 1
        log.info("live collectors started (pid %d)", self._proc.pid)

    def _watch(self) -> None:
        pause = FIRST_RESTART_S
        while not self._stopping.is_set():
            proc = self._proc
            assert proc is not None
            started = time.monotonic()
            code = proc.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started >= HEALTHY_RUN_S:
                pause = FIRST_RESTART_S
            log.warning(
                "live collectors (pid %d) exited with code %s; starting them again in %.0f s",
                proc.pid,
                code,
                pause,
            )
            if self._stopping.wait(pause):
                return
            pause = min(pause * 2, MAX_RESTART_S)
            try:
                self._spawn()
            except OSError as e:
                log.error("could not start the live collectors: %s", e)

    def stop(self, wait_s: float = STOP_WAIT_S) -> int | None:
        """SIGTERM the child and wait for it (SIGKILL after `wait_s`); its exit code."""
        with self._lock:
            self._stopping.set()
            proc = self._proc
        self._lifeline.close()
        if proc is None:
            return None
        if proc.poll() is None:
            proc.terminate()
        try:
            return proc.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            log.error("live collectors (pid %d) did not stop in %.0f s; killed", proc.pid, wait_s)
            proc.kill()
            return proc.wait()
