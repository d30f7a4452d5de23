"""Helpers to read Dash component trees in unit tests, the way a user reads the page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dash.development.base_component import Component


def walk(node: Any) -> Iterator[Component]:
    """Every component in a tree (children lists, nested components), depth first."""
    if isinstance(node, list | tuple):
        for child in node:
            yield from walk(child)
    elif isinstance(node, Component):
        yield node
        yield from walk(getattr(node, "children", None))


def by_id(node: Any, wanted: Any) -> Component:
    for component in walk(node):
        if getattr(component, "id", None) == wanted:
            return component
    raise AssertionError(f"no component with id {wanted!r}")


def ids(node: Any) -> list[Any]:
    return [c.id for c in walk(node) if getattr(c, "id", None) is not None]


def of_type(node: Any, type_name: str) -> list[Component]:
    return [c for c in walk(node) if type(c).__name__ == type_name]


_INLINE = {"A", "Abbr", "B", "Code", "Em", "I", "Small", "Span", "Strong", "Time"}


def text(node: Any) -> str:
    """The visible text of a tree, whitespace-normalised; block elements are separated."""
    parts: list[str] = []

    def collect(n: Any) -> None:
        if isinstance(n, str | int | float) and not isinstance(n, bool):
            parts.append(str(n))
        elif isinstance(n, list | tuple):
            for child in n:
                collect(child)
        elif isinstance(n, Component):
            block = type(n).__name__ not in _INLINE
            if block:
                parts.append(" ")
            collect(getattr(n, "children", None))
            if block:
                parts.append(" ")

    collect(node)
    return " ".join("".join(parts).split())


def attr(component: Component, name: str) -> Any:
    """A prop, including wildcard ones such as `aria-label` or `data-smd-link`."""
    return component.to_plotly_json()["props"].get(name)
