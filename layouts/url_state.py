"""How a page's state is written back to its URL, so a copied link reopens the same view.

Every page states its URL once, as a `UrlState`: which query parameter each piece of
state is, held by which component property, and which values the link leaves out.
The page's layout renders `url_stores(spec)` and its `register(app)` calls
`callbacks.url_state.register_url_state(app, spec)`; one clientside function
(`smd.syncUrl`, assets/smd-url.js) then keeps the address bar equal to the state with
`history.replaceState`: no server round trip while typing, no page reload and no
history entry per keystroke. It encodes like `dashapp.timerange.permalink_search`
(the server's links), so a link built either way reads the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dash import dcc


@dataclass(frozen=True)
class UrlState:
    """A page's URL contract: query parameter → the (component id, property) holding it."""

    page: str
    params: Mapping[str, tuple[str, str]]
    # Values equal to their default are left out, so a default view has a short link.
    defaults: Mapping[str, str] = field(default_factory=dict)
    # Parameters the page was opened with that stay in the link (e.g. logs' `jump=`).
    keep: tuple[str, ...] = ()
    # Parameters whose "kind:name" value is written as `kind=name` (logs' run / function).
    split: tuple[str, ...] = ()

    @property
    def spec_id(self) -> str:
        return f"{self.page}-url-spec"

    @property
    def synced_id(self) -> str:
        """The store the clientside sync writes the URL it set to (what tests can read)."""
        return f"{self.page}-url-synced"

    def client_spec(self) -> dict[str, Any]:
        return {
            "names": list(self.params),
            "defaults": dict(self.defaults),
            "keep": list(self.keep),
            "split": list(self.split),
        }


def url_stores(spec: UrlState) -> list[dcc.Store]:
    """The two stores a page's layout renders for its URL sync."""
    return [dcc.Store(id=spec.spec_id, data=spec.client_spec()), dcc.Store(id=spec.synced_id)]
