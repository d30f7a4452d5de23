"""What a callback may assume about its inputs: only what it checks here.

dash-renderer sends what the components hold, but `/_dash-update-component` takes any
JSON: a crafted or stale request can put a list where a text box's value belongs. A
callback narrows each input at its edge with these functions, so such a request gets
the empty or default view (or its validation message), never a 500, and the pure
functions behind the callbacks keep their plain types.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from dashapp.storable import storable_text

ROW_ID_MAX = 2**63 - 1  # the largest id a BIGINT key holds


def text(value: object) -> str | None:
    """A text input's value, a store's string, a dropdown's single choice; else None.

    NULs and lone surrogates (no keyboard types them) become U+FFFD, so the text can be
    compared in, and written to, either database."""
    return storable_text(value) if isinstance(value, str) else None


def texts(value: object) -> list[str]:
    """A multi-select's or a pattern-matched input's list of strings (others dropped)."""
    return (
        [storable_text(v) for v in value if isinstance(v, str)] if isinstance(value, list) else []
    )


def whole_number(value: object, low: int, high: int) -> int | None:
    """A count or an id typed, stored or carried in a component id: an int, or ASCII digits
    as text, within [low, high]; else None. `str.isdigit` accepts '²' and '١٢', which
    `int` refuses or reads; a 30-digit id overflows every integer column."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    return value if isinstance(value, int) and low <= value <= high else None


def mapping(value: object) -> dict[str, Any] | None:
    """A store's or a grid's object (filter model, block request, clicked cell); else None."""
    return value if isinstance(value, dict) else None


def text_fields(value: object) -> dict[str, str]:
    """A store's object of texts (a page's opening parameters): its text values, narrowed
    by `text`; other values dropped."""
    found = mapping(value) or {}
    return {k: t for k, v in found.items() if (t := text(v)) is not None}


def records(value: object) -> list[dict[str, Any]]:
    """A grid's selected rows: the objects of a list (others dropped)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def flag(value: object) -> bool:
    """A switch or checkbox: only a real `true` is on."""
    return value is True


def fit(values: list[Any], count: int, fill: Any) -> list[Any]:
    """`values` cut or padded with `fill` to `count`: an ALL output must answer exactly the
    ids the request lists, and a crafted request may list more or fewer than the states."""
    return (values + [fill] * count)[:count]


def listed(value: object) -> int:
    """How many ids an ALL output of the request names (0 when it is not a list)."""
    return len(value) if isinstance(value, list) else 0


def url_query(query: dict[str, object]) -> dict[str, str]:
    """The URL's query as a page's `layout(**query)` may assume it: one text per name.

    Dash's router hands a repeated name (`?state=a&state=b`) over as a list; the first
    value is kept, as the browser's `URLSearchParams.get` does. `%00` decodes to a NUL,
    which no lookup may carry (`text`)."""
    return text_fields({k: v[0] if isinstance(v, list) and v else v for k, v in query.items()})


def narrowed_layout(layout: Callable[..., Any]) -> Callable[..., Any]:
    """`layout` called with `url_query` of whatever the router passes."""

    @functools.wraps(layout)
    def narrowed(**query: object) -> Any:
        return layout(**url_query(query))

    return narrowed
