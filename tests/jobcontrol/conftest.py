"""Job-control tests: in-process moto with the fidelity layer and both databases.

The collector tests' fixtures (moto, fixed clock, collector contexts) are reused
as they are: job control and the auto-retry act on the same account and tables.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from dashapp.models import JobRun
from tests.collectors.conftest import (  # noqa: F401 (fixtures)
    aws,
    boto_session,
    clock,
    create_job,
    ctx,
    make_ctx,
    t0,
)


def store_run(
    sessions: sessionmaker[Session],
    run_id: str,
    job: str,
    state: str,
    started: datetime,
    *,
    error: str | None = None,
    arguments: dict[str, str] | None = None,
    attempt: int = 0,
) -> None:
    """A run as the collector would have stored it (for tests that need only the database)."""
    finished = started + timedelta(minutes=2) if state not in {"RUNNING", "STARTING"} else None
    with sessions.begin() as s:
        s.add(
            JobRun(
                run_id=run_id,
                job_name=job,
                state=state,
                started_at=started,
                completed_at=finished,
                attempt=attempt,
                arguments=arguments or {},
                error_message=error,
                observed_at=started,
            )
        )
