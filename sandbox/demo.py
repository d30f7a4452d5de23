"""`make demo`: the whole product on one machine — sandbox AWS, collectors, web — no AWS account.

Runs each part as its own process (as in production), points them all at the
sandbox, and stops them on Ctrl-C: web and collectors together, then the sandbox
the collectors talk to, each in about a second at most; one that does not stop is
killed with its process group. If one part dies, everything stops with its exit code, so a
broken demo is never mistaken for a working one. If the demo itself is killed, the
parts go too (`dashapp.lifeline`), so no sandbox is left holding its port.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from dashapp.config import ConfigError, Settings, load_settings
from dashapp.lifeline import Lifeline
from sandbox.datasets import datasets_json
from sandbox.ports import port_taken, port_taken_message

DEMO_DB = Path("var/demo.sqlite3")
#: A part still running this long after SIGTERM is killed, with everything it started.
STOP_TIMEOUT_S = 5.0


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


class _Stopped(Exception):
    """Ctrl-C while the parts were starting."""


def _wait_ready(
    url: str,
    proc: subprocess.Popen[bytes],
    timeout_s: float,
    what: str,
    stopping: Callable[[], bool],
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if stopping():
            raise _Stopped
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
    taken = _taken_port(settings)
    if taken:
        print(f"demo: {taken}", file=sys.stderr)
        return 1
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
    stopping = threading.Event()  # an Event so that waiting on it wakes at once on a signal

    def _stop(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    lifeline = Lifeline()

    def start(part: Part) -> subprocess.Popen[bytes]:
        # Own session: Ctrl-C reaches only us, and we stop the parts in order.
        part.proc = subprocess.Popen(
            part.argv,
            env=lifeline.child_env(env),
            start_new_session=True,
            pass_fds=lifeline.pass_fds,
        )
        return part.proc

    code = 0
    try:
        subprocess.run([py, "-m", "dashapp", "db", "upgrade"], env=env, check=True)
        print(f"Starting the sandbox AWS on http://127.0.0.1:{settings.sandbox_port} …")
        sandbox = start(parts[0])
        _wait_ready(
            f"http://127.0.0.1:{settings.sandbox_port}/_sandbox/health",
            sandbox,
            300,
            "sandbox",
            stopping.is_set,
        )
        start(parts[1])
        web = start(parts[2])
        _wait_ready(f"http://127.0.0.1:{settings.port}/healthz", web, 60, "web", stopping.is_set)
        print(
            f"\n  Dashboard: http://127.0.0.1:{settings.port}\n"
            f"  Sandbox AWS: http://127.0.0.1:{settings.sandbox_port} "
            f"(boto3 with AWS_ENDPOINT_URL set to it)\n  Ctrl-C stops everything.\n",
            flush=True,
        )
        while not stopping.wait(0.3):
            for part in parts:
                if part.proc and part.proc.poll() is not None:
                    print(f"{part.name} exited with code {part.proc.returncode}; stopping the demo")
                    code = part.proc.returncode or 1
                    stopping.set()
                    break
    except _Stopped:
        pass
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print(f"demo failed: {e}", file=sys.stderr)
        code = 1
    finally:
        _shutdown(parts)
        lifeline.close()
    print("Stopped.")
    return code


def _taken_port(settings: Settings) -> str | None:
    """Checked before anything starts: a server already on a port would otherwise answer the
    readiness checks in place of the part that failed to bind it."""
    for host, port, setting in (
        ("127.0.0.1", settings.sandbox_port, "sandbox_port"),
        (settings.host, settings.port, "port"),
    ):
        if port_taken(host, port):
            return port_taken_message(port, setting)
    return None


def _shutdown(parts: list[Part], clock: Callable[[], float] = time.monotonic) -> None:
    """SIGTERM web and collectors, and the sandbox once the collectors are gone: a cycle cut
    off by a vanished sandbox would be recorded as a failure. The web is not waited for: it
    reads only the database, and may linger up to a second for kept-alive browser connections.
    A part still running STOP_TIMEOUT_S after its SIGTERM is killed with its process group
    (its session: gunicorn's workers go with their arbiter)."""
    by_name = {p.name: p for p in parts}
    web, collectors, sandbox = by_name["web"], by_name["collectors"], by_name["sandbox"]
    deadline = clock() + STOP_TIMEOUT_S
    _terminate(web)
    _terminate(collectors)
    _wait_or_kill(collectors, deadline, clock)
    _terminate(sandbox)
    _wait_or_kill(web, deadline, clock)
    _wait_or_kill(sandbox, max(deadline, clock() + STOP_TIMEOUT_S), clock)


def _terminate(part: Part) -> None:
    if part.proc is not None and part.proc.poll() is None:
        part.proc.send_signal(signal.SIGTERM)


def _wait_or_kill(part: Part, deadline: float, clock: Callable[[], float]) -> None:
    if part.proc is None:
        return
    try:
        part.proc.wait(timeout=max(0.0, deadline - clock()))
    except subprocess.TimeoutExpired:
        print(f"{part.name} did not stop in {STOP_TIMEOUT_S:.0f} s; killing it", file=sys.stderr)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(part.proc.pid, signal.SIGKILL)
        part.proc.wait()
