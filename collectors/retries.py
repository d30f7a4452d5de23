"""Auto-retry: re-run failed Glue runs whose failure looks transient, with back-off.

The policy per job comes from `SMD_RETRY_POLICIES`; the decision, the claim (one
re-run per failed run, ever) and the audit entry live in `dashapp/actions/auto_retry.py`,
shared with the pages that show each failed run's retry status. This is our retry,
on top of Glue's own MaxRetries: it covers throttling, capacity and network errors
that Glue's immediate retries hit again.
"""

from __future__ import annotations

from collectors.context import CollectorContext, CycleResult
from dashapp.actions import auto_retry


def collect_retries(ctx: CollectorContext) -> CycleResult:
    """One pass: start every due retry; a Glue refusal is a failure of that run only."""
    result = CycleResult()
    if not ctx.settings.retry_policies:
        return result
    cycle = auto_retry.auto_retry(
        ctx.sessions,
        ctx.aws.client("glue"),
        ctx.settings.retry_policy,
        now=ctx.clock.now(),
    )
    result.items = len(cycle.started)
    for run_id, message in cycle.failed.items():
        result.failures.append(f"retry of {run_id}: {message}")
    return result
