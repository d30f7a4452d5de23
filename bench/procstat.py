"""CPU time and resident memory of a process tree, read from /proc (Linux).

Why /proc and not psutil: three numbers per process are all the load and soak
benchmarks need, and reading them is a few lines; a gunicorn arbiter's workers are
its children, found through /proc/<pid>/task/*/children.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def children(pid: int) -> list[int]:
    """Direct children of `pid` (all its threads'), empty when it is gone."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found.extend(int(c) for c in (task / "children").read_text().split())
    return found


def tree(pid: int) -> list[int]:
    """`pid` and every descendant."""
    out = [pid]
    for child in children(pid):
        out.extend(tree(child))
    return out


def pids_named(command: str) -> list[int]:
    """Every process whose command name (/proc/<pid>/comm) is `command`, e.g. "postgres"."""
    found: list[int] = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().strip() == command:
                found.append(int(comm.parent.name))
    return found


def pin(pid: int, cpus: set[int]) -> None:
    """Keep every thread of `pid` (and those it starts later) on `cpus`."""
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(int(task.name), cpus)


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far (0 once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # The command name is in parentheses and may hold spaces: split after its closing one.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S


def rss_mb(pid: int) -> float:
    """Resident set size in MB (0 once it is gone)."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * PAGE_BYTES / 1e6


@dataclass
class CpuMeter:
    """CPU used by a changing set of processes between `start()` and `stop()`.

    A process seen only at the end (a respawned worker) counts from zero; one gone before
    the end counts what it had at the start only, so the figure is a lower bound then."""

    pids: list[int]
    _start: dict[int, float] | None = None
    used_s: float = 0.0

    def start(self, pids: list[int] | None = None) -> None:
        self.pids = pids if pids is not None else self.pids
        self._start = {p: cpu_seconds(p) for p in self.pids}

    def stop(self, pids: list[int] | None = None) -> float:
        assert self._start is not None, "start() first"
        end_pids = pids if pids is not None else self.pids
        end = {p: cpu_seconds(p) for p in set(end_pids) | set(self._start)}
        self.used_s = sum(max(0.0, end[p] - self._start.get(p, 0.0)) for p in end)
        return self.used_s


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    """SIGTERM, then SIGKILL if it has not gone within `timeout_s`."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
