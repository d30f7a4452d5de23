"""Cap glibc's malloc arenas in the long-running, many-threaded processes (web, collectors).

glibc gives threads their own arenas (up to 8 per core) and rarely hands freed arena
memory back to the system, so a gthread worker's resident memory climbed for as long as
it served (about 40 MB an hour per worker in `bench/soak.py`) while the Python objects it
held stayed flat (tracemalloc: `bench/soak.py --trace-memory`). Two arenas hold that
memory steady; the threads rarely allocate at once anyway, since they take turns on the
interpreter lock. This is what setting MALLOC_ARENA_MAX=2 before the process starts does;
calling mallopt from inside covers `python -m dashapp web`, `make demo` and the
collectors as well as the image. An operator's own MALLOC_ARENA_MAX wins.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

ARENAS = 2
_M_ARENA_MAX = -8  # from glibc's malloc.h


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Whether the cap now holds for threads started from here on (and in forked children).

    False where malloc is not glibc's (nothing to do there) or the operator chose a value.
    """
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(_M_ARENA_MAX, arenas) == 1
