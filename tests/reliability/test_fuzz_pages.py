"""Every page's `layout(**query)` under random URLs, through Dash's own page router.

A shared link, a bookmark or a hand-edited address reaches the layout as keyword
arguments: Dash's router parses the query string (a repeated key arrives as a list of
strings) and, on a templated page, the query can even override the path variable. Any
of those must open the page, with a notice where a value is refused; an exception is a
blank page and a 500.
"""

from __future__ import annotations

import importlib
import json
from urllib.parse import quote

import dash
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pages.registry import NOT_FOUND, PAGES
from tests.reliability.conftest import examples
from tests.reliability.strategies import edge_text, hostile_text, iso_text
from tests.signin.dash_calls import body


def _page_keys() -> list[str]:
    """Every query parameter a page writes to its URL, and those links to it carry."""
    keys = {"q", "fork", "saved", "run", "function", "fn", "jump", "upload", "compare", "since",
            "until", "job_name", "range", "t", "next"}  # fmt: skip
    for page in PAGES:
        spec = getattr(importlib.import_module(f"{page.module}.layout"), "URL_STATE", None)
        if spec is not None:
            keys |= {*spec.params, *spec.keep, *spec.split}
    return sorted(keys)


KEYS = _page_keys()
PATHS = [*(p.path for p in PAGES if not p.path_template), "/jobs/sales-orders-ingest",
         "/jobs/%F0%9F%9A%80", "/jobs/%ED%A0%80", "/jobs/a%00b", NOT_FOUND.path]  # fmt: skip
ROUTER = "_pages_content.children"


def query_strings() -> st.SearchStrategy[str]:
    """`?k=v&…`: the pages' own keys and any others, values of every kind, keys repeated."""
    value = st.one_of(hostile_text(), iso_text(), edge_text(), st.sampled_from(["24h", "FAILED"]))
    key = st.one_of(st.sampled_from(KEYS), edge_text())
    pairs = st.lists(st.tuples(key, value), max_size=6)
    repeated = st.tuples(st.sampled_from(KEYS), st.lists(value, min_size=2, max_size=3)).map(
        lambda kv: [(kv[0], v) for v in kv[1]]
    )
    encoded = st.tuples(pairs, st.one_of(st.just([]), repeated)).map(
        lambda pr: "&".join(
            f"{quote(k, '', errors='surrogatepass')}={quote(v, '', errors='surrogatepass')}"
            for k, v in pr[0] + pr[1]
        )
    )
    return st.one_of(encoded.map(lambda q: f"?{q}"), edge_text())


def _router_key(app: dash.Dash) -> str:
    app.server.test_client().get("/_dash-layout")  # Dash adds its router on the first request
    (key,) = [k for k in app.callback_map if ROUTER in k]
    return key


def test_a_page_opens_from_any_address(fuzz_app: dash.Dash) -> None:
    """`?state=a&state=b` reached `.upper()` of a list on the Athena and job pages (500s);
    `/jobs/x?job_name=a&job_name=b` handed the job page a list for its job."""
    key = _router_key(fuzz_app)
    client = fuzz_app.server.test_client()
    repeated = "?range=1h&range=2h&state=a&state=b&q=x&q=y&run=a&run=b&saved=1&saved=2"

    @settings(max_examples=examples(300))
    @given(path=st.sampled_from(PATHS), search=query_strings())
    @example(path="/athena", search="?state=a&state=b")
    @example(path="/jobs/sales-orders-ingest", search="?job_name=a&job_name=b")
    def check(path: str, search: str) -> None:
        values = {"_pages_location.pathname": path, "_pages_location.search": search}
        payload = body(fuzz_app, key, values, trigger="_pages_location.pathname")
        response = client.post("/_dash-update-component", json=payload)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert json.loads(response.get_data(as_text=True))["response"]["_pages_content"]

    for path in PATHS:  # every page once with every parameter repeated
        check.hypothesis.inner_test(path=path, search=repeated)
    check()
