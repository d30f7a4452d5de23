"""Requests a browser would send to `/_dash-update-component`, built from `app.callback_map`.

Every input and state starts as None unless given; pattern-matching ids get a concrete
value for MATCH (`"x"`) and no components for ALL, as a page without such rows sends.
"""

from __future__ import annotations

import json
from typing import Any

import dash

MATCH_VALUE = "x"


def _concrete(raw_id: str) -> dict[str, Any] | str | None:
    """A concrete id for a MATCH pattern; None for an ALL/ALLSMALLER pattern (no components)."""
    if not raw_id.startswith("{"):
        return raw_id
    pattern = json.loads(raw_id)
    out: dict[str, Any] = {}
    for key, value in pattern.items():
        if value == ["MATCH"]:
            out[key] = MATCH_VALUE
        elif isinstance(value, list):
            return None
        else:
            out[key] = value
    return out


def split_outputs(key: str) -> list[tuple[str, str]]:
    """(id, property) of each output named in a callback_map key."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    result = []
    for part in parts:
        part = part.split("@", 1)[0]
        raw_id, _, prop = part.rpartition(".")
        result.append((raw_id, prop))
    return result


def prop_id(raw_id: str, prop: str) -> str:
    """How the renderer names a changed property: the concrete id (JSON, sorted keys) + prop."""
    concrete = _concrete(raw_id)
    if isinstance(concrete, dict):
        raw_id = json.dumps(concrete, sort_keys=True, separators=(",", ":"))
    return f"{raw_id}.{prop}"


def _entry(raw_id: str, prop: str, value: Any) -> Any:
    concrete = _concrete(raw_id)
    if concrete is None:
        return []  # ALL: the list of matching components, here none
    return {"id": concrete, "property": prop, "value": value}


def body(
    app: dash.Dash, key: str, values: dict[str, Any] | None = None, trigger: str | None = None
) -> dict[str, Any]:
    """The JSON body for callback `key`; `values` maps 'id.property' to a value."""
    values = values or {}
    spec = app.callback_map[key]
    outputs = []
    for raw_id, prop in split_outputs(key):
        concrete = _concrete(raw_id)
        outputs.append([] if concrete is None else {"id": concrete, "property": prop})
    inputs = [
        _entry(i["id"], i["property"], values.get(f"{i['id']}.{i['property']}"))
        for i in spec["inputs"]
    ]
    state = [
        _entry(s["id"], s["property"], values.get(f"{s['id']}.{s['property']}"))
        for s in spec["state"]
    ]
    changed = (
        [trigger] if trigger else [prop_id(i["id"], i["property"]) for i in spec["inputs"][:1]]
    )
    return {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": inputs,
        "state": state,
        "changedPropIds": changed,
    }
