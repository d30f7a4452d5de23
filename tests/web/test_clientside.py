"""Client-side callbacks live in assets/*.js, never in Python strings.

JavaScript inside a Python string is invisible to linters and `node --check`, and
Dash serves it as an inline script per app. Each clientside callback therefore names
a function of `window.dash_clientside.smd` defined in an asset file.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from dashapp.app import ASSETS_DIR

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("callbacks", "layouts", "pages", "dashapp")


def _clientside_calls() -> list[tuple[str, ast.Call]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and _name(node.func) == "clientside_callback":
                    found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return found


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _function_arg(call: ast.Call) -> ast.expr | None:
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == "clientside_function"), None)


def _is_clientside_function(arg: ast.expr | None) -> bool:
    return isinstance(arg, ast.Call) and _name(arg.func) == "ClientsideFunction"


def _keyword(call: ast.Call, name: str) -> str | None:
    for k in call.keywords:
        if k.arg == name and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str):
            return k.value.value
    return None


def test_every_clientside_callback_calls_a_clientside_function() -> None:
    calls = _clientside_calls()
    assert calls, "no clientside_callback found: the scan looks in the wrong place"
    inline = [where for where, call in calls if not _is_clientside_function(_function_arg(call))]
    assert inline == [], f"JavaScript passed as a string (move it to assets/): {inline}"


def test_every_clientside_function_is_defined_in_an_asset() -> None:
    scripts = "\n".join(p.read_text(encoding="utf-8") for p in sorted(ASSETS_DIR.glob("smd-*.js")))
    missing = []
    for where, call in _clientside_calls():
        fn = _function_arg(call)
        if not isinstance(fn, ast.Call):
            continue
        namespace, name = _keyword(fn, "namespace"), _keyword(fn, "function_name")
        defined = re.search(rf"^\s*{re.escape(name or '')}\s*:\s*function\b", scripts, re.M)
        if namespace != "smd" or name is None or not defined:
            missing.append(f"{where}: {namespace}.{name}")
    assert missing == [], f"not defined in window.dash_clientside.smd by assets/: {missing}"
