"""The time range picker's callback: presets and custom from/to → the picker's value store.

`register_time_range(app, page)` wires the picker that `layouts.timerange.time_range_picker`
drew for `page`. The decision is `picker_change`, a pure function: a preset sets the
range at once; "Custom" waits for Apply; Apply validates from/to (UTC) and either sets
the absolute range or shows why not, leaving the current range in place. Pages then
read `Input(range_ids(page).value, "data")` and name it in their `UrlState`
(layouts/url_state.py), which keeps it in the URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from dash import Dash, Input, Output, State, ctx, no_update

from callbacks import payload
from dashapp.timerange import TimeRangeError, custom_range
from layouts.timerange import CUSTOM, range_ids

ERROR_CLASS = "smd-range-error small"


@dataclass(frozen=True)
class PickerChange:
    """What a picker interaction changes: the range (None: keep), the preset shown, the error."""

    value: str | None
    preset: str | None
    error: str


def picker_change(
    trigger: str, preset: str | None, since: str | None, until: str | None
) -> PickerChange:
    """The picker's reaction to `trigger` ('preset' or 'apply')."""
    if trigger == "apply":
        try:
            value = custom_range(since, until)
        except TimeRangeError as e:
            return PickerChange(None, None, f"Range not changed: {e}.")
        return PickerChange(value, CUSTOM, "")
    if preset and preset != CUSTOM:
        return PickerChange(preset, None, "")
    return PickerChange(None, None, "")


def register_time_range(app: Dash, page: str) -> None:
    """Wire the picker of `page`: call once per page from that page's `register(app)`."""
    ids = range_ids(page)

    @app.callback(
        Output(ids.value, "data"),
        Output(ids.preset, "value"),
        Output(ids.error, "children"),
        Output(ids.error, "className"),
        Input(ids.preset, "value"),
        Input(ids.apply, "n_clicks"),
        State(ids.since, "value"),
        State(ids.until, "value"),
        prevent_initial_call=True,
    )
    def _picker(
        preset: str | None, _clicks: int | None, since: str | None, until: str | None
    ) -> tuple[object, object, str, str]:
        trigger = "apply" if ctx.triggered_id == ids.apply else "preset"
        change = picker_change(trigger, payload.text(preset), since, until)
        return (
            change.value if change.value is not None else no_update,
            change.preset if change.preset is not None else no_update,
            change.error,
            ERROR_CLASS if change.error else ERROR_CLASS + " d-none",
        )
