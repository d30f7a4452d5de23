"""The one URL sync: a page's state → its address bar, in the browser (see layouts.url_state)."""

from __future__ import annotations

from dash import ClientsideFunction, Dash, Input, Output, State

from layouts.url_state import UrlState


def register_url_state(app: Dash, spec: UrlState) -> None:
    """Keep the page's URL equal to `spec`'s state; call once from the page's `register`."""
    app.clientside_callback(
        ClientsideFunction(namespace="smd", function_name="syncUrl"),
        Output(spec.synced_id, "data"),
        [Input(cid, prop) for cid, prop in spec.params.values()],
        State(spec.spec_id, "data"),
    )
