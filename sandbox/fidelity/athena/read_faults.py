"""BatchGetQueryExecution answering chosen ids as unprocessed for their next few reads.

Why: Athena documents ``UnprocessedQueryExecutionIds`` as the executions that "failed to
process", each with an ``ErrorCode`` and ``ErrorMessage``, not only ids it does not know
(the sandbox's answer for those is ``InvalidRequestException``). A read that failed for one
id (throttled, an internal error) while the rest of the call was answered may succeed a
moment later: the collector must retry such an id and end only one Athena no longer
knows. moto has no BatchGetQueryExecution at all, so nothing else plays this. In-process
tests call :func:`fail_reads`; ``reset_knobs`` clears every plan.
"""

from __future__ import annotations

import threading

__all__ = ["DEFAULT_CODE", "clear", "fail_reads", "take"]

DEFAULT_CODE = "InternalServerException"
DEFAULT_MESSAGE = "An internal error occurred while reading the query execution"

_LOCK = threading.Lock()
_PLANS: dict[str, list[tuple[str, str]]] = {}


def fail_reads(
    execution_id: str,
    times: int,
    *,
    code: str = DEFAULT_CODE,
    message: str = DEFAULT_MESSAGE,
) -> None:
    """The next ``times`` reads of ``execution_id`` are answered unprocessed with ``code``."""
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise ValueError("times must be a positive integer")
    with _LOCK:
        _PLANS.setdefault(execution_id, []).extend([(code, message)] * times)


def take(execution_id: str) -> tuple[str, str] | None:
    """The (ErrorCode, ErrorMessage) this read of ``execution_id`` meets, or None to answer it."""
    with _LOCK:
        planned = _PLANS.get(execution_id)
        if not planned:
            return None
        found = planned.pop(0)
        if not planned:
            del _PLANS[execution_id]
        return found


def clear() -> None:
    with _LOCK:
        _PLANS.clear()
