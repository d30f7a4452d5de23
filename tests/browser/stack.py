"""The whole product running for end-to-end browser tests: sandbox, collectors, web.

Sandbox and collectors are their own processes (as in production); the web app is
served from this process so tests can also read its database directly. Real
clock: these tests watch things happen (uploads run, log lines arrive, collectors
stop and the pages notice).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from dashapp.app import create_app
from dashapp.config import Settings
from dashapp.db import make_engine, make_session_factory, upgrade
from tests.sandbox_process import ROOT, sandbox_process


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class LiveStack:
    web_url: str
    sandbox_url: str
    db_url: str
    settings: Settings
    sessions: sessionmaker[Session]
    log_dir: Path
    _collectors: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def collectors_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.db_url,
            "AWS_ENDPOINT_URL": self.sandbox_url,
            "SMD_COLLECT_GLUE_RUNS_INTERVAL_S": "3",
            "SMD_COLLECT_EVENTS_WAIT_S": "2",
            "SMD_COLLECT_LOGS_INTERVAL_S": "5",
            "PYTHONUNBUFFERED": "1",
        }

    def start_collectors(self) -> None:
        if self._collectors is not None and self._collectors.poll() is None:
            return
        log = open(self.log_dir / "collectors.log", "ab")  # noqa: SIM115 - the child's stdout
        self._collectors = subprocess.Popen(
            [sys.executable, "-m", "collectors"],
            cwd=ROOT,
            env=self.collectors_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop_collectors(self) -> None:
        proc, self._collectors = self._collectors, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def wait_for_collectors(self, timeout_s: float = 120) -> None:
        """Until every collector finished its first cycle (pages then show real data)."""
        from sqlalchemy import select

        from dashapp.models import CollectorStatus

        needed = {"inventory", "glue_runs", "metrics", "logs", "events", "log_follow"}
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.sessions() as s:
                done = {c.name for c in s.scalars(select(CollectorStatus)) if c.last_success_at}
            if needed <= done:
                return
            time.sleep(0.5)
        raise AssertionError(
            f"collectors did not finish a cycle in {timeout_s} s; see {self.log_dir}"
        )


@contextmanager
def live_stack_running(log_dir: Path, *, history_days: float = 0.25) -> Iterator[LiveStack]:
    db_url = f"sqlite:///{log_dir / 'stack.sqlite3'}"
    upgrade(db_url)
    with sandbox_process(log_dir, history_days=history_days) as sandbox_url:
        settings = Settings(
            database_url=db_url,
            aws_endpoint_url=sandbox_url,
            refresh_interval_s=1,
            stale_after_s=20,
            _env_file=None,
        )
        app = create_app(settings)
        server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, app.server, threaded=True, request_handler=_QuietHandler
        )
        thread = threading.Thread(target=server.serve_forever, name="stack-web", daemon=True)
        thread.start()
        engine = make_engine(db_url)
        stack = LiveStack(
            web_url=f"http://127.0.0.1:{server.server_port}",
            sandbox_url=sandbox_url,
            db_url=db_url,
            settings=settings,
            sessions=make_session_factory(engine),
            log_dir=log_dir,
        )
        try:
            stack.start_collectors()
            stack.wait_for_collectors()
            yield stack
        finally:
            stack.stop_collectors()
            server.shutdown()
            thread.join(timeout=10)
            engine.dispose()
