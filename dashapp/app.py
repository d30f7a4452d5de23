"""`create_app(settings)`: the web tier's factory (Flask server + Dash app, no globals).

Everything a request needs hangs off the Flask app (`Services` in
`app.extensions`), so tests and gunicorn workers can build as many apps as they
like. Pages (layout and callbacks) come from the one registry, `pages.registry`;
every stylesheet, font and library is served from this origin (assets/vendor), and the
static layout is the data-free shell.
"""

from __future__ import annotations

import html as html_escape
from pathlib import Path
from typing import Any

from dash import Dash
from flask import Flask, request

from callbacks.database_errors import on_callback_error
from dashapp.clock import Clock
from dashapp.config import Settings
from dashapp.services import Services
from dashapp.signin import gate, routes
from dashapp.signin.device_scope import component_ids
from dashapp.web import callback_requests, database_errors, security_headers, shared_answers
from dashapp.web.export import export_blueprint
from dashapp.web.health import health_blueprint
from dashapp.web.index_page import META_TAGS, head_script, index_string
from dashapp.web.metrics import metrics_blueprint
from dashapp.web.security_headers import script_hash
from dashapp.web.uploads_api import uploads_blueprint
from layouts.shell import REFRESH, THEME_STORE, shell_layout
from pages.registry import (
    APP_TITLE,
    PAGES,
    kiosk_paths,
    register_callbacks,
    register_pages,
    title_for_path,
)

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"

# Linked explicitly, before the app's own assets/*.css, so our overrides win the cascade.
VENDOR_STYLESHEETS = (
    "vendor/bootstrap/css/bootstrap.min.css",
    "vendor/bootstrap-icons/font/bootstrap-icons.min.css",
)
# Vendored libraries our own assets/*.js use (Dash does not auto-include anything under vendor/).
VENDOR_SCRIPTS = ("vendor/crc-32/crc32.js",)  # smd-upload.js: each part's CRC32


class _ShellDash(Dash):
    """Dash whose first HTML response already carries the page's own tab title.

    Dash sets per-page titles only after its router callback answers; a wall
    screen's tab, a bookmark or a shared link should read right from the start.
    """

    def interpolate_index(self, **kwargs: Any) -> str:
        path = self.strip_relative_path(request.path) or ""
        kwargs["title"] = html_escape.escape(title_for_path(path))
        return super().interpolate_index(**kwargs)


def create_app(
    settings: Settings, *, services: Services | None = None, clock: Clock | None = None
) -> Dash:
    """Build the Dash app for `settings`; `services` (or just `clock`) may be injected by tests.

    `services`, when given, must have been built from the same settings: pages read
    settings through it at request time.
    """
    if services is not None and services.settings != settings:
        raise ValueError("create_app: services were built from different settings")
    svc = services or Services.build(settings, clock=clock)

    server = Flask("dashapp", static_folder=None)
    server.config.update(
        SECRET_KEY=settings.secret_key.get_secret_value(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    svc.attach(server)
    gate.install(server)  # first: every request is checked before any route runs
    routes.install(server, svc)
    server.register_blueprint(health_blueprint())
    server.register_blueprint(export_blueprint())
    server.register_blueprint(metrics_blueprint())
    server.register_blueprint(uploads_blueprint())

    app = _ShellDash(
        name="dashapp",
        server=server,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS_DIR),
        assets_path_ignore=["^vendor$"],
        serve_locally=True,
        compress=True,
        title=APP_TITLE,
        update_title=None,
        suppress_callback_exceptions=True,
        index_string=index_string(theme_store=THEME_STORE, kiosk_paths=kiosk_paths(PAGES)),
        meta_tags=META_TAGS,
        on_error=on_callback_error,
    )
    app.config.external_stylesheets = [app.get_asset_url(p) for p in VENDOR_STYLESHEETS]
    app.config.external_scripts = [app.get_asset_url(p) for p in VENDOR_SCRIPTS]
    register_pages(PAGES)
    app.layout = shell_layout(PAGES, settings.refresh_interval_s)
    register_callbacks(app, PAGES)
    callback_requests.install(server, app.callback_map)
    shared_answers.install(server, settings.shared_answer_s, REFRESH, svc.engine)
    server.extensions[gate.PAGE_IDS_KEY] = screen_page_ids(app.layout)
    head = head_script(theme_store=THEME_STORE, kiosk_paths=kiosk_paths(PAGES))
    database_errors.install(server)
    security_headers.install(
        server,
        settings,
        lambda: [script_hash(head), *app.csp_hashes()],  # Dash's come quoted
    )
    return app


def screen_page_ids(shell: Any) -> dict[str, frozenset[str]]:
    """Per page a wall screen may be held to: the ids of its components and the shell's."""
    around = component_ids(shell)
    return {
        page.path: frozenset(around | component_ids(page.layout()))
        for page in PAGES
        if page.path_template is None
    }
