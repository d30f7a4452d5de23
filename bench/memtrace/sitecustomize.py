"""Trace Python allocations in every process of a soak, to tell a leak from the allocator.

Only on PYTHONPATH when `bench/soak.py --trace-memory DIR` runs the demo: the web
(gunicorn's arbiter and the workers it forks) and the collectors start tracemalloc (the
sandbox would seed too slowly traced; SMD_MEMTRACE_MATCH names others) and write a
snapshot to DIR every SMD_MEMTRACE_EVERY_S seconds, named <pid>-<n>.snap. A gunicorn
worker is forked, and threads do not survive a fork, so the writer thread is started
again in each child. `bench/memtrace/compare.py` reads
the snapshots: if the traced total is flat while RSS climbs, the growth is the
allocator's (fragmentation, arenas), not objects kept alive.
"""

from __future__ import annotations

import os
import threading
import time
import tracemalloc

_DIR = os.environ.get("SMD_MEMTRACE_DIR")
_EVERY_S = float(os.environ.get("SMD_MEMTRACE_EVERY_S", "60"))
_FRAMES = 8
# Processes traced: their command line holds one of these (comma-separated).
_MATCH = os.environ.get("SMD_MEMTRACE_MATCH", "-m dashapp web,-m collectors").split(",")


def _traced() -> bool:
    try:
        with open("/proc/self/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return any(m and m in cmdline for m in _MATCH)


def _write_snapshots() -> None:
    n = 0
    while True:
        time.sleep(_EVERY_S)
        snapshot = tracemalloc.take_snapshot()
        path = os.path.join(_DIR or ".", f"{os.getpid()}-{n:03d}.snap")
        snapshot.dump(path + ".part")
        os.replace(path + ".part", path)
        n += 1


def _start_writer() -> None:
    threading.Thread(target=_write_snapshots, name="memtrace", daemon=True).start()


if _DIR and _traced():
    tracemalloc.start(_FRAMES)
    _start_writer()
    os.register_at_fork(after_in_child=_start_writer)
