"""The container's entrypoint, run as the image runs it: migrate, then gunicorn wsgi:server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from sqlalchemy import inspect

from dashapp.db import make_engine

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_entrypoint_migrates_then_serves_with_gunicorn_and_stops_on_sigterm(tmp_path):
    port = _free_port()
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    venv_bin = str(Path(os.sys.executable).parent)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SMD_PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "PATH": f"{venv_bin}:{os.environ['PATH']}",
    }
    proc = subprocess.Popen(
        [str(ROOT / "docker-entrypoint.sh")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read().decode()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
                time.sleep(0.3)
        engine = make_engine(url)
        assert "job_runs" in inspect(engine).get_table_names()  # migrated before serving
        engine.dispose()
        # gunicorn is PID of the entrypoint (exec), so it gets the container's signals.
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        assert b"gunicorn" in cmdline
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    assert code == 0
