"""`python -m sandbox`: serve, seed, simulate — until SIGINT/SIGTERM.

`/_sandbox/health` answers at once and says `"ready": true` only when the seed is
complete, so `make demo` and tests wait for a usable account, not a port.

Stopping is prompt: the account lives only in memory, so there is nothing to save.
A signal during the seed ends it there; afterwards the simulator gets a moment to
finish its step, the port is released, and `cmd_serve` exits without freeing the heap.
"""

from __future__ import annotations

import gc
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
from sandbox.heap import return_large_blocks_to_the_os
from sandbox.ports import port_taken, port_taken_message
from sandbox.seed import seed
from sandbox.server import SandboxServer
from sandbox.simulator import Simulator

log = logging.getLogger("sandbox")
#: How long a stop waits for the simulator's step in progress (an unfinished one is lost
#: with the rest of the in-memory account anyway).
SIMULATOR_STOP_S = 0.1


class _StopWhileSeeding(BaseException):
    """SIGINT/SIGTERM during the seed: half a seed is worth nothing, so stop there."""


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
    return_large_blocks_to_the_os()
    if port_taken(host, port):  # werkzeug would say it in two lines, with other advice
        print(f"sandbox: {port_taken_message(port, 'sandbox_port')}", file=sys.stderr)
        return 1
    stop = threading.Event()
    seeding = threading.Event()
    seeding.set()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()
        if seeding.is_set():
            raise _StopWhileSeeding

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    server = SandboxServer(host=host, port=port, ready=False)
    simulator = None
    try:
        server.start()
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
        seeding.clear()
        # The seeded account (about a million objects at 5,000 jobs) lives as long as the
        # process: out of the collector's reach, each full collection no longer walks it
        # (0.45 s each, a fifth of the stand-in's CPU while GetMetricData was busy).
        gc.collect()
        gc.freeze()
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
        while not stop.wait(0.5):
            pass
    except _StopWhileSeeding:
        log.info("stopped while seeding")
    finally:
        seeding.clear()
        log.info("stopping")
        if simulator:
            simulator.stop(timeout_s=SIMULATOR_STOP_S)
        server.stop()
    return 0
