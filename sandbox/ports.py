"""Whether a port is free for the demo's servers, and the one line to say when it is not."""

from __future__ import annotations

import errno
import socket

from dashapp.config import env_name


def port_taken(host: str, port: int) -> bool:
    """True only when something listens on `host:port`.

    Binds the way werkzeug and gunicorn do (SO_REUSEADDR), so connections of an
    earlier run still in TIME_WAIT do not count; any error other than "address in
    use" is left to the server itself to report.
    """
    if port == 0:
        return False
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            return e.errno == errno.EADDRINUSE
    return False


def port_taken_message(port: int, setting: str) -> str:
    """`setting` is the Settings field the port comes from; the line names its variable."""
    return (
        f"port {port} is in use by another process; "
        f"stop it or set {env_name(setting)} to a free port"
    )
