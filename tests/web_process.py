"""`python -m dashapp web` (gunicorn, gthread workers) as its own process on a free port.

For tests that need the web tier as production runs it: worker processes, signals,
a real socket. Stopped with SIGTERM afterwards; a gunicorn that does not stop fails
the test with its log.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.sandbox_process import ROOT, free_port, terminate


def healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@contextmanager
def web_process(
    db_url: str, aws_url: str, log: Path, *, workers: int = 1, threads: int = 4
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Yield (base URL, gunicorn master) once /healthz answers."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "AWS_ENDPOINT_URL": aws_url,
        "SMD_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }
    argv = ["web", "--workers", str(workers), "--threads", str(threads)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashapp", *argv],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not (proc.poll() is None and healthy(url)):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the web app did not answer:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url, proc
    finally:
        if not terminate(proc):
            pytest.fail(f"gunicorn did not stop on SIGTERM:\n{log.read_text()[-2000:]}")
