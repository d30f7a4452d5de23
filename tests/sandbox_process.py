"""Start `python -m sandbox` as its own process on a free port (for integration tests).

A separate process keeps it apart from in-process `mock_aws` tests, exactly as
the product runs it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def sandbox_process(
    log_dir: Path, *, history_days: float = 1, simulate: bool = True, timeout_s: float = 180
) -> Iterator[str]:
    """Yield the URL of a ready sandbox; stop it (SIGTERM) afterwards and check it stopped."""
    port = free_port()
    env = {**os.environ, "SMD_SANDBOX_HISTORY_DAYS": str(history_days), "PYTHONUNBUFFERED": "1"}
    log = log_dir / f"sandbox-{port}.log"
    argv = [sys.executable, "-m", "sandbox", "--port", str(port)]
    if not simulate:
        argv.append("--no-simulator")
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"sandbox exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(f"{url}/_sandbox/health", timeout=2) as r:
                        if json.loads(r.read()).get("ready"):
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"sandbox not ready in {timeout_s} s:\n{log.read_text()[-3000:]}")
                time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                pytest.fail("the sandbox did not stop within 20 s of SIGTERM")
    assert proc.returncode == 0, log.read_text()[-3000:]


def terminate(proc: subprocess.Popen[bytes], timeout_s: float = 30) -> bool:
    """SIGTERM, then SIGKILL after `timeout_s`; True when SIGTERM alone stopped it."""
    if proc.poll() is not None:
        return True
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return False


def client(url: str, service: str):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 3}),
    )


def inject_faults(url: str, **rule: object) -> None:
    """POST /_sandbox/faults: e.g. service="glue", operation="GetJobRuns", kind="throttle"."""
    req = urllib.request.Request(
        f"{url}/_sandbox/faults",
        data=json.dumps(rule).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.status in (200, 201)


def fault_state(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/_sandbox/faults", timeout=5) as r:
        return json.loads(r.read())


def clear_faults(url: str) -> None:
    req = urllib.request.Request(f"{url}/_sandbox/faults", method="DELETE")
    with urllib.request.urlopen(req, timeout=5):
        pass
