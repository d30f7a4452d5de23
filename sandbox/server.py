"""The sandbox server: moto's HTTP server plus the fidelity layer and fault control.

Why not ``moto.server.ThreadedMotoServer``: the sandbox needs the fidelity
patches applied before the first request, the ``/_sandbox/`` control routes and
the fault-injecting middleware in front of moto, an ephemeral port for tests
(``port=0``; :attr:`SandboxServer.url` reports the real one) and a ``stop()``
that returns promptly.

WSGI stack::

    FaultInjectingApp(SandboxControlApp(_DispatchApp(create_backend_app)))

(`_DispatchApp` is moto's ``DomainDispatcherApplication`` remembering each host's backend)

served by werkzeug's threaded server with moto's ``MotoRequestHandler``.

Do not enter ``moto.mock_aws()`` in the process that runs this server: entering
it resets every moto backend, i.e. wipes the server's state, and while it is
active it intercepts boto3 calls meant for the server.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from .fidelity import applied_patches, apply_fidelity
from .fidelity.athena import control as athena_control
from .fidelity.faults import FaultInjectingApp, FaultPlan, SandboxControlApp

__all__ = ["SandboxServer"]

#: serve_forever's poll interval bounds how long stop() waits for the loop.
_POLL_INTERVAL_S = 0.05
_HOSTS_REMEMBERED = 4096


class _DispatchApp(DomainDispatcherApplication):
    """moto's dispatcher, remembering which backend serves each host.

    moto finds it anew for every request: it lists its own package folder on disk and
    tries a few hundred URL patterns, about a fifth of the sandbox's CPU per call under
    the collectors' load at 5,000 jobs. The answer for a host never changes while the
    process runs.
    """

    def __init__(self, create_app: Any) -> None:
        super().__init__(create_app)
        self._backend_by_host: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        try:
            return self._backend_by_host[host]
        except KeyError:
            if len(self._backend_by_host) >= _HOSTS_REMEMBERED:  # S3 names a host per bucket
                self._backend_by_host.clear()
            backend = self._backend_by_host[host] = super().get_backend_for_host(host)
            return backend


class _QuietRequestHandler(MotoRequestHandler):
    """moto's handler without the per-request access log line (errors still log)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class SandboxServer:
    """A local AWS (moto + fidelity layer) on ``host:port``, in a background thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5000,
        fault_plan: FaultPlan | None = None,
        *,
        log_requests: bool = False,
        ready: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.fault_plan = fault_plan if fault_plan is not None else FaultPlan()
        self.log_requests = log_requests
        #: Merged into ``GET /_sandbox/health``.  A runner that seeds data after
        #: start() passes ``ready=False`` and sets ``health_info["ready"] = True``
        #: when the sandbox is usable, so ``make demo`` can wait on it.
        self.health_info: dict[str, Any] = {"ready": ready}
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def build_app(self) -> FaultInjectingApp:
        """The WSGI application (exposed for embedding, e.g. under gunicorn)."""
        moto_app = _DispatchApp(create_backend_app)
        control = SandboxControlApp(
            moto_app,
            self.fault_plan,
            health=self._health,
            routes={"athena": athena_control.handle},
        )
        return FaultInjectingApp(control, self.fault_plan)

    def _health(self) -> dict[str, Any]:
        return {
            **self.health_info,
            "fidelity": applied_patches(),
            "url": self.url if self._server else None,
        }

    def start(self) -> SandboxServer:
        """Apply the fidelity layer, bind, and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("sandbox server already started")
        apply_fidelity()
        server = make_server(
            self.host,
            self.port,
            self.build_app(),
            threaded=True,
            request_handler=MotoRequestHandler if self.log_requests else _QuietRequestHandler,
        )
        self._server = server
        self.port = server.server_port
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL_S},
            name=f"sandbox-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (in-flight requests finish on daemon threads)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def url(self) -> str:
        """Endpoint URL for boto3 (``endpoint_url=server.url``); the real port after start."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
