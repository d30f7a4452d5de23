"""Seed the sandbox account: the pipeline's AWS resources and 14 days of believable history.

Resources are created through the public API (as CloudFormation would); history
that the API cannot write with past timestamps (finished Glue runs, 14 days of
per-minute metrics) goes through the fidelity layer's controller and metric
store. The seed is deterministic for a given `rng_seed` and `now`.

Parts: ``resources`` (the public API), ``glue_history`` and ``lambda_history``
(the past), ``report`` (what the seed returns); :func:`seed` runs them in order.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from dashapp.config import Settings
from sandbox.account import SandboxAccount
from sandbox.catalog import FUNCTIONS, JOBS, FunctionSpec, JobSpec

from .glue_history import (
    HistoryWriter,
    glue_log_groups,
    seed_dataset_history,
    seed_scheduled_history,
)
from .lambda_history import seed_lambda_history
from .report import SeedReport
from .resources import create_foundation, create_glue, create_lambda, enable_upload_events

__all__ = ["seed"]


def seed(
    account: SandboxAccount,
    settings: Settings,
    *,
    now: datetime,
    rng_seed: int,
    history_days: float,
    jobs: list[JobSpec] | None = None,
    functions: list[FunctionSpec] | None = None,
) -> SeedReport:
    """Create everything and write `history_days` of history ending at `now`."""
    jobs = list(JOBS if jobs is None else jobs)
    functions = list(FUNCTIONS if functions is None else functions)
    report = SeedReport(jobs=len(jobs), functions=len(functions))
    rng = random.Random(rng_seed)
    report.kms_key_arn = create_foundation(account, settings)
    create_glue(account, settings, jobs)
    for group in glue_log_groups(settings):
        account.ensure_log_group(group, retention_days=90)
    create_lambda(account, functions)
    # CloudWatch Logs refuses events older than 14 days; keep an hour's margin.
    start = now - min(timedelta(days=history_days), timedelta(days=14) - timedelta(hours=1))
    if history_days > 0:
        writer = HistoryWriter(account, settings, now, report)
        seed_scheduled_history(writer, [j for j in jobs if j.schedule], start, rng)
        seed_dataset_history(writer, start, rng)
        seed_lambda_history(account, functions, start, now, rng_seed, report)
    enable_upload_events(account, settings)
    return report
