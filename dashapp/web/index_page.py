"""The HTML page Dash serves for every route: language, theme before first paint, no landmarks.

Dash's default template has no `lang` and applies a stored theme only after the
app has rendered, which flashes light on a dark wall screen. Here a tiny inline
script in `<head>` sets `data-bs-theme` on `<html>` from what the theme toggle
stored in localStorage (the `dcc.Store` JSON-encodes its value under its id),
falling back to the operating system's preference, before any stylesheet applies.
A second one marks kiosk pages (the wall) the same way, so the navbar never shows
on a wall screen while the app starts; the shell's callback keeps the class right
when the user navigates.

The theme store's id and the kiosk paths are given by `create_app`, which owns the
shell and the page registry: this module sits below layouts and pages, which use the
web tier, so it must not import them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence


def theme_bootstrap_script(theme_store: str) -> str:
    return (
        "(function(){var t;"
        f'try{{t=JSON.parse(window.localStorage.getItem("{theme_store}"))}}catch(e){{}}'
        'if(t!=="light"&&t!=="dark"){t=window.matchMedia&&'
        'window.matchMedia("(prefers-color-scheme: dark)").matches?"dark":"light"}'
        'document.documentElement.setAttribute("data-bs-theme",t)})();'
    )


def kiosk_bootstrap_script(kiosk_paths: Sequence[str]) -> str:
    return (
        f"(function(){{var p={json.dumps(list(kiosk_paths))};"
        'var h="/"+window.location.pathname.replace(/^\\/+|\\/+$/g,"");'
        'if(p.indexOf(h)!==-1){document.documentElement.classList.add("smd-kiosk","smd-wall")}})();'
    )


def head_script(*, theme_store: str, kiosk_paths: Sequence[str]) -> str:
    """The one inline script of the page's <head>; the CSP allows it by its hash."""
    return theme_bootstrap_script(theme_store) + kiosk_bootstrap_script(kiosk_paths)


def index_string(*, theme_store: str, kiosk_paths: Sequence[str]) -> str:
    """Dash's template with `lang` and both pre-paint scripts, which must run before any CSS."""
    scripts = head_script(theme_store=theme_store, kiosk_paths=kiosk_paths)
    return f"""<!DOCTYPE html>
<html lang="en" data-bs-theme="light">
    <head>
        {{%metas%}}
        <title>{{%title%}}</title>
        <script>{scripts}</script>
        {{%favicon%}}
        {{%css%}}
    </head>
    <body>
        {{%app_entry%}}
        {{%config%}}
        {{%scripts%}}
        {{%renderer%}}
    </body>
</html>"""


META_TAGS = [
    {"name": "viewport", "content": "width=device-width, initial-scale=1"},
    {"name": "color-scheme", "content": "light dark"},
]
