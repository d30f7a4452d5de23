"""What a callback may assume about its inputs: only what it checks here.

dash-renderer sends what the components hold, but `/_dash-update-component` takes any
JSON: a crafted or stale request can put a list where a text box's value belongs. A
callback narrows each input at its edge with these functions, so such a request gets
the empty or default view (or its validation message), never a 500, and the pure
functions behind the callbacks keep their plain types.
"""

from __future__ import annotations

from typing import Any

from dashapp.db import storable_text


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


def mapping(value: object) -> dict[str, Any] | None:
    """A store's or a grid's object (filter model, block request, clicked cell); else None."""
    return value if isinstance(value, dict) else None


def records(value: object) -> list[dict[str, Any]]:
    """A grid's selected rows: the objects of a list (others dropped)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def flag(value: object) -> bool:
    """A switch or checkbox: only a real `true` is on."""
    return value is True
