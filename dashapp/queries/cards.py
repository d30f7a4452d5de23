"""Job cards: status, SLA, filters, ordering and totals over what `overview` read (pure).

Shared by the Overview, the wall screen and job-summary.csv, so a card's status means
the same on all three. Tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple

from dashapp.config import Dataset
from dashapp.queries.runs import ACTIVE_STATES, FAILED_STATES, SUCCEEDED
from dashapp.queries.sla import Sla, cost, sla_status, success_rate

CardStatus = Literal["failed", "late", "running", "succeeded", "stopped", "syncing", "never"]
STATUS_ORDER: dict[str, int] = {
    "failed": 0,
    "late": 1,
    "running": 2,
    "stopped": 3,
    "succeeded": 4,
    "syncing": 5,
    "never": 6,
}


@dataclass(frozen=True)
class JobCard:
    """A job as the Overview shows it: data plus the derived status, SLA, datasets and cost."""

    job: JobOverview
    status: CardStatus
    sla: Sla | None
    datasets: tuple[str, ...]
    last_cost: float | None
    range_cost: float

    @property
    def name(self) -> str:
        return self.job.name


class LastRun(NamedTuple):
    """The latest run of a job, whatever the time range (a tuple: a page builds a
    thousand of these per refresh, straight from result rows)."""

    run_id: str
    state: str
    started_at: datetime
    completed_at: datetime | None
    duration_s: float | None
    dpu_seconds: float | None
    rows_read: int | None
    rows_written: int | None
    error_message: str | None


class RangeStats(NamedTuple):
    """What a job did within the time range (a tuple, like `LastRun`)."""

    runs: int = 0
    succeeded: int = 0
    failed: int = 0
    dpu_seconds: float = 0.0
    rows_read: int = 0
    rows_written: int = 0

    @property
    def success_rate(self) -> float | None:
        return success_rate(self.succeeded, self.failed)


@dataclass(frozen=True)
class SparkBucket:
    """Runs started within one slice of the range, for the success-rate sparkline."""

    start: datetime
    succeeded: int = 0
    failed: int = 0

    @property
    def rate(self) -> float | None:
        return success_rate(self.succeeded, self.failed)


@dataclass(frozen=True)
class JobOverview:
    """Everything the database says about one Glue job for an Overview card."""

    name: str
    description: str
    tags: dict[str, str]
    schedule: str | None
    gone_at: datetime | None
    last_run: LastRun | None
    last_success_at: datetime | None
    stats: RangeStats
    median_duration_s: float | None
    spark: tuple[SparkBucket, ...] = ()
    last_failure: LastRun | None = None  # the latest failed run within the range


def card_status(job: JobOverview, sla: Sla | None, synced: bool) -> CardStatus:
    """Failed (latest run failed) beats late (SLA missed) beats running, stopped, succeeded;
    a job without runs is "never" run once the runs are `synced`, "syncing" until then."""
    run = job.last_run
    if run is not None and run.state in FAILED_STATES:
        return "failed"
    if sla is not None and sla.late:
        return "late"
    if run is None:
        return "never" if synced else "syncing"
    if run.state in ACTIVE_STATES:
        return "running"
    if run.state == SUCCEEDED:
        return "succeeded"
    return "stopped"


def build_cards(
    jobs: Sequence[JobOverview],
    datasets: Sequence[Dataset],
    now: datetime,
    dpu_hour_price: float,
    *,
    synced: bool,
) -> list[JobCard]:
    """Derive status, SLA, datasets and costs for each job (same order as given).

    `synced` is `runs_synced`: before the first full read of the runs, a job with no
    stored success has no SLA verdict (its last success may be in the unread history)
    and a job with no stored run is "syncing". What the stored runs do show stays: the
    runs the event consumer brings first are the newest, so a failure among them is real.
    """
    by_job: dict[str, list[Dataset]] = {}
    for d in datasets:
        by_job.setdefault(d.glue_job, []).append(d)
    cards = []
    for job in jobs:
        own = by_job.get(job.name, [])
        sla = None
        if synced or job.last_success_at is not None:
            sla = sla_status(job.name, job.schedule, job.last_success_at, own, now)
        cards.append(
            JobCard(
                job=job,
                status=card_status(job, sla, synced),
                sla=sla,
                datasets=tuple(d.name for d in own),
                last_cost=cost(job.last_run.dpu_seconds, dpu_hour_price) if job.last_run else None,
                range_cost=cost(job.stats.dpu_seconds, dpu_hour_price) or 0.0,
            )
        )
    return cards


def order_cards(cards: Iterable[JobCard]) -> list[JobCard]:
    """Failed first, then late, running, stopped, succeeded, syncing, never run; recent first,
    then name."""

    def key(card: JobCard) -> tuple[int, float, str]:
        started = card.job.last_run.started_at.timestamp() if card.job.last_run else 0.0
        return (STATUS_ORDER[card.status], -started, card.name)

    return sorted(cards, key=key)


def tag_labels(tags: Mapping[str, str]) -> list[str]:
    """'key=value' for each tag, as the tag filter offers and matches them."""
    return sorted(f"{k}={v}" for k, v in tags.items())


@dataclass(frozen=True)
class CardFilter:
    """The Overview's filters as they appear in the URL (None: not filtering on it)."""

    status: str | None = None
    tag: str | None = None
    dataset: str | None = None
    q: str | None = None


def filter_cards(cards: Iterable[JobCard], flt: CardFilter) -> list[JobCard]:
    """The cards matching every given filter; `q` searches name, description and tags."""
    needle = (flt.q or "").strip().casefold()
    kept = []
    for card in cards:
        if flt.status and card.status != flt.status:
            continue
        if flt.tag and flt.tag not in tag_labels(card.job.tags):
            continue
        if flt.dataset and flt.dataset not in card.datasets:
            continue
        if needle:
            haystack = " ".join(
                [card.name, card.job.description, *tag_labels(card.job.tags), *card.datasets]
            ).casefold()
            if needle not in haystack:
                continue
        kept.append(card)
    return kept


@dataclass(frozen=True)
class Totals:
    """The summary tiles: job counts by status and the range's runs, success rate and cost."""

    jobs: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    late: int = 0
    runs: int = 0
    runs_succeeded: int = 0
    runs_failed: int = 0
    dpu_seconds: float = 0.0
    cost: float = 0.0
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def success_rate(self) -> float | None:
        return success_rate(self.runs_succeeded, self.runs_failed)

    @property
    def dpu_hours(self) -> float:
        return self.dpu_seconds / 3600.0


def totals(cards: Sequence[JobCard]) -> Totals:
    """Sum the cards (pass the filtered ones to describe what is on screen)."""
    by_status: dict[str, int] = {}
    for c in cards:
        by_status[c.status] = by_status.get(c.status, 0) + 1
    return Totals(
        jobs=len(cards),
        running=by_status.get("running", 0),
        succeeded=by_status.get("succeeded", 0),
        failed=by_status.get("failed", 0),
        late=by_status.get("late", 0),
        runs=sum(c.job.stats.runs for c in cards),
        runs_succeeded=sum(c.job.stats.succeeded for c in cards),
        runs_failed=sum(c.job.stats.failed for c in cards),
        dpu_seconds=sum(c.job.stats.dpu_seconds for c in cards),
        cost=sum(c.range_cost for c in cards),
        by_status=by_status,
    )
