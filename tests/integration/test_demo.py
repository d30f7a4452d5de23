"""`make demo` as a new user runs it: everything comes up, and Ctrl-C stops everything."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
def test_demo_serves_dashboard_and_sandbox_and_ctrl_c_stops_everything(tmp_path):
    web, sandbox = _free_port(), _free_port()
    env = {
        **os.environ,
        "SMD_PORT": str(web),
        "SMD_SANDBOX_PORT": str(sandbox),
        "SMD_SANDBOX_HISTORY_DAYS": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    }
    env.pop("AWS_ENDPOINT_URL", None)
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashapp", "demo"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 240
            while b"Ctrl-C stops everything" not in log.read_bytes():
                assert proc.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.5)
            status, body = _get(f"http://127.0.0.1:{web}/")
            assert status == 200 and b'<html lang="en"' in body
            status, body = _get(f"http://127.0.0.1:{sandbox}/_sandbox/health")
            assert status == 200 and json.loads(body)["ready"] is True
            assert _get(f"http://127.0.0.1:{web}/healthz")[0] == 200
            text = log.read_text()
            assert f"http://127.0.0.1:{web}" in text and f"http://127.0.0.1:{sandbox}" in text
        finally:
            proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
            try:
                code = proc.wait(timeout=45)
            except subprocess.TimeoutExpired:
                proc.kill()
                pytest.fail("demo did not stop within 45 s of Ctrl-C")
    assert code == 0, log.read_text()[-3000:]
    assert "Stopped." in log.read_text()
    assert not _port_open(web) and not _port_open(sandbox), "a part outlived the demo"
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
