"""The two outcomes a parser may have: a value, or the refusal it documents.

Fuzz tests check each outcome separately; anything else raised is the defect they
look for, so it propagates with its traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def attempt(
    call: Callable[[], T], refusal: type[Exception] | tuple[type[Exception], ...]
) -> tuple[T | None, Exception | None]:
    """(value, None) when `call` returns, (None, error) when it raises `refusal`."""
    try:
        return call(), None
    except refusal as e:
        return None, e
