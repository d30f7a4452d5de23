"""Security headers on every response: a CSP without inline script, framing refused, HSTS
behind TLS.

Scripts come only from this origin, plus the few inline scripts the index page must
run before anything else (theme and kiosk class before first paint, Dash's renderer
bootstrap), allowed by their SHA-256 hashes, computed once when the app is built: no
`'unsafe-inline'`, no `'unsafe-eval'` for scripts. Styles do allow inline (Plotly and
AG Grid inject `<style>` elements). Uploads go from the browser straight to S3, so
`connect-src` names S3's hosts (or the configured AWS endpoint, e.g. the sandbox).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from flask import Flask, Response, request

from dashapp.config import Settings

HSTS = "max-age=31536000; includeSubDomains"


def script_hash(script: str) -> str:
    """The CSP source expression allowing exactly this inline script."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(settings: Settings, inline_hashes: Iterable[str]) -> str:
    uploads = (
        [_origin(settings.aws_endpoint_url)]
        if settings.aws_endpoint_url
        else ["https://*.amazonaws.com"]
    )
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *sorted(set(inline_hashes))],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *uploads],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def install(server: Flask, settings: Settings, inline_hashes: Callable[[], Iterable[str]]) -> None:
    """Add the headers to every response of `server` (errors and redirects included).

    Dash writes some inline scripts only while serving its first request (the pages
    router's clientside code), so the hashes are asked for at the first response."""
    policy: list[str] = []

    @server.after_request
    def _headers(response: Response) -> Response:
        if not policy:
            policy.append(content_security_policy(settings, inline_hashes()))
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy[0])
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
