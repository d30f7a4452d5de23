"""The sandbox gives large freed arrays back to the operating system (sandbox/heap.py).

Why: its CloudWatch store rebuilds history-sized numpy arrays every minute; with glibc's
moving mmap threshold those landed in the heap and stayed, and a demo left running grew
by gigabytes an hour. Run in a fresh interpreter so the threshold starts where glibc
starts it.
"""

from __future__ import annotations

import subprocess
import sys

from tests.sandbox_process import ROOT

PROBE = """
import sys
import numpy as np
from sandbox.heap import return_large_blocks_to_the_os
if sys.argv[1] == "fixed":
    assert return_large_blocks_to_the_os()
def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 1e6
before = rss_mb()
first = np.ones(4_000_000)  # 32 MB: glibc maps it, and raises its threshold when freed
del first
kept = []
for _ in range(5):
    history = np.ones(3_000_000)  # 24 MB, as a consolidated series is rebuilt
    kept.append(np.ones(1_000))  # a small block after it, as a server's heap has
    del history
print(rss_mb() - before)
"""


def _retained_mb(mode: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(out.stdout)


def test_freed_history_arrays_leave_the_process() -> None:
    assert _retained_mb("default") > 16, "the probe no longer shows glibc keeping the block"
    assert _retained_mb("fixed") < 4
