"""``/_sandbox/athena``: the knobs that make sandbox queries queue or run long.

Why a route: a browser test of Cancel, or a person trying the demo, needs a
query that stays RUNNING long enough to be cancelled, and the sandbox runs
in another process.  ``GET`` reads the knobs, ``POST {"min_running_s": 30}``
changes them (``queued_s``, ``min_running_s``, ``max_concurrent``), ``DELETE``
restores the defaults.  In-process tests set :data:`~.runner.KNOBS` directly.
"""

from __future__ import annotations

from typing import Any

from . import read_faults
from .runner import KNOBS, Knobs

__all__ = ["handle", "reset_knobs"]

_SETTABLE = ("queued_s", "min_running_s", "max_concurrent")


def reset_knobs() -> None:
    """Back to the defaults (the clock too), and no id's read planned to fail."""
    defaults = Knobs()
    read_faults.clear()
    KNOBS.update(**defaults.as_dict(), clock=defaults.clock)


def handle(method: str, body: Any) -> tuple[int, dict[str, Any]]:
    """Serve one control request; returns (HTTP status, JSON payload)."""
    if method == "GET":
        return 200, KNOBS.as_dict()
    if method == "DELETE":
        reset_knobs()
        return 200, KNOBS.as_dict()
    if method != "POST":
        return 405, {"message": "use GET, POST or DELETE"}
    if not isinstance(body, dict):
        return 400, {"message": "body must be a JSON object"}
    unknown = sorted(set(body) - set(_SETTABLE))
    if unknown:
        return 400, {"message": f"unknown fields: {unknown}; settable: {list(_SETTABLE)}"}
    try:
        KNOBS.update(**body)
    except ValueError as exc:
        return 400, {"message": str(exc)}
    return 200, KNOBS.as_dict()
