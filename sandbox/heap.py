"""Large arrays go back to the operating system when they are freed.

Why: the CloudWatch store (`fidelity/cloudwatch/store.py`) re-consolidates a series into
new numpy arrays of its whole history as minutes arrive. glibc serves blocks above its
mmap threshold with mmap and returns them on free, but it raises that threshold to the
size of every such block freed, so from the first consolidation on, history-sized
arrays come from the heap of whichever server thread asked, and the freed space is
kept. The soak (`bench/soak.py`) saw a demo's sandbox grow by 2.6 GB an hour that
way; with the threshold fixed it stays level.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>
MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's default, kept from moving


def return_large_blocks_to_the_os() -> bool:
    """Fix glibc's mmap threshold (setting it stops the dynamic raise); False where the
    C library is not glibc, which has no such knob."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
