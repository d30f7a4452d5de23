"""`create_app`: the served page, its assets, its pages, and apps that share nothing."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path

import dash
import pytest
from sqlalchemy.orm import Session, sessionmaker

from dashapp.app import ASSETS_DIR, VENDOR_SCRIPTS, VENDOR_STYLESHEETS, create_app
from dashapp.config import Settings
from dashapp.services import Services, services
from layouts import shell
from pages.job_detail import layout as job_detail
from pages.overview import layout as overview
from pages.pipelines import layout as pipelines
from pages.registry import NOT_FOUND, PAGES
from pages.system import layout as system
from pages.wall import layout as wall
from tests.web.conftest import NOW
from tests.web.seed import collector
from tests.web.tree import ids


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/", "Overview · Serverless Management Dashboard"),
        ("/pipelines", "Pipelines · Serverless Management Dashboard"),
        ("/jobs/sales-orders-ingest", "Job detail · Serverless Management Dashboard"),
        ("/jobs/a/b", "Page not found · Serverless Management Dashboard"),
        ("/wall", "Wall screen · Serverless Management Dashboard"),
        ("/system", "System status · Serverless Management Dashboard"),
        ("/system/", "System status · Serverless Management Dashboard"),
        ("/no-such-page", "Page not found · Serverless Management Dashboard"),
    ],
)
def test_index_page_language_viewport_and_title(app: dash.Dash, path: str, title: str) -> None:
    response = app.server.test_client().get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(r'<html lang="en"[ >]', page)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert f"<title>{title}</title>" in page
    # The stored theme is applied by a script in <head>, before any stylesheet.
    head = page.split("</head>")[0]
    assert head.index('setAttribute("data-bs-theme"') < head.index('rel="stylesheet"')
    # Kiosk pages are marked before first paint too (the list comes from the page table).
    assert 'var p=["/wall"]' in head


def test_index_page_references_only_its_own_origin(app: dash.Dash) -> None:
    page = app.server.test_client().get("/").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="([^"]+)"', page)
    assert urls, "no assets referenced at all"
    assert [u for u in urls if not u.startswith("/")] == []
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    # Bootstrap first, then icons, then our own CSS (which must win the cascade).
    assert stylesheets[:2] == [f"/assets/{p}" for p in VENDOR_STYLESHEETS]
    assert all("/assets/smd-" in s for s in stylesheets[2:])
    assert len(stylesheets) > 2


def test_vendored_files_are_served_with_their_licences(app: dash.Dash) -> None:
    client = app.server.test_client()
    for path in (
        *VENDOR_STYLESHEETS,
        "vendor/bootstrap-icons/font/fonts/bootstrap-icons.woff2",
        "vendor/bootstrap-icons/font/fonts/bootstrap-icons.woff",
    ):
        response = client.get(f"/assets/{path}")
        assert response.status_code == 200, path
        response.close()
    css = (ASSETS_DIR / VENDOR_STYLESHEETS[0]).read_text(encoding="utf-8")
    assert "Bootstrap  v5.3." in css
    for package in ("bootstrap", "bootstrap-icons"):
        assert "MIT License" in (ASSETS_DIR / "vendor" / package / "LICENSE").read_text()
    assert "npm pack" in (ASSETS_DIR / "vendor" / "README.md").read_text()


def test_the_vendored_crc32_script_loads_before_the_upload_script(app: dash.Dash) -> None:
    client = app.server.test_client()
    (script,) = VENDOR_SCRIPTS
    response = client.get(f"/assets/{script}")
    assert response.status_code == 200
    assert b"crc32.js (C) 2014-present SheetJS" in response.get_data()
    response.close()
    licence = (ASSETS_DIR / "vendor" / "crc-32" / "LICENSE").read_text()
    assert "Apache License" in licence and "Version 2.0" in licence
    page = client.get("/").get_data(as_text=True)
    scripts = re.findall(r'<script src="([^"]+)"', page)
    crc = scripts.index(f"/assets/{script}")
    upload = next(i for i, s in enumerate(scripts) if "/assets/smd-upload.js" in s)
    assert crc < upload


def test_no_stylesheet_or_font_points_off_origin() -> None:
    offenders = []
    for css in Path(ASSETS_DIR).rglob("*.css"):
        source = css.read_text(encoding="utf-8")
        if "@import" in source:
            offenders.append(f"{css.name}: @import")
        for url in re.findall(r"url\(([^)]*)\)", source):
            target = url.strip("'\" ")
            if re.match(r"^(https?:)?//", target):
                offenders.append(f"{css.name}: {target}")
    assert offenders == []


def test_pages_are_registered_explicitly(app: dash.Dash) -> None:
    registered = {p["module"]: p for p in dash.page_registry.values()}
    for spec in (*PAGES, NOT_FOUND):
        page = registered[spec.module]
        # The router calls the layout through `payload.narrowed_layout` (one text per name).
        assert (page["path"], page["title"], inspect.unwrap(page["layout"])) == (
            spec.path,
            spec.title,
            spec.layout,
        )
    paths = [p.path for p in PAGES]
    assert paths[:4] == [overview.PATH, job_detail.PATH, wall.PATH, pipelines.PATH]
    assert system.PATH in paths and len(set(paths)) == len(paths)
    assert registered["pages.job_detail"]["path_template"] == "/jobs/<job_name>"


def test_every_callback_output_exists_in_some_layout(app: dash.Dash) -> None:
    present = {i for i in ids(shell.shell_layout(PAGES, 5)) if isinstance(i, str)}
    with app.server.test_request_context("/"):  # job controls ask who is signed in
        for spec in (*PAGES, NOT_FOUND):
            query = {"job_name": "j"} if spec.path_template else {}
            present |= {i for i in ids(spec.layout(**query)) if isinstance(i, str)}
    outputs = set()
    for key in app.callback_map:
        for part in key.strip(".").split("..."):
            component = part.rsplit(".", 1)[0]
            if component.startswith("{"):
                continue  # pattern-matching nav links
            outputs.add(component)
    assert outputs - present == set()


def test_static_layout_and_settings(app: dash.Dash, settings: Settings) -> None:
    assert app.title == "Serverless Management Dashboard"
    assert app.server.secret_key == settings.secret_key.get_secret_value()
    assert app.config.suppress_callback_exceptions is True
    assert app.config.update_title is None  # no "Updating..." flicker on wall screens


def test_two_apps_in_one_process_keep_their_own_services(
    settings: Settings,
    make_services: Callable[[Settings], Services],
    sessions: sessionmaker[Session],
    unmigrated_url: str,
) -> None:
    with sessions.begin() as session:
        session.add(collector("glue_runs", NOW, ok_ago_s=1))
    other = Settings(database_url=unmigrated_url, _env_file=None)
    first = create_app(settings, services=make_services(settings))
    second = create_app(other, services=make_services(other))
    assert first.server.test_client().get("/readyz").status_code == 200
    assert second.server.test_client().get("/readyz").status_code == 503
    assert services(first.server) is not services(second.server)


def test_services_must_match_the_settings(
    settings: Settings, make_services: Callable[[Settings], Services]
) -> None:
    other = Settings(database_url=settings.database_url, refresh_interval_s=9, _env_file=None)
    with pytest.raises(ValueError, match="different settings"):
        create_app(other, services=make_services(settings))
