"""What a wall screen held to one page may ask for: that page, and only its callbacks.

A device session with a page limit may load its page (and Dash's own layout and
dependency routes) and run callbacks whose outputs are all components of that page or
of the shell around it. Anything else — another page, an export, another page's
callback crafted by hand — is refused, whatever the device's role would allow.
The component ids per page are collected once, at start-up, from the layouts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

SHARED_DASH_ROUTES = frozenset({"/_dash-layout", "/_dash-dependencies", "/_reload-hash"})
UPDATE = "/_dash-update-component"


def component_ids(tree: Any) -> set[str]:
    """Every id in a component tree: plain ids, and the `type` of pattern-matching ids."""
    found: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list | tuple):
            stack.extend(node)
            continue
        if node is None or not hasattr(node, "to_plotly_json"):
            continue
        ident = getattr(node, "id", None)
        if isinstance(ident, str):
            found.add(ident)
        elif isinstance(ident, Mapping) and isinstance(ident.get("type"), str):
            found.add(ident["type"])
        for name in getattr(node, "_prop_names", ()):
            value = getattr(node, name, None)
            if isinstance(value, list | tuple) or hasattr(value, "to_plotly_json"):
                stack.append(value)
    return found


def output_ids(output: str) -> list[str]:
    """The component ids a callback request's `output` names (pattern ids by `type`)."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    ids = []
    for part in parts:
        raw_id = part.split("@", 1)[0].rpartition(".")[0]
        if raw_id.startswith("{"):
            try:
                raw_id = str(json.loads(raw_id).get("type", ""))
            except (ValueError, AttributeError):
                raw_id = ""
        ids.append(raw_id)
    return ids


def allowed(
    path: str, method: str, limit: str, page_ids: Mapping[str, Iterable[str]], body: Any
) -> bool:
    """Whether a device held to page `limit` may make this request."""
    here = "/" + path.strip("/")
    if method in ("GET", "HEAD") and here == "/" + limit.strip("/"):
        return True
    if path in SHARED_DASH_ROUTES:
        return True
    if path == UPDATE and method == "POST" and isinstance(body, Mapping):
        ids = output_ids(str(body.get("output", "")))
        permitted = set(page_ids.get(limit, ()))
        return bool(ids) and all(i in permitted for i in ids)
    return False
