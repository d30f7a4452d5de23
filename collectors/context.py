"""What every collector cycle gets (settings, database, its own AWS clients, clock) and returns."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dashapp.aws.clients import AwsClients
from dashapp.clock import Clock
from dashapp.config import Settings
from dashapp.db import db_error_line

log = logging.getLogger("collectors")


@dataclass
class CollectorContext:
    """One per collector job: its AWS clients count only its own calls."""

    name: str
    settings: Settings
    sessions: sessionmaker[Session]
    aws: AwsClients
    clock: Clock
    stop: threading.Event = field(default_factory=threading.Event)
    memory: dict[str, Any] = field(default_factory=dict)  # kept across cycles (cursors, caches)
    once: bool = False  # `--once`: no waiting (long polls return at once)
    in_long_poll: bool = False  # only waiting for messages: a stop need not wait for it


@dataclass
class CycleResult:
    """What a cycle did: rows written, resources that failed (the rest were stored), lag."""

    items: int = 0
    failures: list[str] = field(default_factory=list)
    lag_s: float | None = None

    def failed(self, resource: str, error: BaseException) -> None:
        """One resource failed: note it and carry on with the others."""
        text = f"{resource}: {describe(error)}"
        self.failures.append(text)
        log.warning("%s", text)

    def observe_lag(self, seconds: float) -> None:
        self.lag_s = seconds if self.lag_s is None else max(self.lag_s, seconds)


def describe(error: BaseException) -> str:
    """`ThrottlingException: Rate exceeded` for AWS errors, `database: <the server's words>`
    for database errors (read-only, disk full, gone), `Type: message` otherwise."""
    if isinstance(error, SQLAlchemyError):
        return f"database: {db_error_line(error)}"
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        err = response["Error"]
        return f"{err.get('Code', type(error).__name__)}: {err.get('Message', '')}".strip()
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
