"""`make demo`: the whole product on one machine — sandbox AWS, collectors, web — no AWS account.

Runs each part as its own process (as in production), points them all at the
sandbox, and stops them in order on Ctrl-C. If one part dies, everything stops
with its exit code, so a broken demo is never mistaken for a working one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from dashapp.config import ConfigError, load_settings
from sandbox.datasets import datasets_json

DEMO_DB = Path("var/demo.sqlite3")


@dataclass
class Part:
    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None


DEMO_RETRY_POLICIES = '{"*": {"attempts": 2, "backoff_s": 120, "backoff_factor": 2}}'


def demo_environment(base: dict[str, str], sandbox_port: int) -> dict[str, str]:
    """Environment for every demo process: the sandbox as AWS, the demo database unless set."""
    env = dict(base)
    env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{sandbox_port}"
    # The sandbox accepts any credentials; never let a real profile be used by mistake.
    env["AWS_ACCESS_KEY_ID"] = "sandbox"
    env["AWS_SECRET_ACCESS_KEY"] = "sandbox"
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)
    env.setdefault("AWS_REGION", "us-east-1")
    env.setdefault("DATABASE_URL", f"sqlite:///{DEMO_DB}")
    # Show auto-retry at work: the sandbox's throttling and time-out failures are re-run.
    env.setdefault("SMD_RETRY_POLICIES", DEMO_RETRY_POLICIES)
    env.setdefault("SMD_DATASETS", datasets_json())
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                body = json.loads(r.read() or b"{}")
                if r.status == 200 and body.get("ready", True):
                    return
        except (OSError, ValueError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{what} did not become ready within {timeout_s:.0f} s ({url})")


def run_demo(*, fresh: bool = True) -> int:
    os.environ.setdefault("SMD_DATASETS", datasets_json())
    try:
        settings = load_settings()
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    env = demo_environment(dict(os.environ), settings.sandbox_port)
    if fresh and "DATABASE_URL" not in os.environ:
        # The sandbox starts new each time; yesterday's runs would point at nothing.
        for suffix in ("", "-wal", "-shm"):
            Path(f"{DEMO_DB}{suffix}").unlink(missing_ok=True)

    py = sys.executable
    parts = [
        Part("sandbox", [py, "-m", "sandbox"]),
        Part("collectors", [py, "-m", "collectors"]),
        Part("web", [py, "-m", "dashapp", "web", "--workers", "2"]),
    ]
    stopping = False

    def _stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    def start(part: Part) -> subprocess.Popen[bytes]:
        # Own session: Ctrl-C reaches only us, and we stop the parts in order.
        part.proc = subprocess.Popen(part.argv, env=env, start_new_session=True)
        return part.proc

    code = 0
    try:
        subprocess.run([py, "-m", "dashapp", "db", "upgrade"], env=env, check=True)
        print(f"Starting the sandbox AWS on http://127.0.0.1:{settings.sandbox_port} …")
        sandbox = start(parts[0])
        _wait_ready(
            f"http://127.0.0.1:{settings.sandbox_port}/_sandbox/health", sandbox, 300, "sandbox"
        )
        start(parts[1])
        web = start(parts[2])
        _wait_ready(f"http://127.0.0.1:{settings.port}/healthz", web, 60, "web")
        print(
            f"\n  Dashboard: http://127.0.0.1:{settings.port}\n"
            f"  Sandbox AWS: http://127.0.0.1:{settings.sandbox_port} "
            f"(boto3 with AWS_ENDPOINT_URL set to it)\n  Ctrl-C stops everything.\n",
            flush=True,
        )
        while not stopping:
            for part in parts:
                if part.proc and part.proc.poll() is not None:
                    print(f"{part.name} exited with code {part.proc.returncode}; stopping the demo")
                    code = part.proc.returncode or 1
                    stopping = True
                    break
            time.sleep(0.3)
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print(f"demo failed: {e}", file=sys.stderr)
        code = 1
    finally:
        _shutdown(parts)
    print("Stopped.")
    return code


def _shutdown(parts: list[Part]) -> None:
    """Stop web, then collectors, then the sandbox they talk to — one after the other."""
    for part in reversed(parts):
        if not part.proc:
            continue
        if part.proc.poll() is None:
            part.proc.send_signal(signal.SIGTERM)
        try:
            part.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            print(f"{part.name} did not stop in 20 s; killing it", file=sys.stderr)
            part.proc.kill()
            part.proc.wait()
