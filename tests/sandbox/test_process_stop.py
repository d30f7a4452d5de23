"""`python -m sandbox` on its own: SIGTERM ends it at once, and a taken port is one line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.sandbox_process import ROOT, free_port

#: The account is only in memory: a stop has nothing to save, so it is this quick.
STOP_WITHIN_S = 0.5


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_sandbox/health", timeout=2) as r:
            return bool(json.loads(r.read()).get("ready"))
    except OSError:
        return False


@pytest.mark.slow
def test_sigterm_stops_the_sandbox_at_once_and_frees_its_port(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "SMD_SANDBOX_HISTORY_DAYS": "0.1"}
    log = tmp_path / "sandbox.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 180
            while not _ready(f"http://127.0.0.1:{port}"):
                assert proc.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)
            time.sleep(1)  # the simulator at work: ticks, a long poll on the trigger queue
            began = time.monotonic()
            proc.terminate()
            code = proc.wait(timeout=20)
            took = time.monotonic() - began
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert code == 0, log.read_text()[-3000:]
    assert took < STOP_WITHIN_S, f"the sandbox took {took:.2f} s to stop"
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))  # free again for the next start
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def test_a_taken_port_is_reported_in_one_line() -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "sandbox", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            timeout=60,
        )
    output = (done.stdout + done.stderr).decode(errors="replace")
    assert done.returncode == 1, output
    assert output.strip().splitlines() == [
        f"sandbox: port {port} is in use by another process; "
        "stop it or set SMD_SANDBOX_PORT to a free port"
    ], output
