"""Run the web app under gunicorn from Python, the way production runs `gunicorn wsgi:server`."""

from __future__ import annotations

import gc
from typing import Any

from gunicorn.app.base import BaseApplication

from dashapp import lifeline
from dashapp.config import Settings
from dashapp.malloc_arenas import limit_malloc_arenas

#: How long a stop waits for requests in flight and kept-alive browser connections. Short,
#: because this runs the dashboard locally (`python -m dashapp web`, `make demo`), where a
#: stop should be prompt; the image's gunicorn command keeps its own 10 s.
GRACEFUL_TIMEOUT_S = 1


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


def _post_fork(_arbiter: Any, _worker: Any) -> None:
    # A worker must go with the demo even when the arbiter cannot see to it.
    lifeline.watch_again_after_fork()


def serve(settings: Settings, *, workers: int = 2, threads: int = 8) -> None:
    """Serve on settings.host:port with gthread workers until SIGINT/SIGTERM."""
    lifeline.watch_parent()
    limit_malloc_arenas()  # before the fork: each worker inherits it
    _Gunicorn(
        settings,
        {
            "bind": f"{settings.host}:{settings.port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": 60,
            "graceful_timeout": GRACEFUL_TIMEOUT_S,
            "post_fork": _post_fork,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
        },
    ).run()
