"""What the seed hands back: counts for the start-up log, and the runs left in flight.

Why its own module: every part of the seed adds to one :class:`SeedReport`,
and the simulator adopts its :class:`InFlight` runs; keeping the two records
apart from the seeding code lets each part import them without importing the
others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox import behaviour

__all__ = ["InFlight", "SeedReport"]


@dataclass
class InFlight:
    """A run the history left running at `now`: the simulator finishes it."""

    run_id: str
    job: str
    started_at: datetime
    plan: behaviour.RunPlan
    ingest: dict[str, Any] | None = None


@dataclass
class SeedReport:
    jobs: int = 0
    functions: int = 0
    runs: int = 0
    failed_runs: int = 0
    objects: int = 0
    log_events: int = 0
    metric_datapoints: int = 0
    kms_key_arn: str = ""
    in_flight: list[InFlight] = field(default_factory=list)
