"""dashapp.lifeline: a process given the lifeline ends when its holder lets go, even one whose
stop hangs, and so does a process it forks (a gunicorn worker)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from dashapp.lifeline import Lifeline

ROOT = Path(__file__).resolve().parents[1]


def _child(lifeline: Lifeline, code: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=lifeline.child_env(os.environ),
        pass_fds=lifeline.pass_fds,
        stdout=subprocess.PIPE,
        text=True,
    )


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_part_whose_stop_hangs_is_cut_off_after_the_grace() -> None:
    lifeline = Lifeline()
    child = _child(
        lifeline,
        """
        import signal, time
        from dashapp import lifeline
        signal.signal(signal.SIGTERM, lambda *_: None)  # a stop that never finishes
        assert lifeline.watch_parent(grace_s=0.5)
        print("watching", flush=True)
        time.sleep(60)
        """,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "watching\n"
        began = time.monotonic()
        lifeline.close()  # what the kernel does when the demo is killed
        code = child.wait(timeout=10)
        took = time.monotonic() - began
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert code == 1
    assert 0.4 < took < 3, f"exited {took:.2f} s after the lifeline ended"


def test_a_forked_worker_goes_too_even_if_its_parent_lingers() -> None:
    lifeline = Lifeline()
    child = _child(
        lifeline,
        """
        import os, signal, time
        from dashapp import lifeline
        signal.signal(signal.SIGTERM, lambda *_: None)  # the arbiter lingers...
        lifeline.watch_parent(grace_s=30)
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            lifeline.watch_again_after_fork()  # ...its worker has its own watcher
            time.sleep(60)
            os._exit(0)
        print(pid, flush=True)
        time.sleep(60)
        """,
    )
    worker = 0
    try:
        assert child.stdout is not None
        worker = int(child.stdout.readline())
        lifeline.close()  # before or after its watcher starts: either way it reads the end
        deadline = time.monotonic() + 5
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(worker), "the forked worker outlived the lifeline"
        assert child.poll() is None  # still in its 30 s grace: the worker went on its own
    finally:
        child.kill()
        child.wait()
        if worker and _alive(worker):
            os.kill(worker, signal.SIGKILL)
