"""Requests to `/_dash-update-component` built from the app's own callback map.

The body is what dash-renderer sends: the callback's `output` key, its outputs,
inputs and state as `{id, property, value}` (pattern-matching ids made concrete, a
list per ALL wildcard), and which inputs changed. Values are either what the
component could send (`plausible`) or any JSON a crafted request could carry.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import dash
from dash._utils import stringify_id
from hypothesis import strategies as st

from dashapp.signin.device_scope import component_ids, output_ids
from layouts import job_actions
from pages.athena import layout as athena_layout
from pages.logs import layout as logs_layout
from pages.registry import PAGES
from tests.reliability.strategies import (
    edge_ints,
    edge_text,
    hostile_text,
    iso_text,
    json_values,
)

# Every page's own path (callbacks gated on one, like the Access page's, run only there).
PATHS = tuple(sorted({p.path for p in PAGES} | {"/jobs/sales-orders-ingest", "/nowhere"}))
DOMAIN_TEXT = ("24h", "7d", "1h", "sales-orders-ingest", "jr_crm_2", "FAILED", "failed",
               "orders", "orders-api", "run:jr_crm_2", "function:orders-api", "SELECT 1",
               "SELECT * FROM t WHERE d = ?", "date 2026-11-01", "admin", "athena.run", "ok",
               "dark", "light", "Invocations", "2026-11-25T00:00", "q-1")  # fmt: skip
WILDCARD_VALUES = {"job": ("sales-orders-ingest", "no-such-job"), "run": ("jr_crm_2", "jr_none"),
                   "session": ("1", "2"), "token": ("1", "2"), "index": ("/", "/jobs")}  # fmt: skip


def _text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(DOMAIN_TEXT), hostile_text(), iso_text(), edge_text())


@functools.cache
def _page_ids() -> dict[str, frozenset[str]]:
    return {p.path: frozenset(component_ids(p.layout())) for p in PAGES if not p.path_template}


def home_paths(key: str) -> tuple[str, ...]:
    """The pages holding every output of callback `key`: a callback that acts only on its
    own page (the Access page's) is sent that pathname often enough to reach its actions."""
    ids = output_ids(key)
    return tuple(path for path, found in _page_ids().items() if all(i in found for i in ids))


def _field(name: str) -> st.SearchStrategy[Any]:
    if name in ("since", "until", "watch_renew_at"):
        return st.one_of(st.none(), st.just("2026-11-24T18:00:00Z"), iso_text())
    if name in ("cursor", "count"):
        return st.one_of(st.integers(0, 10**6), edge_ints())
    if name in ("trimmed", "live"):
        return st.booleans()
    if name == "source":
        kinds = st.sampled_from(["run:", "function:"])
        named = st.tuples(kinds, _text()).map("".join)
        return st.one_of(st.sampled_from(["run:jr_crm_2", "function:orders-api"]), named)
    if name == "action":
        return st.one_of(st.sampled_from(["stop", "rerun"]), _text())
    return st.one_of(st.none(), _text())


# The stores whose data is an object the server wrote, by component id (a pattern id's type).
STORE_FIELDS = {
    logs_layout.VIEW: ("source", "q", "level", "since", "until", "cursor", "count", "trimmed",
                       "live", "watch_renew_at", "run_state"),
    athena_layout.OPENED: ("q", "fork", "saved"),
    job_actions.RUN_PENDING: ("job", "action", "token"),
}  # fmt: skip


@st.composite
def stored_object(draw: st.DrawFn, fields: tuple[str, ...]) -> dict[str, Any]:
    """A store's object as the server wrote it (each field a value it could hold), then
    a field or two removed or replaced by any JSON, as a crafted request would."""
    found = {f: draw(_field(f)) for f in fields}
    for f in draw(st.lists(st.sampled_from(fields), max_size=2, unique=True)):
        if draw(st.booleans()):
            del found[f]
        else:
            found[f] = draw(json_values(2))
    return found


def plausible(component_id: Any, prop: str, home: tuple[str, ...] = ()) -> st.SearchStrategy[Any]:
    """What a component's property can really hold when the browser sends it (`home`: the
    pages the callback's outputs are on)."""
    name = component_id.get("type") if isinstance(component_id, dict) else component_id
    if prop == "data" and name in STORE_FIELDS:
        return st.one_of(stored_object(STORE_FIELDS[name]), st.none(), _text())
    if prop.startswith("n_"):
        return st.one_of(st.none(), st.integers(min_value=0, max_value=10**6))
    if prop == "pathname":
        return st.one_of(st.sampled_from(home or PATHS), st.sampled_from(PATHS))
    if prop == "search":
        return st.one_of(st.just(""), _text().map(lambda t: f"?range={t}"))
    if prop in ("value", "data", "href", "children", "className"):
        return st.one_of(
            st.none(), _text(), st.lists(_text(), max_size=3), st.booleans(), edge_ints()
        )
    if prop == "getRowsRequest":
        return st.fixed_dictionaries(
            {"startRow": st.integers(0, 1000), "endRow": st.integers(0, 1100)},
            optional={"sortModel": st.just([{"colId": "started_at", "sort": "desc"}])},
        )
    if prop in ("selectedRows", "cellClicked"):
        row = st.dictionaries(st.sampled_from(["run_id", "job_name", "id", "state"]), _text())
        return st.one_of(st.none(), st.lists(row, max_size=2), row)
    return json_values(6)


def _wild_kind(value: Any) -> str | None:
    for name in ("MATCH", "ALL", "ALLSMALLER"):
        if value is getattr(dash, name):
            return name
    return None


def _dependency(dep: Any) -> tuple[Any, str]:
    """(component id, property) of an Output/Input/State object or a callback-map dict."""
    if isinstance(dep, dict):
        raw = dep["id"]
        component_id = json.loads(raw) if raw.startswith("{") else raw
        if isinstance(component_id, dict):  # '["MATCH"]' in the map's stringified ids
            component_id = {
                k: getattr(dash, v[0]) if isinstance(v, list) and v else v
                for k, v in component_id.items()
            }
        return component_id, dep["property"]
    return dep.component_id, dep.component_property.split("@")[0]


def wildcard_values(key: str, crafted: bool) -> st.SearchStrategy[Any]:
    """What a wildcard key of a pattern-matching id holds: the page's own names, and the
    text a crafted request puts there (a component id is no safer than a text box)."""
    shown = st.sampled_from(WILDCARD_VALUES.get(key, ("x",)))
    numbers = st.sampled_from(("1", "0", "-1", "1.5"))
    edge = st.one_of(shown, numbers, hostile_text(), edge_text(), edge_ints(), st.booleans())
    return st.one_of(edge, json_values(3)) if crafted else edge


@st.composite
def update_requests(
    draw: st.DrawFn, key: str, spec: dict[str, Any], crafted: bool | None = None
) -> dict[str, Any]:
    """A `/_dash-update-component` body for the callback `key` of `app.callback_map`;
    values any JSON when `crafted`, what the components send when not, either when None.

    A MATCH wildcard takes one value across the request (as the renderer sends it);
    an ALL or ALLSMALLER one a list of ids, as long as every other's unless crafted."""
    crafted = draw(st.booleans()) if crafted is None else crafted
    home = home_paths(key)
    shared_count = draw(st.integers(0, 3))
    matched: dict[str, Any] = {}

    def wildcard(name: str, kind: str) -> Any:
        if kind == "MATCH":
            if name not in matched:
                matched[name] = draw(wildcard_values(name, crafted))
            return matched[name]
        return draw(wildcard_values(name, crafted))

    def concrete(component_id: Any) -> Any:
        """One id (str or dict) for MATCH or none, a list of ids for ALL/ALLSMALLER."""
        if not isinstance(component_id, dict):
            return component_id
        kinds = {_wild_kind(v) for v in component_id.values()} - {None}

        def make() -> dict[str, Any]:
            return {
                k: (wildcard(k, kind) if (kind := _wild_kind(v)) else v)
                for k, v in component_id.items()
            }

        if kinds <= {"MATCH"}:
            return make()
        count = draw(st.integers(0, 3)) if crafted else shared_count
        return [make() for _ in range(count)]

    def entry(cid: Any, prop: str, with_value: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"id": cid, "property": prop}
        if with_value:
            if prop == "id":
                out["value"] = cid
            else:
                out["value"] = draw(json_values(6) if crafted else plausible(cid, prop, home))
        return out

    def entries(deps: list[Any], with_value: bool) -> list[Any]:
        built: list[Any] = []
        for dep in deps:
            component_id, prop = _dependency(dep)
            cid = concrete(component_id)
            if isinstance(cid, list):
                built.append([entry(c, prop, with_value) for c in cid])
            else:
                built.append(entry(cid, prop, with_value))
        return built

    output = spec["output"]
    outputs: Any = entries(output if isinstance(output, list) else [output], False)
    if not isinstance(output, list):
        outputs = outputs[0]
    inputs = entries(spec["inputs"], True)
    state = entries(spec["state"], True)
    flat = [i for item in inputs for i in (item if isinstance(item, list) else [item])]
    changed = draw(st.lists(st.sampled_from(flat), unique_by=id, max_size=2)) if flat else []
    return {
        "output": key,
        "outputs": outputs,
        "inputs": inputs,
        "state": state,
        "changedPropIds": [f"{stringify_id(i['id'])}.{i['property']}" for i in changed],
    }
