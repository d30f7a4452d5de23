"""Requests to `/_dash-update-component` built from the app's own callback map.

The body is what dash-renderer sends: the callback's `output` key, its outputs,
inputs and state as `{id, property, value}` (pattern-matching ids made concrete, a
list per ALL wildcard), and which inputs changed. Values are either what the
component could send (`plausible`) or any JSON a crafted request could carry.
"""

from __future__ import annotations

import json
from typing import Any

import dash
from dash._utils import stringify_id
from hypothesis import strategies as st

from tests.reliability.strategies import edge_ints, edge_text, iso_text, json_values

PATHS = ("/", "/jobs/sales-orders-ingest", "/wall", "/pipelines", "/system", "/lambda",
         "/logs", "/athena", "/upload", "/uploads", "/failures", "/audit", "/nowhere")  # fmt: skip
DOMAIN_TEXT = ("24h", "7d", "1h", "sales-orders-ingest", "jr_crm_2", "FAILED", "failed",
               "orders", "orders-api", "run:jr_crm_2", "function:orders-api", "SELECT 1",
               "SELECT * FROM t WHERE d = ?", "date 2026-11-01", "admin", "athena.run", "ok",
               "dark", "light", "Invocations", "2026-11-25T00:00", "q-1")  # fmt: skip
WILDCARD_VALUES = {"job": ("sales-orders-ingest", "no-such-job"), "run": ("jr_crm_2", "jr_none")}


def _text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(DOMAIN_TEXT), iso_text(), edge_text())


def plausible(prop: str) -> st.SearchStrategy[Any]:
    """What a component's property can really hold when the browser sends it."""
    if prop.startswith("n_"):
        return st.one_of(st.none(), st.integers(min_value=0, max_value=10**6))
    if prop == "pathname":
        return st.sampled_from(PATHS)
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


def _concrete(component_id: Any, key_value: str, count: int) -> Any:
    """One id (str or dict) for MATCH, a list of `count` ids for ALL/ALLSMALLER."""
    if not isinstance(component_id, dict):
        return component_id
    kinds = {_wild_kind(v) for v in component_id.values()} - {None}
    if not kinds:
        return dict(component_id)

    def make(suffix: str) -> dict[str, Any]:
        return {
            k: (f"{key_value}{suffix}" if _wild_kind(v) else v) for k, v in component_id.items()
        }

    if kinds == {"MATCH"}:
        return make("")
    return [make(f"-{i}" if i else "") for i in range(count)]


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


@st.composite
def update_requests(
    draw: st.DrawFn, key: str, spec: dict[str, Any], crafted: bool | None = None
) -> dict[str, Any]:
    """A `/_dash-update-component` body for the callback `key` of `app.callback_map`;
    values any JSON when `crafted`, what the components send when not, either when None."""
    crafted = draw(st.booleans()) if crafted is None else crafted
    count = draw(st.integers(0, 3))

    def wildcard_value(component_id: Any) -> str:
        names = (
            [k for k, v in component_id.items() if _wild_kind(v)]
            if isinstance(component_id, dict)
            else []
        )
        choices = WILDCARD_VALUES.get(names[0], ("x",)) if names else ("x",)
        return draw(st.sampled_from(choices))

    key_values: dict[str, str] = {}

    def concrete(component_id: Any) -> Any:
        marker = "static" if not isinstance(component_id, dict) else ",".join(sorted(component_id))
        if marker not in key_values:
            key_values[marker] = wildcard_value(component_id)
        return _concrete(component_id, key_values[marker], count)

    def entry(cid: Any, prop: str, with_value: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"id": cid, "property": prop}
        if with_value:
            if prop == "id":
                out["value"] = cid
            else:
                out["value"] = draw(json_values(6) if crafted else plausible(prop))
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
