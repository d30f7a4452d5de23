"""The HTML page Dash serves for every route: language, theme before first paint, no landmarks.

Dash's default template has no `lang` and applies a stored theme only after the
app has rendered, which flashes light on a dark wall screen. Here a tiny inline
script in `<head>` sets `data-bs-theme` on `<html>` from what the theme toggle
stored in localStorage (the `dcc.Store` JSON-encodes its value under its id),
falling back to the operating system's preference, before any stylesheet applies.
A second one marks kiosk pages (the wall) the same way, so the navbar never shows
on a wall screen while the app starts; the shell's callback keeps the class right
when the user navigates.
"""

from __future__ import annotations

import json

from layouts.shell import THEME_STORE
from pages.registry import kiosk_paths

THEME_BOOTSTRAP_SCRIPT = (
    "(function(){var t;"
    f'try{{t=JSON.parse(window.localStorage.getItem("{THEME_STORE}"))}}catch(e){{}}'
    'if(t!=="light"&&t!=="dark"){t=window.matchMedia&&'
    'window.matchMedia("(prefers-color-scheme: dark)").matches?"dark":"light"}'
    'document.documentElement.setAttribute("data-bs-theme",t)})();'
)

KIOSK_BOOTSTRAP_SCRIPT = (
    f"(function(){{var p={json.dumps(list(kiosk_paths()))};"
    'var h="/"+window.location.pathname.replace(/^\\/+|\\/+$/g,"");'
    'if(p.indexOf(h)!==-1){document.documentElement.classList.add("smd-kiosk","smd-wall")}})();'
)

INDEX_STRING = f"""<!DOCTYPE html>
<html lang="en" data-bs-theme="light">
    <head>
        {{%metas%}}
        <title>{{%title%}}</title>
        <script>{THEME_BOOTSTRAP_SCRIPT}{KIOSK_BOOTSTRAP_SCRIPT}</script>
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
