"""A callback request must have the shape of the callback it names before Dash runs it.

Dash trusts the body of `/_dash-update-component`: an unknown `output`, a missing or
short list of inputs, an entry without `property`, an output id that is not the
callback's, or a `changedPropIds` entry that is not JSON each raise inside Dash's
dispatch, a 500 with a traceback in the log. dash-renderer never sends such a body; a
crafted, truncated or stale one (a page loaded before a deploy changed a callback)
does. Each is answered here with one 400 line; what passes is exactly what the
renderer sends, so each callback narrows only the values (`callbacks.payload`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from dash import ALL, ALLSMALLER, MATCH
from dash._utils import clean_property_name
from dash.dependencies import DashDependency, Output
from flask import Flask, Response, request

UPDATE_PATH = "/_dash-update-component"
_WILDCARDS = {"ALL": ALL, "ALLSMALLER": ALLSMALLER, "MATCH": MATCH}
_ID_VALUE_TYPES = (str, int, float, bool)  # what a pattern-matching id may hold


class MalformedCallback(ValueError):
    """The request cannot be the one dash-renderer sends for the callback it names."""


def _declared(dep: Any) -> DashDependency:
    """A callback map's dependency (an Output, or an `{id, property}` dict with the id as
    JSON text, wildcards as `["ALL"]`) as a Dash dependency to compare against."""
    if isinstance(dep, DashDependency):
        return dep
    raw = dep["id"]
    component_id: Any = raw
    if raw.startswith("{"):
        component_id = {
            k: _WILDCARDS[v[0]] if isinstance(v, list) and v else v
            for k, v in json.loads(raw).items()
        }
    return Output(component_id, dep["property"])


def _is_many(dep: DashDependency) -> bool:
    """Whether the renderer sends a list of entries for `dep` (an ALL or ALLSMALLER id)."""
    ids = dep.component_id
    return isinstance(ids, dict) and any(v is ALL or v is ALLSMALLER for v in ids.values())


def _check_entry(entry: Any, dep: DashDependency, where: str) -> None:
    if not isinstance(entry, Mapping):
        raise MalformedCallback(f"{where}: each entry is an object with id and property")
    component_id, prop = entry.get("id"), entry.get("property")
    if not isinstance(prop, str) or not isinstance(component_id, str | dict):
        raise MalformedCallback(f"{where}: each entry names a component id and a property")
    if isinstance(component_id, dict) and not all(
        isinstance(v, _ID_VALUE_TYPES) for v in component_id.values()
    ):
        raise MalformedCallback(f"{where}: an id's values are text, numbers or booleans")
    declared = DashDependency(dep.component_id, clean_property_name(dep.component_property))
    if Output(component_id, clean_property_name(prop)) != declared:
        raise MalformedCallback(f"{where}: {prop!r} of another component than the callback's")


def _check_group(sent: Any, declared: list[DashDependency], where: str) -> None:
    if not isinstance(sent, list) or len(sent) != len(declared):
        raise MalformedCallback(f"{where}: one entry per declared {where[:-1]}")
    for item, dep in zip(sent, declared, strict=True):
        if _is_many(dep):
            if not isinstance(item, list):
                raise MalformedCallback(f"{where}: a pattern (ALL) entry is a list")
            for entry in item:
                _check_entry(entry, dep, where)
        else:
            _check_entry(item, dep, where)


def _check_changed(changed: Any) -> None:
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        raise MalformedCallback("changedPropIds: a list of 'id.property' texts")
    for prop_id in changed:
        component_id = prop_id.rpartition(".")[0]
        if component_id.startswith("{"):
            try:
                parsed = json.loads(component_id)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                raise MalformedCallback("changedPropIds: a pattern id is a JSON object")


def check_body(body: Any, callback_map: Mapping[str, Mapping[str, Any]]) -> None:
    """Raise `MalformedCallback` unless `body` has the shape the renderer sends for the
    server-side callback it names."""
    if not isinstance(body, Mapping):
        raise MalformedCallback("the body is a JSON object")
    key = body.get("output")
    spec = callback_map.get(key) if isinstance(key, str) else None
    if spec is None or "callback" not in spec:
        raise MalformedCallback("output names no server-side callback of this app")
    if not spec.get("no_output"):
        declared = spec["output"]
        if isinstance(declared, list):
            _check_group(body.get("outputs"), [_declared(d) for d in declared], "outputs")
        else:
            _check_group([body.get("outputs")], [_declared(declared)], "outputs")
    _check_group(body.get("inputs"), [_declared(d) for d in spec["inputs"]], "inputs")
    _check_group(body.get("state", []), [_declared(d) for d in spec["state"]], "states")
    _check_changed(body.get("changedPropIds", []))


def install(server: Flask, callback_map: Mapping[str, Mapping[str, Any]]) -> None:
    """Check every callback request (after the sign-in gate) against `callback_map`."""

    def _check() -> Response | None:
        if request.path != UPDATE_PATH or request.method != "POST" or not request.is_json:
            return None  # not JSON at all: Flask answers 415 as it always did
        try:
            check_body(request.get_json(silent=True), callback_map)
        except MalformedCallback as e:
            return Response(f"Malformed callback request: {e}\n", 400, mimetype="text/plain")
        return None

    server.before_request(_check)
