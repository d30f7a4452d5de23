"""The time range picker every page can show: relative presets plus an absolute from/to.

Ids derive from a page key (`range_ids("overview")`), so several pages (and the
tests) can hold pickers without clashing. The picker's current `range=` text lives
in a `dcc.Store` (`RangeIds.value`): data callbacks read that store, never the
inputs, so a half-typed date never reaches a query. How a page uses it is in the
docstring of `dashapp/timerange.py`; the callbacks are `callbacks.timerange`.

Presets are radio buttons (arrow keys move between them, one tab stop); the custom
range is two `datetime-local` inputs read as UTC and an Apply button.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp.timerange import PRESETS, SEPARATOR, local_input_value, parse_range
from layouts.components import icon

CUSTOM = "custom"
_ANY_NOW = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class RangeIds:
    """Component ids of one page's picker."""

    root: str
    preset: str
    since: str
    until: str
    apply: str
    error: str
    value: str
    custom: str


def range_ids(page: str) -> RangeIds:
    """The ids of the picker on `page` (a short key such as 'overview')."""
    base = f"{page}-range"
    return RangeIds(
        root=base,
        preset=f"{base}-preset",
        since=f"{base}-since",
        until=f"{base}-until",
        apply=f"{base}-apply",
        error=f"{base}-error",
        value=f"{base}-value",
        custom=f"{base}-custom",
    )


def preset_of(value: str) -> str:
    """Which radio is checked for a `range=` value: its preset, else 'custom'."""
    return value if value in PRESETS else CUSTOM


def _input_values(value: str) -> tuple[str, str]:
    """From/to shown in the custom inputs when the range is absolute; empty otherwise."""
    if SEPARATOR not in value:
        return "", ""
    try:
        found = parse_range(value, _ANY_NOW)  # absolute: `now` plays no part
    except ValueError:
        return "", ""
    return local_input_value(found.since), local_input_value(found.until)


def time_range_picker(page: str, value: str, error: str | None = None) -> html.Div:
    """The picker for `page` showing `value`; `error` (e.g. a bad link) is shown under it."""
    ids = range_ids(page)
    since, until = _input_values(value)
    options = [{"label": p, "value": p} for p in PRESETS] + [{"label": "Custom", "value": CUSTOM}]
    return html.Div(
        [
            html.Span(
                [icon("clock-history", "me-1"), "Time range"],
                id=f"{ids.root}-label",
                className="smd-range-label",
            ),
            html.Div(
                dbc.RadioItems(
                    id=ids.preset,
                    options=options,
                    value=preset_of(value),
                    inline=True,
                    className="smd-range-presets",
                    labelClassName="smd-range-option",
                    labelCheckedClassName="smd-range-option--on",
                ),
                role="radiogroup",
                **{"aria-labelledby": f"{ids.root}-label"},
            ),
            html.Div(
                [
                    html.Label("From (UTC)", htmlFor=ids.since, className="form-label mb-0"),
                    dbc.Input(
                        id=ids.since,
                        type="datetime-local",
                        value=since,
                        size="sm",
                        className="smd-range-input",
                    ),
                    html.Label("To (UTC)", htmlFor=ids.until, className="form-label mb-0"),
                    dbc.Input(
                        id=ids.until,
                        type="datetime-local",
                        value=until,
                        size="sm",
                        className="smd-range-input",
                    ),
                    html.Button(
                        "Apply",
                        id=ids.apply,
                        type="button",
                        className="btn btn-sm btn-outline-primary",
                    ),
                ],
                id=ids.custom,
                className="d-flex flex-wrap align-items-center gap-2 smd-range-custom",
            ),
            html.Div(
                error or "",
                id=ids.error,
                role="alert",
                className="smd-range-error small" + ("" if error else " d-none"),
            ),
            dcc.Store(id=ids.value, data=value),
        ],
        id=ids.root,
        className="smd-range d-flex flex-wrap align-items-center gap-3",
    )
