"""What the collector log says when cycles fail: one line each, repeats summed up.

Why: while the database is down, read-only or full, every collector fails every cycle,
some every second. A traceback, or even a line, per cycle buries the one line that
says why. A failure is logged when its text changes (with its traceback only then, and
only for errors that are not the database's own answer), then at most once every
`repeat_every_s` with how many cycles failed the same way meanwhile; the first success
after a failure says so.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

REPEAT_EVERY_S = 60.0


@dataclass
class _Streak:
    line: str
    logged_at: float
    unlogged: int = 0  # failures of the same line since it was last logged
    total: int = 1


class FailureLog:
    def __init__(
        self,
        log: logging.Logger,
        *,
        clock: Callable[[], float] = time.monotonic,
        repeat_every_s: float = REPEAT_EVERY_S,
    ) -> None:
        self._log = log
        self._clock = clock
        self._repeat_every_s = repeat_every_s
        self._streaks: dict[str, _Streak] = {}
        self._lock = threading.Lock()  # collectors run in parallel threads

    def failed(self, name: str, line: str, *, exc_info: BaseException | None = None) -> None:
        """Collector `name` failed saying `line`; `exc_info` is logged when the line is new."""
        with self._lock:
            now = self._clock()
            streak = self._streaks.get(name)
            if streak is not None and streak.line == line:
                streak.total += 1
                if now - streak.logged_at < self._repeat_every_s:
                    streak.unlogged += 1
                    return
                repeats, new = streak.unlogged, False
                streak.logged_at, streak.unlogged = now, 0
            else:
                repeats, new = 0, True
                total = streak.total + 1 if streak is not None else 1
                self._streaks[name] = _Streak(line, now, 0, total)
        more = f" (and {repeats} more failed cycles since the last report)" if repeats else ""
        self._log.warning("%s: %s%s", name, line, more, exc_info=exc_info if new else None)

    def succeeded(self, name: str) -> None:
        with self._lock:
            streak = self._streaks.pop(name, None)
        if streak is not None:
            self._log.info("%s: succeeded again after %d failed cycles", name, streak.total)
