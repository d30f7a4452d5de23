"""Run a piece of a benchmark in a thread of its own.

The load and soak runs are also driven from tests, where the session's sync Playwright keeps
an event loop running in the main thread: asyncio.run and a second sync Playwright both
refuse to start there, and both are content in a fresh thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def in_own_thread(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call `fn` in a new thread and wait for its result (or its exception)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-apart") as pool:
        return pool.submit(fn, *args, **kwargs).result()
