"""One way to keep page state in the URL: every page's `UrlState` names what its layout draws."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from layouts.url_state import UrlState
from pages.registry import PAGES
from tests.web.tree import ids

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = {
    "overview": {},
    "job_detail": {"job_name": "nightly"},
    "lambda_monitor": {},
    "logs": {},
    "audit": {},
    "uploads": {},
    "failures": {},
}


@pytest.mark.parametrize("page", sorted(SAMPLE))
def test_every_component_a_pages_url_names_is_drawn_by_its_layout(page: str) -> None:
    layout = importlib.import_module(f"pages.{page}.layout")
    spec: UrlState = layout.URL_STATE
    drawn = {i for i in ids(layout.layout(**SAMPLE[page])) if isinstance(i, str)}
    assert {spec.spec_id, spec.synced_id} <= drawn
    missing = {cid for cid, _prop in spec.params.values()} - drawn
    assert not missing, f"{page}'s URL names components its layout does not draw: {missing}"
    assert set(spec.defaults) <= set(spec.params) | set(spec.keep)


def test_pages_with_a_range_picker_keep_it_in_their_url() -> None:
    for page in PAGES:
        layout = importlib.import_module(page.module + ".layout")
        source = Path(layout.__file__).read_text()
        if "time_range_picker(" in source:
            assert "range" in layout.URL_STATE.params, page.module


def test_no_page_writes_its_url_any_other_way() -> None:
    """No server callback sets a Location's search, and no asset calls replaceState but one."""
    for path in [*ROOT.glob("pages/**/*.py"), *ROOT.glob("callbacks/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Output":
                args = [a.value for a in node.args if isinstance(a, ast.Constant)]
                assert "search" not in args, f"{path}: Output(..., 'search')"
    writers = [p.name for p in ROOT.glob("assets/*.js") if "replaceState" in p.read_text()]
    assert writers == ["smd-url.js"]
