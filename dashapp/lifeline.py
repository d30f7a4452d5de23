"""A process started by `make demo` ends with the demo, however the demo ends (and the
live collectors' process with the collectors' process that started it).

The demo holds the write end of a pipe (the lifeline) and gives each part the read
end. Nobody writes to it: when the demo's process is gone (Ctrl-C, SIGKILL, a crash,
a closed terminal) the kernel closes the write end, and every part reading the
lifeline sees end-of-file. The part then stops as on SIGTERM — its own prompt stop —
and is cut off if that stop has not ended it within a grace period.

Why a pipe and not ``prctl(PR_SET_PDEATHSIG)``: that is Linux only (the demo also
runs on macOS); it fires when the *thread* that forked the child ends, not the
process; it must be set in a ``preexec_fn``, which is not safe in a process with
threads; and gunicorn's workers, forked by a child, would each need their own. Forked
processes inherit the read end, so a worker only needs its watcher thread started
again after the fork (:func:`watch_again_after_fork`).

This module is in ``dashapp`` because the web and the collectors use it, and the
image they run in has no ``sandbox`` package.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Mapping
from typing import NoReturn

ENV_VAR = "SMD_LIFELINE_FD"
#: How long a part may take to stop on its own once the demo is gone.
GRACE_S = 3.0

_watched: tuple[int, float] | None = None


class Lifeline:
    """The demo's side: keep the object (its write end) alive as long as the parts should live."""

    def __init__(self) -> None:
        # os.pipe() fds are not inheritable: only a child given pass_fds gets the read end,
        # and no child ever gets the write end (one would keep the lifeline open forever).
        self._read, self._write = os.pipe()

    @property
    def pass_fds(self) -> tuple[int, ...]:
        return (self._read,)

    def child_env(self, env: Mapping[str, str]) -> dict[str, str]:
        return {**env, ENV_VAR: str(self._read)}

    def close(self) -> None:
        for fd in (self._read, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)


def watch_parent(grace_s: float = GRACE_S) -> bool:
    """In a part: stop this process when the lifeline it was given ends.

    Returns False (and watches nothing) when the process was not started with one.
    The variable is removed from the environment, so that a program this process
    starts does not take an unrelated file descriptor of the same number for it.
    """
    global _watched
    raw = os.environ.pop(ENV_VAR, None)
    if raw is None:
        return False
    try:
        fd = int(raw)
        is_pipe = stat.S_ISFIFO(os.fstat(fd).st_mode)
    except (ValueError, OSError):
        is_pipe = False
    if not is_pipe:
        print(f"{ENV_VAR}={raw!r} is not an open pipe; not watching the parent", file=sys.stderr)
        return False
    _watched = (fd, grace_s)
    _start_watcher(fd, grace_s)
    return True


def watch_again_after_fork() -> None:
    """In a forked child (a gunicorn worker): threads do not survive fork, the pipe does."""
    if _watched is not None:
        _start_watcher(*_watched)


def _start_watcher(fd: int, grace_s: float) -> None:
    threading.Thread(target=_watch, args=(fd, grace_s), name="lifeline", daemon=True).start()


def _watch(fd: int, grace_s: float) -> None:
    with contextlib.suppress(OSError):
        while os.read(fd, 64):
            pass  # nobody is meant to write; only the end matters
    log = logging.getLogger("lifeline")
    log.warning("pid %d: the process that started it is gone; stopping", os.getpid())
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(grace_s)
    log.error("pid %d did not stop within %.0f s of its parent; exiting", os.getpid(), grace_s)
    exit_now(1)


def exit_now(code: int) -> NoReturn:
    """End a process whose work is done without the interpreter's teardown.

    Two things make a normal exit slow after a prompt stop: threads still inside a
    call that no longer matters (a collector's long poll) are joined at exit by
    ``concurrent.futures``, and a large heap (the sandbox's moto backends) takes a
    second or more to free. Only log handlers and stdio hold anything worth keeping;
    they are flushed here.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
