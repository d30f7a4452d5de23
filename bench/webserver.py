"""The production web command (`python -m dashapp web`) started on a loopback port.

Used by the load benchmark and its bounded test: what is measured is gunicorn with
gthread workers exactly as `make web` and the image run it, not a development server.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.procstat import children, stop, tree

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class WebServer:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path
    workers: int
    threads: int

    def pids(self) -> list[int]:
        """The arbiter and its workers."""
        return tree(self.proc.pid)

    def worker_pids(self) -> list[int]:
        return children(self.proc.pid)

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@contextmanager
def web_server(
    env: Mapping[str, str], log: Path, *, workers: int, threads: int, timeout_s: float = 90
) -> Iterator[WebServer]:
    """Yield a ready gunicorn (every worker booted); SIGTERM it and wait afterwards."""
    port = free_port()
    full_env = {**os.environ, **env, "SMD_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    argv = [sys.executable, "-m", "dashapp", "web"]
    argv += ["--workers", str(workers), "--threads", str(threads)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    server = WebServer(f"http://127.0.0.1:{port}", proc, log, workers, threads)
    try:
        deadline = time.monotonic() + timeout_s
        while not (_healthy(server.url) and len(server.worker_pids()) >= workers):
            if proc.poll() is not None:
                raise RuntimeError(f"web exited ({proc.returncode}):\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"web not ready in {timeout_s:.0f} s:\n{server.log_tail()}")
            time.sleep(0.2)
        yield server
    finally:
        stop(proc)
