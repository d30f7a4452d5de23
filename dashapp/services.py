"""What a running web app holds: settings, database, AWS clients, clock.

Built once in `create_app` and kept on the Flask app (`app.extensions["smd"]`),
never in module globals, so several apps (tests, workers) never share state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dashapp.aws.clients import AwsClients
from dashapp.clock import Clock, SystemClock
from dashapp.config import Settings
from dashapp.db import make_engine, make_session_factory


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    aws: AwsClients
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def build(cls, settings: Settings, *, clock: Clock | None = None) -> Services:
        engine = make_engine(settings.database_url, application_name="smd-web")
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            aws=AwsClients(settings),
            clock=clock or SystemClock(),
        )

    def attach(self, server: Flask) -> None:
        server.extensions["smd"] = self


def services(app: Flask | None = None) -> Services:
    """The Services of the app serving this request."""
    return (app or current_app).extensions["smd"]
