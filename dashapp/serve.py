"""Run the web app under gunicorn from Python, the way production runs `gunicorn wsgi:server`."""

from __future__ import annotations

import gc
from typing import Any

from gunicorn.app.base import BaseApplication

from dashapp.config import Settings


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Each worker builds its own app (own engine and pools) after the fork.
        from dashapp.app import create_app

        server = create_app(self._settings).server
        # As in wsgi.py: the long-lived startup heap stays out of full GC passes.
        gc.freeze()
        return server


def serve(settings: Settings, *, workers: int = 2, threads: int = 8) -> None:
    """Serve on settings.host:port with gthread workers until SIGINT/SIGTERM."""
    _Gunicorn(
        settings,
        {
            "bind": f"{settings.host}:{settings.port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": 60,
            "graceful_timeout": 5,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
        },
    ).run()
