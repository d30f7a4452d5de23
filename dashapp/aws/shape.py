"""What a parser may take from an AWS answer: the fields it needs, of the type it needs.

AWS's documented shapes are what the parsers expect, but an answer can still surprise:
an API version adds or retypes a field, a proxy or the sandbox mangles one, a resource
is half-created. A parser reads every field through these getters, so any surprise is
one `MalformedResponse` naming the resource and the field: the collector reports that
resource and stores the others, instead of a KeyError or a database error ending the
whole cycle.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from dashapp.clock import as_utc
from dashapp.storable import storable_text

P = ParamSpec("P")
T = TypeVar("T")

INT_MAX = 2**63 - 1  # the widest integer column
# What a parser's own code raises on a shape no getter checked.
_UNFORESEEN = (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError)


class MalformedResponse(ValueError):
    """An AWS answer without a field a parser needs, or with one of another type."""


def parser(what: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Name the resource a parser reads in the `MalformedResponse` it raises; anything a
    getter did not foresee (a list where an object belongs) is reported the same way."""

    def wrap(fn: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(fn)
        def parse(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return fn(*args, **kwargs)
            except MalformedResponse as e:
                raise MalformedResponse(f"{what}: {e}") from e
            except _UNFORESEEN as e:
                raise MalformedResponse(f"{what}: {type(e).__name__}: {e}") from e

        return parse

    return wrap


def mapping(raw: Any, key: str) -> Mapping[str, Any]:
    """A nested object (absent or null: empty)."""
    value = _object(raw).get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MalformedResponse(f"{key} is not an object")
    return value


def items(raw: Any, key: str) -> list[Any]:
    """A list field (absent or null: empty)."""
    value = _object(raw).get(key)
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise MalformedResponse(f"{key} is not a list")
    return list(value)


def text(raw: Any, key: str, limit: int | None = None) -> str:
    """A required, non-empty text field, at most `limit` characters (its column's width)."""
    value = optional_text(raw, key, limit)
    if not value:
        raise MalformedResponse(f"{key} is missing")
    return value


def optional_text(raw: Any, key: str, limit: int | None = None) -> str | None:
    return as_text(_object(raw).get(key), key, limit)


def optional_int(raw: Any, key: str) -> int | None:
    """A whole number that fits the widest integer column (a whole float is accepted)."""
    value = optional_number(raw, key)
    if value is None:
        return None
    if value != int(value) or abs(value) > INT_MAX:
        raise MalformedResponse(f"{key} is not a whole number in range")
    return int(value)


def optional_number(raw: Any, key: str) -> float | int | None:
    return as_number(_object(raw).get(key), key)


def optional_time(raw: Any, key: str) -> datetime | None:
    return as_time(_object(raw).get(key), key)


# The same checks for a value that is not a field (a list's item): `what` names it.


def as_text(value: Any, what: str, limit: int | None = None) -> str | None:
    """Text as the databases can store it (`storable_text`), at most `limit` characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedResponse(f"{what} is not text")
    if limit is not None and len(value) > limit:
        raise MalformedResponse(f"{what} is longer than {limit} characters")
    return storable_text(value)


def as_number(value: Any, what: str) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MalformedResponse(f"{what} is not a number")
    if isinstance(value, int) and abs(value) > INT_MAX:
        raise MalformedResponse(f"{what} is out of range")
    return value


def as_time(value: Any, what: str) -> datetime | None:
    """A timestamp botocore parsed, in UTC (naive is UTC, as boto3 and SQLite hand it back);
    one whose offset moves it past year 1 or 9999 is refused."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise MalformedResponse(f"{what} is not a timestamp")
    try:
        return as_utc(value)
    except OverflowError:
        raise MalformedResponse(f"{what} is out of range") from None


def text_map(raw: Any, key: str) -> dict[str, str]:
    """A string-to-string map (arguments, tags), storable."""
    found = mapping(raw, key)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in found.items()):
        raise MalformedResponse(f"{key} is not a map of text to text")
    return {storable_text(k): storable_text(v) for k, v in found.items()}


def _object(raw: Any) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise MalformedResponse("the answer is not an object")
    return raw
