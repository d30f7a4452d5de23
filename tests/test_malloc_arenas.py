"""The web and collector processes keep glibc to two malloc arenas, however many threads.

Each case runs in a fresh interpreter: the cap applies to a whole process and cannot be
undone. glibc's malloc_stats() prints one "Arena N:" block per arena on stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from dashapp.malloc_arenas import limit_malloc_arenas

THREADS_ALLOCATING = textwrap.dedent(
    """
    import ctypes, ctypes.util, sys, threading
    from dashapp.malloc_arenas import limit_malloc_arenas
    capped = limit_malloc_arenas() if sys.argv[1] == "cap" else None
    print("capped:", capped, flush=True)
    barrier = threading.Barrier(8)
    held = []
    def work():
        barrier.wait()
        held.append([bytearray(100_000) for _ in range(20)])  # glibc's heap, not pymalloc
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    ctypes.CDLL(ctypes.util.find_library("c")).malloc_stats()
    """
)


def _arenas(mode: str, env: dict[str, str]) -> tuple[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", THREADS_ALLOCATING, mode],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return done.stdout.strip(), done.stderr.count("Arena ")


@pytest.fixture
def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}


def test_eight_threads_share_two_arenas_once_capped(clean_env: dict[str, str]) -> None:
    said, capped = _arenas("cap", clean_env)
    _, uncapped = _arenas("free", clean_env)
    assert said == "capped: True"
    assert capped <= 2
    assert uncapped > 2, "without the cap each thread gets its own arena"


def test_an_operators_malloc_arena_max_wins(
    clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    said, arenas = _arenas("cap", {**clean_env, "MALLOC_ARENA_MAX": "3"})
    assert said == "capped: False"
    assert 2 < arenas <= 3
    monkeypatch.setenv("MALLOC_ARENA_MAX", "3")
    assert limit_malloc_arenas() is False
