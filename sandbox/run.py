"""`python -m sandbox`: serve, seed, simulate — until SIGINT/SIGTERM.

`/_sandbox/health` answers at once and says `"ready": true` only when the seed is
complete, so `make demo` and tests wait for a usable account, not a port.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from types import FrameType

from dashapp.clock import SystemClock
from dashapp.config import Settings
from sandbox.account import SandboxAccount
from sandbox.catalog import FUNCTIONS, JOBS, scaled
from sandbox.seed import seed
from sandbox.server import SandboxServer
from sandbox.simulator import Simulator

log = logging.getLogger("sandbox")


def run_sandbox(
    settings: Settings,
    *,
    port: int,
    simulate: bool = True,
    host: str = "127.0.0.1",
    glue_jobs: int | None = None,
    lambda_functions: int | None = None,
) -> int:
    """Serve until SIGINT/SIGTERM; `glue_jobs`/`lambda_functions` grow the account (benchmarks)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s sandbox %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    server = SandboxServer(host=host, port=port, ready=False)
    try:
        server.start()
    except OSError as e:
        print(
            f"sandbox: cannot listen on {host}:{port}: {e.strerror}; set SMD_SANDBOX_PORT",
            file=sys.stderr,
        )
        return 1
    clock = SystemClock()
    account = SandboxAccount(server.url, settings.aws_region)
    began = time.monotonic()
    jobs, functions = scaled(glue_jobs or len(JOBS), lambda_functions or len(FUNCTIONS))
    report = seed(
        account,
        settings,
        now=clock.now(),
        rng_seed=settings.sandbox_seed,
        history_days=settings.sandbox_history_days,
        jobs=jobs,
        functions=functions,
    )
    server.health_info.update(
        ready=True,
        jobs=report.jobs,
        functions=report.functions,
        runs=report.runs,
        failed_runs=report.failed_runs,
        seeded_in_s=round(time.monotonic() - began, 1),
    )
    log.info(
        "ready at %s: %d Glue jobs, %d Lambda functions, %d runs (%d failed), %d log events, "
        "%d metric datapoints, seeded in %.1f s",
        server.url,
        report.jobs,
        report.functions,
        report.runs,
        report.failed_runs,
        report.log_events,
        report.metric_datapoints,
        time.monotonic() - began,
    )
    simulator = None
    if simulate:
        simulator = Simulator(
            account,
            settings,
            clock=clock,
            jobs=jobs,
            functions=functions,
            rng_seed=settings.sandbox_seed,
            in_flight=report.in_flight,
        )
        simulator.start()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        log.info("stopping")
        if simulator:
            simulator.stop()
        server.stop()
    return 0
