"""The live pollers' cycles in a process of their own, as `python -m collectors` runs them.

Section 2 of bench/collectors.py records the bulk collectors in the bench's own process;
the live group (`collectors.registry.LIVE`: log_follow, athena) runs here in a spawned
process with a recorder of its own, under its own leader lock, and its cycles come back
when the window closes. Both recorders share one clock: perf_counter is the system's
monotonic clock, and the child starts from the parent's t0.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from typing import Any

from bench.collector_cycles import Counts, Cycle, CycleRecorder
from collectors.leader import lock_for
from collectors.registry import LIVE
from dashapp.config import Settings


class LiveWindow:
    def __init__(self, settings: Settings, recorder: CycleRecorder) -> None:
        spawn = mp.get_context("spawn")
        self._stop = spawn.Event()
        self._out: Any = spawn.Queue()
        args = (
            settings.database_url,
            settings.aws_endpoint_url,
            recorder.t0,
            recorder.counts,
            self._stop,
            self._out,
        )
        self.process = spawn.Process(target=_record_live, args=args, name="live-pollers")
        self.cpu_s = 0.0  # what its pollers used, from their start to the window's end

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def start(self) -> None:
        self.process.start()

    def close(self) -> list[Cycle]:
        """Stop the pollers; every cycle they ran, the last one finished."""
        self._stop.set()
        cycles: list[Cycle]
        cycles, self.cpu_s = self._out.get(timeout=300)
        self.process.join(timeout=60)
        return cycles


def _record_live(
    database_url: str,
    endpoint: str | None,
    t0: float,
    counts: Counts,
    stop: Any,
    out: Any,
) -> None:
    cpu_at_start = time.process_time()
    settings = Settings(database_url=database_url, aws_endpoint_url=endpoint, _env_file=None)
    recorder = CycleRecorder(settings)
    recorder.t0, recorder.counts, recorder.phase = t0, counts, "window"
    runner = recorder.runner(LIVE)
    thread = threading.Thread(target=runner.run_forever, args=(lock_for(runner.engine, LIVE),))
    thread.start()
    stop.wait()
    recorder.phase = "after"
    runner.request_stop()
    thread.join(timeout=120)
    recorder.wait_idle()
    out.put((recorder.cycles, time.process_time() - cpu_at_start))
